package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * For every small (count, batch size, partitions): the shards hold samples {@code 0 .. count - 1} exactly once
 * each, every shard but the last holds whole batches, the last ends at {@code count}, and {@code batches()} is the
 * number of sampling batches of the single-process run.
 */
class ShardPlanCoverTest {
  @Test
  void theUnionOfTheShardsIsEverySampleOnceForEverySmallCombination() {
    for (int count = 1; count <= 70; count++) {
      for (int batch = 1; batch <= 9; batch++) {
        long batches = (count + batch - 1) / batch;
        for (int partitions = 1; partitions <= 12; partitions++) {
          String c = "count " + count + ", batch " + batch + ", partitions " + partitions;
          ShardPlan plan = ShardPlan.of(count, batch, partitions);
          assertEquals(count, plan.count(), c);
          assertEquals(batch, plan.batchSize(), c);
          assertEquals(batches, plan.batches(), c);
          assertEquals(Math.min(partitions, batches), plan.shards().size(), c);
          int[] seen = new int[count];
          for (int i = 0; i < plan.shards().size(); i++) {
            ShardPlan.Shard s = plan.shards().get(i);
            assertEquals(i, s.index(), c);
            assertTrue(s.count() >= 1, c);
            assertEquals(0, s.first() % batch, c + ": shard " + i + " starts on a batch boundary");
            boolean last = i == plan.shards().size() - 1;
            if (!last) {
              assertEquals(0, s.count() % batch, c + ": shard " + i + " holds whole batches");
            } else {
              assertEquals(count, s.end(), c + ": the last shard ends at the last sample");
            }
            for (long k = s.first(); k < s.end(); k++) {
              seen[(int) k]++;
            }
          }
          for (int k = 0; k < count; k++) {
            assertEquals(1, seen[k], c + ": sample " + k + " is in exactly one shard");
          }
        }
      }
    }
  }

  @Test
  void theLastShardHoldsTheShortLastBatch() {
    // 10 samples in batches of 4: 4, 4, 2; three partitions give one batch each
    ShardPlan plan = ShardPlan.of(10, 4, 3);
    assertEquals(3, plan.batches());
    assertEquals(java.util.List.of(new ShardPlan.Shard(0, 0, 4), new ShardPlan.Shard(1, 4, 4),
        new ShardPlan.Shard(2, 8, 2)), plan.shards());
    // two partitions: 2 batches + 1 batch, the short one last
    assertEquals(java.util.List.of(new ShardPlan.Shard(0, 0, 4), new ShardPlan.Shard(1, 4, 6)),
        ShardPlan.of(10, 4, 2).shards());
  }
}
