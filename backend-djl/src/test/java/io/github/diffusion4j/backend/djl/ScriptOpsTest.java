package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Layer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TorchScript modules this backend writes: they load, and {@code group_norm} with each activation matches a
 * plain-Java group norm in double precision, with and without a recorded graph.
 */
class ScriptOpsTest extends DjlBackendTest {
  private static final int N = 3;
  private static final int C = 6;
  private static final int P = 10; // positions (2 x 5)

  /** float32 statistics over groups of up to 30 values against double sums: a few units in the last place. */
  private static final double TOLERANCE = 1e-5;

  @Test
  void theArchiveHoldsTheCodeAndTheVersion() throws IOException {
    byte[] archive = ScriptOps.archive("    return x\n");
    StringBuilder names = new StringBuilder();
    String code = null;
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        names.append(e.getName()).append(' ');
        assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
        if (e.getName().endsWith(".py")) {
          code = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    }
    assertEquals("m/data.pkl m/code/__torch__.py m/constants.pkl m/version ", names.toString());
    assertTrue(code.contains("def forward(self: __torch__.M, x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n"
        + "    return x\n"), code);
  }

  @ParameterizedTest
  @CsvSource({"3, 1e-6, NONE", "2, 1e-5, SILU", "6, 0.001, RELU", "1, 1e-6, SILU"})
  void groupNormMatchesPlainJava(int groups, double eps, String function) {
    Layer.Function activation = function.equals("NONE") ? null : Layer.Function.valueOf(function);
    Random r = new Random(groups * 31L + function.length());
    float[] x = gaussian(r, N * C * P, 2.0, 0.5);
    float[] w = gaussian(r, C, 1.0, 1.0);
    float[] b = gaussian(r, C, 0.5, 0.0);
    double[] expected = groupNorm(x, w, b, groups, eps, activation);
    boolean before = JniUtils.isGradMode();
    try (PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      PtNDArray wa = PtArrays.fromArray(m, w, C);
      JniUtils.attachGradient(wa, true);
      JniUtils.setGradMode(false);
      PtNDArray y = backend.scriptOps().groupNorm(groups, eps, activation)
          .apply(PtArrays.fromArray(m, x, N, C, 2, 5), wa, PtArrays.fromArray(m, b, C));
      assertArrayEquals(new long[] {N, C, 2, 5}, y.getShape().getShape());
      PtNDArray sum = JniUtils.sum(y);
      PtNDArray one = PtArrays.scalar(m, 1);
      assertThrows(EngineException.class, () -> JniUtils.backward(sum, one, false, false),
          "nothing is recorded without grad mode, though the scale is a leaf that wants a gradient");
      assertClose(expected, PtArrays.read(PtArrays.contiguous(y), expected.length));
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  @Test
  void aModuleIsLoadedOncePerConfiguration() {
    ScriptOps ops = backend.scriptOps();
    assertSame(ops.groupNorm(4, 1e-6, Layer.Function.SILU), ops.groupNorm(4, 1e-6, Layer.Function.SILU));
    assertNotSame(ops.groupNorm(4, 1e-6, Layer.Function.SILU), ops.groupNorm(4, 1e-6, null));
    assertNotSame(ops.groupNorm(4, 1e-6, null), ops.groupNorm(4, 1e-5, null));
  }

  @Test
  void theGradientOfTheScaleIsTheSumOfTheNormalisedValues() {
    int groups = 2;
    Random r = new Random(5);
    float[] x = gaussian(r, N * C * P, 1.0, -1.0);
    float[] w = gaussian(r, C, 1.0, 1.0);
    float[] b = new float[C];
    double[] normalised = groupNorm(x, ones(C), b, groups, 1e-6, null);
    double[] expected = new double[C];
    for (int i = 0; i < normalised.length; i++) {
      expected[i / P % C] += normalised[i];
    }
    boolean before = JniUtils.isGradMode();
    try (PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      PtNDArray xa = PtArrays.fromArray(m, x, N, C, P);
      PtNDArray wa = PtArrays.fromArray(m, w, C);
      JniUtils.attachGradient(wa, true);
      JniUtils.setGradMode(true);
      PtNDArray y = backend.scriptOps().groupNorm(groups, 1e-6, null).apply(xa, wa, PtArrays.fromArray(m, b, C));
      JniUtils.backward(JniUtils.sum(y), PtArrays.scalar(m, 1), false, false);
      JniUtils.setGradMode(false);
      assertClose(expected, PtArrays.read(PtArrays.contiguous(JniUtils.getGradient(wa)), C));
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  private static double[] groupNorm(float[] x, float[] w, float[] b, int groups, double eps, Layer.Function f) {
    double[] y = new double[x.length];
    int per = C / groups * P;
    for (int n = 0; n < N; n++) {
      for (int g = 0; g < groups; g++) {
        int from = (n * C + g * (C / groups)) * P;
        double mean = 0;
        for (int i = from; i < from + per; i++) {
          mean += x[i];
        }
        mean /= per;
        double var = 0;
        for (int i = from; i < from + per; i++) {
          var += (x[i] - mean) * (x[i] - mean);
        }
        double inv = 1 / Math.sqrt(var / per + eps);
        for (int i = from; i < from + per; i++) {
          int c = i / P % C;
          double v = (x[i] - mean) * inv * w[c] + b[c];
          y[i] = f == null ? v : f == Layer.Function.RELU ? Math.max(v, 0) : v / (1 + Math.exp(-v));
        }
      }
    }
    return y;
  }

  private static void assertClose(double[] expected, float[] actual) {
    double scale = 1e-30;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], TOLERANCE * scale, "element " + i);
    }
  }

  private static float[] gaussian(Random r, int n, double scale, double shift) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian() * scale + shift);
    }
    return a;
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }
}
