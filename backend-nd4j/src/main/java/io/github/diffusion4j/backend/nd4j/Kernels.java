package io.github.diffusion4j.backend.nd4j;

import java.nio.FloatBuffer;

/**
 * Elementwise passes over ND4J's native buffers (direct {@link FloatBuffer}s) for the tensors, and the
 * optimiser's passes over the parameters' heap arrays. The tensors' plain arithmetic runs here too rather than
 * as ND4J ops: those run on libnd4j's threads, whose count is process-wide, so a thread confined to itself
 * ({@link KernelPool#confine}), such as each of a sampling loop's slices, would still start them.
 *
 * <p>ND4J has no single op for most of these (a linear combination, a masked product, Adam in PyTorch's
 * form), and every ND4J op costs 10-20 µs of bookkeeping whatever its size, while these loops touch each
 * element once. The JIT of Java 17 does not vectorise loops over direct buffers (about 1.5 ns per
 * element here) but does over arrays (about 0.1 ns), so the native data passes through a small
 * per-thread heap scratch in chunks of {@value #CHUNK} elements: bulk copies in, a plain counted loop
 * that compiles to SIMD code, a bulk copy out (relu over 128,000 elements: 190 µs in place, 36 µs this
 * way). Each computes in float32 exactly as written, in the order written, so results match the
 * reference backend.
 */
final class Kernels {
  /** Elements per chunk: three chunks of scratch (48 KB) stay in the L1/L2 cache. */
  static final int CHUNK = 4096;

  private static final ThreadLocal<float[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[][] {new float[CHUNK], new float[CHUNK], new float[CHUNK]});

  private Kernels() {}

  /** The plain arithmetic of two operands, one IEEE float32 operation per element. */
  enum Arithmetic {
    ADD,
    SUB,
    MUL,
    DIV
  }

  /**
   * {@code r[i] = x[i] op y[i]}.
   *
   * @param op the operation
   * @param x first operand
   * @param y second operand
   * @param r result
   * @param n element count
   */
  static void apply(Arithmetic op, FloatBuffer x, FloatBuffer y, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hy = s[1];
    float[] hr = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      y.get(off, hy, 0, len);
      switch (op) {
        case ADD -> {
          for (int i = 0; i < len; i++) {
            hr[i] = hx[i] + hy[i];
          }
        }
        case SUB -> {
          for (int i = 0; i < len; i++) {
            hr[i] = hx[i] - hy[i];
          }
        }
        case MUL -> {
          for (int i = 0; i < len; i++) {
            hr[i] = hx[i] * hy[i];
          }
        }
        case DIV -> {
          for (int i = 0; i < len; i++) {
            hr[i] = hx[i] / hy[i];
          }
        }
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * {@code r[i] = x[i] + s} or {@code x[i] * s}: a tensor and a scalar (a NaN scalar makes every value NaN, as IEEE
   * says). Only these two: {@code Tensor}'s {@code sub} and {@code div} of a scalar are its defaults on them.
   *
   * @param multiply whether to multiply, else add
   * @param x the tensor's values
   * @param v the scalar
   * @param r result
   * @param n element count
   */
  static void apply(boolean multiply, FloatBuffer x, float v, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hr = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      if (multiply) {
        for (int i = 0; i < len; i++) {
          hr[i] = hx[i] * v;
        }
      } else {
        for (int i = 0; i < len; i++) {
          hr[i] = hx[i] + v;
        }
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * {@code r[i] = sqrt(x[i])}, correctly rounded (NaN for a negative value).
   *
   * @param x the values
   * @param r result
   * @param n element count
   */
  static void sqrt(FloatBuffer x, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hr = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      for (int i = 0; i < len; i++) {
        hr[i] = (float) Math.sqrt(hx[i]);
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * {@code r[i] = a * x[i] + b * y[i]}.
   *
   * @param a factor of x
   * @param x first operand
   * @param b factor of y
   * @param y second operand
   * @param r result
   * @param n element count
   */
  static void combine(float a, FloatBuffer x, float b, FloatBuffer y, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hy = s[1];
    float[] hr = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      y.get(off, hy, 0, len);
      for (int i = 0; i < len; i++) {
        hr[i] = a * hx[i] + b * hy[i];
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * {@code r[i] = (a * x[i] + b * y[i]) + c * z[i]}.
   *
   * @param a factor of x
   * @param x first operand
   * @param b factor of y
   * @param y second operand
   * @param c factor of z
   * @param z third operand
   * @param r result
   * @param n element count
   */
  static void combine3(float a, FloatBuffer x, float b, FloatBuffer y, float c, FloatBuffer z, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hy = s[1];
    float[] hz = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      y.get(off, hy, 0, len);
      z.get(off, hz, 0, len);
      for (int i = 0; i < len; i++) {
        hz[i] = (a * hx[i] + b * hy[i]) + c * hz[i];
      }
      r.put(off, hz, 0, len);
    }
  }

  /**
   * Per item {@code j} of {@code items} items of {@code itemSize} elements:
   * {@code r = a[j] * x + b[j] * y}.
   *
   * @param a factors of x, one per item
   * @param x first operand
   * @param b factors of y, one per item
   * @param y second operand
   * @param r result
   * @param itemSize elements per item
   */
  static void combinePerItem(double[] a, FloatBuffer x, double[] b, FloatBuffer y, FloatBuffer r, int itemSize) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hy = s[1];
    float[] hr = s[2];
    int n = a.length * itemSize;
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      y.get(off, hy, 0, len);
      for (int i = 0; i < len; ) {
        int item = (off + i) / itemSize;
        int end = Math.min(len, (item + 1) * itemSize - off);
        float fa = (float) a[item];
        float fb = (float) b[item];
        for (; i < end; i++) {
          hr[i] = fa * hx[i] + fb * hy[i];
        }
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * Per item {@code j}: {@code r = x * s[j]}.
   *
   * @param scale factors, one per item
   * @param x operand
   * @param r result
   * @param itemSize elements per item
   */
  static void scalePerItem(double[] scale, FloatBuffer x, FloatBuffer r, int itemSize) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hr = s[2];
    int n = scale.length * itemSize;
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      for (int i = 0; i < len; ) {
        int item = (off + i) / itemSize;
        int end = Math.min(len, (item + 1) * itemSize - off);
        float f = (float) scale[item];
        for (; i < end; i++) {
          hr[i] = hx[i] * f;
        }
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * {@code r[i] = min(max(x[i], lo), hi)} (NaN stays NaN).
   *
   * @param x operand
   * @param lo lower bound
   * @param hi upper bound
   * @param r result
   * @param n element count
   */
  static void clamp(FloatBuffer x, float lo, float hi, FloatBuffer r, int n) {
    float[][] s = SCRATCH.get();
    float[] hx = s[0];
    float[] hr = s[2];
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      for (int i = 0; i < len; i++) {
        hr[i] = Math.min(Math.max(hx[i], lo), hi);
      }
      r.put(off, hr, 0, len);
    }
  }

  /**
   * The sum of {@code x[0, n)}, accumulated in double in index order.
   *
   * @param x the values
   * @param n element count
   * @return the sum
   */
  static double sum(FloatBuffer x, int n) {
    float[] hx = SCRATCH.get()[0];
    double sum = 0;
    for (int off = 0; off < n; off += CHUNK) {
      int len = Math.min(CHUNK, n - off);
      x.get(off, hx, 0, len);
      for (int i = 0; i < len; i++) {
        sum += hx[i];
      }
    }
    return sum;
  }

  /**
   * The sum of squares of {@code g[0, len)}, accumulated in double.
   *
   * @param g the values
   * @param len how many
   * @return the sum of squares
   */
  static double sumOfSquares(float[] g, int len) {
    double s0 = 0;
    double s1 = 0;
    int i = 0;
    for (; i + 1 < len; i += 2) {
      s0 += (double) g[i] * g[i];
      s1 += (double) g[i + 1] * g[i + 1];
    }
    if (i < len) {
      s0 += (double) g[i] * g[i];
    }
    return s0 + s1;
  }

  /**
   * One step of PyTorch's Adam ({@code torch.optim.Adam}, {@code amsgrad=False}) on a chunk of flat arrays:
   * with
   * {@code grad = gradScale * g + weightDecay * p}, {@code m = beta1 m + (1 - beta1) grad},
   * {@code v = beta2 v + (1 - beta2) grad^2}, {@code p -= stepSize * m / (sqrt(v) * invSqrtBc2 + eps)}
   * where {@code stepSize = lr / (1 - beta1^t)} and {@code invSqrtBc2 = 1 / sqrt(1 - beta2^t)}.
   *
   * @param p parameters, updated
   * @param g gradients
   * @param m first moments, updated
   * @param v second moments, updated
   * @param len how many elements
   * @param gradScale the clipping factor (1 without clipping)
   * @param weightDecay the L2 penalty
   * @param beta1 first-moment decay
   * @param beta2 second-moment decay
   * @param stepSize {@code lr / (1 - beta1^t)}
   * @param invSqrtBc2 {@code 1 / sqrt(1 - beta2^t)}
   * @param eps the denominator term
   */
  static void adam(
      float[] p,
      float[] g,
      float[] m,
      float[] v,
      int len,
      double gradScale,
      double weightDecay,
      double beta1,
      double beta2,
      double stepSize,
      double invSqrtBc2,
      double eps) {
    float scale = (float) gradScale;
    float wd = (float) weightDecay;
    float b1 = (float) beta1;
    float b2 = (float) beta2;
    float c1 = (float) (1.0 - beta1);
    float c2 = (float) (1.0 - beta2);
    float step = (float) stepSize;
    float inv = (float) invSqrtBc2;
    float e = (float) eps;
    for (int i = 0; i < len; i++) {
      float grad = scale * g[i] + wd * p[i];
      float mi = b1 * m[i] + c1 * grad;
      float vi = b2 * v[i] + c2 * grad * grad;
      m[i] = mi;
      v[i] = vi;
      p[i] -= step * mi / ((float) Math.sqrt(vi) * inv + e);
    }
  }

  /**
   * {@code ema = decay * ema + (1 - decay) * p}, in double per element like the reference.
   *
   * <p>Four elements an iteration, each from its own locals: written as one element an iteration, the loop ran at
   * ~3.4 ns an element once the JIT of Java 17 had inlined it into {@link Parameters#updateAverage}'s chunk loop
   * (275 us for the demo MLP's 78,000 parameters, a quarter of its training step; 57-86 us when kept from
   * inlining, 61 us this way, the same bits), as if each element's float-double conversions waited for the last
   * one's.
   *
   * @param ema the average, updated
   * @param p the current values
   * @param len how many elements
   * @param decay the decay
   */
  static void ema(float[] ema, float[] p, int len, double decay) {
    double c = 1.0 - decay;
    int i = 0;
    for (; i + 3 < len; i += 4) {
      double a0 = ema[i];
      double a1 = ema[i + 1];
      double a2 = ema[i + 2];
      double a3 = ema[i + 3];
      double p0 = p[i];
      double p1 = p[i + 1];
      double p2 = p[i + 2];
      double p3 = p[i + 3];
      ema[i] = (float) (decay * a0 + c * p0);
      ema[i + 1] = (float) (decay * a1 + c * p1);
      ema[i + 2] = (float) (decay * a2 + c * p2);
      ema[i + 3] = (float) (decay * a3 + c * p3);
    }
    for (; i < len; i++) {
      ema[i] = (float) (decay * ema[i] + c * p[i]);
    }
  }
}
