package io.github.diffusion4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@code count} samples are cut into shards, one Spark partition each. A shard is a run of whole
 * sampling batches of the single-process run ({@code Diffusion.samplingBatchSize()} images from sample 0,
 * the last batch possibly shorter): so every batch an executor samples is exactly a batch that
 * {@code diffusion sample} samples, and the images are bit-identical to its output whatever the number of
 * partitions, on any backend, whether or not the backend's kernels give the same bits for other batch
 * sizes. The batches are spread as evenly as they go (shard sizes differ by at most one batch); asking for
 * more partitions than there are batches gives one shard per batch.
 *
 * @param count the number of samples, at least 1
 * @param batchSize the images per sampling batch, at least 1
 * @param shards the shards, in order, covering samples {@code 0 .. count - 1} once
 */
public record ShardPlan(int count, int batchSize, List<Shard> shards) implements Serializable {

  /**
   * One shard: samples {@code first .. first + count - 1} of the run.
   *
   * @param index the shard's number, from 0
   * @param first the number of its first sample (a multiple of the batch size)
   * @param count how many samples, at least 1
   */
  public record Shard(int index, long first, int count) implements Serializable {
    /**
     * Validates the values.
     *
     * @param index the shard's number, from 0
     * @param first the number of its first sample
     * @param count how many samples, at least 1
     */
    public Shard {
      if (index < 0 || first < 0 || count < 1) {
        throw new IllegalArgumentException("shard " + index + ": first " + first + ", count " + count);
      }
    }

    /**
     * The number one past its last sample.
     *
     * @return {@code first + count}
     */
    public long end() {
      return first + count;
    }
  }

  /**
   * Validates the plan: shards in order, each starting at a multiple of the batch size, together covering
   * {@code 0 .. count - 1} exactly once.
   *
   * @param count the number of samples, at least 1
   * @param batchSize the images per sampling batch, at least 1
   * @param shards the shards
   */
  public ShardPlan {
    if (count < 1 || batchSize < 1) {
      throw new IllegalArgumentException("count and batch size must be at least 1, got " + count + " and " + batchSize);
    }
    shards = List.copyOf(shards);
    long next = 0;
    for (int i = 0; i < shards.size(); i++) {
      Shard s = shards.get(i);
      if (s.index() != i || s.first() != next || s.first() % batchSize != 0) {
        throw new IllegalArgumentException("shard " + i + " " + s + " does not continue at sample " + next
            + " on a batch boundary of " + batchSize);
      }
      next = s.end();
    }
    if (next != count) {
      throw new IllegalArgumentException("the shards cover " + next + " samples, not " + count);
    }
  }

  /**
   * Cuts {@code count} samples into at most {@code partitions} shards of whole batches.
   *
   * @param count the number of samples, at least 1
   * @param batchSize the images per sampling batch ({@code Diffusion.samplingBatchSize()}), at least 1
   * @param partitions the shards wanted, at least 1
   * @return the plan: {@code min(partitions, batches)} shards
   */
  public static ShardPlan of(int count, int batchSize, int partitions) {
    if (count < 1 || batchSize < 1 || partitions < 1) {
      throw new IllegalArgumentException("count, batch size and partitions must be at least 1, got " + count + ", "
          + batchSize + " and " + partitions);
    }
    long batches = (count + (long) batchSize - 1) / batchSize;
    int n = (int) Math.min(partitions, batches);
    List<Shard> shards = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long firstBatch = batches * i / n;
      long endBatch = batches * (i + 1) / n;
      long first = firstBatch * batchSize;
      long end = Math.min(count, endBatch * batchSize);
      shards.add(new Shard(i, first, (int) (end - first)));
    }
    return new ShardPlan(count, batchSize, shards);
  }

  /**
   * The number of sampling batches.
   *
   * @return {@code ceil(count / batchSize)}
   */
  public long batches() {
    return (count + (long) batchSize - 1) / batchSize;
  }
}
