package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DirectConv}'s inner loop with the JDK's (incubating) Vector API, in 512-bit vectors: for a block of
 * {@value DirectConv#CO} output channels and a run of positions of the padded plane, the accumulators (one
 * vector per channel and vector of 16 positions) start at the bias and take, for every input channel and tap, the
 * input plane shifted by the tap's offset (an unaligned load) times the tap's weight (a broadcast), in one loop
 * over (channel, tap) pairs (with two nested loops the JIT of Java 17 keeps the vectors in objects, 30x
 * slower). A run is six vectors (96 positions): 24 accumulators, 6 loads and 4 broadcasts per 24 fused
 * multiply-adds, 31 of the 32 vector registers. The rest of a row, one to five vectors, is computed as five
 * vectors, which the caller leaves room for ({@link #computed}). The accumulators are written out as separate
 * local variables because the JIT keeps only those in registers (an array of vectors is kept in memory).
 *
 * <p>Throughput, the loop alone on one thread of the Zen 5 this was measured on (useful FLOPs, 3x3, the layer's
 * channels in and out, alternating in one JVM): 190-200 GFLOP/s at 16x16 to 32x32 and 32-64 channels, 160-175
 * at 8x8, 178 at 64x64 and 128 channels, against 135-193 with runs of four vectors and a one-vector loop for the
 * rest, where OpenBLAS reaches 60-78 GFLOP/s on the same convolutions as im2col products. Runs of five vectors
 * were slower (150-173); runs of four vectors of five output channels were 3-4% faster on whole runs but waste
 * zero channels where the channels are multiples of four (a ninth of the work at 32).
 * Compiled on its own with the module added and loaded by reflection ({@link VectorApi}).
 */
final class DirectConvSimd implements DirectConv.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
  private static final int L = 16;
  /** Vectors per run. */
  private static final int RUN = 6;
  /** Vectors computed for the rest of a row of runs. */
  private static final int REST = 5;

  DirectConvSimd() {}

  /**
   * The implementation for this CPU's widest native vectors: this one for 512 bits, {@link DirectConvSimd256}
   * for 256 bits (AVX2), none below.
   *
   * @return the implementation, or null
   */
  static DirectConv.Simd simd() {
    int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
    return bits >= 512 ? new DirectConvSimd() : bits == 256 ? new DirectConvSimd256() : null;
  }

  /**
   * 64: on the Zen 5 this was measured on (one thread, each form alone on every 3x3 layer of the DDPM authors'
   * CIFAR-10 model at batch 16 and of the default U-Net at batch 64, all forms in one process; docs/benchmarks.md,
   * "Zen 5: which form for which convolution"), Winograd's F(2x2, 3x3) with its products in 512-bit vectors took
   * 8-34% less time than this loop forward on the CIFAR-10 model's layers of 128 channels and more (128>128 at
   * 32x32 22.7 against 29.4 ms), up to 36% less in training with its own gradients (against this loop's input
   * gradient and the products' weight gradient), while this loop was 4-53% faster on the U-Net's layers of 64
   * output channels and fewer (32>32 at 32x32 9.1 against 14.0 ms). Above 64 output channels the layer goes to
   * Winograd, or to the products of columns where Winograd does not pay ({@link WinogradConv#pays}). The
   * three-channel input layer would run faster here (1.6 against 2.9 ms for 3>128 at 32x32) but takes 0.3% of the
   * pass.
   */
  @Override
  public int mostOutputChannels() {
    return 64;
  }

  @Override
  public int run() {
    return RUN * L;
  }

  @Override
  public int computed(int positions) {
    int vectors = (positions + L - 1) / L;
    int runs = vectors / RUN * RUN;
    return (vectors > runs ? runs + REST : runs) * L;
  }

  @Override
  public void convolve(
      float[] x, int[] offsets, float[] w, int wAt, int biasAt, int from, int to, float[] y, int yAt, int rowStride) {
    int nv = (to + L - 1) / L;
    int v = from / L;
    for (; v + RUN <= nv; v += RUN) {
      six(x, offsets, w, wAt, biasAt, v * L, y, yAt, rowStride);
    }
    if (v < nv) {
      five(x, offsets, w, wAt, biasAt, v * L, y, yAt, rowStride);
    }
  }

  /** Six vectors of positions from {@code p} (a run), four output channels: 24 accumulators in registers. */
  private static void six(
      float[] x, int[] offsets, float[] w, int wi, int bias, int p, float[] y, int yb, int rowStride) {
    FloatVector a00 = FloatVector.broadcast(F, w[bias]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a04 = a00;
    FloatVector a05 = a00;
    FloatVector a10 = FloatVector.broadcast(F, w[bias + 1]);
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a14 = a10;
    FloatVector a15 = a10;
    FloatVector a20 = FloatVector.broadcast(F, w[bias + 2]);
    FloatVector a21 = a20;
    FloatVector a22 = a20;
    FloatVector a23 = a20;
    FloatVector a24 = a20;
    FloatVector a25 = a20;
    FloatVector a30 = FloatVector.broadcast(F, w[bias + 3]);
    FloatVector a31 = a30;
    FloatVector a32 = a30;
    FloatVector a33 = a30;
    FloatVector a34 = a30;
    FloatVector a35 = a30;
    for (int j = 0; j < offsets.length; j++, wi += 4) {
      int o = p + offsets[j];
      FloatVector x0 = FloatVector.fromArray(F, x, o);
      FloatVector x1 = FloatVector.fromArray(F, x, o + L);
      FloatVector x2 = FloatVector.fromArray(F, x, o + 2 * L);
      FloatVector x3 = FloatVector.fromArray(F, x, o + 3 * L);
      FloatVector x4 = FloatVector.fromArray(F, x, o + 4 * L);
      FloatVector x5 = FloatVector.fromArray(F, x, o + 5 * L);
      FloatVector c0 = FloatVector.broadcast(F, w[wi]);
      a00 = x0.fma(c0, a00);
      a01 = x1.fma(c0, a01);
      a02 = x2.fma(c0, a02);
      a03 = x3.fma(c0, a03);
      a04 = x4.fma(c0, a04);
      a05 = x5.fma(c0, a05);
      FloatVector c1 = FloatVector.broadcast(F, w[wi + 1]);
      a10 = x0.fma(c1, a10);
      a11 = x1.fma(c1, a11);
      a12 = x2.fma(c1, a12);
      a13 = x3.fma(c1, a13);
      a14 = x4.fma(c1, a14);
      a15 = x5.fma(c1, a15);
      FloatVector c2 = FloatVector.broadcast(F, w[wi + 2]);
      a20 = x0.fma(c2, a20);
      a21 = x1.fma(c2, a21);
      a22 = x2.fma(c2, a22);
      a23 = x3.fma(c2, a23);
      a24 = x4.fma(c2, a24);
      a25 = x5.fma(c2, a25);
      FloatVector c3 = FloatVector.broadcast(F, w[wi + 3]);
      a30 = x0.fma(c3, a30);
      a31 = x1.fma(c3, a31);
      a32 = x2.fma(c3, a32);
      a33 = x3.fma(c3, a33);
      a34 = x4.fma(c3, a34);
      a35 = x5.fma(c3, a35);
    }
    int o = yb + p;
    a00.intoArray(y, o);
    a01.intoArray(y, o + L);
    a02.intoArray(y, o + 2 * L);
    a03.intoArray(y, o + 3 * L);
    a04.intoArray(y, o + 4 * L);
    a05.intoArray(y, o + 5 * L);
    o += rowStride;
    a10.intoArray(y, o);
    a11.intoArray(y, o + L);
    a12.intoArray(y, o + 2 * L);
    a13.intoArray(y, o + 3 * L);
    a14.intoArray(y, o + 4 * L);
    a15.intoArray(y, o + 5 * L);
    o += rowStride;
    a20.intoArray(y, o);
    a21.intoArray(y, o + L);
    a22.intoArray(y, o + 2 * L);
    a23.intoArray(y, o + 3 * L);
    a24.intoArray(y, o + 4 * L);
    a25.intoArray(y, o + 5 * L);
    o += rowStride;
    a30.intoArray(y, o);
    a31.intoArray(y, o + L);
    a32.intoArray(y, o + 2 * L);
    a33.intoArray(y, o + 3 * L);
    a34.intoArray(y, o + 4 * L);
    a35.intoArray(y, o + 5 * L);
  }

  /** Five vectors of positions from {@code p} (the rest of a row of runs, computed whole), four output channels. */
  private static void five(
      float[] x, int[] offsets, float[] w, int wi, int bias, int p, float[] y, int yb, int rowStride) {
    FloatVector a00 = FloatVector.broadcast(F, w[bias]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a04 = a00;
    FloatVector a10 = FloatVector.broadcast(F, w[bias + 1]);
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a14 = a10;
    FloatVector a20 = FloatVector.broadcast(F, w[bias + 2]);
    FloatVector a21 = a20;
    FloatVector a22 = a20;
    FloatVector a23 = a20;
    FloatVector a24 = a20;
    FloatVector a30 = FloatVector.broadcast(F, w[bias + 3]);
    FloatVector a31 = a30;
    FloatVector a32 = a30;
    FloatVector a33 = a30;
    FloatVector a34 = a30;
    for (int j = 0; j < offsets.length; j++, wi += 4) {
      int o = p + offsets[j];
      FloatVector x0 = FloatVector.fromArray(F, x, o);
      FloatVector x1 = FloatVector.fromArray(F, x, o + L);
      FloatVector x2 = FloatVector.fromArray(F, x, o + 2 * L);
      FloatVector x3 = FloatVector.fromArray(F, x, o + 3 * L);
      FloatVector x4 = FloatVector.fromArray(F, x, o + 4 * L);
      FloatVector c0 = FloatVector.broadcast(F, w[wi]);
      a00 = x0.fma(c0, a00);
      a01 = x1.fma(c0, a01);
      a02 = x2.fma(c0, a02);
      a03 = x3.fma(c0, a03);
      a04 = x4.fma(c0, a04);
      FloatVector c1 = FloatVector.broadcast(F, w[wi + 1]);
      a10 = x0.fma(c1, a10);
      a11 = x1.fma(c1, a11);
      a12 = x2.fma(c1, a12);
      a13 = x3.fma(c1, a13);
      a14 = x4.fma(c1, a14);
      FloatVector c2 = FloatVector.broadcast(F, w[wi + 2]);
      a20 = x0.fma(c2, a20);
      a21 = x1.fma(c2, a21);
      a22 = x2.fma(c2, a22);
      a23 = x3.fma(c2, a23);
      a24 = x4.fma(c2, a24);
      FloatVector c3 = FloatVector.broadcast(F, w[wi + 3]);
      a30 = x0.fma(c3, a30);
      a31 = x1.fma(c3, a31);
      a32 = x2.fma(c3, a32);
      a33 = x3.fma(c3, a33);
      a34 = x4.fma(c3, a34);
    }
    int o = yb + p;
    a00.intoArray(y, o);
    a01.intoArray(y, o + L);
    a02.intoArray(y, o + 2 * L);
    a03.intoArray(y, o + 3 * L);
    a04.intoArray(y, o + 4 * L);
    o += rowStride;
    a10.intoArray(y, o);
    a11.intoArray(y, o + L);
    a12.intoArray(y, o + 2 * L);
    a13.intoArray(y, o + 3 * L);
    a14.intoArray(y, o + 4 * L);
    o += rowStride;
    a20.intoArray(y, o);
    a21.intoArray(y, o + L);
    a22.intoArray(y, o + 2 * L);
    a23.intoArray(y, o + 3 * L);
    a24.intoArray(y, o + 4 * L);
    o += rowStride;
    a30.intoArray(y, o);
    a31.intoArray(y, o + L);
    a32.intoArray(y, o + 2 * L);
    a33.intoArray(y, o + 3 * L);
    a34.intoArray(y, o + 4 * L);
  }
}
