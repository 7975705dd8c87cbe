package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DirectConv}'s inner loop with the JDK's (incubating) Vector API, in 512-bit vectors: for a block of
 * {@value DirectConv#CO} output channels and a run of positions of the padded plane, the accumulators (one
 * vector per channel and run of 16 positions) start at the bias and take, for every input channel and tap, the
 * input plane shifted by the tap's offset (an unaligned load) times the tap's weight (a broadcast), in one loop
 * over (channel, tap) pairs (with two nested loops the JIT of Java 17 keeps the vectors in objects, 30x
 * slower). Four runs
 * of 16 positions at a time keep 16 accumulators in registers: 8 loads per 16 fused multiply-adds, so the
 * loop is bound by the multiply-adds (150-200 GFLOP/s on 32 to 256 channels at 8x8 to 32x32 on the Zen 5
 * this was written on, where OpenBLAS reaches 60-78 GFLOP/s on the same convolutions as im2col products).
 * Compiled on its own with the module added and loaded by reflection ({@link VectorApi}).
 */
final class DirectConvSimd implements DirectConv.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
  private static final int L = 16;

  private DirectConvSimd() {}

  /**
   * The implementation, if this CPU has native 512-bit vectors.
   *
   * @return the implementation, or null
   */
  static DirectConv.Simd simd() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? new DirectConvSimd() : null;
  }

  @Override
  public int lanes() {
    return L;
  }

  @Override
  public void convolve(
      float[] x, int[] offsets, float[] w, int biasAt, int b0, int b1, int from, int to, float[] y, int rowStride) {
    int nv = (to + L - 1) / L;
    int per = offsets.length * DirectConv.CO;
    for (int b = b0; b < b1; b++) {
      int wb = b * per;
      int bias = biasAt + b * DirectConv.CO;
      int yb = b * DirectConv.CO * rowStride;
      int v = from / L;
      for (; v + 4 <= nv; v += 4) {
        four(x, offsets, w, wb, bias, v * L, y, yb, rowStride);
      }
      for (; v < nv; v++) {
        one(x, offsets, w, wb, bias, v * L, y, yb, rowStride);
      }
    }
  }

  /** Four runs of 16 positions from {@code p}, four output channels. */
  private static void four(
      float[] x, int[] offsets, float[] w, int wi, int bias, int p, float[] y, int yb, int rowStride) {
    FloatVector a00 = FloatVector.broadcast(F, w[bias]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = FloatVector.broadcast(F, w[bias + 1]);
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a20 = FloatVector.broadcast(F, w[bias + 2]);
    FloatVector a21 = a20;
    FloatVector a22 = a20;
    FloatVector a23 = a20;
    FloatVector a30 = FloatVector.broadcast(F, w[bias + 3]);
    FloatVector a31 = a30;
    FloatVector a32 = a30;
    FloatVector a33 = a30;
    for (int j = 0; j < offsets.length; j++, wi += 4) {
      int o = p + offsets[j];
      FloatVector x0 = FloatVector.fromArray(F, x, o);
      FloatVector x1 = FloatVector.fromArray(F, x, o + L);
      FloatVector x2 = FloatVector.fromArray(F, x, o + 2 * L);
      FloatVector x3 = FloatVector.fromArray(F, x, o + 3 * L);
      FloatVector c = FloatVector.broadcast(F, w[wi]);
      a00 = x0.fma(c, a00);
      a01 = x1.fma(c, a01);
      a02 = x2.fma(c, a02);
      a03 = x3.fma(c, a03);
      c = FloatVector.broadcast(F, w[wi + 1]);
      a10 = x0.fma(c, a10);
      a11 = x1.fma(c, a11);
      a12 = x2.fma(c, a12);
      a13 = x3.fma(c, a13);
      c = FloatVector.broadcast(F, w[wi + 2]);
      a20 = x0.fma(c, a20);
      a21 = x1.fma(c, a21);
      a22 = x2.fma(c, a22);
      a23 = x3.fma(c, a23);
      c = FloatVector.broadcast(F, w[wi + 3]);
      a30 = x0.fma(c, a30);
      a31 = x1.fma(c, a31);
      a32 = x2.fma(c, a32);
      a33 = x3.fma(c, a33);
    }
    int o = yb + p;
    a00.intoArray(y, o);
    a01.intoArray(y, o + L);
    a02.intoArray(y, o + 2 * L);
    a03.intoArray(y, o + 3 * L);
    o += rowStride;
    a10.intoArray(y, o);
    a11.intoArray(y, o + L);
    a12.intoArray(y, o + 2 * L);
    a13.intoArray(y, o + 3 * L);
    o += rowStride;
    a20.intoArray(y, o);
    a21.intoArray(y, o + L);
    a22.intoArray(y, o + 2 * L);
    a23.intoArray(y, o + 3 * L);
    o += rowStride;
    a30.intoArray(y, o);
    a31.intoArray(y, o + L);
    a32.intoArray(y, o + 2 * L);
    a33.intoArray(y, o + 3 * L);
  }

  /** One run of 16 positions from {@code p}, four output channels (the rest of a row of runs). */
  private static void one(
      float[] x, int[] offsets, float[] w, int wi, int bias, int p, float[] y, int yb, int rowStride) {
    FloatVector a0 = FloatVector.broadcast(F, w[bias]);
    FloatVector a1 = FloatVector.broadcast(F, w[bias + 1]);
    FloatVector a2 = FloatVector.broadcast(F, w[bias + 2]);
    FloatVector a3 = FloatVector.broadcast(F, w[bias + 3]);
    for (int j = 0; j < offsets.length; j++, wi += 4) {
      FloatVector x0 = FloatVector.fromArray(F, x, p + offsets[j]);
      a0 = x0.fma(FloatVector.broadcast(F, w[wi]), a0);
      a1 = x0.fma(FloatVector.broadcast(F, w[wi + 1]), a1);
      a2 = x0.fma(FloatVector.broadcast(F, w[wi + 2]), a2);
      a3 = x0.fma(FloatVector.broadcast(F, w[wi + 3]), a3);
    }
    int o = yb + p;
    a0.intoArray(y, o);
    a1.intoArray(y, o + rowStride);
    a2.intoArray(y, o + 2 * rowStride);
    a3.intoArray(y, o + 3 * rowStride);
  }
}
