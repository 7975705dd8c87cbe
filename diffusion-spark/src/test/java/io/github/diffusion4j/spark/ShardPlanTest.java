package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Shards are runs of whole sampling batches that cover the samples once, as evenly as batches allow. */
class ShardPlanTest {
  @Test
  void shardsAreWholeBatchesCoveringEverySampleOnce() {
    int[][] cases = {{1, 1024, 1}, {1, 1024, 7}, {1024, 1024, 3}, {7268, 1024, 1}, {7268, 1024, 3}, {7268, 1024, 7},
        {7268, 1024, 100}, {50_000, 21, 64}, {1_000_000, 1024, 200}, {Integer.MAX_VALUE, 1024, 1000}};
    for (int[] c : cases) {
      ShardPlan plan = ShardPlan.of(c[0], c[1], c[2]);
      long batches = (c[0] + (long) c[1] - 1) / c[1];
      assertEquals(Math.min(c[2], batches), plan.shards().size(), java.util.Arrays.toString(c));
      long next = 0;
      long smallest = Long.MAX_VALUE;
      long largest = 0;
      for (ShardPlan.Shard s : plan.shards()) {
        assertEquals(next, s.first());
        assertEquals(0, s.first() % c[1]);
        long shardBatches = (s.count() + (long) c[1] - 1) / c[1];
        smallest = Math.min(smallest, shardBatches);
        largest = Math.max(largest, shardBatches);
        next = s.end();
      }
      assertEquals(c[0], next);
      assertTrue(largest - smallest <= 1, "shards differ by at most one batch: " + java.util.Arrays.toString(c));
    }
  }

  @Test
  void aPlanThatDoesNotCoverTheSamplesOnceOnBatchBoundariesIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ShardPlan(10, 4, List.of(new ShardPlan.Shard(0, 0, 9))));
    assertThrows(IllegalArgumentException.class, () -> new ShardPlan(10, 4,
        List.of(new ShardPlan.Shard(0, 0, 6), new ShardPlan.Shard(1, 6, 4))));
    assertThrows(IllegalArgumentException.class, () -> new ShardPlan(10, 4,
        List.of(new ShardPlan.Shard(0, 0, 4), new ShardPlan.Shard(1, 0, 4), new ShardPlan.Shard(2, 4, 6))));
    assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(0, 4, 1));
    assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(10, 4, 0));
    // the records' own checks, which a plan built by hand meets first
    assertEquals("shard 0: first 0, count 0", assertThrows(IllegalArgumentException.class,
        () -> new ShardPlan.Shard(0, 0, 0)).getMessage());
    assertEquals("shard -1: first 0, count 4", assertThrows(IllegalArgumentException.class,
        () -> new ShardPlan.Shard(-1, 0, 4)).getMessage());
    assertEquals("shard 0: first -4, count 4", assertThrows(IllegalArgumentException.class,
        () -> new ShardPlan.Shard(0, -4, 4)).getMessage());
    assertEquals("count and batch size must be at least 1, got 10 and 0", assertThrows(IllegalArgumentException.class,
        () -> new ShardPlan(10, 0, List.of(new ShardPlan.Shard(0, 0, 10)))).getMessage());
    assertEquals("count and batch size must be at least 1, got 0 and 4", assertThrows(IllegalArgumentException.class,
        () -> new ShardPlan(0, 4, List.of())).getMessage());
  }
}
