package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CornerUniformityTest {
  private static final Shape SHAPE = Shape.of(3, 5, 5);

  /** The asymptotic critical value of D at level alpha: P(D > c) = alpha (Kolmogorov). */
  private static double critical(int n, double alpha) {
    return Math.sqrt(-Math.log(alpha / 2) / 2) / Math.sqrt(n);
  }

  @Test
  void gradientCornersAreUniform() {
    float[] x = GradientImages.generate(2000, SHAPE, Noise.seeded(9));
    int n = 2 * 2000 * 3;
    double d = CornerUniformity.pooledKsStatistic(x, SHAPE);
    // corners are k/255 for k uniform in 0..254, a discrete uniform whose CDF is within 1/255 of the
    // continuous one; a uniform sample exceeds critical(n, 0.001) with probability 0.001
    assertTrue(d < critical(n, 0.001) + 1.0 / 255, "D = " + d);
  }

  @Test
  void constantValuesAreFarFromUniform() {
    float[] x = new float[100 * 75];
    Arrays.fill(x, 0.5f);
    assertEquals(0.5, CornerUniformity.pooledKsStatistic(x, SHAPE), 1e-12);
    Arrays.fill(x, 0f);
    assertEquals(1.0, CornerUniformity.pooledKsStatistic(x, SHAPE), 1e-12);
    assertTrue(CornerUniformity.pValue(0.5, 600) < 1e-10);
  }

  @Test
  void smallSamplesByHand() {
    assertEquals(0.5, CornerUniformity.ksStatistic(new double[] {0.5}), 1e-15);
    assertEquals(0.25, CornerUniformity.ksStatistic(new double[] {0.25, 0.75}), 1e-15);
    // sorted 0.1, 0.2, 0.9: max(1/3 - 0.1, 0.1, 2/3 - 0.2, 0.2 - 1/3, 1 - 0.9, 0.9 - 2/3) = 0.4667
    assertEquals(2.0 / 3 - 0.2, CornerUniformity.ksStatistic(new double[] {0.9, 0.1, 0.2}), 1e-15);
    // out-of-range values are clamped, NaN counts as 1
    assertEquals(1.0, CornerUniformity.ksStatistic(new double[] {-3, -1}), 1e-15);
    assertEquals(1.0, CornerUniformity.ksStatistic(new double[] {Double.NaN, 7}), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> CornerUniformity.ksStatistic(new double[0]));
  }

  @Test
  void gradientCornersAreUniformInEveryCornerAndChannel() {
    float[] x = GradientImages.generate(2000, SHAPE, Noise.seeded(9));
    double d = CornerUniformity.meanKsStatistic(x, SHAPE);
    // each of the six tests sees 2000 values; the mean of six statistics is below the largest, which for a
    // uniform sample exceeds critical(2000, 0.001 / 6) with probability at most 0.001 (union bound)
    assertTrue(d < critical(2000, 0.001 / 6) + 1.0 / 255, "D = " + d);
    // and it is not the pooled statistic: its floor is higher (fewer values per test), ~0.87 / sqrt(2000) = 0.019
    assertTrue(d > CornerUniformity.pooledKsStatistic(x, SHAPE), "mean " + d);
  }

  /**
   * Two images of 2 channels of 2x2 pixels; only the top-left and bottom-right pixel of each channel count
   * (the others are 0.5, which would move every statistic). Channel 0: top-left {0.1, 0.2}, bottom-right
   * {0.8, 0.9}; channel 1: top-left {0.25, 0.75}, bottom-right {0.75, 0.25}.
   *
   * <p>Per corner and channel, with {@code D = max_i max(i/n - x_(i), x_(i) - (i-1)/n)}: {0.1, 0.2} gives
   * max(0.5 - 0.1, 0.1, 1 - 0.2, 0.2 - 0.5) = 0.8; {0.8, 0.9} gives max(0.5 - 0.8, 0.8, 1 - 0.9, 0.9 - 0.5) =
   * 0.8; {0.25, 0.75} gives 0.25 twice; the mean is (0.8 + 0.8 + 0.25 + 0.25) / 4 = 0.525.
   *
   * <p>Pooled, the 8 values sorted are 0.1, 0.2, 0.25, 0.25, 0.75, 0.75, 0.8, 0.9 against i/8: the largest
   * gaps are 4/8 - 0.25 and 0.75 - 4/8, so D = 0.25. The pooled test cannot see that channel 0's corners sit
   * at opposite ends: the two low and two high values pool to a spread-out set.
   */
  @Test
  void theMeanOfPerCornerTestsDiffersFromThePooledTestByHand() {
    Shape shape = Shape.of(2, 2, 2);
    float[] x = {
      0.1f, 0.5f, 0.5f, 0.8f, /* channel 1 */ 0.25f, 0.5f, 0.5f, 0.75f, // image 0
      0.2f, 0.5f, 0.5f, 0.9f, /* channel 1 */ 0.75f, 0.5f, 0.5f, 0.25f, // image 1
    };
    // the inputs are floats (0.1f = 0.1 + 1.5e-9), so the hand values hold to 1e-7
    assertEquals(0.525, CornerUniformity.meanKsStatistic(x, shape), 1e-7);
    assertEquals(0.25, CornerUniformity.pooledKsStatistic(x, shape), 1e-7);
    CornerUniformity.Accumulator acc = new CornerUniformity.Accumulator(2).add(x, shape, 2);
    double bin = 0.5 / CornerUniformity.Accumulator.BINS;
    assertEquals(0.525, acc.meanKsStatistic(), bin + 1e-7);
    assertEquals(0.25, acc.pooledKsStatistic(), bin + 1e-7);
    assertEquals(8, acc.count());
  }

  @Test
  void theAccumulatorTakesImagesOfItsChannelsOnly() {
    CornerUniformity.Accumulator acc = new CornerUniformity.Accumulator(3);
    assertThrows(IllegalArgumentException.class, () -> acc.add(new float[4], Shape.of(1, 2, 2), 1));
    assertThrows(IllegalArgumentException.class, () -> acc.merge(new CornerUniformity.Accumulator(1)));
    assertThrows(IllegalArgumentException.class, () -> new CornerUniformity.Accumulator(0));
    assertThrows(IllegalStateException.class, acc::meanKsStatistic);
  }

  @Test
  void takesTheTopLeftAndBottomRightPixelOfEachChannel() {
    Shape shape = Shape.of(2, 2, 3);
    float[] x = new float[2 * 12];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }
    assertArrayEquals(
        new double[] {0, 5, 6, 11, 12, 17, 18, 23}, CornerUniformity.corners(x, shape), 0.0);
  }

  @Test
  void pValueMatchesKnownQuantiles() {
    // Kolmogorov's distribution: Q(1.3581) = 0.05, Q(1.6276) = 0.01 (standard tables); at large n the
    // small-sample correction is negligible (0.12 / sqrt(n) ~ 1e-4 relative)
    int n = 1_000_000;
    assertEquals(0.05, CornerUniformity.pValue(1.3581 / Math.sqrt(n), n), 5e-4);
    assertEquals(0.01, CornerUniformity.pValue(1.6276 / Math.sqrt(n), n), 2e-4);
    assertEquals(1.0, CornerUniformity.pValue(0.0, n), 0.0);
  }

  @Test
  void pValueRefusesASampleSizeOrStatisticItHasNoAnswerFor() {
    // n = 0 gave 0.0 (a certain rejection from no data), a negative n and a NaN statistic gave NaN
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CornerUniformity.pValue(0.1, 0));
    assertTrue(e.getMessage().contains("n = 0") && e.getMessage().contains("at least 1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> CornerUniformity.pValue(0.1, -5));
    assertTrue(e.getMessage().contains("n = -5"), e.getMessage());
    for (double d : new double[] {Double.NaN, -0.1, 1.5}) {
      e = assertThrows(IllegalArgumentException.class, () -> CornerUniformity.pValue(d, 10));
      assertTrue(e.getMessage().contains("d = " + d) && e.getMessage().contains("[0, 1]"), e.getMessage());
    }
    assertEquals(1.0, CornerUniformity.pValue(0.0, 1), 0.0); // the ends of the range stay allowed
    double p = CornerUniformity.pValue(1.0, 1); // lambda = 1.23: Q = 0.097 (standard tables)
    assertEquals(0.097, p, 1e-3);
  }

  @Test
  void pValueSumsTheAlternatingSeriesWhereMoreThanOneTermCounts() {
    // Q(lambda) = 2 sum_k (-1)^(k-1) exp(-2 k^2 lambda^2); the reference values come from the other form of
    // Kolmogorov's distribution, 1 - sqrt(2 pi) / lambda sum_k exp(-(2k-1)^2 pi^2 / (8 lambda^2)), summed in
    // Python: Q(0.5) = 0.9639452, Q(0.8) = 0.5441424. At lambda = 0.5 the first term alone is 1.21 and the
    // second -0.27: a sum cut short is far off. Tolerance: both are the exact series, so 1e-9 is rounding.
    int n = 100;
    double scale = Math.sqrt(n) + 0.12 + 0.11 / Math.sqrt(n);
    assertEquals(0.9639452436648751, CornerUniformity.pValue(0.5 / scale, n), 1e-9);
    assertEquals(0.544142411574198, CornerUniformity.pValue(0.8 / scale, n), 1e-9);
  }

  @Test
  void theAccumulatorRefusesTooFewValuesAndNamesBothChannelCounts() {
    Shape rgb = Shape.of(3, 2, 2);
    CornerUniformity.Accumulator a = new CornerUniformity.Accumulator(3);
    // 2 RGB images of 2x2 are 24 values: 23 do not hold them (an index error otherwise, or corners of the
    // next image's channels)
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> a.add(new float[23], rgb, 2));
    assertTrue(e.getMessage().contains("23 values hold fewer than 2 images"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> a.add(new float[24], rgb, -1));
    assertSame(a, a.add(new float[24], rgb, 0), "no images is allowed and adds nothing");
    assertEquals(0, a.count());
    assertSame(a, a.add(new float[24], rgb, 2), "exactly enough values");
    assertEquals(2 * 2 * 3, a.count());
    e = assertThrows(IllegalArgumentException.class, () -> new CornerUniformity.Accumulator(1).add(new float[24],
        rgb, 2));
    assertTrue(e.getMessage().contains("3 channels, the accumulator 1"), e.getMessage());
    CornerUniformity.Accumulator other = new CornerUniformity.Accumulator(3).add(new float[24], rgb, 1);
    assertSame(a, a.merge(other), "merge returns the accumulator it adds to");
    assertEquals(2 * 2 * 3 + 2 * 3, a.count());
    e = assertThrows(IllegalArgumentException.class, () -> new CornerUniformity.Accumulator(1).merge(a));
    assertEquals("cannot merge corners of 3 channels into 1", e.getMessage());
    assertEquals(1, new CornerUniformity.Accumulator(1).add(new float[4], Shape.of(1, 2, 2), 1).count() / 2,
        "one channel is allowed");
  }
}
