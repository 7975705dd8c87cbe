package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SparkJobExceptionTest {

  @Test
  void aTaskFailureACancelledJobAndAStoppedContextAreToldApartInOneLine() {
    Exception failed = new Exception("Job aborted", new RuntimeException("shard 5: disk full\n\tat x.y(Z.java:1)"));
    assertEquals("a task failed on every attempt Spark allows (spark.task.maxFailures): shard 5: disk full",
        SparkJobException.of(failed).getMessage());
    // a wrapper that says more than its cause (an UncheckedIOException of FileProblems.describe): its line
    Exception unreadable = new org.apache.spark.SparkException("Job aborted due to stage failure: Task 0 failed 4 "
        + "times", new java.io.UncheckedIOException("cannot read /shared/out/.tmp-shard-00000.npy-1: file not found",
            new java.nio.file.NoSuchFileException("/shared/out/.tmp-shard-00000.npy-1")));
    assertEquals("a task failed on every attempt Spark allows (spark.task.maxFailures): cannot read "
        + "/shared/out/.tmp-shard-00000.npy-1: file not found", SparkJobException.of(unreadable).getMessage());
    Exception cancelled = new Exception(new IllegalStateException("Job 0 cancelled because SparkContext was shut down"));
    assertEquals("the job was cancelled: Spark shut down while it ran (interrupted?)",
        SparkJobException.of(cancelled).getMessage());
    SparkJobException stopped = assertThrows(SparkJobException.class, () -> SparkJobException.run(() -> {
      throw new IllegalStateException("Cannot call methods on a stopped SparkContext.\nThis stopped SparkContext was "
          + "created at:\n\norg.apache.spark.SparkContext.<init>(SparkContext.scala:1)");
    }));
    assertEquals("Spark stopped before the job could run (was the master reachable, and could its workers start "
        + "executors? Spark's log above says why)", stopped.getMessage());
    IllegalStateException other = new IllegalStateException("something else");
    assertEquals(other, assertThrows(IllegalStateException.class, () -> SparkJobException.run(() -> {
      throw other;
    })));
  }
}
