package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link WinogradConv}'s tile transforms with the JDK's (incubating) Vector API, a vector of consecutive tile
 * slots at a time in the CPU's widest native vectors (the one preferred species, see {@link VectorApi}). The same
 * additions in the same order as the plain loops ({@link WinogradConv#inputTiles}, {@link WinogradConv#outputTiles}),
 * which compute the rest of a run: the same bits. Compiled on its own with the module added and loaded by
 * reflection ({@link VectorApi}).
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
    int ee = 0;
    int eo = quarter;
    int oe = 2 * quarter;
    int oo = 3 * quarter;
    int i = 0;
    for (int end = n - LANES; i <= end; i += LANES) {
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
      // B^T d, then B along the columns (written out: a helper taking vectors was not inlined)
      int o = at + i;
      FloatVector t0 = d00.sub(d20);
      FloatVector t1 = d01.sub(d21);
      FloatVector t2 = d02.sub(d22);
      FloatVector t3 = d03.sub(d23);
      t0.sub(t2).intoArray(rows, o);
      t1.add(t2).intoArray(rows, o + cols);
      t2.sub(t1).intoArray(rows, o + 2 * cols);
      t1.sub(t3).intoArray(rows, o + 3 * cols);
      t0 = d10.add(d20);
      t1 = d11.add(d21);
      t2 = d12.add(d22);
      t3 = d13.add(d23);
      t0.sub(t2).intoArray(rows, o + 4 * cols);
      t1.add(t2).intoArray(rows, o + 5 * cols);
      t2.sub(t1).intoArray(rows, o + 6 * cols);
      t1.sub(t3).intoArray(rows, o + 7 * cols);
      t0 = d20.sub(d10);
      t1 = d21.sub(d11);
      t2 = d22.sub(d12);
      t3 = d23.sub(d13);
      t0.sub(t2).intoArray(rows, o + 8 * cols);
      t1.add(t2).intoArray(rows, o + 9 * cols);
      t2.sub(t1).intoArray(rows, o + 10 * cols);
      t1.sub(t3).intoArray(rows, o + 11 * cols);
      t0 = d10.sub(d30);
      t1 = d11.sub(d31);
      t2 = d12.sub(d32);
      t3 = d13.sub(d33);
      t0.sub(t2).intoArray(rows, o + 12 * cols);
      t1.add(t2).intoArray(rows, o + 13 * cols);
      t2.sub(t1).intoArray(rows, o + 14 * cols);
      t1.sub(t3).intoArray(rows, o + 15 * cols);
    }
    WinogradConv.inputTiles(q, quarter, we, i, n, rows, at, cols);
  }

  @Override
  public void outputTiles(float[] rows, int cols, float bias, float[] quads) {
    FloatVector b = FloatVector.broadcast(F, bias);
    int i = 0;
    for (int end = cols - LANES; i <= end; i += LANES) {
      FloatVector a0 = point(rows, i).add(point(rows, 4 * cols + i)).add(point(rows, 8 * cols + i));
      FloatVector a1 = point(rows, cols + i).add(point(rows, 5 * cols + i)).add(point(rows, 9 * cols + i));
      FloatVector a2 = point(rows, 2 * cols + i).add(point(rows, 6 * cols + i)).add(point(rows, 10 * cols + i));
      FloatVector a3 = point(rows, 3 * cols + i).add(point(rows, 7 * cols + i)).add(point(rows, 11 * cols + i));
      FloatVector s0 = point(rows, 4 * cols + i).sub(point(rows, 8 * cols + i)).sub(point(rows, 12 * cols + i));
      FloatVector s1 = point(rows, 5 * cols + i).sub(point(rows, 9 * cols + i)).sub(point(rows, 13 * cols + i));
      FloatVector s2 = point(rows, 6 * cols + i).sub(point(rows, 10 * cols + i)).sub(point(rows, 14 * cols + i));
      FloatVector s3 = point(rows, 7 * cols + i).sub(point(rows, 11 * cols + i)).sub(point(rows, 15 * cols + i));
      a0.add(a1).add(a2).add(b).intoArray(quads, i);
      a1.sub(a2).sub(a3).add(b).intoArray(quads, cols + i);
      s0.add(s1).add(s2).add(b).intoArray(quads, 2 * cols + i);
      s1.sub(s2).sub(s3).add(b).intoArray(quads, 3 * cols + i);
    }
    WinogradConv.outputTiles(rows, cols, i, bias, quads);
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
