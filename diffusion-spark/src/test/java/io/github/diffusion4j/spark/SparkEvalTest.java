package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Evaluation on Spark equals {@code diffusion eval} on one machine: the samples' Gaussian (aggregated across
 * partitions in a tree) to 1e-9 relative, and the report.
 */
class SparkEvalTest {
  /** Three sampling batches of 1,024, the last short. */
  static final int COUNT = 2 * 1024 + 500;

  static final long SEED = 3;

  /** The largest absolute entry. */
  private static double scale(double[][] m) {
    double s = 0;
    for (double[] row : m) {
      for (double v : row) {
        s = Math.max(s, Math.abs(v));
      }
    }
    return s;
  }

  /**
   * The two covariances agree within {@code rel} of the largest entry (normwise relative: an entry near zero
   * is a difference of sums, and its rounding is relative to the sums, not to itself).
   */
  private static void assertClose(double[][] expected, double[][] actual, double rel, String what) {
    double tolerance = rel * scale(expected);
    for (int i = 0; i < expected.length; i++) {
      for (int j = 0; j < expected.length; j++) {
        assertEquals(expected[i][j], actual[i][j], tolerance, what + " [" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void theAggregatedStatisticsAreTheSingleMachineOnesWithin1e9Relative() {
    Path run = SparkTestSupport.gradientRun();
    // diffusion eval on one machine: one accumulator over the batches in order, the reference on the side
    QualityAccumulator single;
    Gaussian reference;
    QualityReport expected;
    try (TrainedModel m = TrainedModel.load(run, List.of("threads=1"))) {
      Diffusion d = m.diffusion();
      QualityAccumulator acc = new QualityAccumulator(d.imageShape());
      d.sampleImages(m.model(), d.sampler(), d.request(COUNT, SEED), (i, plan, r) -> { },
          (first, images, n) -> acc.add(images));
      single = acc;
      reference = d.referenceGaussian(COUNT);
      expected = acc.report(reference);
    }
    Gaussian singleFit = single.gaussian();
    // 0: the context's default parallelism (2 of local[2,3]), the merge tree of as many shards
    for (int p : new int[] {1, 3, 0}) {
      EvalResult r = SparkDiffusion.evaluate(SparkTestSupport.context(),
          new EvalJob(run, List.of(), COUNT, SEED, p, Shipping.AUTO, 1));
      assertEquals(p == 0 ? SparkTestSupport.context().defaultParallelism() : p, r.shards());
      assertEquals(COUNT, r.report().sampleCount());
      double[] mean = singleFit.mean();
      double meanScale = java.util.Arrays.stream(mean).map(Math::abs).max().orElseThrow();
      for (int i = 0; i < mean.length; i++) {
        assertEquals(mean[i], r.samples().mean()[i], 1e-9 * meanScale, "mean " + i);
      }
      assertClose(singleFit.covariance(), r.samples().covariance(), 1e-9, "covariance");
      // the reference is fitted on the driver by the same code: the same numbers
      assertEquals(0.0, scale(difference(reference.covariance(), r.reference().covariance())));
      QualityReport got = r.report();
      // the samples' covariance is full rank, but the reference (clean gradients) has rank 6 of 75: rounding of
      // its zero eigenvalues (~1e-17) reaches the distance through square roots (~3e-9 each), so the distance
      // agrees to ~1e-7 (as in StreamingMetricsTest); the statistics above are the 1e-9 claim
      assertEquals(expected.frechet(), got.frechet(), 1e-6 + 1e-9 * expected.frechet(), "Frechet distance");
      assertEquals(expected.gradientResidual(), got.gradientResidual(), 1e-12 * expected.gradientResidual());
      assertEquals(expected.cornerKsPooled(), got.cornerKsPooled(), 0.0, "the corner histograms add exactly");
      assertEquals(expected.cornerKsMean(), got.cornerKsMean(), 0.0, "the corner histograms add exactly");
      assertTrue(got.frechet() > 0);
    }
  }

  /** A hook that holds the given shards after their last batch, for {@code millis} times their rank in the list. */
  private static TaskHook finishLast(int... shards) {
    return (shard, done) -> {
      for (int i = 0; i < shards.length; i++) {
        if (shards[i] == shard.index() && done == shard.count()) {
          try {
            Thread.sleep(1500L * (i + 1));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
  }

  /**
   * The same evaluation gives the same bits whichever order its tasks finish in (a slow executor, a retried or
   * speculative task): Spark's treeAggregate merged the partitions in the order they finished, so two runs differed
   * in the last bits of the samples' mean and covariance and in the distance's ninth digit.
   */
  @Test
  void theStatisticsAreTheSameBitsWhicheverOrderTheTasksFinishIn() {
    Path run = SparkTestSupport.gradientRun();
    EvalJob job = new EvalJob(run, List.of(), COUNT, SEED, 3, Shipping.AUTO, 1);
    EvalResult firstLast = SparkDiffusion.evaluate(SparkTestSupport.context(), job, finishLast(0));
    EvalResult inOrder = SparkDiffusion.evaluate(SparkTestSupport.context(), job, finishLast(1, 2));
    org.junit.jupiter.api.Assertions.assertArrayEquals(firstLast.samples().mean(), inOrder.samples().mean());
    org.junit.jupiter.api.Assertions.assertArrayEquals(firstLast.samples().covariance(), inOrder.samples().covariance());
    assertEquals(firstLast.report(), inOrder.report());
  }

  private static double[][] difference(double[][] a, double[][] b) {
    double[][] d = new double[a.length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        d[i][j] = a[i][j] - b[i][j];
      }
    }
    return d;
  }

  /**
   * A failed evaluation returns only once the driver's fit of the real images has ended: it ran in the common pool
   * and was "cancelled" with a CompletableFuture's cancel, which interrupts nothing, so it went on reading with a
   * model the call had closed.
   */
  @Test
  void aFailedEvaluationLeavesNoReferenceFitRunning() {
    Path run = SparkTestSupport.gradientRun();
    TaskHook fail = (shard, done) -> {
      throw new IllegalStateException("a task that fails on every attempt");
    };
    SparkJobException e = org.junit.jupiter.api.Assertions.assertThrows(SparkJobException.class,
        () -> SparkDiffusion.evaluate(SparkTestSupport.context(), EvalJob.of(run, 1_500_000).withPartitions(1), fail));
    assertTrue(e.getMessage().contains("a task that fails on every attempt"), e.getMessage());
    // no thread reads the real images any more (with few cores, supplyAsync ran it on a thread of its own)
    assertTrue(Thread.getAllStackTraces().values().stream().noneMatch(trace -> java.util.Arrays.stream(trace)
        .anyMatch(f -> f.getMethodName().equals("referenceGaussian"))), "the fit of the real images has ended");
  }
}
