package io.github.diffusion4j.spark;

import java.nio.file.Path;
import java.util.List;

/**
 * A sampling job: {@code count} samples of a checkpoint with a seed, written as shards into a folder, with
 * the same images as {@code diffusion sample --count N --seed S} writes into one file.
 *
 * @param checkpoint a checkpoint folder or a run folder (its newest checkpoint, chosen once by the driver)
 * @param overrides configuration overrides ({@code backend=djl}, {@code sampling.sampler=ddpm}, ...)
 * @param count the number of samples, at least 1
 * @param seed the noise seed
 * @param out the output folder: new, or empty; every executor and the driver must see it
 * @param format what each shard is written as
 * @param partitions the shards wanted, at least 1, or 0 for the context's default parallelism
 * @param shipping how the executors get the checkpoint
 * @param threadsPerTask native threads of each task's backend, at least 1, or 0 for {@code spark.task.cpus}
 */
public record SampleJob(
    Path checkpoint,
    List<String> overrides,
    int count,
    long seed,
    Path out,
    SampleFormat format,
    int partitions,
    Shipping shipping,
    int threadsPerTask) {

  /**
   * Validates the values.
   *
   * @param checkpoint a checkpoint folder or a run folder
   * @param overrides configuration overrides
   * @param count the number of samples, at least 1
   * @param seed the noise seed
   * @param out the output folder
   * @param format what each shard is written as
   * @param partitions the shards wanted, at least 1, or 0 for the default parallelism
   * @param shipping how the executors get the checkpoint
   * @param threadsPerTask native threads per task, at least 1, or 0 for {@code spark.task.cpus}
   * @throws IllegalArgumentException naming the value that is out of range
   */
  public SampleJob {
    if (checkpoint == null || out == null || format == null || shipping == null) {
      throw new IllegalArgumentException("checkpoint, out, format and shipping are required");
    }
    overrides = List.copyOf(overrides);
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, got " + count);
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
   * A job with the defaults: seed 0 (as {@code diffusion sample}), {@code .npy} shards, the default
   * parallelism, {@link Shipping#AUTO}, {@code spark.task.cpus} threads per task.
   *
   * @param checkpoint a checkpoint folder or a run folder
   * @param count the number of samples
   * @param out the output folder
   * @return the job
   */
  public static SampleJob of(Path checkpoint, int count, Path out) {
    return new SampleJob(checkpoint, List.of(), count, 0, out, SampleFormat.NPY, 0, Shipping.AUTO, 0);
  }

  /**
   * This job with other overrides.
   *
   * @param values configuration overrides
   * @return the new job
   */
  public SampleJob withOverrides(List<String> values) {
    return new SampleJob(checkpoint, values, count, seed, out, format, partitions, shipping, threadsPerTask);
  }

  /**
   * This job with another seed.
   *
   * @param value the seed
   * @return the new job
   */
  public SampleJob withSeed(long value) {
    return new SampleJob(checkpoint, overrides, count, value, out, format, partitions, shipping, threadsPerTask);
  }

  /**
   * This job with another number of partitions.
   *
   * @param value the shards wanted, or 0 for the default parallelism
   * @return the new job
   */
  public SampleJob withPartitions(int value) {
    return new SampleJob(checkpoint, overrides, count, seed, out, format, value, shipping, threadsPerTask);
  }

  /**
   * This job with another format.
   *
   * @param value the format
   * @return the new job
   */
  public SampleJob withFormat(SampleFormat value) {
    return new SampleJob(checkpoint, overrides, count, seed, out, value, partitions, shipping, threadsPerTask);
  }

  /**
   * This job with another way of shipping the checkpoint.
   *
   * @param value how the executors get it
   * @return the new job
   */
  public SampleJob withShipping(Shipping value) {
    return new SampleJob(checkpoint, overrides, count, seed, out, format, partitions, value, threadsPerTask);
  }

  /**
   * This job with another number of native threads per task.
   *
   * @param value threads, or 0 for {@code spark.task.cpus}
   * @return the new job
   */
  public SampleJob withThreadsPerTask(int value) {
    return new SampleJob(checkpoint, overrides, count, seed, out, format, partitions, shipping, value);
  }
}
