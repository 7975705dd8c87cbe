package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The metrics accumulated batch by batch agree with the metrics of all images at once. */
class StreamingMetricsTest {
  private static final Shape SHAPE = Shape.of(3, 5, 5);

  private static float[] noisyGradients(int n, long seed) {
    float[] v = GradientImages.generate(n, SHAPE, Noise.seeded(seed));
    Random r = new Random(seed);
    for (int i = 0; i < v.length; i++) {
      v[i] += (float) (0.05 * r.nextGaussian());
    }
    return v;
  }

  private static float[] slice(float[] all, int first, int n) {
    int k = SHAPE.size();
    return Arrays.copyOfRange(all, first * k, (first + n) * k);
  }

  @Test
  void oneBatchIsExactlyTheFitAndManyAgreeToRounding() {
    float[] all = noisyGradients(1000, 1);
    Gaussian whole = Gaussian.fit(all, 75);
    Gaussian one = new Gaussian.Accumulator(75).add(all).fit();
    assertArrayEquals(whole.mean(), one.mean(), 0.0);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(whole.covariance()[i], one.covariance()[i], 0.0);
    }
    Gaussian.Accumulator acc = new Gaussian.Accumulator(75);
    int[] sizes = {1, 7, 300, 2, 690};
    int first = 0;
    for (int n : sizes) {
      acc.add(slice(all, first, n));
      first += n;
    }
    assertEquals(1000, acc.count());
    Gaussian batched = acc.fit();
    // double sums of 1000 terms of size ~0.1: rounding differences are of order 1e-16 relative
    assertArrayEquals(whole.mean(), batched.mean(), 1e-14);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(whole.covariance()[i], batched.covariance()[i], 1e-14);
    }
    assertEquals(0, FrechetDistance.between(whole, batched), 1e-12);
  }

  @Test
  void theStreamingKsStatisticIsWithinHalfABinOfTheExactOne() {
    Random r = new Random(7);
    for (int trial = 0; trial < 20; trial++) {
      int n = 1 + r.nextInt(3000);
      float[] images = new float[n * 75];
      for (int i = 0; i < images.length; i++) {
        // uniform, a cluster, values outside [0, 1] and NaN
        double u = r.nextDouble();
        images[i] = (float) (u < 0.1 ? 0.5 + 1e-6 * r.nextGaussian() : u < 0.12 ? -0.3 : u < 0.14 ? 1.7
            : u < 0.15 ? Double.NaN : r.nextDouble());
      }
      double exact = CornerUniformity.ksStatistic(images, SHAPE);
      CornerUniformity.Accumulator acc = new CornerUniformity.Accumulator();
      for (int first = 0; first < n; first += 97) {
        int m = Math.min(97, n - first);
        acc.add(slice(images, first, m), SHAPE, m);
      }
      assertEquals(2L * 3 * n, acc.count());
      assertEquals(exact, acc.ksStatistic(), 0.5 / CornerUniformity.Accumulator.BINS + 1e-12, "trial " + trial);
    }
    assertThrows(IllegalStateException.class, () -> new CornerUniformity.Accumulator().ksStatistic());
  }

  @Test
  void theQualityOfBatchesIsTheQualityOfTheWhole() {
    float[] samples = noisyGradients(600, 2);
    float[] reference = GradientImages.generate(600, SHAPE, Noise.seeded(3));
    QualityReport whole = new QualityReport(
        FrechetDistance.between(samples, reference, 75),
        GradientResidual.mean(samples, SHAPE),
        CornerUniformity.ksStatistic(samples, SHAPE),
        600);
    QualityAccumulator acc = new QualityAccumulator(SHAPE);
    for (int first = 0; first < 600; first += 128) {
      acc.add(slice(samples, first, Math.min(128, 600 - first)));
    }
    QualityReport batched = acc.report(Gaussian.fit(reference, 75));
    // the clean gradients' covariance has rank 6 of 75: its 69 zero eigenvalues come out as +-1e-17 and
    // enter the distance through square roots (about 3e-9 each), so the distance itself agrees to ~1e-7
    assertEquals(whole.frechet(), batched.frechet(), 1e-6);
    assertEquals(whole.gradientResidual(), batched.gradientResidual(), 1e-12);
    assertEquals(whole.cornerKs(), batched.cornerKs(), 0.5 / CornerUniformity.Accumulator.BINS);
    assertEquals(600, batched.sampleCount());
    QualityReport oneShot = QualityMetrics.evaluate(samples, reference, SHAPE);
    assertEquals(batched.frechet(), oneShot.frechet(), 1e-6);
    assertTrue(batched.frechet() > 0);
  }
}
