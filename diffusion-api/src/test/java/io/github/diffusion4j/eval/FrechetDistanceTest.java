package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

  /**
   * 2d points {@code mu +- a_i e_i}: their mean is exactly {@code mu} and their unbiased covariance
   * exactly {@code diag(2 a_i^2 / (2d - 1))}, i.e. standard deviations {@code sigma_i} for
   * {@code a_i = sigma_i sqrt((2d - 1) / 2)}.
   */
  static float[] axisPoints(double[] mu, double[] sigma) {
    int d = mu.length;
    float[] x = new float[2 * d * d];
    for (int i = 0; i < d; i++) {
      double a = sigma[i] * Math.sqrt((2.0 * d - 1) / 2);
      for (int s = 0; s < 2; s++) {
        int row = (2 * i + s) * d;
        for (int j = 0; j < d; j++) {
          x[row + j] = (float) mu[j];
        }
        x[row + i] = (float) (mu[i] + (s == 0 ? a : -a));
      }
    }
    return x;
  }

  static double[] filled(int d, double v) {
    double[] a = new double[d];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void identicalSetsGiveZero() {
    float[] x = GradientImages.generate(200, Shape.of(3, 5, 5), Noise.seeded(1));
    double fd = FrechetDistance.between(x, x, 75);
    // Tr(S) is ~2 here; the cancellation in Tr S1 + Tr S2 - 2 Tr sqrt(S1 S2) leaves ~1e-13
    assertEquals(0.0, fd, 1e-9);
  }

  @Test
  void isotropicGaussiansGiveTheClosedForm() {
    int d = 6;
    double[] mu1 = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    double[] mu2 = {0.3, 0.2, 0.1, 0.0, 0.5, 0.9};
    double s1 = 0.5;
    double s2 = 0.125;
    double expected = 0;
    for (int i = 0; i < d; i++) {
      expected += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    expected += d * (s1 - s2) * (s1 - s2);
    double fd =
        FrechetDistance.between(axisPoints(mu1, filled(d, s1)), axisPoints(mu2, filled(d, s2)), d);
    // the points are stored as float32 (relative error 6e-8), so the moments are exact to ~1e-7
    assertEquals(expected, fd, 1e-6 * expected);
  }

  @Test
  void diagonalGaussiansGiveTheClosedForm() {
    double[] mu = {0, 0, 0, 0};
    double[] sa = {0.1, 0.2, 0.3, 0.4};
    double[] sb = {0.4, 0.1, 0.3, 0.05};
    double expected = 0;
    for (int i = 0; i < 4; i++) {
      expected += (sa[i] - sb[i]) * (sa[i] - sb[i]);
    }
    double fd = FrechetDistance.between(axisPoints(mu, sa), axisPoints(mu, sb), 4);
    assertEquals(expected, fd, 1e-6 * expected);
  }

  @Test
  void traceSqrtOfNonCommutingTwoByTwoMatchesTheFormula() {
    // for 2x2 M = S1 S2 with non-negative eigenvalues, Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M))
    double[][] s1 = {{2.0, 0.7}, {0.7, 1.0}};
    double[][] s2 = {{0.5, -0.2}, {-0.2, 3.0}};
    double[][] m = FrechetDistance.multiply(s1, s2);
    double tr = m[0][0] + m[1][1];
    double det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    double expected = Math.sqrt(tr + 2 * Math.sqrt(det));
    assertEquals(expected, FrechetDistance.traceSqrtProduct(s1, s2), 1e-13);
    assertEquals(expected, FrechetDistance.traceSqrtProduct(s2, s1), 1e-13);
  }

  @Test
  void isSymmetricForFullRankSets() {
    Random r = new Random(3);
    float[] a = new float[150 * 20];
    float[] b = new float[200 * 20];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextFloat();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (0.3 + 0.2 * r.nextGaussian());
    }
    double ab = FrechetDistance.between(a, b, 20);
    double ba = FrechetDistance.between(b, a, 20);
    assertTrue(ab > 0.1, "uniform and Gaussian noise differ: " + ab);
    // well-conditioned covariances: the two orders agree to rounding, far below 1e-9 relative
    assertEquals(ab, ba, 1e-9 * ab);
  }

  @Test
  void isSymmetricForRankDeficientSets() {
    // gradient images have rank-6 covariances (a + b * grid per channel): 69 eigenvalues are zero
    // up to rounding, ~eps |S|, and each contributes sqrt(eps |S|) ~ 1e-8 to the trace of the square
    // root; the two orders may therefore differ by up to ~2 * 75 * 1e-8, so 1e-5 absolute is safe
    Shape shape = Shape.of(3, 5, 5);
    float[] a = GradientImages.generate(150, shape, Noise.seeded(2));
    float[] b = new float[150 * 75];
    Random r = new Random(3);
    for (int i = 0; i < b.length; i++) {
      b[i] = r.nextFloat();
    }
    double ab = FrechetDistance.between(a, b, 75);
    double ba = FrechetDistance.between(b, a, 75);
    assertTrue(ab > 1, "gradients and uniform noise are far apart: " + ab);
    assertEquals(ab, ba, 1e-5);
  }

  @Test
  void matchesScipyOnFullRankData() {
    Random r = new Random(5);
    float[] p = new float[300 * 40];
    float[] q = new float[350 * 40];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (r.nextFloat() + 0.1 * StrictMath.sin(i));
    }
    for (int i = 0; i < q.length; i++) {
      q[i] = (float) (0.5 + 0.3 * r.nextGaussian() * (1 + (i % 40) / 40.0));
    }
    // reference: the same arrays saved with NpyWriter and scored in Python with numpy.cov and
    // scipy.linalg.sqrtm (scipy 1.17): |m1 - m2|^2 + Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2)
    double scipy = 1.6743583109785405;
    // well-conditioned covariances: the two methods agree to ~1e-14; 1e-10 leaves room for rounding
    assertEquals(scipy, FrechetDistance.between(p, q, 40), 1e-10);
  }

  /** {@code n} vectors of dimension {@code d}: uniform noise of the given spread around a per-dimension pattern. */
  private static float[] vectors(int n, int d, long seed, double spread, double shift) {
    Random r = new Random(seed);
    float[] x = new float[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (shift + 0.1 * StrictMath.sin(i % d) + spread * r.nextFloat());
    }
    return x;
  }

  @Test
  void fitsOfFewerVectorsThanDimensionsGiveTheDistanceOfTheirCovariances() {
    int d = 60;
    float[] a = vectors(25, d, 1, 1.0, 0.0);
    float[] b = vectors(40, d, 2, 0.5, 0.2);
    Gaussian ca = Gaussian.fit(a, d);
    Gaussian cb = Gaussian.fit(b, d);
    assertNotNull(ca.centredView(), "25 vectors of 60 values are kept centred");
    assertNotNull(cb.centredView());
    Gaussian da = new Gaussian.Accumulator(d, 0).add(a).fit();
    Gaussian db = new Gaussian.Accumulator(d, 0).add(b).fit();
    assertNull(da.centredView(), "an accumulator that keeps nothing holds the covariance");
    // the same statistics: a mean of 25 and sums of 25 products in another order, ~1e-16 relative
    assertArrayEquals(da.mean(), ca.mean(), 1e-15);
    double[][] built = ca.covariance();
    for (int i = 0; i < d; i++) {
      assertArrayEquals(da.covariance()[i], built[i], 1e-15);
    }
    double fromCovariances = FrechetDistance.between(da, db);
    double fromVectors = FrechetDistance.between(ca, cb);
    assertTrue(fromCovariances > 1, "the sets differ: " + fromCovariances);
    // the covariances have rank 24 and 39 of 60: the eigendecompositions' zero eigenvalues come out as
    // +-eps |S| and enter through square roots (~1e-8 each, 60 of them), so the covariance route is exact to
    // ~1e-6 absolute; the vectors' route has no such eigenvalues but one (the centring's) of its order 25
    assertEquals(fromCovariances, fromVectors, 1e-5);
    assertEquals(fromVectors, FrechetDistance.between(cb, ca), 1e-9 * fromVectors);
    // one of each form: the centred one's covariance is built
    assertEquals(fromCovariances, FrechetDistance.between(ca, db), 1e-5);
    assertEquals(0.0, FrechetDistance.between(ca, Gaussian.fit(a, d)), 1e-7);
  }

  @Test
  void imagesOfTwelveThousandValuesAreScoredFromTheirVectors() {
    // 3x64x64 images: a covariance would be 12288 x 12288 doubles (1.2 GB) and an eigendecomposition of
    // ~10^12 operations; 16 images of each set take 16 x 12288 values. Values that are the same in every image
    // add nothing to the distance, so the 12288-value sets score as their first 30 values do
    int small = 30;
    int d = 3 * 64 * 64;
    int n = 16;
    float[] a = vectors(n, small, 3, 1.0, 0.0);
    float[] b = vectors(n, small, 4, 0.6, 0.1);
    float[] wideA = new float[n * d];
    float[] wideB = new float[n * d];
    for (int s = 0; s < n; s++) {
      java.util.Arrays.fill(wideA, s * d, (s + 1) * d, 0.5f);
      java.util.Arrays.fill(wideB, s * d, (s + 1) * d, 0.5f);
      System.arraycopy(a, s * small, wideA, s * d, small);
      System.arraycopy(b, s * small, wideB, s * d, small);
    }
    Gaussian wa = Gaussian.fit(wideA, d);
    assertNotNull(wa.centredView());
    double wide = FrechetDistance.between(wa, Gaussian.fit(wideB, d));
    double narrow = FrechetDistance.between(Gaussian.fit(a, small), Gaussian.fit(b, small));
    assertTrue(narrow > 0.1, "the sets differ: " + narrow);
    // the same sums with 12258 more zero terms: equal to rounding
    assertEquals(narrow, wide, 1e-9 * narrow);
  }

  @Test
  void theHeapCheckRefusesWhatWouldNotFitAndNamesTheLargestCountThatDoes() {
    Shape big = Shape.of(3, 64, 64);
    int d = big.size();
    // vectors kept up to the dimension, covariances past it: the estimate grows with the count and jumps there
    assertTrue(FrechetDistance.heapBytes(d, 1000, 1000) > FrechetDistance.heapBytes(d, 999, 999));
    assertTrue(FrechetDistance.heapBytes(d, d, d) < FrechetDistance.heapBytes(d, d + 1, d + 1));
    // 64 images of 12288 values: ~19 MB of floats and centred doubles; one covariance would be 1.2 GB
    assertTrue(FrechetDistance.heapBytes(d, 64, 64) < 20_000_000L, FrechetDistance.heapBytes(d, 64, 64) + " bytes");
    assertTrue(FrechetDistance.heapBytes(d, 50_000, 50_000) > 40L * d * d);
    FrechetDistance.checkHeap(big, 64, 100_000_000L);
    long budget = 2_000_000_000L;
    ScoringMemoryException e =
        assertThrows(ScoringMemoryException.class, () -> FrechetDistance.checkHeap(big, 50_000, budget));
    long fits = e.largestCount();
    assertTrue(fits >= 2 && fits <= d, "kept vectors fit, covariances do not: " + fits);
    assertTrue(FrechetDistance.heapBytes(d, fits, fits) <= budget);
    assertTrue(FrechetDistance.heapBytes(d, fits + 1, fits + 1) > budget);
    assertTrue(e.getMessage().contains("score " + fits + " or fewer") && e.getMessage().contains("3x64x64 images"),
        e.getMessage());
    ScoringMemoryException none = assertThrows(ScoringMemoryException.class,
        () -> FrechetDistance.checkHeap(big, 10, 1000));
    assertEquals(0, none.largestCount());
    assertTrue(none.getMessage().contains("no count fits"), none.getMessage());
  }

  @Test
  void nearbySetsAreCloserThanFarSets() {
    Shape shape = Shape.of(3, 5, 5);
    float[] ref = GradientImages.generate(500, shape, Noise.seeded(10));
    float[] same = GradientImages.generate(500, shape, Noise.seeded(11));
    float[] shifted = same.clone();
    for (int i = 0; i < shifted.length; i++) {
      shifted[i] = shifted[i] * 0.5f + 0.25f;
    }
    double near = FrechetDistance.between(ref, same, 75);
    double far = FrechetDistance.between(ref, shifted, 75);
    assertTrue(near < far, near + " < " + far);
  }

  @Test
  void nonFiniteValuesGiveNaN() {
    float[] a = GradientImages.generate(10, Shape.of(1, 2, 2), Noise.seeded(1));
    float[] b = a.clone();
    b[3] = Float.NaN;
    assertTrue(Double.isNaN(FrechetDistance.between(a, b, 4)));
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(new float[4], new float[4], 4));
    assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(new float[8], new float[7], 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> FrechetDistance.between(Gaussian.fit(new float[8], 4), Gaussian.fit(new float[9], 3)));
  }

  @Test
  void gaussianFitMatchesTwoPassFormulas() {
    Random r = new Random(5);
    int n = 37;
    int d = 5;
    float[] x = new float[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    Gaussian g = Gaussian.fit(x, d);
    double[] mean = g.mean();
    double[][] cov = g.covariance();
    for (int i = 0; i < d; i++) {
      double m = 0;
      for (int s = 0; s < n; s++) {
        m += x[s * d + i];
      }
      m /= n;
      assertEquals(m, mean[i], 1e-12);
      for (int j = 0; j < d; j++) {
        double c = 0;
        double mj = 0;
        for (int s = 0; s < n; s++) {
          mj += x[s * d + j];
        }
        mj /= n;
        for (int s = 0; s < n; s++) {
          c += (x[s * d + i] - m) * (x[s * d + j] - mj);
        }
        assertEquals(c / (n - 1), cov[i][j], 1e-12);
      }
    }
    assertEquals(n, g.count());
    assertEquals(d, g.dimension());
  }

  @Test
  void theHeapEstimateIsItsDocumentedSumOfArrays() {
    // heapBytes' own accounting, by hand for d = 100:
    // kept vectors (n <= d): 12 d n per set, and 8 (n1 n2 + 2 min(n1, n2)^2) for the products
    assertEquals(12 * 100 * 50 * 2 + 8 * (50 * 50 + 2 * 50 * 50), FrechetDistance.heapBytes(100, 50, 50));
    assertEquals(12 * 100 * 100 * 2 + 8 * (100 * 100 + 2 * 100 * 100), FrechetDistance.heapBytes(100, 100, 100),
        "n = d still keeps the vectors");
    assertEquals(12 * 100 * 30 + 12 * 100 * 40 + 8 * (30 * 40 + 2 * 30 * 30), FrechetDistance.heapBytes(100, 30, 40));
    // covariances (n > d): 16 d^2 per set, 40 d^2 for the decomposition, 8 d^2 per set whose covariance is built
    assertEquals(16 * 100 * 100 * 2 + 40 * 100 * 100, FrechetDistance.heapBytes(100, 101, 200));
    assertEquals(12 * 100 * 50 + 16 * 100 * 100 + 48 * 100 * 100, FrechetDistance.heapBytes(100, 50, 200),
        "one set kept: its covariance is built too");
    assertEquals(12 * 100 * 50 + 16 * 100 * 100 + 48 * 100 * 100, FrechetDistance.heapBytes(100, 200, 50));
  }

  @Test
  void theHeapCheckNamesTheExactLargestCountAndWhatTheEstimateIs() {
    Shape small = Shape.of(1, 10, 10); // d = 100: heapBytes(100, n, n) = 2400 n + 24 n^2 for n <= 100
    FrechetDistance.checkHeap(small, 50, 180_000L); // exactly the estimate fits
    ScoringMemoryException e =
        assertThrows(ScoringMemoryException.class, () -> FrechetDistance.checkHeap(small, 50, 179_999L));
    // n = 49: 117600 + 57624 = 175224 fits, n = 50 does not
    assertEquals(49, e.largestCount());
    assertEquals(180_000L, e.neededBytes());
    assertEquals(179_999L, e.budgetBytes());
    assertTrue(e.getMessage().contains("scoring 50 samples of 1x10x10 images (100 values each)")
        && e.getMessage().contains("the images as double-precision vectors")
        && e.getMessage().contains("score 49 or fewer"), e.getMessage());
    // n = 2 takes 4896 bytes and n = 3 7416: a count of 2 is still an answer
    ScoringMemoryException two =
        assertThrows(ScoringMemoryException.class, () -> FrechetDistance.checkHeap(small, 100, 5000L));
    assertEquals(2, two.largestCount());
    assertTrue(two.getMessage().contains("score 2 or fewer") && two.getMessage().contains("double-precision"),
        two.getMessage());
    // past the dimension: 72 d^2 bytes for d = 12288 is 10.87 GB, against 2.0 GB
    ScoringMemoryException big = assertThrows(ScoringMemoryException.class,
        () -> FrechetDistance.checkHeap(Shape.of(3, 64, 64), 50_000, 2_000_000_000L));
    assertEquals(72L * 12288 * 12288, big.neededBytes());
    assertTrue(big.getMessage().contains("about 10.9 GB") && big.getMessage().contains("2.0 GB are available")
        && big.getMessage().contains("their 12288 x 12288 covariances"), big.getMessage());
  }
}
