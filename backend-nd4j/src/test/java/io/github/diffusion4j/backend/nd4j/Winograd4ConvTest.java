package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Winograd4Conv}'s parts: the tile transforms in vectors against the plain loops (bit for bit), the plain
 * loops against the definitions {@code B^T d B} and {@code A^T M A}, and the system property. The convolutions
 * themselves (forward pass and input gradient, every 3x3 size-keeping shape of the layer-kind tests, on two lanes)
 * are checked against the reference kernels in {@link Nd4jLayerKindsTest}, and in the U-Net, DDPM and diffusers
 * contract tests where the default choice takes them.
 */
class Winograd4ConvTest {
  private static final double[][] BT = {
    {4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  private static final double[][] AT = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  @Test
  void vectorTransformsComputeThePlainLoopsBits() {
    Winograd4Conv.Simd simd = Winograd4Conv.SIMD;
    assertNotNull(simd, "the tests run with the Vector API module on a CPU with AVX2 or AVX-512");
    int lanes = simd.lanes();
    // tiles down and across: 32x32, 8x8, 16x16 planes, a ragged 7x5 one (2 by 2 tiles) and one tile
    for (int[] tiles : new int[][] {{8, 8}, {2, 2}, {4, 4}, {2, 2}, {1, 1}, {3, 6}}) {
      int th = tiles[0];
      int we = tiles[1] + 1;
      int n = th * we;
      int out = (n + lanes - 1) / lanes * lanes;
      int phase = Math.max((th + 1) * we, out + we + 1);
      float[] q = random(16 * phase, n);
      int pointStride = out + 7;
      int at = 3;
      float[] plain = new float[3 + 36 * pointStride];
      float[] vector = new float[3 + 36 * pointStride];
      Winograd4Conv.inputTiles(q, phase, we, 0, out, plain, at, pointStride);
      simd.inputTiles(q, phase, we, n, vector, at, pointStride, new float[36 * lanes]);
      assertArrayEquals(plain, vector, "input transform, " + th + "x" + tiles[1] + " tiles");
      float[] outPlain = new float[16 * out];
      float[] outVector = new float[16 * out];
      Winograd4Conv.outputTiles(plain, at, pointStride, 0, out, 0.25f, outPlain, out);
      simd.outputTiles(plain, at, pointStride, n, 0.25f, outVector, out, new float[36 * lanes]);
      assertArrayEquals(outPlain, outVector, "output transform, " + th + "x" + tiles[1] + " tiles");
    }
  }

  @Test
  void transformsAreBtDBAndAtMA() {
    int th = 2;
    int we = 3;
    int n = th * we;
    int phase = (th + 1) * we + 20;
    float[] q = random(16 * phase, 5);
    float[] v = new float[36 * n];
    Winograd4Conv.inputTiles(q, phase, we, 0, n, v, 0, n);
    float[] out = new float[16 * n];
    Winograd4Conv.outputTiles(v, 0, n, 0, n, 1.5f, out, n);
    for (int s = 0; s < n; s++) {
      // the tile's 6x6 patch: element (i, j) from phase plane (i % 4, j % 4), rows we apart
      double[][] d = new double[6][6];
      double scale = 0;
      for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 6; j++) {
          d[i][j] = q[((i & 3) * 4 + (j & 3)) * phase + s + (i >> 2) * we + (j >> 2)];
          scale = Math.max(scale, Math.abs(d[i][j]));
        }
      }
      double[][] vv = new double[6][6];
      for (int a = 0; a < 6; a++) {
        for (int b = 0; b < 6; b++) {
          double sum = 0;
          for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 6; j++) {
              sum += BT[a][i] * d[i][j] * BT[b][j];
            }
          }
          vv[a][b] = v[(a * 6 + b) * n + s];
          // float32 sums of up to 36 terms of up to 100x the patch's largest value
          assertEquals(sum, vv[a][b], 1e-5 * 100 * scale, "V[" + a + "][" + b + "] of slot " + s);
        }
      }
      // A^T V A + bias, V taken as the products M
      for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) {
          double sum = 1.5;
          for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 6; j++) {
              sum += AT[a][i] * vv[i][j] * AT[b][j];
            }
          }
          assertEquals(sum, out[(a * 4 + b) * n + s], 1e-5 * 100 * 100 * scale, "Y[" + a + "][" + b + "] of slot " + s);
        }
      }
    }
  }

  @Test
  void propertyTurnsItOffAndRefusesNonBooleans() {
    String before = System.getProperty(Winograd4Conv.PROPERTY);
    try {
      System.clearProperty(Winograd4Conv.PROPERTY);
      assertTrue(Winograd4Conv.enabled());
      assertTrue(DirectConv.Use.defaults().winograd4());
      assertTrue(DirectConv.Use.defaults().describe().contains("Winograd F(4x4, 3x3)"),
          DirectConv.Use.defaults().describe());
      System.setProperty(Winograd4Conv.PROPERTY, "FALSE");
      assertFalse(Winograd4Conv.enabled());
      assertFalse(DirectConv.Use.defaults().winograd4());
      assertFalse(DirectConv.Use.defaults().describe().contains("F(4x4"));
      System.setProperty(Winograd4Conv.PROPERTY, "fast");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, DirectConv.Use::defaults);
      assertEquals("system property diffusion4j.nd4j.winograd4: 'fast' is not a boolean (allowed: true, false)",
          e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(Winograd4Conv.PROPERTY);
      } else {
        System.setProperty(Winograd4Conv.PROPERTY, before);
      }
    }
  }
}
