package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.Layer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Which layers take the direct weight gradient, and its inner loops against plain sums. The whole gradient (grids,
 * chunks, groups, the partial sums' transposition) is checked against the reference backend in {@link
 * Nd4jLayerKindsTest#directWeightGradientsOfWideLayers} and for the same bits whatever the threads in {@link
 * Nd4jThreadsTest}.
 */
class DirectWeightGradientTest {
  private static final DirectWeightGradient.Simd PLAIN = new PlainWeightGradient();

  private static DirectWeightGradient of(int cin, int cout, int k, int stride, Layer.Padding pad, int size) {
    return DirectWeightGradient.of(PLAIN, new Layer.Conv2d("c", cin, cout, k, stride, pad, true), size, size);
  }

  @Test
  void takesSizeKeepingStrideOneLayersOf32kOutputChannelsAndEnoughInputChannels() {
    assertNotNull(of(8, 32, 3, 1, Layer.Padding.of(1), 32));
    assertNotNull(of(96, 64, 3, 1, Layer.Padding.of(1), 32));
    assertNotNull(of(32, 96, 5, 1, new Layer.Padding(2, 1, 2, 3), 16));
    assertNull(DirectWeightGradient.of(null, new Layer.Conv2d("c", 32, 32, 3, 1, Layer.Padding.of(1), true), 8, 8));
    assertNull(of(32, 48, 3, 1, Layer.Padding.of(1), 32)); // not a multiple of 32
    assertNull(of(DirectWeightGradient.MIN_INPUT_CHANNELS - 1, 32, 3, 1, Layer.Padding.of(1), 32));
    assertNull(of(32, 32, 3, 2, Layer.Padding.of(1), 32)); // stride 2
    assertNull(of(32, 32, 3, 1, Layer.Padding.of(0), 32)); // shrinks the plane
    assertNull(of(32, 32, 1, 1, Layer.Padding.of(0), 32)); // a plain product already
    // staging over the budget: 256 channels in and out at 64x64 (the DDPM authors' LSUN models' planes)
    assertNull(of(256, 256, 3, 1, Layer.Padding.of(1), 64));
  }

  @Test
  void plainLoopAddsEachPositionInOrder() {
    int cin = 3;
    int cout = 32;
    int positions = 50;
    SplittableRandom r = new SplittableRandom(7);
    float[] x = random(r, positions + 8);
    float[] dy = random(r, positions * cout);
    int pairs = DirectWeightGradient.PAIR_GROUP;
    int[] offsets = new int[pairs];
    for (int p = 0; p < pairs; p++) {
      offsets[p] = p % (cin + 5);
    }
    float[] acc = random(r, pairs * cout);
    float[] want = acc.clone();
    for (int p = 0; p < pairs; p++) {
      for (int co = 0; co < cout; co++) {
        float a = want[p * cout + co];
        for (int q = 2; q < positions; q++) {
          a = Math.fma(dy[q * cout + co], x[q + offsets[p]], a);
        }
        want[p * cout + co] = a;
      }
    }
    PLAIN.accumulate(x, offsets, pairs, dy, cout, 2, positions, acc);
    assertArrayEquals(want, acc);
  }

  @Test
  void vectorLoopComputesThePlainLoopsBits() {
    DirectWeightGradient.Simd simd = DirectWeightGradient.SIMD;
    if (simd == null) {
      // no 512-bit vectors here (or the Vector API is off): the layers keep the columns, and the plain loop is
      // what the tests' direct backend runs
      assertTrue(Nd4jTests.weightGradientLoop() instanceof PlainWeightGradient);
      return;
    }
    SplittableRandom r = new SplittableRandom(11);
    for (int cout : new int[] {32, 64, 96, 128}) {
      int positions = 301;
      float[] x = random(r, 4 * positions);
      float[] dy = random(r, positions * cout);
      int pairs = 2 * DirectWeightGradient.PAIR_GROUP;
      int[] offsets = new int[pairs];
      for (int p = 0; p < pairs; p++) {
        offsets[p] = r.nextInt(3 * positions);
      }
      float[] a = random(r, pairs * cout);
      float[] b = a.clone();
      PLAIN.accumulate(x, offsets, pairs, dy, cout, 1, positions, a);
      simd.accumulate(x, offsets, pairs, dy, cout, 1, positions, b);
      assertArrayEquals(a, b, "outputs " + cout);
    }
    assertEquals(simd, Nd4jTests.weightGradientLoop());
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }
}
