package io.github.diffusion4j.backend.nd4j;

import java.util.Arrays;

/**
 * The U-Net's elementwise and reduction passes, on Java arrays in the channel-major layout
 * {@code [C][N][P]} (element {@code (c, n, p)} at {@code c * N * P + n * P + p}, {@code P = H * W}), in
 * which a batch of images is one matrix of {@code C} rows, a convolution is one matrix product for all
 * images, and a concatenation along channels is two contiguous copies.
 *
 * <p>Loops run over Java arrays, which the JIT compiles to SIMD code where all operands are indexed
 * alike. Reductions run eight float chains over runs of {@value #RUN} elements and add the runs in
 * double. All lengths are given explicitly: arrays come from a {@link UNetWorkspace} and may be longer
 * than their contents.
 */
final class UNetKernels {
  /** Elements per run of float accumulation in the reductions. */
  static final int RUN = 1024;

  private UNetKernels() {}

  // ------------------------------------------------------------------------------ layout

  /**
   * Copies items {@code [n0, n0 + nb)} of an {@code [N, C, P]} batch into the channel-major layout.
   *
   * @param src {@code [N, C, P]}, row-major
   * @param n0 the first item
   * @param nb the number of items
   * @param c channels
   * @param p positions per channel
   * @param dst {@code [C][nb][P]}
   */
  static void toChannelMajor(float[] src, int n0, int nb, int c, int p, float[] dst) {
    int m = nb * p;
    for (int j = 0; j < nb; j++) {
      for (int ci = 0; ci < c; ci++) {
        System.arraycopy(src, ((n0 + j) * c + ci) * p, dst, ci * m + j * p, p);
      }
    }
  }

  /**
   * Copies a channel-major block of {@code nb} items into items {@code [n0, n0 + nb)} of an
   * {@code [N, C, P]} batch.
   *
   * @param src {@code [C][nb][P]}
   * @param nb the number of items
   * @param c channels
   * @param p positions per channel
   * @param dst {@code [N, C, P]}, row-major
   * @param n0 the first item
   */
  static void fromChannelMajor(float[] src, int nb, int c, int p, float[] dst, int n0) {
    int m = nb * p;
    for (int j = 0; j < nb; j++) {
      for (int ci = 0; ci < c; ci++) {
        System.arraycopy(src, ci * m + j * p, dst, ((n0 + j) * c + ci) * p, p);
      }
    }
  }

  // ------------------------------------------------------------------------------ elementwise

  /**
   * {@code y[i] += x[i]} for {@code i < n}.
   *
   * @param y the sum, updated
   * @param x the addend
   * @param n element count
   */
  static void addTo(float[] y, float[] x, int n) {
    for (int i = 0; i < n; i++) {
      y[i] += x[i];
    }
  }

  /**
   * {@code y[yOff + i] += x[xOff + i]} for {@code i < n}.
   *
   * @param y the sum, updated
   * @param yOff its offset
   * @param x the addend
   * @param xOff its offset
   * @param n element count
   */
  static void addTo(float[] y, int yOff, float[] x, int xOff, int n) {
    for (int i = 0; i < n; i++) {
      y[yOff + i] += x[xOff + i];
    }
  }

  /**
   * Adds a per-channel bias to each row of a {@code [C][M]} matrix.
   *
   * @param y the matrix, updated
   * @param c rows (channels)
   * @param m columns
   * @param bias the parameters holding the bias
   * @param off the bias's offset in {@code bias}
   */
  static void addBias(float[] y, int c, int m, float[] bias, int off) {
    for (int ci = 0; ci < c; ci++) {
      float b = bias[off + ci];
      int base = ci * m;
      for (int i = base; i < base + m; i++) {
        y[i] += b;
      }
    }
  }

  /**
   * Adds each row's sum of a {@code [C][M]} matrix to {@code grad[off + c]} (a bias's gradient).
   *
   * @param dy the matrix
   * @param c rows
   * @param m columns
   * @param grad the gradient, updated
   * @param off the bias's offset
   */
  static void addRowSums(float[] dy, int c, int m, float[] grad, int off) {
    for (int ci = 0; ci < c; ci++) {
      grad[off + ci] += (float) sum(dy, ci * m, m);
    }
  }

  /**
   * The sum of {@code x[off, off + n)}: eight float chains over runs of {@value #RUN} elements (so each
   * run's rounding stays near that of a pairwise sum), the runs added in double.
   *
   * @param x the values
   * @param off the first index
   * @param n element count
   * @return the sum
   */
  static double sum(float[] x, int off, int n) {
    double total = 0;
    for (int from = off, end = off + n; from < end; from += RUN) {
      total += sumRun(x, from, Math.min(end, from + RUN));
    }
    return total;
  }

  private static float sumRun(float[] x, int from, int to) {
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
  private static float sumSquaredDeviations(float[] x, int from, int to, float mean) {
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
  private static float dotRun(float[] a, float[] b, float c, int from, int to) {
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
      total += dotRun(a, b, c, from, Math.min(end, from + RUN));
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
      total += sumSquaredDeviations(x, from, Math.min(end, from + RUN), mean);
    }
    return total;
  }

  /**
   * SiLU in place, keeping the sigmoid: {@code s = sigmoid(y)}, {@code y = y * s}.
   *
   * @param y the input, overwritten with {@code silu(y)}
   * @param s the sigmoid (output)
   * @param n element count
   * @param sc scratch
   */
  static void silu(float[] y, float[] s, int n, VectorMath.Scratch sc) {
    VectorMath.sigmoid(y, s, 0, n, true, sc);
  }

  /**
   * SiLU's backward pass in place: with {@code a = silu(y)} and {@code s = sigmoid(y)},
   * {@code silu'(y) = s + a (1 - s)}; {@code d = d * silu'(y)}.
   *
   * @param d the gradient with respect to {@code a}, overwritten with that with respect to {@code y}
   * @param a the SiLU's output
   * @param s the sigmoid of its input
   * @param n element count
   */
  static void siluBackward(float[] d, float[] a, float[] s, int n) {
    for (int i = 0; i < n; i++) {
      float si = s[i];
      d[i] *= si + a[i] * (1f - si);
    }
  }

  // ------------------------------------------------------------------------------ GroupNorm

  /**
   * GroupNorm's forward pass over a {@code [C][nb][P]} activation: per item and group of {@code C / G}
   * consecutive channels, the biased mean and variance over the group's channels and positions, then
   * {@code y = (x - mean) * rstd * gamma[c] + beta[c]}, {@code rstd = 1 / sqrt(var + eps)}.
   *
   * @param x the input
   * @param c channels
   * @param nb items
   * @param p positions
   * @param groups groups
   * @param eps the variance's offset
   * @param params the parameters
   * @param gOff the offset of gamma (beta follows at {@code gOff + c})
   * @param mean the means (output), {@code [nb][G]}
   * @param rstd the reciprocal standard deviations (output), {@code [nb][G]}
   * @param y the output
   * @param sigmoid null, or where to put {@code sigmoid(y)}, {@code y} then becoming {@code silu(y)}
   *     (fused, a channel at a time, while the channel is in the cache)
   * @param sc scratch
   */
  static void groupNorm(
      float[] x, int c, int nb, int p, int groups, double eps, float[] params, int gOff, float[] mean,
      float[] rstd, float[] y, float[] sigmoid, VectorMath.Scratch sc) {
    int m = nb * p;
    int cg = c / groups;
    double count = (double) cg * p;
    // two passes (the mean, then the squared deviations from it), so the variance does not cancel
    for (int j = 0; j < nb; j++) {
      for (int g = 0; g < groups; g++) {
        double total = 0;
        for (int ci = g * cg; ci < (g + 1) * cg; ci++) {
          total += sum(x, ci * m + j * p, p);
        }
        float mu = (float) (total / count);
        double squares = 0;
        for (int ci = g * cg; ci < (g + 1) * cg; ci++) {
          squares += squaredDeviations(x, ci * m + j * p, p, mu);
        }
        mean[j * groups + g] = mu;
        rstd[j * groups + g] = (float) (1.0 / Math.sqrt(squares / count + eps));
      }
    }
    for (int ci = 0; ci < c; ci++) {
      float gamma = params[gOff + ci];
      float beta = params[gOff + c + ci];
      int g = ci / cg;
      for (int j = 0; j < nb; j++) {
        float r = rstd[j * groups + g];
        float scale = r * gamma;
        float shift = beta - mean[j * groups + g] * scale;
        int base = ci * m + j * p;
        for (int i = base; i < base + p; i++) {
          y[i] = x[i] * scale + shift;
        }
      }
      if (sigmoid != null) {
        VectorMath.sigmoid(y, sigmoid, ci * m, (ci + 1) * m, true, sc);
      }
    }
  }

  /**
   * GroupNorm's backward pass: with {@code xh = (x - mean) * rstd} and {@code K = C / G * P},
   * {@code dgamma[c] += sum(dy * xh)}, {@code dbeta[c] += sum(dy)}, and per item and group
   * {@code dx = rstd * (gamma dy - S1 / K - xh * S2 / K)}, {@code S1 = sum(gamma dy)},
   * {@code S2 = sum(gamma dy xh)} over the group.
   *
   * @param x the forward pass's input
   * @param dy the gradient with respect to the output
   * @param c channels
   * @param nb items
   * @param p positions
   * @param groups groups
   * @param params the parameters
   * @param gOff the offset of gamma (beta follows)
   * @param mean the forward pass's means
   * @param rstd the forward pass's reciprocal standard deviations
   * @param grad the gradient of the parameters, updated at {@code gOff} and {@code gOff + c}
   * @param dx the gradient with respect to {@code x}
   * @param accumulate whether to add to {@code dx} (else overwrite it)
   * @param sums scratch of at least {@code 2 * nb * groups} doubles
   */
  static void groupNormBackward(
      float[] x, float[] dy, int c, int nb, int p, int groups, float[] params, int gOff, float[] mean,
      float[] rstd, float[] grad, float[] dx, boolean accumulate, double[] sums) {
    int m = nb * p;
    int cg = c / groups;
    int ng = nb * groups;
    Arrays.fill(sums, 0, 2 * ng, 0.0);
    for (int ci = 0; ci < c; ci++) {
      double gamma = params[gOff + ci];
      int g = ci / cg;
      double dg = 0;
      double db = 0;
      for (int j = 0; j < nb; j++) {
        int base = ci * m + j * p;
        int k = j * groups + g;
        double sdy = sum(dy, base, p);
        double sdyxh = rstd[k] * dotCentered(dy, x, mean[k], base, p);
        dg += sdyxh;
        db += sdy;
        sums[k] += gamma * sdy;
        sums[ng + k] += gamma * sdyxh;
      }
      grad[gOff + ci] += (float) dg;
      grad[gOff + c + ci] += (float) db;
    }
    double count = (double) cg * p;
    for (int ci = 0; ci < c; ci++) {
      double gamma = params[gOff + ci];
      int g = ci / cg;
      for (int j = 0; j < nb; j++) {
        int k = j * groups + g;
        double r = rstd[k];
        double s1 = sums[k] / count;
        double s2 = sums[ng + k] / count;
        // dx = r gamma dy - r s1 - (x - mean) r^2 s2 = a dy + b x + c0
        float a = (float) (r * gamma);
        float b = (float) (-r * r * s2);
        float c0 = (float) (-r * s1 + mean[k] * r * r * s2);
        int base = ci * m + j * p;
        if (accumulate) {
          for (int i = base; i < base + p; i++) {
            dx[i] += a * dy[i] + b * x[i] + c0;
          }
        } else {
          for (int i = base; i < base + p; i++) {
            dx[i] = a * dy[i] + b * x[i] + c0;
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ timestep projection

  /**
   * Adds {@code t[j][c]} to every position of channel {@code c} of item {@code j}.
   *
   * @param h {@code [C][nb][P]}, updated
   * @param c channels
   * @param nb items
   * @param p positions
   * @param t {@code [nb][C]}
   */
  static void addPerItemChannel(float[] h, int c, int nb, int p, float[] t) {
    int m = nb * p;
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < nb; j++) {
        float v = t[j * c + ci];
        int base = ci * m + j * p;
        for (int i = base; i < base + p; i++) {
          h[i] += v;
        }
      }
    }
  }

  /**
   * The backward pass of {@link #addPerItemChannel}: {@code dt[j][c] = sum over positions of dh}.
   *
   * @param dh {@code [C][nb][P]}
   * @param c channels
   * @param nb items
   * @param p positions
   * @param dt {@code [nb][C]} (output)
   */
  static void sumPerItemChannel(float[] dh, int c, int nb, int p, float[] dt) {
    int m = nb * p;
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < nb; j++) {
        dt[j * c + ci] = (float) sum(dh, ci * m + j * p, p);
      }
    }
  }

  // ------------------------------------------------------------------------------ dropout

  /**
   * {@code u = a * mask}, the mask in the {@code [N, C, P]} order of {@code UNetSpec.dropoutMask} for
   * the whole batch, this block of items starting at item {@code n0}.
   *
   * @param a {@code [C][nb][P]}
   * @param mask {@code [N, C, P]}
   * @param n0 the first item
   * @param c channels
   * @param nb items
   * @param p positions
   * @param u the product (output; may be {@code a})
   */
  static void applyMask(float[] a, float[] mask, int n0, int c, int nb, int p, float[] u) {
    int m = nb * p;
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < nb; j++) {
        int base = ci * m + j * p;
        int mb = ((n0 + j) * c + ci) * p - base;
        for (int i = base; i < base + p; i++) {
          u[i] = a[i] * mask[mb + i];
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ resampling

  /**
   * Nearest-neighbour upsampling by 2: {@code out[c, n, 2y + a, 2x + b] = in[c, n, y, x]}.
   *
   * @param in {@code [C][nb][h][w]}
   * @param rows {@code C * nb} (channel-item planes)
   * @param h input height
   * @param w input width
   * @param out {@code [C][nb][2h][2w]}
   */
  static void upsample2(float[] in, int rows, int h, int w, float[] out) {
    int w2 = 2 * w;
    for (int r = 0; r < rows; r++) {
      int ib = r * h * w;
      int ob = r * 4 * h * w;
      for (int y = 0; y < h; y++) {
        int o = ob + 2 * y * w2;
        int s = ib + y * w;
        for (int x = 0; x < w; x++) {
          float v = in[s + x];
          out[o + 2 * x] = v;
          out[o + 2 * x + 1] = v;
        }
        System.arraycopy(out, o, out, o + w2, w2);
      }
    }
  }

  /**
   * The backward pass of {@link #upsample2}: each input position receives the sum of its 2x2 block.
   *
   * @param dOut {@code [C][nb][2h][2w]}
   * @param rows {@code C * nb}
   * @param h input height
   * @param w input width
   * @param dIn {@code [C][nb][h][w]} (output)
   */
  static void upsample2Backward(float[] dOut, int rows, int h, int w, float[] dIn) {
    int w2 = 2 * w;
    for (int r = 0; r < rows; r++) {
      int ib = r * h * w;
      int ob = r * 4 * h * w;
      for (int y = 0; y < h; y++) {
        int o = ob + 2 * y * w2;
        int s = ib + y * w;
        for (int x = 0; x < w; x++) {
          dIn[s + x] = (dOut[o + 2 * x] + dOut[o + 2 * x + 1]) + (dOut[o + w2 + 2 * x] + dOut[o + w2 + 2 * x + 1]);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ attention

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

  // ------------------------------------------------------------------------------ loss

  /**
   * The squared error of a block and its gradient: {@code d = scale * (y - t)}.
   *
   * @param y the output
   * @param t the target
   * @param d the gradient (output; may be {@code y})
   * @param n element count
   * @param scale {@code 2 / (elements of the whole batch)}
   * @return {@code sum((y - t)^2)} in double
   */
  static double squaredError(float[] y, float[] t, float[] d, int n, float scale) {
    double s0 = 0;
    double s1 = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
      float e0 = y[i] - t[i];
      float e1 = y[i + 1] - t[i + 1];
      s0 += (double) e0 * e0;
      s1 += (double) e1 * e1;
      d[i] = scale * e0;
      d[i + 1] = scale * e1;
    }
    for (; i < n; i++) {
      float e = y[i] - t[i];
      s0 += (double) e * e;
      d[i] = scale * e;
    }
    return s0 + s1;
  }
}
