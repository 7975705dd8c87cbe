package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
    // a job the caller cancelled (its job group, cancelAllJobs, Spark's UI): Spark 4's message without its decoration
    Exception byCaller = new org.apache.spark.SparkException("[SPARK_JOB_CANCELLED] Job 4 cancelled as part of "
        + "cancellation of all jobs SQLSTATE: XXKDA");
    assertEquals("the job was cancelled: Job 4 cancelled as part of cancellation of all jobs",
        SparkJobException.of(byCaller).getMessage());
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

  /**
   * An executor's file problem (its temporary folder not writable, an output folder it does not share) is not the
   * user's bad input: the exception is marked {@code NotBadInput} (exit 1 however its causes read), its cause kept
   * for callers and --verbose. A checkpoint an executor refuses (changed under the job) is not marked (exit 2).
   */
  @Test
  void anExecutorsFileProblemIsNotChainedAsBadInputButACheckpointProblemIs() {
    Exception unwritable = new org.apache.spark.SparkException("Job aborted due to stage failure", new
        java.io.UncheckedIOException("cannot write the broadcast checkpoint to a temporary folder: "
            + "/tmp/diffusion4j-checkpoint-1-2: permission denied",
            new java.nio.file.AccessDeniedException("/tmp/diffusion4j-checkpoint-1-2")));
    SparkJobException x = SparkJobException.of(unwritable);
    assertEquals("a task failed on every attempt Spark allows (spark.task.maxFailures): cannot write the broadcast "
        + "checkpoint to a temporary folder: /tmp/diffusion4j-checkpoint-1-2: permission denied", x.getMessage());
    assertTrue(x instanceof io.github.diffusion4j.cli.NotBadInput, "marked: a failure, not bad input");
    assertEquals(unwritable, x.getCause(), "the cause is kept");
    Exception changed = new org.apache.spark.SparkException("Job aborted due to stage failure",
        new io.github.diffusion4j.io.CheckpointException("/shared/ck/model.safetensors: not the file the driver "
            + "checked", new java.nio.file.NoSuchFileException("/shared/ck/model.safetensors")));
    assertEquals(changed, SparkJobException.of(changed).getCause());
    assertFalse(SparkJobException.of(changed) instanceof io.github.diffusion4j.cli.NotBadInput);
  }
}
