package io.github.diffusion4j.backend.nd4j;

/**
 * {@link DirectWeightGradient}'s inner loop in plain Java: the same fused multiply-adds in the same order as
 * {@code DirectWeightGradientSimd} (the same bits), slowly. The tests run the direct weight gradient with it on CPUs
 * without 512-bit vectors, and compare the vector loop with it where there are.
 */
final class PlainWeightGradient implements DirectWeightGradient.Simd {
  @Override
  public void accumulate(float[] x, int[] offsets, int pairs, float[] dy, int cout, int q0, int q1, float[] acc) {
    for (int p = 0; p < pairs; p++) {
      int o = offsets[p];
      for (int co = 0; co < cout; co++) {
        float a = acc[p * cout + co];
        for (int q = q0; q < q1; q++) {
          a = Math.fma(dy[q * cout + co], x[q + o], a);
        }
        acc[p * cout + co] = a;
      }
    }
  }
}
