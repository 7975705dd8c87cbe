package io.github.diffusion4j.backend.nd4j;

/**
 * Reductions and row operations on Java arrays, in loops that the JIT compiles to SIMD code (all operands
 * indexed alike). Reductions run eight float chains over runs of {@value #RUN} elements, so each run's
 * rounding stays near that of a pairwise sum, and add the runs in double; where the JDK's Vector API is present
 * and 256-bit or wider vectors are native ({@link #SIMD}), {@code ArrayMathSimd} computes each run in one vector
 * of chains instead, with other bits in the last places (sixteen chains with 512-bit vectors, three to six times
 * faster; eight with 256-bit ones, added in another order, a sum 2.3 times faster). All lengths are explicit:
 * scratch arrays are often longer than their contents.
 */
final class ArrayMath {
  /** Elements per run of float accumulation in the reductions. */
  static final int RUN = 1024;

  /** The Vector API implementation of one run of each reduction (at most {@link #RUN} elements). */
  interface Simd {
    /**
     * {@code sum(x[i])} over {@code [from, to)}.
     *
     * @param x the values
     * @param from the first index
     * @param to one past the last index
     * @return the sum
     */
    float sumRun(float[] x, int from, int to);

    /**
     * {@code sum((x[i] - mean)^2)} over {@code [from, to)}.
     *
     * @param x the values
     * @param from the first index
     * @param to one past the last index
     * @param mean the value subtracted
     * @return the sum
     */
    float squaredDeviationsRun(float[] x, int from, int to, float mean);

    /**
     * {@code sum(a[i] * (b[i] - c))} over {@code [from, to)}.
     *
     * @param a first factor
     * @param b second factor
     * @param c the value subtracted from {@code b}
     * @param from the first index
     * @param to one past the last index
     * @return the sum
     */
    float dotRun(float[] a, float[] b, float c, int from, int to);
  }

  /**
   * The Vector API implementation, or null where the module is absent, the CPU has no native vectors of 256 bits
   * or more, or the system property {@value VectorApi#PROPERTY} is {@code false} ({@link VectorApi}).
   */
  static final Simd SIMD = VectorApi.load(Simd.class, ArrayMath.class.getName() + "Simd");

  private ArrayMath() {}

  /**
   * The sum of {@code x[off, off + n)}: eight float chains (one vector of chains with {@link #SIMD}) over runs of
   * {@value #RUN} elements (so each run's rounding stays near that of a pairwise sum), the runs added in double.
   *
   * @param x the values
   * @param off the first index
   * @param n element count
   * @return the sum
   */
  static double sum(float[] x, int off, int n) {
    double total = 0;
    for (int from = off, end = off + n; from < end; from += RUN) {
      int to = Math.min(end, from + RUN);
      total += SIMD != null ? SIMD.sumRun(x, from, to) : sumRun(x, from, to);
    }
    return total;
  }

  /** {@code sum(x[i])} over {@code [from, to)}, at most {@link #RUN} elements, in float chains. */
  static float sumRun(float[] x, int from, int to) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float s4 = 0;
    float s5 = 0;
    float s6 = 0;
    float s7 = 0;
    int i = from;
    for (; i + 7 < to; i += 8) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
      s4 += x[i + 4];
      s5 += x[i + 5];
      s6 += x[i + 6];
      s7 += x[i + 7];
    }
    for (; i < to; i++) {
      s0 += x[i];
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /** {@code sum((x[i] - mean)^2)} over {@code [from, to)}, at most {@link #RUN} elements, in float chains. */
  static float sumSquaredDeviations(float[] x, int from, int to, float mean) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float s4 = 0;
    float s5 = 0;
    float s6 = 0;
    float s7 = 0;
    int i = from;
    for (; i + 7 < to; i += 8) {
      float d0 = x[i] - mean;
      float d1 = x[i + 1] - mean;
      float d2 = x[i + 2] - mean;
      float d3 = x[i + 3] - mean;
      float d4 = x[i + 4] - mean;
      float d5 = x[i + 5] - mean;
      float d6 = x[i + 6] - mean;
      float d7 = x[i + 7] - mean;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
      s4 += d4 * d4;
      s5 += d5 * d5;
      s6 += d6 * d6;
      s7 += d7 * d7;
    }
    for (; i < to; i++) {
      float d = x[i] - mean;
      s0 += d * d;
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /** {@code sum(a[i] * (b[i] - c))} over {@code [from, to)}, at most {@link #RUN} elements, in float chains. */
  static float dotRun(float[] a, float[] b, float c, int from, int to) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float s4 = 0;
    float s5 = 0;
    float s6 = 0;
    float s7 = 0;
    int i = from;
    for (; i + 7 < to; i += 8) {
      s0 += a[i] * (b[i] - c);
      s1 += a[i + 1] * (b[i + 1] - c);
      s2 += a[i + 2] * (b[i + 2] - c);
      s3 += a[i + 3] * (b[i + 3] - c);
      s4 += a[i + 4] * (b[i + 4] - c);
      s5 += a[i + 5] * (b[i + 5] - c);
      s6 += a[i + 6] * (b[i + 6] - c);
      s7 += a[i + 7] * (b[i + 7] - c);
    }
    for (; i < to; i++) {
      s0 += a[i] * (b[i] - c);
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /**
   * {@code sum(a[i] * (b[i] - c))} over {@code [off, off + n)}, in float chains per run, the runs in
   * double.
   *
   * @param a first factor
   * @param b second factor, from which {@code c} is subtracted
   * @param c the value subtracted
   * @param off first index
   * @param n element count
   * @return the dot product
   */
  static double dotCentered(float[] a, float[] b, float c, int off, int n) {
    double total = 0;
    for (int from = off, end = off + n; from < end; from += RUN) {
      int to = Math.min(end, from + RUN);
      total += SIMD != null ? SIMD.dotRun(a, b, c, from, to) : dotRun(a, b, c, from, to);
    }
    return total;
  }

  /**
   * {@code sum((x[i] - mean)^2)} over {@code [off, off + n)}.
   *
   * @param x the values
   * @param off first index
   * @param n element count
   * @param mean the value subtracted
   * @return the sum
   */
  static double squaredDeviations(float[] x, int off, int n, float mean) {
    double total = 0;
    for (int from = off, end = off + n; from < end; from += RUN) {
      int to = Math.min(end, from + RUN);
      total += SIMD != null ? SIMD.squaredDeviationsRun(x, from, to, mean) : sumSquaredDeviations(x, from, to, mean);
    }
    return total;
  }

  /**
   * Scales {@code rows} rows of {@code n} values and replaces each by its softmax, in place.
   *
   * @param w the logits, overwritten with the weights
   * @param rows rows
   * @param n values per row
   * @param scale the factor applied to the logits first
   * @param sc scratch
   */
  static void softmaxRows(float[] w, int rows, int n, float scale, VectorMath.Scratch sc) {
    for (int r = 0; r < rows; r++) {
      int base = r * n;
      float max = Float.NEGATIVE_INFINITY;
      for (int i = base; i < base + n; i++) {
        w[i] *= scale;
        max = Math.max(max, w[i]);
      }
      for (int i = base; i < base + n; i++) {
        w[i] -= max;
      }
      VectorMath.exp(w, base, base + n, sc);
      float inv = (float) (1.0 / sum(w, base, n));
      for (int i = base; i < base + n; i++) {
        w[i] *= inv;
      }
    }
  }

  /**
   * The backward pass of {@link #softmaxRows}: {@code d = scale * w * (d - sum(d * w))} per row, in
   * place.
   *
   * @param d the gradient with respect to the weights, overwritten with that w.r.t. the logits
   * @param w the weights
   * @param rows rows
   * @param n values per row
   * @param scale the logits' factor
   */
  static void softmaxRowsBackward(float[] d, float[] w, int rows, int n, float scale) {
    for (int r = 0; r < rows; r++) {
      int base = r * n;
      double dot = 0;
      for (int i = base; i < base + n; i++) {
        dot += (double) d[i] * w[i];
      }
      float s = (float) dot;
      for (int i = base; i < base + n; i++) {
        d[i] = scale * w[i] * (d[i] - s);
      }
    }
  }
}
