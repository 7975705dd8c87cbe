package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DirectConv}'s inner loop in 256-bit vectors, for CPUs whose widest native vectors are 256 bits (AVX2):
 * {@link DirectConvSimd}'s loop with runs of two vectors (16 positions) for a block of {@value DirectConv#CO}
 * output channels, eight accumulators, two loads and four broadcasts per eight fused multiply-adds, in the 16
 * vector registers there are. A row's last vector is computed as a whole run ({@link #computed}).
 *
 * <p>Throughput, the loop alone on one thread of the Zen 3 (AVX2) this was measured on (useful FLOPs, 3x3, 32 and
 * 64 input channels at 32x32, one JVM a layout): runs of two vectors of four channels 57-71 GFLOP/s; three
 * vectors (twelve accumulators, three loads, one broadcast: all 16 registers) 38-44, as the JIT spills; two
 * vectors of five or six channels 36-75 from one JVM to the next; one vector of twelve channels 17-22. OpenBLAS
 * reaches 87 GFLOP/s on a square 1024 product here, less on the U-Net's im2col products, which also build the
 * columns. Compiled on its own with the module added and loaded by reflection ({@link DirectConvSimd#simd}).
 */
final class DirectConvSimd256 implements DirectConv.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
  private static final int L = 8;
  /** Vectors per run. */
  private static final int RUN = 2;

  DirectConvSimd256() {}

  /**
   * 32: on the Zen 3 this was measured on, OpenBLAS's products of columns with 64 rows and more were as fast as
   * this loop or faster (the default U-Net's 64-channel layers at 16x16 and 8x8 as fast; a 256x256 model of
   * 128-512 channels, DDIM-2, 21-27 s an image against 17 s with the products), while with 32 rows and fewer the
   * loop was 19-28% faster (the U-Net's 32-channel layers at 32x32; its 1-channel output 4x).
   */
  @Override
  public int mostOutputChannels() {
    return 32;
  }

  /**
   * From {@value #WINOGRAD_CHANNELS} input and output channels (the default U-Net's 32-channel layers at 32x32, not
   * its one-channel input and output layers): on the Zen 3 this was measured on, Winograd with its products in
   * vectors does 2.25x fewer multiply-adds at 65-79 GFLOP/s, against this loop's 57-71 on the same layers, and the
   * U-Net's forward pass ran 7-9% faster in alternating processes (one thread: 0.534-0.608 s against 0.594-0.618).
   * From one channel it was no faster than from 16.
   */
  @Override
  public boolean yieldsToWinograd(int in, int out) {
    return in >= WINOGRAD_CHANNELS && out >= WINOGRAD_CHANNELS;
  }

  /** The fewest input and output channels of a layer whose forward pass goes to Winograd. */
  static final int WINOGRAD_CHANNELS = 16;

  @Override
  public int run() {
    return RUN * L;
  }

  @Override
  public int computed(int positions) {
    int vectors = (positions + L - 1) / L;
    return (vectors + RUN - 1) / RUN * RUN * L;
  }

  @Override
  public void convolve(
      float[] x, int[] offsets, float[] w, int wAt, int biasAt, int from, int to, float[] y, int yAt, int rowStride) {
    int nv = (to + L - 1) / L;
    for (int v = from / L; v < nv; v += RUN) {
      two(x, offsets, w, wAt, biasAt, v * L, y, yAt, rowStride);
    }
  }

  /** Two vectors of positions from {@code p} (a run), four output channels: eight accumulators in registers. */
  private static void two(
      float[] x, int[] offsets, float[] w, int wi, int bias, int p, float[] y, int yb, int rowStride) {
    FloatVector a00 = FloatVector.broadcast(F, w[bias]);
    FloatVector a01 = a00;
    FloatVector a10 = FloatVector.broadcast(F, w[bias + 1]);
    FloatVector a11 = a10;
    FloatVector a20 = FloatVector.broadcast(F, w[bias + 2]);
    FloatVector a21 = a20;
    FloatVector a30 = FloatVector.broadcast(F, w[bias + 3]);
    FloatVector a31 = a30;
    for (int j = 0; j < offsets.length; j++, wi += 4) {
      int o = p + offsets[j];
      FloatVector x0 = FloatVector.fromArray(F, x, o);
      FloatVector x1 = FloatVector.fromArray(F, x, o + L);
      FloatVector c0 = FloatVector.broadcast(F, w[wi]);
      a00 = x0.fma(c0, a00);
      a01 = x1.fma(c0, a01);
      FloatVector c1 = FloatVector.broadcast(F, w[wi + 1]);
      a10 = x0.fma(c1, a10);
      a11 = x1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(F, w[wi + 2]);
      a20 = x0.fma(c2, a20);
      a21 = x1.fma(c2, a21);
      FloatVector c3 = FloatVector.broadcast(F, w[wi + 3]);
      a30 = x0.fma(c3, a30);
      a31 = x1.fma(c3, a31);
    }
    int o = yb + p;
    a00.intoArray(y, o);
    a01.intoArray(y, o + L);
    o += rowStride;
    a10.intoArray(y, o);
    a11.intoArray(y, o + L);
    o += rowStride;
    a20.intoArray(y, o);
    a21.intoArray(y, o + L);
    o += rowStride;
    a30.intoArray(y, o);
    a31.intoArray(y, o + L);
  }
}
