package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link WinogradConv}'s tile transforms with the JDK's (incubating) Vector API, a vector of consecutive tile
 * slots at a time in the CPU's widest native vectors (the one preferred species, see {@link VectorApi}). The same
 * additions in the same order as the plain loops ({@link WinogradConv#inputTiles}, {@link WinogradConv#outputTiles}),
 * which compute the rest of a run: the same bits. Also the forward pass's 16 products {@code M[p] = U[p] V[p]}
 * ({@link #products}), on panels of two vectors of tile slots: six output channels ({@link WinogradConv#BLOCK_OUT})
 * by one panel at a time in twelve accumulators (four channels in eight, as {@link DirectConvSimd256}'s loop does,
 * ran 25-40% slower). Panels of one vector each, read as two streams, ran at half the rate. Compiled on its own
 * with the module added and loaded by reflection ({@link VectorApi}).
 */
final class WinogradConvSimd implements WinogradConv.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = F.length();

  private WinogradConvSimd() {}

  /**
   * The implementation, if this CPU has native vectors of 256 bits or more, in its widest ones.
   *
   * @return the implementation, or null
   */
  static WinogradConv.Simd simd() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 ? new WinogradConvSimd() : null;
  }

  @Override
  public void inputTiles(float[] q, int quarter, int we, int n, float[] rows, int at, int cols) {
    int i = 0;
    for (int end = n - LANES; i <= end; i += LANES) {
      inputTile(q, quarter, we, i, rows, at + i, cols);
    }
    WinogradConv.inputTiles(q, quarter, we, i, n, rows, at, cols);
  }

  /**
   * The transforms of a vector of slots from {@code i}: point {@code p} to {@code dst[o + p ps]}. (A helper taking
   * vectors was not inlined; this one takes the arrays.)
   */
  private static void inputTile(float[] q, int quarter, int we, int i, float[] dst, int o, int ps) {
    int ee = 0;
    int eo = quarter;
    int oe = 2 * quarter;
    int oo = 3 * quarter;
    FloatVector d00 = FloatVector.fromArray(F, q, ee + i);
    FloatVector d01 = FloatVector.fromArray(F, q, eo + i);
    FloatVector d02 = FloatVector.fromArray(F, q, ee + i + 1);
    FloatVector d03 = FloatVector.fromArray(F, q, eo + i + 1);
    FloatVector d10 = FloatVector.fromArray(F, q, oe + i);
    FloatVector d11 = FloatVector.fromArray(F, q, oo + i);
    FloatVector d12 = FloatVector.fromArray(F, q, oe + i + 1);
    FloatVector d13 = FloatVector.fromArray(F, q, oo + i + 1);
    FloatVector d20 = FloatVector.fromArray(F, q, ee + i + we);
    FloatVector d21 = FloatVector.fromArray(F, q, eo + i + we);
    FloatVector d22 = FloatVector.fromArray(F, q, ee + i + we + 1);
    FloatVector d23 = FloatVector.fromArray(F, q, eo + i + we + 1);
    FloatVector d30 = FloatVector.fromArray(F, q, oe + i + we);
    FloatVector d31 = FloatVector.fromArray(F, q, oo + i + we);
    FloatVector d32 = FloatVector.fromArray(F, q, oe + i + we + 1);
    FloatVector d33 = FloatVector.fromArray(F, q, oo + i + we + 1);
    // B^T d, then B along the columns
    FloatVector t0 = d00.sub(d20);
    FloatVector t1 = d01.sub(d21);
    FloatVector t2 = d02.sub(d22);
    FloatVector t3 = d03.sub(d23);
    t0.sub(t2).intoArray(dst, o);
    t1.add(t2).intoArray(dst, o + ps);
    t2.sub(t1).intoArray(dst, o + 2 * ps);
    t1.sub(t3).intoArray(dst, o + 3 * ps);
    t0 = d10.add(d20);
    t1 = d11.add(d21);
    t2 = d12.add(d22);
    t3 = d13.add(d23);
    t0.sub(t2).intoArray(dst, o + 4 * ps);
    t1.add(t2).intoArray(dst, o + 5 * ps);
    t2.sub(t1).intoArray(dst, o + 6 * ps);
    t1.sub(t3).intoArray(dst, o + 7 * ps);
    t0 = d20.sub(d10);
    t1 = d21.sub(d11);
    t2 = d22.sub(d12);
    t3 = d23.sub(d13);
    t0.sub(t2).intoArray(dst, o + 8 * ps);
    t1.add(t2).intoArray(dst, o + 9 * ps);
    t2.sub(t1).intoArray(dst, o + 10 * ps);
    t1.sub(t3).intoArray(dst, o + 11 * ps);
    t0 = d10.sub(d30);
    t1 = d11.sub(d31);
    t2 = d12.sub(d32);
    t3 = d13.sub(d33);
    t0.sub(t2).intoArray(dst, o + 12 * ps);
    t1.add(t2).intoArray(dst, o + 13 * ps);
    t2.sub(t1).intoArray(dst, o + 14 * ps);
    t1.sub(t3).intoArray(dst, o + 15 * ps);
  }

  @Override
  public void outputTiles(float[] m, int at, int pointStride, int cols, float bias, float[] quads) {
    FloatVector b = FloatVector.broadcast(F, bias);
    int i = 0;
    for (int end = cols - LANES; i <= end; i += LANES) {
      int o = at + i;
      FloatVector a0 = point(m, o).add(point(m, o + 4 * pointStride)).add(point(m, o + 8 * pointStride));
      FloatVector a1 = point(m, o + pointStride).add(point(m, o + 5 * pointStride)).add(point(m, o + 9 * pointStride));
      FloatVector a2 = point(m, o + 2 * pointStride).add(point(m, o + 6 * pointStride))
          .add(point(m, o + 10 * pointStride));
      FloatVector a3 = point(m, o + 3 * pointStride).add(point(m, o + 7 * pointStride))
          .add(point(m, o + 11 * pointStride));
      FloatVector s0 = point(m, o + 4 * pointStride).sub(point(m, o + 8 * pointStride))
          .sub(point(m, o + 12 * pointStride));
      FloatVector s1 = point(m, o + 5 * pointStride).sub(point(m, o + 9 * pointStride))
          .sub(point(m, o + 13 * pointStride));
      FloatVector s2 = point(m, o + 6 * pointStride).sub(point(m, o + 10 * pointStride))
          .sub(point(m, o + 14 * pointStride));
      FloatVector s3 = point(m, o + 7 * pointStride).sub(point(m, o + 11 * pointStride))
          .sub(point(m, o + 15 * pointStride));
      a0.add(a1).add(a2).add(b).intoArray(quads, i);
      a1.sub(a2).sub(a3).add(b).intoArray(quads, cols + i);
      s0.add(s1).add(s2).add(b).intoArray(quads, 2 * cols + i);
      s1.sub(s2).sub(s3).add(b).intoArray(quads, 3 * cols + i);
    }
    WinogradConv.outputTiles(m, at, pointStride, cols, i, bias, quads);
  }

  @Override
  public int panel() {
    return PANEL;
  }

  /** Slots per panel: two vectors, read together (two panels of one vector each, two streams, ran at half the rate). */
  private static final int PANEL = 2 * LANES;

  @Override
  public void inputPanels(float[] q, int quarter, int we, int n, float[] v, int at, int channel, int channels,
      int panels) {
    int step = channels * PANEL;
    int ps = panels * step;
    for (int i = 0; i < n; i += LANES) {
      int s = at + i;
      inputTile(q, quarter, we, i, v, (s / PANEL) * step + channel * PANEL + s % PANEL, ps);
    }
  }

  @Override
  public void products(float[] u, float[] v, float[] m, int blocks, int cin, int panels, int p0, int p1) {
    int stride = panels * PANEL;
    int panelFloats = cin * PANEL;
    int blockFloats = cin * WinogradConv.BLOCK_OUT;
    for (int p = p0; p < p1; p++) {
      int uAt = p * blocks * blockFloats;
      int vAt = p * panels * panelFloats;
      int mAt = p * blocks * WinogradConv.BLOCK_OUT * stride;
      // panels in groups that stay in the cache while every block of output channels passes over them
      for (int q0 = 0; q0 < panels; q0 += GROUP) {
        int q1 = Math.min(panels, q0 + GROUP);
        for (int cb = 0; cb < blocks; cb++) {
          for (int q = q0; q < q1; q++) {
            run(u, uAt + cb * blockFloats, v, vAt + q * panelFloats, cin, m,
                mAt + cb * WinogradConv.BLOCK_OUT * stride + q * PANEL, stride);
          }
        }
      }
    }
  }

  /** Panels per group of {@link #products}. */
  private static final int GROUP = 8;

  /**
   * One panel (two vectors of tile slots) by six output channels ({@link WinogradConv#BLOCK_OUT}): twelve
   * accumulators, two loads and six broadcasts per twelve fused multiply-adds, the sum over the input channels in
   * order.
   */
  private static void run(float[] u, int ui, float[] v, int vi, int cin, float[] m, int mi, int stride) {
    FloatVector a00 = FloatVector.zero(F);
    FloatVector a01 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    FloatVector a40 = a00;
    FloatVector a41 = a00;
    FloatVector a50 = a00;
    FloatVector a51 = a00;
    for (int k = 0; k < cin; k++, vi += PANEL, ui += WinogradConv.BLOCK_OUT) {
      FloatVector x0 = FloatVector.fromArray(F, v, vi);
      FloatVector x1 = FloatVector.fromArray(F, v, vi + LANES);
      FloatVector c = FloatVector.broadcast(F, u[ui]);
      a00 = x0.fma(c, a00);
      a01 = x1.fma(c, a01);
      c = FloatVector.broadcast(F, u[ui + 1]);
      a10 = x0.fma(c, a10);
      a11 = x1.fma(c, a11);
      c = FloatVector.broadcast(F, u[ui + 2]);
      a20 = x0.fma(c, a20);
      a21 = x1.fma(c, a21);
      c = FloatVector.broadcast(F, u[ui + 3]);
      a30 = x0.fma(c, a30);
      a31 = x1.fma(c, a31);
      c = FloatVector.broadcast(F, u[ui + 4]);
      a40 = x0.fma(c, a40);
      a41 = x1.fma(c, a41);
      c = FloatVector.broadcast(F, u[ui + 5]);
      a50 = x0.fma(c, a50);
      a51 = x1.fma(c, a51);
    }
    store(a00, a01, m, mi);
    store(a10, a11, m, mi + stride);
    store(a20, a21, m, mi + 2 * stride);
    store(a30, a31, m, mi + 3 * stride);
    store(a40, a41, m, mi + 4 * stride);
    store(a50, a51, m, mi + 5 * stride);
  }

  /** One output channel's panel of products. */
  private static void store(FloatVector lo, FloatVector hi, float[] m, int at) {
    lo.intoArray(m, at);
    hi.intoArray(m, at + LANES);
  }

  private static FloatVector point(float[] rows, int at) {
    return FloatVector.fromArray(F, rows, at);
  }

  @Override
  public void gradientTiles(float[] q, int quarter, int n, float[] rows, int at, int cols) {
    int i = 0;
    for (int end = n - LANES; i <= end; i += LANES) {
      FloatVector y00 = FloatVector.fromArray(F, q, i);
      FloatVector y01 = FloatVector.fromArray(F, q, quarter + i);
      FloatVector y10 = FloatVector.fromArray(F, q, 2 * quarter + i);
      FloatVector y11 = FloatVector.fromArray(F, q, 3 * quarter + i);
      FloatVector s0 = y00.add(y10);
      FloatVector s1 = y01.add(y11);
      FloatVector d0 = y00.sub(y10);
      FloatVector d1 = y01.sub(y11);
      int o = at + i;
      y00.intoArray(rows, o);
      y00.add(y01).intoArray(rows, o + cols);
      y00.sub(y01).intoArray(rows, o + 2 * cols);
      y01.neg().intoArray(rows, o + 3 * cols);
      s0.intoArray(rows, o + 4 * cols);
      s0.add(s1).intoArray(rows, o + 5 * cols);
      s0.sub(s1).intoArray(rows, o + 6 * cols);
      s1.neg().intoArray(rows, o + 7 * cols);
      d0.intoArray(rows, o + 8 * cols);
      d0.add(d1).intoArray(rows, o + 9 * cols);
      d0.sub(d1).intoArray(rows, o + 10 * cols);
      d1.neg().intoArray(rows, o + 11 * cols);
      y10.neg().intoArray(rows, o + 12 * cols);
      y10.add(y11).neg().intoArray(rows, o + 13 * cols);
      y11.sub(y10).intoArray(rows, o + 14 * cols);
      y11.intoArray(rows, o + 15 * cols);
    }
    WinogradConv.gradientTiles(q, quarter, i, n, rows, at, cols);
  }
}
