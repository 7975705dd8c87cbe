package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The argument checks of the Java API's jobs: a value out of range is refused where the job is made, by name. */
class JobArgumentsTest {
  private static final Path CK = Path.of("ck");
  private static final Path OUT = Path.of("out");

  @Test
  void aSampleJobRefusesValuesOutOfRange() {
    assertEquals("count must be at least 1, got 0", assertThrows(IllegalArgumentException.class,
        () -> SampleJob.of(CK, 0, OUT)).getMessage());
    assertEquals("partitions must be at least 1 (or 0 for the default), got -1",
        assertThrows(IllegalArgumentException.class, () -> SampleJob.of(CK, 1, OUT).withPartitions(-1)).getMessage());
    assertEquals("threads per task must be at least 1 (or 0 for spark.task.cpus), got -1",
        assertThrows(IllegalArgumentException.class, () -> SampleJob.of(CK, 1, OUT).withThreadsPerTask(-1))
            .getMessage());
    assertEquals("checkpoint, out, format and shipping are required", assertThrows(IllegalArgumentException.class,
        () -> SampleJob.of(CK, 1, null)).getMessage());
    SampleJob ok = SampleJob.of(CK, 1, OUT).withPartitions(0).withThreadsPerTask(0);
    assertEquals(0, ok.seed(), "seed 0, as diffusion sample");
  }

  @Test
  void anEvalJobRefusesValuesOutOfRange() {
    assertEquals("count must be at least 2, got 1", assertThrows(IllegalArgumentException.class,
        () -> EvalJob.of(CK, 1)).getMessage());
    assertEquals("partitions must be at least 1 (or 0 for the default), got -1",
        assertThrows(IllegalArgumentException.class, () -> EvalJob.of(CK, 2).withPartitions(-1)).getMessage());
    assertEquals("threads per task must be at least 1 (or 0 for spark.task.cpus), got -1",
        assertThrows(IllegalArgumentException.class,
            () -> new EvalJob(CK, List.of(), 2, 1, 0, Shipping.AUTO, -1)).getMessage());
    assertEquals(1, EvalJob.of(CK, 2).seed(), "seed 1, as diffusion eval");
    assertEquals("checkpoint and shipping are required", assertThrows(IllegalArgumentException.class,
        () -> new EvalJob(CK, List.of(), 2, 1, 0, null, 0)).getMessage());
  }

  /** Each {@code with} changes its own value only, and a job's overrides are its own copy. */
  @Test
  void anEvalJobsWithersChangeOneValue() {
    List<String> overrides = new java.util.ArrayList<>(List.of("backend=djl"));
    EvalJob job = new EvalJob(CK, List.of(), 300, 5, 0, Shipping.PATH, 2).withPartitions(3).withOverrides(overrides);
    overrides.add("threads=4");
    assertEquals(new EvalJob(CK, List.of("backend=djl"), 300, 5, 3, Shipping.PATH, 2), job);
  }
}
