package io.github.diffusion4j.spark;

import java.nio.file.Path;
import java.util.List;

/**
 * An evaluation job: the quality of {@code count} samples of a checkpoint against {@code count} real images,
 * as {@code diffusion eval --count N --seed S} computes it on one machine.
 *
 * @param checkpoint a checkpoint folder or a run folder
 * @param overrides configuration overrides
 * @param count the number of samples and of real images, at least 2
 * @param seed the noise seed
 * @param partitions the shards wanted, at least 1, or 0 for the context's default parallelism
 * @param shipping how the executors get the checkpoint
 * @param threadsPerTask native threads of each task's backend, at least 1, or 0 for {@code spark.task.cpus}
 */
public record EvalJob(
    Path checkpoint,
    List<String> overrides,
    int count,
    long seed,
    int partitions,
    Shipping shipping,
    int threadsPerTask) {

  /**
   * Validates the values.
   *
   * @param checkpoint a checkpoint folder or a run folder
   * @param overrides configuration overrides
   * @param count the number of samples and of real images, at least 2
   * @param seed the noise seed
   * @param partitions the shards wanted, at least 1, or 0 for the default parallelism
   * @param shipping how the executors get the checkpoint
   * @param threadsPerTask native threads per task, at least 1, or 0 for {@code spark.task.cpus}
   * @throws IllegalArgumentException naming the value that is out of range
   */
  public EvalJob {
    if (checkpoint == null || shipping == null) {
      throw new IllegalArgumentException("checkpoint and shipping are required");
    }
    overrides = List.copyOf(overrides);
    if (count < 2) {
      throw new IllegalArgumentException("count must be at least 2, got " + count);
    }
    if (partitions < 0) {
      throw new IllegalArgumentException("partitions must be at least 1 (or 0 for the default), got " + partitions);
    }
    if (threadsPerTask < 0) {
      throw new IllegalArgumentException("threads per task must be at least 1 (or 0 for spark.task.cpus), got "
          + threadsPerTask);
    }
  }

  /**
   * A job with the defaults: seed 1 (as {@code diffusion eval}), the default parallelism,
   * {@link Shipping#AUTO}, {@code spark.task.cpus} threads per task.
   *
   * @param checkpoint a checkpoint folder or a run folder
   * @param count the number of samples and real images
   * @return the job
   */
  public static EvalJob of(Path checkpoint, int count) {
    return new EvalJob(checkpoint, List.of(), count, 1, 0, Shipping.AUTO, 0);
  }

  /**
   * This job with another number of partitions.
   *
   * @param value the shards wanted, or 0 for the default parallelism
   * @return the new job
   */
  public EvalJob withPartitions(int value) {
    return new EvalJob(checkpoint, overrides, count, seed, value, shipping, threadsPerTask);
  }

  /**
   * This job with other overrides.
   *
   * @param values configuration overrides
   * @return the new job
   */
  public EvalJob withOverrides(List<String> values) {
    return new EvalJob(checkpoint, values, count, seed, partitions, shipping, threadsPerTask);
  }
}
