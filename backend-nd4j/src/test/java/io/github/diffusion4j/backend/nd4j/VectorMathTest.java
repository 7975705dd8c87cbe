package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath}: the Vector API loops give the scalar loops' bits (on any CPU: the test builds them even
 * where {@link VectorMath#SIMD} would not use them), over ranges that start and end inside a vector, and the
 * functions are right against {@code Math.exp} to about one float rounding.
 */
class VectorMathTest {
  private static final VectorMath.Simd SIMD = Nd4jTests.simd(VectorMath.Simd.class);
  /**
   * The lanes of the JVM's preferred species, which {@code VectorMathSimd}'s vectors have ({@code Winograd4ConvSimd}
   * reports them): 16 on AVX-512, 8 on AVX2 (the pom's second run of this test, {@code -XX:UseAVX=2}).
   */
  private static final int LANES = Nd4jTests.simd(Winograd4Conv.Simd.class).lanes();

  /** Arguments across the clamp, with the specials: infinities, NaN, both zeros, subnormals. */
  private static float[] arguments(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) ((r.nextDouble() * 2 - 1) * (i % 7 == 0 ? 120 : 12));
    }
    float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0f, -0f, Float.MIN_VALUE,
        -Float.MIN_VALUE, 87f, -87f, 88.5f, -88.5f, 1e-30f};
    System.arraycopy(specials, 0, x, 3, specials.length);
    return x;
  }

  @Test
  void theVectorSigmoidAndSiluAreTheScalarOnesBitForBit() {
    VectorMath.Scratch sc = new VectorMath.Scratch();
    for (boolean silu : new boolean[] {false, true}) {
      for (int[] range : new int[][] {{0, 3000}, {5, 2999}, {3, 11}, {0, 7}, {13, 13}}) {
        float[] y1 = arguments(3000, 17);
        float[] y2 = y1.clone();
        float[] s1 = new float[3000];
        float[] s2 = new float[3000];
        int stop = SIMD.sigmoid(y1, s1, range[0], range[1], silu);
        // whole vectors: less than one is left to the scalar loop
        assertWholeVectors(range, stop);
        VectorMath.sigmoidScalar(y1, s1, stop, range[1], silu, sc);
        VectorMath.sigmoidScalar(y2, s2, range[0], range[1], silu, sc);
        assertArrayEquals(bits(s2), bits(s1), "sigmoid, silu " + silu + ", range " + range[0] + ".." + range[1]);
        assertArrayEquals(bits(y2), bits(y1), "silu, range " + range[0] + ".." + range[1]);
      }
    }
  }

  /**
   * The vector loop took whole vectors of {@link #LANES} from the range's start and left less than one to the scalar
   * loop (a bound from another width leaves the scalar loop more, or runs past the range).
   */
  private static void assertWholeVectors(int[] range, int stop) {
    String what = "stopped at " + stop + " of " + range[0] + ".." + range[1] + " with " + LANES + " lanes";
    assertTrue(stop >= range[0] && stop <= range[1], what);
    assertTrue((stop - range[0]) % LANES == 0 && range[1] - stop < LANES, what);
  }

  @Test
  void theVectorExpIsTheScalarOneBitForBit() {
    VectorMath.Scratch sc = new VectorMath.Scratch();
    for (int[] range : new int[][] {{0, 3000}, {1, 2990}, {2, 5}}) {
      float[] x1 = arguments(3000, 23);
      float[] x2 = x1.clone();
      int stop = SIMD.exp(x1, range[0], range[1]);
      assertWholeVectors(range, stop);
      VectorMath.expScalar(x1, stop, range[1], sc);
      VectorMath.expScalar(x2, range[0], range[1], sc);
      assertArrayEquals(bits(x2), bits(x1), "exp, range " + range[0] + ".." + range[1]);
    }
  }

  /** Whichever loops this JVM uses: within 3e-7 relative of double-precision results (clamped at -87/87). */
  @Test
  void theFunctionsAreRightToAboutOneRounding() {
    VectorMath.Scratch sc = new VectorMath.Scratch();
    float[] x = new float[2000];
    Random r = new Random(5);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) ((r.nextDouble() * 2 - 1) * 80);
    }
    float[] e = x.clone();
    VectorMath.exp(e, 0, e.length, sc);
    float[] y = x.clone();
    float[] s = new float[x.length];
    VectorMath.sigmoid(y, s, 0, x.length, true, sc);
    for (int i = 0; i < x.length; i++) {
      double ex = Math.exp(x[i]);
      double sg = 1 / (1 + Math.exp(-x[i]));
      assertEquals(ex, e[i], 3e-7 * ex, "exp(" + x[i] + ")");
      assertEquals(sg, s[i], 3e-7 * sg + 1e-30, "sigmoid(" + x[i] + ")");
      assertEquals(x[i] * sg, y[i], 3e-7 * Math.abs(x[i] * sg) + 1e-30, "silu(" + x[i] + ")");
    }
  }

  private static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }
}
