package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DirectWeightGradient}'s inner loop with the JDK's (incubating) Vector API, in 512-bit vectors: for a block
 * of output channels (the vectors) and a group of (input channel, tap) pairs, the accumulators {@code acc[pair][co]}
 * take, at every position, the output gradient's channels at that position (aligned loads of one channels-last row)
 * times the pair's input value at the tap's offset (a broadcast): an outer product per position. Blocks of 64
 * output channels take six pairs at a time (24 accumulators, 4 loads and 6 broadcasts per 24 fused multiply-adds,
 * the ratio of {@link DirectConvSimd}'s loop), blocks of 32 take twelve (24 accumulators, 2 loads and 12
 * broadcasts). Measured alone on one thread of a Zen 5 (useful FLOPs over the padded grid's positions): 172-187
 * GFLOP/s on the default U-Net's shapes (32-96 input channels, 32-64 output channels, 16x16 and 32x32), where the
 * same products on columns reached ~120 in the pass. Each accumulator adds the positions in order, one position
 * per fused multiply-add, so the sums do not depend on the vector width or the blocks. Only for 512-bit vectors:
 * AVX2's 16 registers cannot hold these blocks. The accumulators are written out as separate local variables, as in
 * {@link DirectConvSimd}, because the JIT keeps only those in registers. Compiled on its own with the module added
 * and loaded by reflection ({@link VectorApi}).
 */
final class DirectWeightGradientSimd implements DirectWeightGradient.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

  private DirectWeightGradientSimd() {}

  /**
   * The implementation where this CPU's widest native vectors have 512 bits, else null.
   *
   * @return the implementation, or null
   */
  static DirectWeightGradient.Simd simd() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? new DirectWeightGradientSimd() : null;
  }

  @Override
  public void accumulate(
      float[] x, int[] offsets, int pairs, float[] dy, int cout, int q0, int q1, float[] acc) {
    if (cout % 64 == 0) {
      for (int co0 = 0; co0 < cout; co0 += 64) {
        for (int p0 = 0; p0 < pairs; p0 += 6) {
          sixPairs(x, offsets, p0, dy, cout, co0, q0, q1, acc);
        }
      }
    } else {
      for (int co0 = 0; co0 < cout; co0 += 32) {
        for (int p0 = 0; p0 < pairs; p0 += 12) {
          twelvePairs(x, offsets, p0, dy, cout, co0, q0, q1, acc);
        }
      }
    }
  }

  /** Six pairs by 64 output channels from {@code co0}: 24 accumulators. */
  private static void sixPairs(
      float[] x, int[] offsets, int p0, float[] dy, int cout, int co0, int q0, int q1, float[] acc) {
    int r0 = p0 * cout + co0;
    int r1 = (p0 + 1) * cout + co0;
    int r2 = (p0 + 2) * cout + co0;
    int r3 = (p0 + 3) * cout + co0;
    int r4 = (p0 + 4) * cout + co0;
    int r5 = (p0 + 5) * cout + co0;
    FloatVector a00 = FloatVector.fromArray(F, acc, r0);
    FloatVector a01 = FloatVector.fromArray(F, acc, r0 + 16);
    FloatVector a02 = FloatVector.fromArray(F, acc, r0 + 32);
    FloatVector a03 = FloatVector.fromArray(F, acc, r0 + 48);
    FloatVector a10 = FloatVector.fromArray(F, acc, r1);
    FloatVector a11 = FloatVector.fromArray(F, acc, r1 + 16);
    FloatVector a12 = FloatVector.fromArray(F, acc, r1 + 32);
    FloatVector a13 = FloatVector.fromArray(F, acc, r1 + 48);
    FloatVector a20 = FloatVector.fromArray(F, acc, r2);
    FloatVector a21 = FloatVector.fromArray(F, acc, r2 + 16);
    FloatVector a22 = FloatVector.fromArray(F, acc, r2 + 32);
    FloatVector a23 = FloatVector.fromArray(F, acc, r2 + 48);
    FloatVector a30 = FloatVector.fromArray(F, acc, r3);
    FloatVector a31 = FloatVector.fromArray(F, acc, r3 + 16);
    FloatVector a32 = FloatVector.fromArray(F, acc, r3 + 32);
    FloatVector a33 = FloatVector.fromArray(F, acc, r3 + 48);
    FloatVector a40 = FloatVector.fromArray(F, acc, r4);
    FloatVector a41 = FloatVector.fromArray(F, acc, r4 + 16);
    FloatVector a42 = FloatVector.fromArray(F, acc, r4 + 32);
    FloatVector a43 = FloatVector.fromArray(F, acc, r4 + 48);
    FloatVector a50 = FloatVector.fromArray(F, acc, r5);
    FloatVector a51 = FloatVector.fromArray(F, acc, r5 + 16);
    FloatVector a52 = FloatVector.fromArray(F, acc, r5 + 32);
    FloatVector a53 = FloatVector.fromArray(F, acc, r5 + 48);
    int o0 = offsets[p0];
    int o1 = offsets[p0 + 1];
    int o2 = offsets[p0 + 2];
    int o3 = offsets[p0 + 3];
    int o4 = offsets[p0 + 4];
    int o5 = offsets[p0 + 5];
    for (int q = q0; q < q1; q++) {
      int d = q * cout + co0;
      FloatVector d0 = FloatVector.fromArray(F, dy, d);
      FloatVector d1 = FloatVector.fromArray(F, dy, d + 16);
      FloatVector d2 = FloatVector.fromArray(F, dy, d + 32);
      FloatVector d3 = FloatVector.fromArray(F, dy, d + 48);
      FloatVector c0 = FloatVector.broadcast(F, x[q + o0]);
      a00 = d0.fma(c0, a00);
      a01 = d1.fma(c0, a01);
      a02 = d2.fma(c0, a02);
      a03 = d3.fma(c0, a03);
      FloatVector c1 = FloatVector.broadcast(F, x[q + o1]);
      a10 = d0.fma(c1, a10);
      a11 = d1.fma(c1, a11);
      a12 = d2.fma(c1, a12);
      a13 = d3.fma(c1, a13);
      FloatVector c2 = FloatVector.broadcast(F, x[q + o2]);
      a20 = d0.fma(c2, a20);
      a21 = d1.fma(c2, a21);
      a22 = d2.fma(c2, a22);
      a23 = d3.fma(c2, a23);
      FloatVector c3 = FloatVector.broadcast(F, x[q + o3]);
      a30 = d0.fma(c3, a30);
      a31 = d1.fma(c3, a31);
      a32 = d2.fma(c3, a32);
      a33 = d3.fma(c3, a33);
      FloatVector c4 = FloatVector.broadcast(F, x[q + o4]);
      a40 = d0.fma(c4, a40);
      a41 = d1.fma(c4, a41);
      a42 = d2.fma(c4, a42);
      a43 = d3.fma(c4, a43);
      FloatVector c5 = FloatVector.broadcast(F, x[q + o5]);
      a50 = d0.fma(c5, a50);
      a51 = d1.fma(c5, a51);
      a52 = d2.fma(c5, a52);
      a53 = d3.fma(c5, a53);
    }
    a00.intoArray(acc, r0);
    a01.intoArray(acc, r0 + 16);
    a02.intoArray(acc, r0 + 32);
    a03.intoArray(acc, r0 + 48);
    a10.intoArray(acc, r1);
    a11.intoArray(acc, r1 + 16);
    a12.intoArray(acc, r1 + 32);
    a13.intoArray(acc, r1 + 48);
    a20.intoArray(acc, r2);
    a21.intoArray(acc, r2 + 16);
    a22.intoArray(acc, r2 + 32);
    a23.intoArray(acc, r2 + 48);
    a30.intoArray(acc, r3);
    a31.intoArray(acc, r3 + 16);
    a32.intoArray(acc, r3 + 32);
    a33.intoArray(acc, r3 + 48);
    a40.intoArray(acc, r4);
    a41.intoArray(acc, r4 + 16);
    a42.intoArray(acc, r4 + 32);
    a43.intoArray(acc, r4 + 48);
    a50.intoArray(acc, r5);
    a51.intoArray(acc, r5 + 16);
    a52.intoArray(acc, r5 + 32);
    a53.intoArray(acc, r5 + 48);
  }

  /** Twelve pairs by 32 output channels from {@code co0}: 24 accumulators. */
  private static void twelvePairs(
      float[] x, int[] offsets, int p0, float[] dy, int cout, int co0, int q0, int q1, float[] acc) {
    int r0 = p0 * cout + co0;
    int r1 = (p0 + 1) * cout + co0;
    int r2 = (p0 + 2) * cout + co0;
    int r3 = (p0 + 3) * cout + co0;
    int r4 = (p0 + 4) * cout + co0;
    int r5 = (p0 + 5) * cout + co0;
    int r6 = (p0 + 6) * cout + co0;
    int r7 = (p0 + 7) * cout + co0;
    int r8 = (p0 + 8) * cout + co0;
    int r9 = (p0 + 9) * cout + co0;
    int r10 = (p0 + 10) * cout + co0;
    int r11 = (p0 + 11) * cout + co0;
    FloatVector a00 = FloatVector.fromArray(F, acc, r0);
    FloatVector a01 = FloatVector.fromArray(F, acc, r0 + 16);
    FloatVector a10 = FloatVector.fromArray(F, acc, r1);
    FloatVector a11 = FloatVector.fromArray(F, acc, r1 + 16);
    FloatVector a20 = FloatVector.fromArray(F, acc, r2);
    FloatVector a21 = FloatVector.fromArray(F, acc, r2 + 16);
    FloatVector a30 = FloatVector.fromArray(F, acc, r3);
    FloatVector a31 = FloatVector.fromArray(F, acc, r3 + 16);
    FloatVector a40 = FloatVector.fromArray(F, acc, r4);
    FloatVector a41 = FloatVector.fromArray(F, acc, r4 + 16);
    FloatVector a50 = FloatVector.fromArray(F, acc, r5);
    FloatVector a51 = FloatVector.fromArray(F, acc, r5 + 16);
    FloatVector a60 = FloatVector.fromArray(F, acc, r6);
    FloatVector a61 = FloatVector.fromArray(F, acc, r6 + 16);
    FloatVector a70 = FloatVector.fromArray(F, acc, r7);
    FloatVector a71 = FloatVector.fromArray(F, acc, r7 + 16);
    FloatVector a80 = FloatVector.fromArray(F, acc, r8);
    FloatVector a81 = FloatVector.fromArray(F, acc, r8 + 16);
    FloatVector a90 = FloatVector.fromArray(F, acc, r9);
    FloatVector a91 = FloatVector.fromArray(F, acc, r9 + 16);
    FloatVector a100 = FloatVector.fromArray(F, acc, r10);
    FloatVector a101 = FloatVector.fromArray(F, acc, r10 + 16);
    FloatVector a110 = FloatVector.fromArray(F, acc, r11);
    FloatVector a111 = FloatVector.fromArray(F, acc, r11 + 16);
    int o0 = offsets[p0];
    int o1 = offsets[p0 + 1];
    int o2 = offsets[p0 + 2];
    int o3 = offsets[p0 + 3];
    int o4 = offsets[p0 + 4];
    int o5 = offsets[p0 + 5];
    int o6 = offsets[p0 + 6];
    int o7 = offsets[p0 + 7];
    int o8 = offsets[p0 + 8];
    int o9 = offsets[p0 + 9];
    int o10 = offsets[p0 + 10];
    int o11 = offsets[p0 + 11];
    for (int q = q0; q < q1; q++) {
      int d = q * cout + co0;
      FloatVector d0 = FloatVector.fromArray(F, dy, d);
      FloatVector d1 = FloatVector.fromArray(F, dy, d + 16);
      FloatVector c0 = FloatVector.broadcast(F, x[q + o0]);
      a00 = d0.fma(c0, a00);
      a01 = d1.fma(c0, a01);
      FloatVector c1 = FloatVector.broadcast(F, x[q + o1]);
      a10 = d0.fma(c1, a10);
      a11 = d1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(F, x[q + o2]);
      a20 = d0.fma(c2, a20);
      a21 = d1.fma(c2, a21);
      FloatVector c3 = FloatVector.broadcast(F, x[q + o3]);
      a30 = d0.fma(c3, a30);
      a31 = d1.fma(c3, a31);
      FloatVector c4 = FloatVector.broadcast(F, x[q + o4]);
      a40 = d0.fma(c4, a40);
      a41 = d1.fma(c4, a41);
      FloatVector c5 = FloatVector.broadcast(F, x[q + o5]);
      a50 = d0.fma(c5, a50);
      a51 = d1.fma(c5, a51);
      FloatVector c6 = FloatVector.broadcast(F, x[q + o6]);
      a60 = d0.fma(c6, a60);
      a61 = d1.fma(c6, a61);
      FloatVector c7 = FloatVector.broadcast(F, x[q + o7]);
      a70 = d0.fma(c7, a70);
      a71 = d1.fma(c7, a71);
      FloatVector c8 = FloatVector.broadcast(F, x[q + o8]);
      a80 = d0.fma(c8, a80);
      a81 = d1.fma(c8, a81);
      FloatVector c9 = FloatVector.broadcast(F, x[q + o9]);
      a90 = d0.fma(c9, a90);
      a91 = d1.fma(c9, a91);
      FloatVector c10 = FloatVector.broadcast(F, x[q + o10]);
      a100 = d0.fma(c10, a100);
      a101 = d1.fma(c10, a101);
      FloatVector c11 = FloatVector.broadcast(F, x[q + o11]);
      a110 = d0.fma(c11, a110);
      a111 = d1.fma(c11, a111);
    }
    a00.intoArray(acc, r0);
    a01.intoArray(acc, r0 + 16);
    a10.intoArray(acc, r1);
    a11.intoArray(acc, r1 + 16);
    a20.intoArray(acc, r2);
    a21.intoArray(acc, r2 + 16);
    a30.intoArray(acc, r3);
    a31.intoArray(acc, r3 + 16);
    a40.intoArray(acc, r4);
    a41.intoArray(acc, r4 + 16);
    a50.intoArray(acc, r5);
    a51.intoArray(acc, r5 + 16);
    a60.intoArray(acc, r6);
    a61.intoArray(acc, r6 + 16);
    a70.intoArray(acc, r7);
    a71.intoArray(acc, r7 + 16);
    a80.intoArray(acc, r8);
    a81.intoArray(acc, r8 + 16);
    a90.intoArray(acc, r9);
    a91.intoArray(acc, r9 + 16);
    a100.intoArray(acc, r10);
    a101.intoArray(acc, r10 + 16);
    a110.intoArray(acc, r11);
    a111.intoArray(acc, r11 + 16);
  }
}
