package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/**
 * {@link SparkDiffusion#aggregate}'s tree for every number of partitions from 1 to 20 and a few larger ones (the
 * evaluation tests run 1 and 3, where a tree of one level cannot show a wrong shape): every partition's samples reach
 * the result once, and the result is the same bits as the tree the Javadoc describes, built here without Spark
 * (levels of {@code fanIn = max(2, ceil(sqrt(n)))} neighbours, merged in index order).
 */
class AggregateTreeTest {
  private static final Shape IMAGE = Shape.of(3, 2, 2);

  /** Partition {@code i}'s accumulator: 2 + i % 5 images of its own seed (a fresh object on every call). */
  private static QualityAccumulator part(int i) {
    SplittableRandom r = new SplittableRandom(1000 + i);
    float[] batch = new float[(2 + i % 5) * IMAGE.size()];
    for (int k = 0; k < batch.length; k++) {
      batch[k] = (float) r.nextDouble();
    }
    return new QualityAccumulator(IMAGE).add(batch);
  }

  /** The documented tree, merged on this thread. */
  private static QualityAccumulator tree(int n) {
    List<QualityAccumulator> level = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      level.add(part(i));
    }
    int fanIn = Math.max(2, (int) Math.ceil(Math.sqrt(n)));
    while (level.size() > 1) {
      List<QualityAccumulator> next = new ArrayList<>();
      for (int i = 0; i < level.size(); i += fanIn) {
        QualityAccumulator acc = level.get(i);
        for (int j = i + 1; j < Math.min(i + fanIn, level.size()); j++) {
          acc.merge(level.get(j));
        }
        next.add(acc);
      }
      level = next;
    }
    return level.get(0);
  }

  @Test
  void everyPartitionIsMergedOnceInTheDocumentedTree() {
    JavaSparkContext sc = SparkTestSupport.context();
    for (int n : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 26, 37}) {
      List<Tuple2<Integer, QualityAccumulator>> parts = new ArrayList<>();
      long images = 0;
      for (int i = 0; i < n; i++) {
        QualityAccumulator a = part(i);
        images += a.count();
        parts.add(new Tuple2<>(i, a));
      }
      // one element per slice: partition i holds partition i's accumulator, as mapPartitionsWithIndex keys it
      Gaussian merged = SparkDiffusion.aggregate(sc.parallelize(parts, n), n).gaussian();
      Gaussian expected = tree(n).gaussian();
      assertEquals(images, merged.count(), "images merged from " + n + " partitions");
      assertArrayEquals(expected.mean(), merged.mean(), 0.0, "mean of " + n + " partitions");
      for (int d = 0; d < IMAGE.size(); d++) {
        assertArrayEquals(expected.covariance()[d], merged.covariance()[d], 0.0,
            "covariance row " + d + " of " + n + " partitions");
      }
    }
  }
}
