package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link ArrayMath}'s reductions, the scalar chains and the Vector API's (built on any CPU, even where
 * {@link ArrayMath#SIMD} would not use them), against sums in double, over ranges that start and end inside a
 * vector and runs of {@value ArrayMath#RUN}.
 */
class ArrayMathTest {
  private static final ArrayMath.Simd SIMD = Nd4jTests.simd(ArrayMath.Simd.class);

  /**
   * Float sums of up to {@value ArrayMath#RUN} terms in chains: each chain's error is at most its length times
   * one rounding of the running sum, so the error stays below {@code RUN * 2^-24} of the sum of absolute values;
   * the bound taken is a tenth of that, which the chains meet by a wide margin (random signs).
   */
  private static final double TOL = ArrayMath.RUN * 0x1p-24 / 10;

  @Test
  void theVectorRunsAddUpAsTheDoubleSums() {
    Random r = new Random(5);
    float[] a = new float[3000];
    float[] b = new float[3000];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
      b[i] = (float) (r.nextGaussian() * 3 + 1);
    }
    float c = 0.75f;
    int[][] ranges = {{0, 1024}, {3, 1000}, {17, 18}, {5, 20}, {1024, 2048}, {100, 1124}, {0, 0}, {7, 33}};
    for (int[] range : ranges) {
      int from = range[0];
      int to = range[1];
      double sum = 0;
      double abs = 0;
      double sq = 0;
      double dot = 0;
      double dotAbs = 0;
      for (int i = from; i < to; i++) {
        sum += a[i];
        abs += Math.abs(a[i]);
        double d = (double) b[i] - c;
        sq += d * d;
        dot += a[i] * d;
        dotAbs += Math.abs(a[i] * d);
      }
      String what = "[" + from + ", " + to + ")";
      assertEquals(sum, SIMD.sumRun(a, from, to), TOL * abs + 1e-30, "sum of " + what);
      assertEquals(sq, SIMD.squaredDeviationsRun(b, from, to, c), TOL * sq + 1e-30, "squared deviations of " + what);
      assertEquals(dot, SIMD.dotRun(a, b, c, from, to), TOL * dotAbs + 1e-30, "dot of " + what);
    }
  }

  @Test
  void theWholeReductionsAddTheRunsWhicheverChainsRunThem() {
    Random r = new Random(6);
    int n = 5000; // four whole runs and a part
    float[] a = new float[n + 9];
    float[] b = new float[n + 9];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
      b[i] = (float) r.nextGaussian();
    }
    double sum = 0;
    double abs = 0;
    double sq = 0;
    double dot = 0;
    double dotAbs = 0;
    for (int i = 9; i < n + 9; i++) {
      sum += a[i];
      abs += Math.abs(a[i]);
      double d = (double) b[i] - 0.5f;
      sq += d * d;
      dot += a[i] * d;
      dotAbs += Math.abs(a[i] * d);
    }
    assertEquals(sum, ArrayMath.sum(a, 9, n), TOL * abs);
    assertEquals(sq, ArrayMath.squaredDeviations(b, 9, n, 0.5f), TOL * sq);
    assertEquals(dot, ArrayMath.dotCentered(a, b, 0.5f, 9, n), TOL * dotAbs);
  }
}
