package io.github.diffusion4j.spark;

import java.io.Serializable;

/**
 * Called on the executor after each sampling batch of a shard (a seam for tests that fail a task attempt
 * part-way, as a killed executor would).
 */
@FunctionalInterface
interface TaskHook extends Serializable {
  /** Does nothing. */
  TaskHook NONE = (shard, done) -> {};

  /**
   * After a batch.
   *
   * @param shard the shard being sampled
   * @param done how many of its samples are done
   */
  void afterBatch(ShardPlan.Shard shard, long done);

  /**
   * After each sampling step of a batch of a PNG shard, before the step keeps the shard's temporary folder fresh.
   *
   * @param shard the shard being sampled
   * @param step the step's position in the plan
   */
  default void afterStep(ShardPlan.Shard shard, int step) {}
}
