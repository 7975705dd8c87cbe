package io.github.diffusion4j.random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.eval.CornerUniformity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/**
 * Every path that makes standard normals, checked by statistics alone (no golden values, so a defect that a
 * regenerated golden file would hide is still caught): Box-Muller's scalar loop, its two Vector API fills, and the
 * ziggurat's {@code nextGaussian} and float fill. Each gets {@link #N} values of one fixed stream.
 *
 * <p>Bounds: 5 standard errors for the moments, the correlation and the tail counts (a false failure has
 * probability below 1e-6 per check), and a Kolmogorov-Smirnov p-value of at least 0.001. The normal CDF is
 * {@link NoiseTest#phi} (absolute error below 1e-7, negligible beside the KS statistic's 1e-3 scale and the tail
 * probability 1.3e-4 relative error 6e-4); the KS statistic and p-value are {@link CornerUniformity}'s, applied
 * to the probability integral transform of the sample.
 */
class NormalPathsStatisticsTest {
  /** The ziggurat's base layer's right edge; beyond it values come from Marsaglia's tail method. */
  private static final double R = 3.6541528853610088;

  private static final int N = 1 << 20;

  private static final long KEY = Noise.seeded(20240617).key();

  /** The paths, each a stream key to {@link #N} normals; for Box-Muller, block layout of 8 cosines, 8 sines. */
  private static final Map<String, LongFunction<float[]>> PATHS = new LinkedHashMap<>();

  static {
    PATHS.put("Box-Muller scalar", key -> boxMuller(BoxMuller.SCALAR, key));
    PATHS.put("Box-Muller vector (512-bit words)", key -> boxMuller(BoxMullerVector::fill, key));
    PATHS.put("Box-Muller vector (256-bit)", key -> boxMuller(BoxMullerVector::fill256, key));
    PATHS.put("ziggurat nextGaussian", key -> {
      RandomGenerator g = new RandomGenerator(key);
      float[] v = new float[N];
      for (int i = 0; i < N; i++) {
        v[i] = (float) g.nextGaussian();
      }
      return v;
    });
    PATHS.put("ziggurat fill", key -> Noise.ofKey(key).normals(N));
  }

  private static final Map<String, float[]> SAMPLES = new LinkedHashMap<>();

  private static synchronized float[] sample(String path) {
    return SAMPLES.computeIfAbsent(path, p -> PATHS.get(p).apply(KEY));
  }

  private static float[] boxMuller(BoxMuller.Filler f, long key) {
    float[] v = new float[N];
    f.fill(key, v, 0, N, N);
    return v;
  }

  private static boolean isBoxMuller(String path) {
    return path.startsWith("Box-Muller");
  }

  @Test
  void meanIsZeroAndVarianceOne() {
    for (String path : PATHS.keySet()) {
      double sum = 0;
      double sq = 0;
      for (float x : sample(path)) {
        sum += x;
        sq += (double) x * x;
      }
      double mean = sum / N;
      // standard errors 1/sqrt(N) and sqrt(2/N) (the variance of x^2 is 2)
      assertEquals(0, mean, 5 / Math.sqrt(N), path + ": mean");
      assertEquals(1, sq / N - mean * mean, 5 * Math.sqrt(2.0 / N), path + ": variance");
    }
  }

  @Test
  void kolmogorovSmirnovAgainstTheStandardNormal() {
    for (String path : PATHS.keySet()) {
      float[] v = sample(path);
      double[] u = new double[N];
      for (int i = 0; i < N; i++) {
        u[i] = NoiseTest.phi(v[i]);
      }
      double d = CornerUniformity.ksStatistic(u);
      double p = CornerUniformity.pValue(d, N);
      assertTrue(p >= 0.001, path + ": KS statistic " + d + " has p-value " + p + " < 0.001");
    }
  }

  /**
   * The two normals of one word (Box-Muller: {@code r cos θ} at position {@code l} of a block of 16 and
   * {@code r sin θ} at {@code l + 8}) are independent; so are two consecutive ziggurat draws. The sample
   * correlation of independent standard normals has standard error {@code 1 / sqrt(pairs)}.
   */
  @Test
  void pairsAreUncorrelated() {
    for (String path : PATHS.keySet()) {
      float[] v = sample(path);
      double xy = 0;
      int pairs = 0;
      if (isBoxMuller(path)) {
        for (int b = 0; b < N; b += 16) {
          for (int l = 0; l < 8; l++) {
            xy += (double) v[b + l] * v[b + 8 + l];
            pairs++;
          }
        }
      } else {
        for (int i = 0; i + 1 < N; i += 2) {
          xy += (double) v[i] * v[i + 1];
          pairs++;
        }
      }
      assertEquals(0, xy / pairs, 5 / Math.sqrt(pairs), path + ": correlation of pairs");
    }
  }

  /**
   * The counts beyond {@code R} and below {@code -R} are each Binomial(N, p) with {@code p = 1 - Phi(R) = 1.29e-4}
   * (expected 135, standard deviation 11.6); a tail drawn on one side only doubles one count and empties the other.
   */
  @Test
  void tailFractionBeyondTheZigguratEdgeIsRightOnBothSides() {
    double p = 1 - NoiseTest.phi(R);
    double expected = N * p;
    double bound = 5 * Math.sqrt(N * p * (1 - p));
    for (String path : PATHS.keySet()) {
      int above = 0;
      int below = 0;
      for (float x : sample(path)) {
        above += x > R ? 1 : 0;
        below += x < -R ? 1 : 0;
      }
      assertEquals(expected, above, bound, path + ": values above R");
      assertEquals(expected, below, bound, path + ": values below -R");
    }
  }

  /**
   * Beyond the edge, {@code |x|} follows the normal tail: {@code P(|x| <= y | |x| > R) = 1 - Q(y) / Q(R)} with
   * {@code Q = 1 - Phi}; a KS test of about 270 values against it (p-value at least 0.001) catches a tail of the wrong
   * scale (e.g. {@code R + 2x} or {@code R + x / 2} in Marsaglia's method moves the CDF by up to 0.25, the KS
   * critical value is 0.12).
   */
  @Test
  void tailBeyondTheZigguratEdgeHasTheNormalShape() {
    double qr = 1 - NoiseTest.phi(R);
    for (String path : PATHS.keySet()) {
      float[] v = sample(path);
      int m = 0;
      double[] u = new double[N];
      for (float x : v) {
        if (Math.abs(x) > R) {
          u[m++] = 1 - (1 - NoiseTest.phi(Math.abs(x))) / qr;
        }
      }
      assertTrue(m > 150, path + ": only " + m + " values beyond R");
      double[] tail = java.util.Arrays.copyOf(u, m);
      double d = CornerUniformity.ksStatistic(tail);
      double pv = CornerUniformity.pValue(d, m);
      assertTrue(pv >= 0.001, path + ": KS statistic of the tail " + d + " (" + m + " values) has p-value " + pv);
    }
  }
}
