package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link ArrayMath}'s reductions, the scalar chains and the Vector API's (each built and checked on any CPU, even
 * where {@link ArrayMath#SIMD} would use the other: the scalar chains run where the module is absent, the CPU's
 * vectors are narrower than 256 bits or the Vector API is turned off), against sums in double, over ranges that start
 * and end inside a vector and runs of {@value ArrayMath#RUN}.
 */
class ArrayMathTest {
  private static final ArrayMath.Simd SIMD = Nd4jTests.simd(ArrayMath.Simd.class);

  /** The scalar chains, which {@link ArrayMath}'s reductions use where {@link ArrayMath#SIMD} is null. */
  private static final ArrayMath.Simd PLAIN = new ArrayMath.Simd() {
    @Override
    public float sumRun(float[] x, int from, int to) {
      return ArrayMath.sumRun(x, from, to);
    }

    @Override
    public float squaredDeviationsRun(float[] x, int from, int to, float mean) {
      return ArrayMath.sumSquaredDeviations(x, from, to, mean);
    }

    @Override
    public float dotRun(float[] a, float[] b, float c, int from, int to) {
      return ArrayMath.dotRun(a, b, c, from, to);
    }
  };

  /**
   * Float sums of up to {@value ArrayMath#RUN} terms in chains: each chain's error is at most its length times
   * one rounding of the running sum, so the error stays below {@code RUN * 2^-24} of the sum of absolute values;
   * the bound taken is a tenth of that, which the chains meet by a wide margin (random signs).
   */
  private static final double TOL = ArrayMath.RUN * 0x1p-24 / 10;

  @Test
  void theVectorRunsAddUpAsTheDoubleSums() {
    theRunsAddUpAsTheDoubleSums(SIMD, "vector");
  }

  @Test
  void theScalarRunsAddUpAsTheDoubleSums() {
    theRunsAddUpAsTheDoubleSums(PLAIN, "scalar");
  }

  private static void theRunsAddUpAsTheDoubleSums(ArrayMath.Simd runs, String kind) {
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
      String what = "[" + from + ", " + to + ") in " + kind + " chains";
      assertEquals(sum, runs.sumRun(a, from, to), TOL * abs + 1e-30, "sum of " + what);
      assertEquals(sq, runs.squaredDeviationsRun(b, from, to, c), TOL * sq + 1e-30, "squared deviations of " + what);
      assertEquals(dot, runs.dotRun(a, b, c, from, to), TOL * dotAbs + 1e-30, "dot of " + what);
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

  /**
   * A run's bits do not depend on whether the JIT has compiled its loop: the chains are added in lane order, as
   * before compilation (Java 25's compiled {@code reduceLanes(ADD)} adds them pairwise, which differs in the last
   * bit for some runs, and two threads' training then differed from one thread's). Checked against that order
   * computed here, on 64 runs of 1,000 values over a wide range of magnitudes (each ending inside a vector), from the
   * first call until C2 has had a second to compile the loops.
   */
  @Test
  void theRunsAreTheSameBitsBeforeAndAfterTheJitCompilesThem() throws ReflectiveOperationException {
    var field = Class.forName(ArrayMath.class.getName() + "Simd").getDeclaredField("LANES");
    field.setAccessible(true);
    int lanes = field.getInt(null);
    Random r = new Random(7);
    int runs = 64;
    int n = 1000;
    float c = 0.75f;
    float[] a = new float[runs * n];
    float[] b = new float[runs * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextGaussian() * (1 << (i % 13)));
      b[i] = (float) (r.nextGaussian() * (1 << (i % 11)) + 1);
    }
    int[][] expected = new int[runs][3];
    for (int run = 0; run < runs; run++) {
      float[] sum = new float[lanes];
      float[] sq = new float[lanes];
      float[] dot = new float[lanes];
      int i = run * n;
      for (; i + lanes <= (run + 1) * n; i += lanes) {
        for (int k = 0; k < lanes; k++) {
          sum[k] += a[i + k];
          float d = b[i + k] - c;
          sq[k] = Math.fma(d, d, sq[k]);
          dot[k] = Math.fma(a[i + k], d, dot[k]);
        }
      }
      float s = 0;
      float q = 0;
      float p = 0;
      for (int k = 0; k < lanes; k++) {
        s += sum[k];
        q += sq[k];
        p += dot[k];
      }
      for (; i < (run + 1) * n; i++) {
        s += a[i];
        float d = b[i] - c;
        q += d * d;
        p += a[i] * d;
      }
      expected[run] =
          new int[] {Float.floatToRawIntBits(s), Float.floatToRawIntBits(q), Float.floatToRawIntBits(p)};
    }
    long end = System.nanoTime() + 1_000_000_000L;
    for (int call = 0; call < 2_000 || System.nanoTime() < end; call++) {
      for (int run = 0; run < runs; run++) {
        int from = run * n;
        int to = from + n;
        int[] got = {Float.floatToRawIntBits(SIMD.sumRun(a, from, to)),
            Float.floatToRawIntBits(SIMD.squaredDeviationsRun(b, from, to, c)),
            Float.floatToRawIntBits(SIMD.dotRun(a, b, c, from, to))};
        for (int op = 0; op < 3; op++) {
          if (got[op] != expected[run][op]) {
            String what = List.of("sum", "squared deviations", "dot").get(op);
            fail("pass " + call + ", run " + run + ": the " + what + " is " + Float.intBitsToFloat(got[op])
                + ", in lane order " + Float.intBitsToFloat(expected[run][op]));
          }
        }
      }
    }
  }
}
