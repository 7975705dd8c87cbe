package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The convolution workaround (docs/djl-convolutions.md): whatever this CPU does, the backend's convolutions
 * are right, over every channel count modulo the block and the channel counts of the published U-Nets.
 */
class ConvolutionTest {
  private static DjlBackend backend;
  private static PtNDManager manager;

  @BeforeAll
  static void load() {
    backend = DjlBackends.create();
    manager = backend.root();
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  @Test
  void theBackendNeverUsesDirectConvolutionsThatFailTheSelfCheck() {
    String direct = Convolution.SelfCheck.run(manager, Convolution.Strategy.DIRECT);
    Convolution.Choice choice = backend.convolutions();
    if (direct != null) {
      assertNotEquals(
          Convolution.Strategy.DIRECT,
          choice.strategy(),
          "libtorch's direct convolutions are wrong on this CPU (" + direct + ") but the backend uses them: "
              + "the channel-padded workaround in Convolution must stay");
      assertEquals(Convolution.Strategy.CHANNEL_PADDED, choice.strategy(), choice.describe());
      assertTrue(choice.describe().contains("workaround active"), choice.describe());
    } else {
      assertEquals(Convolution.Strategy.DIRECT, choice.strategy(), choice.describe());
    }
    assertTrue(backend.describe().contains("convolutions:"), backend.describe());
  }

  @Test
  void predictionPassesAreChannelsLastExactlyWhereTheDirectStrategyPassesTheSelfCheckOnThatLayout() {
    Convolution.Choice choice = backend.convolutions();
    boolean passes = choice.strategy() == Convolution.Strategy.DIRECT
        && Convolution.SelfCheck.run(manager, Convolution.Strategy.DIRECT, true) == null;
    boolean off = "false".equalsIgnoreCase(System.getProperty(Convolution.CHANNELS_LAST_PROPERTY, "true").strip());
    assertEquals(passes && !off, choice.channelsLast(), choice.describe());
    assertEquals(choice.channelsLast(), choice.describe().contains("channels-last in prediction passes"),
        choice.describe());
  }

  @Test
  void aChannelsLastPropertyThatIsNotABooleanIsNamed() {
    String before = System.getProperty(Convolution.CHANNELS_LAST_PROPERTY);
    System.setProperty(Convolution.CHANNELS_LAST_PROPERTY, "fast");
    try {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Convolution.chooseForTest(manager, null));
      assertTrue(e.getMessage().contains(Convolution.CHANNELS_LAST_PROPERTY) && e.getMessage().contains("'fast'")
          && e.getMessage().contains("true, false"), e.getMessage());
      System.setProperty(Convolution.CHANNELS_LAST_PROPERTY, "false");
      assertFalse(Convolution.chooseForTest(manager, null).channelsLast());
    } finally {
      if (before == null) {
        System.clearProperty(Convolution.CHANNELS_LAST_PROPERTY);
      } else {
        System.setProperty(Convolution.CHANNELS_LAST_PROPERTY, before);
      }
    }
  }

  /** The layout change keeps every value, copies only where needed, and gives a convolution channels-last input. */
  @Test
  void channelsLastKeepsTheValuesAndIsIdempotent() {
    try (PtNDManager sub = (PtNDManager) manager.newSubManager()) {
      float[] v = new float[2 * 3 * 4 * 5];
      for (int i = 0; i < v.length; i++) {
        v[i] = i * 0.5f - 7f;
      }
      PtNDArray a = PtArrays.fromArray(sub, v, 2, 3, 4, 5);
      PtNDArray cl = PtArrays.channelsLast(a);
      assertNotSame(a, cl);
      assertFalse(PtArrays.isContiguous(cl), "a channels-last array of 3 channels is not row-major");
      assertTrue(PtArrays.isContiguous(JniUtils.permute(cl, new long[] {0, 2, 3, 1})));
      assertArrayEquals(v, PtArrays.read(PtArrays.contiguous(cl), v.length));
      assertSame(cl, PtArrays.channelsLast(cl), "already channels-last: no copy");
      PtNDArray one = PtArrays.fromArray(sub, java.util.Arrays.copyOf(v, 40), 2, 1, 4, 5);
      PtNDArray oneCl = PtArrays.channelsLast(one);
      assertArrayEquals(java.util.Arrays.copyOf(v, 40), PtArrays.read(PtArrays.contiguous(oneCl), 40));
      for (int c = 2; c <= 4; c++) { // few channels, the single channel's shortcut not applying
        PtNDArray few = PtArrays.fromArray(sub, java.util.Arrays.copyOf(v, 2 * c * 20), 2, c, 4, 5);
        PtNDArray fewCl = PtArrays.channelsLast(few);
        assertTrue(PtArrays.isContiguous(JniUtils.permute(fewCl, new long[] {0, 2, 3, 1})), c + " channels");
        assertArrayEquals(java.util.Arrays.copyOf(v, 2 * c * 20), PtArrays.read(PtArrays.contiguous(fewCl), 2 * c * 20),
            c + " channels");
      }
      PtNDArray flat = PtArrays.fromArray(sub, new float[6], 2, 3);
      assertSame(flat, PtArrays.channelsLast(flat), "only 4-D arrays have a channels-last layout");
    }
  }

  /**
   * A convolution asked for channels-last input gets it, whether the caller's array is plain or channels-last already,
   * and its output is channels-last too (so the next layers stay in that layout), with either strategy; without it a
   * row-major input gives a row-major output. Only the
   * layout is checked: the direct strategy's numbers may be wrong on this CPU, which is what the self-check is for.
   */
  @Test
  void aChannelsLastConvolutionTakesAndGivesChannelsLastArrays() {
    boolean before = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try (PtNDManager sub = (PtNDManager) manager.newSubManager()) {
      Random r = new Random(11);
      PtNDArray x = PtArrays.fromArray(sub, Convolution.SelfCheck.gaussian(r, 2 * 3 * 5 * 5), 2, 3, 5, 5);
      PtNDArray w = PtArrays.fromArray(sub, Convolution.SelfCheck.gaussian(r, 4 * 3 * 3 * 3), 4, 3, 3, 3);
      for (Convolution.Strategy s : Convolution.Strategy.values()) {
        for (PtNDArray in : List.of(x, PtArrays.channelsLast(x))) {
          PtNDArray y = Convolution.apply(s, true, in, w, null, 1, new int[] {1, 1, 1, 1});
          assertFalse(PtArrays.isContiguous(y), s + ": a channels-last output of 4 channels is not row-major");
          assertTrue(PtArrays.isContiguous(JniUtils.permute(y, new long[] {0, 2, 3, 1})), s + ": channels-last output");
        }
        PtNDArray plain = Convolution.apply(s, false, x, w, null, 1, new int[] {1, 1, 1, 1});
        assertTrue(PtArrays.isContiguous(plain), s + ": a plain convolution of a row-major input is row-major");
      }
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  /**
   * The self-check's comparison passes float rounding and fails a NaN (the input gradient's known failure can read
   * freed memory) and an error of a tenth of a percent, ten times its tolerance (the known failures are larger, but a
   * comparison that let such errors through would let a wrong strategy through).
   */
  @Test
  void theSelfChecksComparisonRefusesNanAndErrorsAboveItsTolerance() {
    float[] expected = {1f, -2f, 0.5f};
    assertNull(Convolution.SelfCheck.compare("x", new float[] {1f, -2f, 0.5f + 1e-6f}, expected));
    assertNotNull(Convolution.SelfCheck.compare("x", new float[] {1f, Float.NaN, 0.5f}, expected));
    assertNotNull(Convolution.SelfCheck.compare("x", new float[] {1f, -2f, 0.5f + 2e-3f}, expected));
  }

  @Test
  void theWorkaroundPassesTheSelfCheckOnEveryCpu() {
    assertNull(Convolution.SelfCheck.run(manager, Convolution.Strategy.CHANNEL_PADDED));
  }

  /** Every input and output channel count from 1 to 34 (each residue modulo 16, below and above the block). */
  @Test
  void everyChannelCountModuloTheBlockIsRight() {
    Convolution.Strategy s = backend.convolutions().strategy();
    assertNotNull(s, backend.convolutions().describe());
    Random r = new Random(7);
    List<String> failures = new ArrayList<>();
    for (int ci = 1; ci <= 34; ci++) {
      for (int co = 1; co <= 34; co++) {
        check(s, new int[] {2, ci, 5, co, 3, 1, 1, 1, 1, 1}, r, failures);
        check(s, new int[] {2, ci, 6, co, 3, 2, 1, 1, 1, 1}, r, failures);
        check(s, new int[] {2, ci, 6, co, 3, 2, 0, 0, 1, 1}, r, failures);
        check(s, new int[] {2, ci, 3, co, 1, 1, 0, 0, 0, 0}, r, failures);
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " wrong convolutions with " + s + ", e.g. " + failures.subList(0, Math.min(5, failures.size())));
  }

  /**
   * The convolutions of the published DDPM U-Nets (channels 128 to 1024, concatenated skips, the 3-channel
   * input and output), at a small spatial size and batch sizes that take oneDNN's batched kernels.
   */
  @Test
  void theChannelCountsOfThePublishedUNetsAreRight() {
    Convolution.Strategy s = backend.convolutions().strategy();
    Random r = new Random(11);
    List<String> failures = new ArrayList<>();
    int[][] pairs = {
      {3, 128}, {128, 3}, {128, 128}, {128, 256}, {256, 256}, {512, 256}, {384, 256}, {384, 128}, {256, 128},
      {256, 512}, {1024, 512}, {768, 512}, {768, 256}, {512, 512}, {64, 3}, {3, 64}, {96, 64}, {192, 128}
    };
    for (int[] p : pairs) {
      int h = p[0] * p[1] > 200_000 ? 2 : 4;
      for (boolean cl : layouts()) {
        check(s, cl, new int[] {2, p[0], h, p[1], 3, 1, 1, 1, 1, 1}, r, failures);
        check(s, cl, new int[] {3, p[0], 4, p[1], 1, 1, 0, 0, 0, 0}, r, failures);
        if (p[0] == p[1]) {
          check(s, cl, new int[] {2, p[0], 4, p[1], 3, 2, 0, 0, 1, 1}, r, failures);
          check(s, cl, new int[] {2, p[0], 4, p[1], 3, 2, 1, 1, 1, 1}, r, failures);
        }
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " wrong convolutions with " + s + ": " + failures);
  }

  /**
   * Strides above 2 and every kind of asymmetric padding (a network may use any): the workaround computes a
   * strided convolution in training as the stride-1 one subsampled, which must hold for any stride.
   */
  @Test
  void anyStrideAndPaddingIsRight() {
    Convolution.Strategy s = backend.convolutions().strategy();
    Random r = new Random(13);
    List<String> failures = new ArrayList<>();
    int[] channels = {1, 5, 16, 17, 24, 33};
    int[][] paddings = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 1, 1}, {1, 0, 0, 1}, {2, 1, 0, 2}};
    for (int stride = 1; stride <= 4; stride++) {
      for (int ci : channels) {
        for (int co : channels) {
          int[] p = paddings[(ci + co + stride) % paddings.length];
          for (boolean cl : layouts()) {
            check(s, cl, new int[] {2, ci, 9, co, 3, stride, p[0], p[1], p[2], p[3]}, r, failures);
          }
        }
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " wrong convolutions with " + s + ": " + failures);
  }

  /** The input layouts the backend uses here: plain, and channels-last where prediction passes use it. */
  private static boolean[] layouts() {
    return backend.convolutions().channelsLast() ? new boolean[] {false, true} : new boolean[] {false};
  }

  private static void check(Convolution.Strategy s, int[] probe, Random r, List<String> failures) {
    check(s, false, probe, r, failures);
  }

  private static void check(Convolution.Strategy s, boolean cl, int[] probe, Random r, List<String> failures) {
    String f = Convolution.SelfCheck.probe(manager, s, cl, probe, r);
    if (f != null) {
      failures.add(f);
    }
  }

  @Test
  void anUnknownForcedStrategyIsNamed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Convolution.chooseForTest(manager, "fast"));
    assertTrue(e.getMessage().contains(Convolution.PROPERTY) && e.getMessage().contains("direct, padded"), e.getMessage());
  }

  @Test
  void aForcedStrategyThatFailsTheSelfCheckIsRefusedNotUsed() {
    String direct = Convolution.SelfCheck.run(manager, Convolution.Strategy.DIRECT);
    Convolution.Choice forced = Convolution.chooseForTest(manager, "direct");
    if (direct == null) {
      assertEquals(Convolution.Strategy.DIRECT, forced.strategy());
    } else {
      assertNull(forced.strategy(), "a wrong strategy must never be chosen");
      assertTrue(forced.describe().contains("unusable"), forced.describe());
    }
    assertEquals(Convolution.Strategy.CHANNEL_PADDED, Convolution.chooseForTest(manager, "padded").strategy());
  }

  @Test
  void nonContiguousArraysAreRefusedByTheRawReadsAndWrites() {
    try (PtNDManager sub = (PtNDManager) manager.newSubManager()) {
      PtNDArray a = PtArrays.fromArray(sub, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      PtNDArray t = JniUtils.transpose(a, 0, 1);
      assertTrue(PtArrays.isContiguous(a));
      IllegalStateException w = assertThrows(IllegalStateException.class, () -> PtArrays.write(t, new float[6], 0, 6));
      assertTrue(w.getMessage().contains("not contiguous"), w.getMessage());
      assertThrows(IllegalStateException.class, () -> PtArrays.read(t, 6));
      assertThrows(IllegalArgumentException.class, () -> PtArrays.write(a, new float[7], 0, 7));
      assertEquals(6f, PtArrays.read(a, 6)[5]);
    }
  }
}
