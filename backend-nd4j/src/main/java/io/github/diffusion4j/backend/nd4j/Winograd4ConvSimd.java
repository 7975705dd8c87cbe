package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Winograd4Conv}'s tile transforms with the JDK's (incubating) Vector API, a vector of consecutive tile slots
 * at a time in the CPU's widest native vectors (the one preferred species, see {@link VectorApi}): the same
 * operations in the same order as the plain loops ({@link Winograd4Conv#inputRow}, {@link Winograd4Conv#outputRow}),
 * so the same bits. Each transform runs along the columns into a scratch array of vectors and then along its rows
 * (36 live vectors would not stay in registers). Compiled on its own with the module added and loaded by
 * reflection ({@link VectorApi}).
 */
final class Winograd4ConvSimd implements Winograd4Conv.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();

  private Winograd4ConvSimd() {}

  /**
   * The implementation, if this CPU has native vectors of 256 bits or more, in its widest ones.
   *
   * @return the implementation, or null
   */
  static Winograd4Conv.Simd simd() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 ? new Winograd4ConvSimd() : null;
  }

  @Override
  public int lanes() {
    return L;
  }

  @Override
  public void inputTiles(float[] q, int phase, int we, int n, float[] v, int at, int pointStride, float[] t) {
    for (int s = 0; s < n; s += L) {
      // B^T along the columns: column j of the patch from phase planes (i % 4, j % 4), row offset (i / 4) we
      for (int j = 0; j < 6; j++) {
        int o = (j & 3) * phase + s + (j >> 2);
        FloatVector d0 = FloatVector.fromArray(F, q, o);
        FloatVector d1 = FloatVector.fromArray(F, q, o + 4 * phase);
        FloatVector d2 = FloatVector.fromArray(F, q, o + 8 * phase);
        FloatVector d3 = FloatVector.fromArray(F, q, o + 12 * phase);
        FloatVector d4 = FloatVector.fromArray(F, q, o + we);
        FloatVector d5 = FloatVector.fromArray(F, q, o + 4 * phase + we);
        row(d0, d1, d2, d3, d4, d5, t, j * L, 6 * L);
      }
      // then along the rows, each row k's six columns into points 6 k .. 6 k + 5
      for (int k = 0; k < 6; k++) {
        int o = k * 6 * L;
        FloatVector d0 = FloatVector.fromArray(F, t, o);
        FloatVector d1 = FloatVector.fromArray(F, t, o + L);
        FloatVector d2 = FloatVector.fromArray(F, t, o + 2 * L);
        FloatVector d3 = FloatVector.fromArray(F, t, o + 3 * L);
        FloatVector d4 = FloatVector.fromArray(F, t, o + 4 * L);
        FloatVector d5 = FloatVector.fromArray(F, t, o + 5 * L);
        row(d0, d1, d2, d3, d4, d5, v, at + k * 6 * pointStride + s, pointStride);
      }
    }
  }

  /** {@code B^T d} of six vectors, output {@code k} to {@code dst[o + k step]} ({@link Winograd4Conv#inputRow}). */
  private static void row(FloatVector d0, FloatVector d1, FloatVector d2, FloatVector d3, FloatVector d4,
      FloatVector d5, float[] dst, int o, int step) {
    FloatVector a = d4.sub(d2);
    FloatVector b = d3.sub(d1).mul(2f);
    FloatVector c = d3.add(d4);
    FloatVector e = d1.add(d2).mul(4f);
    FloatVector f = d4.sub(d3);
    FloatVector g = d1.sub(d2).mul(4f);
    d0.mul(4f).add(d4).sub(d2.mul(5f)).intoArray(dst, o);
    c.sub(e).intoArray(dst, o + step);
    f.add(g).intoArray(dst, o + 2 * step);
    a.add(b).intoArray(dst, o + 3 * step);
    a.sub(b).intoArray(dst, o + 4 * step);
    d1.mul(4f).add(d5).sub(d3.mul(5f)).intoArray(dst, o + 5 * step);
  }

  @Override
  public void outputTiles(float[] m, int at, int pointStride, int n, float bias, float[] out, int outStride,
      float[] t) {
    for (int s = 0; s < n; s += L) {
      // A^T along the columns: column j's six points 6 i + j into four rows of t
      for (int j = 0; j < 6; j++) {
        int o = at + j * pointStride + s;
        FloatVector m0 = FloatVector.fromArray(F, m, o);
        FloatVector m1 = FloatVector.fromArray(F, m, o + 6 * pointStride);
        FloatVector m2 = FloatVector.fromArray(F, m, o + 12 * pointStride);
        FloatVector m3 = FloatVector.fromArray(F, m, o + 18 * pointStride);
        FloatVector m4 = FloatVector.fromArray(F, m, o + 24 * pointStride);
        FloatVector m5 = FloatVector.fromArray(F, m, o + 30 * pointStride);
        column(m0, m1, m2, m3, m4, m5, 0f, t, j * L, 6 * L);
      }
      // then along the rows, plus the bias
      for (int a = 0; a < 4; a++) {
        int o = a * 6 * L;
        FloatVector m0 = FloatVector.fromArray(F, t, o);
        FloatVector m1 = FloatVector.fromArray(F, t, o + L);
        FloatVector m2 = FloatVector.fromArray(F, t, o + 2 * L);
        FloatVector m3 = FloatVector.fromArray(F, t, o + 3 * L);
        FloatVector m4 = FloatVector.fromArray(F, t, o + 4 * L);
        FloatVector m5 = FloatVector.fromArray(F, t, o + 5 * L);
        column(m0, m1, m2, m3, m4, m5, bias, out, a * 4 * outStride + s, outStride);
      }
    }
  }

  /**
   * {@code A^T m + bias} of six vectors, output {@code a} to {@code dst[o + a step]} ({@link
   * Winograd4Conv#outputRow}).
   */
  private static void column(FloatVector m0, FloatVector m1, FloatVector m2, FloatVector m3, FloatVector m4,
      FloatVector m5, float bias, float[] dst, int o, int step) {
    FloatVector s12 = m1.add(m2);
    FloatVector d12 = m1.sub(m2);
    FloatVector s34 = m3.add(m4);
    FloatVector d34 = m3.sub(m4);
    m0.add(s12).add(s34).add(bias).intoArray(dst, o);
    d12.add(d34.mul(2f)).add(bias).intoArray(dst, o + step);
    s12.add(s34.mul(4f)).add(bias).intoArray(dst, o + 2 * step);
    d12.add(d34.mul(8f)).add(m5).add(bias).intoArray(dst, o + 3 * step);
  }
}
