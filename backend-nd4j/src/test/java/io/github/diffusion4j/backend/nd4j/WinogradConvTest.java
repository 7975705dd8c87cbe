package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.Layer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link WinogradConv}'s parts that the layer-kind tests do not reach on every CPU: the tile transforms in vectors
 * against the plain loops (bit for bit), the transforms against their definition, and the system property. The
 * convolutions themselves are checked against the reference kernels in {@link Nd4jLayerKindsTest} (every 3x3
 * stride-1 shape there, on one and several chunks of images), and in the U-Net, DDPM and diffusers contract tests
 * where the default choice takes them.
 */
class WinogradConvTest {
  private static final float[] BT = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
  private static final float[] AT = {1, 1, 1, 0, 0, 1, -1, -1};

  /** Four parity planes of {@code th + 1} rows of {@code we} random floats, as the input transform reads them. */
  private static float[] planes(int th, int we, long seed) {
    int quarter = (th + 1) * we + 1;
    float[] q = new float[4 * quarter];
    Random r = new Random(seed);
    for (int i = 0; i < q.length; i++) {
      q[i] = (float) r.nextGaussian();
    }
    return q;
  }

  @Test
  void vectorTransformsComputeThePlainLoopsBits() {
    WinogradConv.Simd simd = WinogradConv.SIMD;
    assertNotNull(simd, "the tests run with the Vector API module on a CPU with AVX2 or AVX-512");
    // 8x8 tiles (a 16x16 plane: two vectors of 256 bits, one of 512 and a rest), 4x4 (rest only on 512 bits)
    for (int[] tiles : new int[][] {{8, 8}, {4, 4}, {3, 5}, {16, 16}}) {
      int th = tiles[0];
      int we = tiles[1] + 1;
      int n = th * we;
      int quarter = (th + 1) * we + 1;
      float[] q = planes(th, we, n);
      int cols = 3 * n + 5;
      int at = n + 2;
      float[] plain = new float[16 * cols];
      float[] vector = new float[16 * cols];
      WinogradConv.inputTiles(q, quarter, we, 0, n, plain, at, cols);
      simd.inputTiles(q, quarter, we, n, vector, at, cols);
      assertArrayEquals(plain, vector, "input transform, " + th + " tile rows");
      float[] quadsPlain = new float[4 * cols];
      float[] quadsVector = new float[4 * cols];
      WinogradConv.outputTiles(plain, 0, cols, cols, 0, 0.25f, quadsPlain);
      simd.outputTiles(plain, 0, cols, cols, 0.25f, quadsVector);
      assertArrayEquals(quadsPlain, quadsVector, "output transform, " + th + " tile rows");
      float[] gradPlain = new float[16 * cols];
      float[] gradVector = new float[16 * cols];
      WinogradConv.gradientTiles(q, n, 0, n, gradPlain, at, cols);
      simd.gradientTiles(q, n, n, gradVector, at, cols);
      assertArrayEquals(gradPlain, gradVector, "output-gradient transform, " + th + " tile rows");
    }
  }

  @Test
  void vectorTransformIntoPanelsComputesThePlainLoopsBits() {
    WinogradConv.Simd simd = WinogradConv.SIMD;
    assertNotNull(simd, "the tests run with the Vector API module on a CPU with AVX2 or AVX-512");
    int w = simd.panel();
    for (int[] tiles : new int[][] {{8, 8}, {4, 4}, {3, 5}, {16, 16}, {1, 1}}) {
      int th = tiles[0];
      int we = tiles[1] + 1;
      int n = th * we;
      int quarter = (th + 1) * we + 1;
      float[] q = java.util.Arrays.copyOf(planes(th, we, n), 4 * quarter + 32);
      float[] rows = new float[16 * n];
      WinogradConv.inputTiles(q, quarter, we, 0, n, rows, 0, n);
      int channels = 3;
      int at = 3 * (w / 2); // a later image's slots, starting in the middle of a panel
      int panels = (at + n + w - 1) / w + 1;
      float[] v = new float[16 * panels * channels * w];
      simd.inputPanels(q, quarter, we, n, v, at, 1, channels, panels);
      for (int p = 0; p < 16; p++) {
        for (int i = 0; i < n; i++) {
          int s = at + i;
          assertEquals(rows[p * n + i], v[((p * panels + s / w) * channels + 1) * w + s % w], 0f,
              "point " + p + " of slot " + i + ", " + th + " tile rows");
        }
      }
    }
  }

  @Test
  void vectorProductsAreTheSumsOverTheInputChannels() {
    WinogradConv.Simd simd = WinogradConv.SIMD;
    assertNotNull(simd, "the tests run with the Vector API module on a CPU with AVX2 or AVX-512");
    int w = simd.panel();
    Random r = new Random(3);
    // output channels not a multiple of a block (a zero-padded block), slots not a multiple of the panels' width
    int bo = WinogradConv.BLOCK_OUT;
    for (int[] shape : new int[][] {{5, 3, 7}, {8, 17, 4 * w + 3}, {1, 2, 1}, {12, 9, 6 * w}, {32, 32, 3 * w}}) {
      int cout = shape[0];
      int cin = shape[1];
      int cols = shape[2];
      int blocks = (cout + bo - 1) / bo;
      int panels = (cols + w - 1) / w;
      float[][][] uu = new float[16][cout][cin];
      float[] u = new float[16 * blocks * cin * bo];
      for (int p = 0; p < 16; p++) {
        for (int co = 0; co < cout; co++) {
          for (int ci = 0; ci < cin; ci++) {
            uu[p][co][ci] = (float) r.nextGaussian();
            u[((p * blocks + co / bo) * cin + ci) * bo + co % bo] = uu[p][co][ci];
          }
        }
      }
      float[][] rows = new float[cin][16 * cols];
      float[] v = new float[16 * panels * cin * w];
      java.util.Arrays.fill(v, Float.NaN); // slots past cols: whatever is there must not reach the others
      for (int ci = 0; ci < cin; ci++) {
        for (int p = 0; p < 16; p++) {
          for (int c = 0; c < cols; c++) {
            rows[ci][p * cols + c] = (float) r.nextGaussian();
            v[((p * panels + c / w) * cin + ci) * w + c % w] = rows[ci][p * cols + c];
          }
        }
      }
      float[] m = new float[16 * blocks * bo * panels * w];
      simd.products(u, v, m, blocks, cin, panels, 0, 16);
      int stride = panels * w;
      for (int p = 0; p < 16; p++) {
        for (int co = 0; co < cout; co++) {
          for (int s = 0; s < cols; s++) {
            double sum = 0;
            double abs = 0;
            for (int ci = 0; ci < cin; ci++) {
              sum += (double) uu[p][co][ci] * rows[ci][p * cols + s];
              abs += Math.abs((double) uu[p][co][ci] * rows[ci][p * cols + s]);
            }
            // float32 sums of cin products: within cin ulps of the sum of magnitudes
            assertEquals(sum, m[(p * blocks * bo + co) * stride + s], 1e-6 * cin * abs + 1e-30,
                "M[" + p + "][" + co + "][" + s + "] of " + cout + "x" + cin + "x" + cols);
          }
        }
      }
    }
  }

  @Test
  void transformsAreBtDBAndAtMA() {
    int th = 2;
    int we = 3;
    int n = th * we;
    int quarter = (th + 1) * we + 1;
    float[] q = planes(th, we, 5);
    float[] rows = new float[16 * n];
    WinogradConv.inputTiles(q, quarter, we, 0, n, rows, 0, n);
    float[] quads = new float[4 * n];
    WinogradConv.outputTiles(rows, 0, n, n, 0, 1.5f, quads);
    for (int i = 0; i < n; i++) {
      // the tile's 4x4 patch: row r from the even (r = 0, 2) or odd (1, 3) row planes, column c likewise
      double[][] d = new double[4][4];
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
          int plane = (r & 1) * 2 + (c & 1);
          d[r][c] = q[plane * quarter + i + (r >> 1) * we + (c >> 1)];
        }
      }
      double[][] v = new double[4][4];
      for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) {
          double s = 0;
          for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
              s += BT[a * 4 + r] * d[r][c] * BT[b * 4 + c];
            }
          }
          v[a][b] = s;
          assertEquals(s, rows[(a * 4 + b) * n + i], 1e-5, "V[" + a + "][" + b + "] of slot " + i);
        }
      }
      // A^T V A + bias, V taken as the products M
      for (int a = 0; a < 2; a++) {
        for (int b = 0; b < 2; b++) {
          double s = 1.5;
          for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
              s += AT[a * 4 + r] * v[r][c] * AT[b * 4 + c];
            }
          }
          assertEquals(s, quads[(a * 2 + b) * n + i], 1e-4, "Y[" + a + "][" + b + "] of slot " + i);
        }
      }
    }
  }

  @Test
  void gradientTransformIsADyAt() {
    int n = 7;
    float[] q = planes(1, n, 9); // four parity planes of n floats each (and more)
    float[] rows = new float[16 * n];
    WinogradConv.gradientTiles(q, n, 0, n, rows, 0, n);
    for (int i = 0; i < n; i++) {
      double[][] dy = {{q[i], q[n + i]}, {q[2 * n + i], q[3 * n + i]}};
      for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) {
          double s = 0;
          for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 2; c++) {
              s += AT[r * 4 + a] * dy[r][c] * AT[c * 4 + b];
            }
          }
          assertEquals(s, rows[(a * 4 + b) * n + i], 1e-5, "Z[" + a + "][" + b + "] of slot " + i);
        }
      }
    }
  }

  @Test
  void itPaysWhereItDoesFewerMultiplyAddsThanTheProductsOfColumns() {
    WinogradConv.Simd simd = WinogradConv.SIMD;
    assertNotNull(simd, "the tests run with the Vector API module on a CPU with AVX2 or AVX-512");
    try (Nd4jBackend backend = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 1)) {
      Map<String, int[]> layout = new LinkedHashMap<>();
      layout.put("c.weight", new int[] {8, 8, 3, 3});
      layout.put("c.bias", new int[] {8});
      try (Parameters p = (Parameters) backend.layers().parameters(layout)) {
        Layer.Conv2d layer = new Layer.Conv2d("c", 8, 8, 3, 1, Layer.Padding.of(1), true);
        int budget = WinogradConv.BUDGET;
        // by OpenBLAS: 16 th (tw + 1) multiply-adds against 9 hout wout; a 4x4 plane 16 x 6 against 144
        assertTrue(WinogradConv.of(p, layer, 4, 4, budget, false).pays());
        assertTrue(WinogradConv.of(p, layer, 2, 2, budget, false).pays()); // 32 against 36
        assertFalse(WinogradConv.of(p, layer, 1, 1, budget, false).pays()); // 32 against 9
        // in vectors each image's slots are rounded up to a vector: a 4x4 plane's six to 16 on AVX-512 (256
        // against 144), to 8 on AVX2 (128)
        boolean avx512 = simd.panel() / 2 >= 16;
        assertEquals(!avx512, WinogradConv.of(p, layer, 4, 4, budget, true).pays());
        assertEquals(!avx512, WinogradConv.inputGradient(p, layer, 4, 4, budget, true).pays());
        assertTrue(WinogradConv.of(p, layer, 8, 8, budget, true).pays()); // 20 slots: 32 (512) against 576
        assertTrue(WinogradConv.of(p, layer, 32, 32, budget, true).pays());
      }
    }
  }

  @Test
  void propertyTurnsItOffAndRefusesNonBooleans() {
    String before = System.getProperty(WinogradConv.PROPERTY);
    try {
      System.clearProperty(WinogradConv.PROPERTY);
      assertTrue(WinogradConv.enabled());
      assertTrue(DirectConv.Use.defaults().winogradFloats() > 0);
      assertTrue(DirectConv.Use.defaults().describe().contains("Winograd F(2x2, 3x3)"),
          DirectConv.Use.defaults().describe());
      System.setProperty(WinogradConv.PROPERTY, "FALSE");
      assertFalse(WinogradConv.enabled());
      assertEquals(0, DirectConv.Use.defaults().winogradFloats());
      assertFalse(DirectConv.Use.defaults().describe().contains("Winograd F(2x2"));
      System.setProperty(WinogradConv.PROPERTY, "fast");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, DirectConv.Use::defaults);
      assertEquals("system property diffusion4j.nd4j.winograd: 'fast' is not a boolean (allowed: true, false)",
          e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(WinogradConv.PROPERTY);
      } else {
        System.setProperty(WinogradConv.PROPERTY, before);
      }
    }
  }
}
