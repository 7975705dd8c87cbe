package io.github.diffusion4j.backend.djl;

/**
 * A 2-D convolution in plain Java, accumulated in double precision: the forward pass, the input gradient and
 * the weight gradient for one output gradient. Slow and obviously right; {@link Convolution.SelfCheck}
 * compares libtorch with it.
 *
 * @param n the batch size
 * @param ci the input channels
 * @param h the input height
 * @param w the input width
 * @param co the output channels
 * @param k the (square) kernel size
 * @param stride the stride
 * @param pad the zero padding {@code top, left, bottom, right}
 */
record ReferenceConvolution(int n, int ci, int h, int w, int co, int k, int stride, int[] pad) {

  /**
   * The output height.
   *
   * @return {@code (h + top + bottom - k) / stride + 1}
   */
  int outH() {
    return (h + pad[0] + pad[2] - k) / stride + 1;
  }

  /**
   * The output width.
   *
   * @return {@code (w + left + right - k) / stride + 1}
   */
  int outW() {
    return (w + pad[1] + pad[3] - k) / stride + 1;
  }

  /**
   * Runs the convolution and its backward pass.
   *
   * @param x the input {@code [n, ci, h, w]}
   * @param weight the weight {@code [co, ci, k, k]}
   * @param bias the bias {@code [co]}
   * @param dy the output gradient {@code [n, co, outH, outW]}
   * @return the output, the input gradient and the weight gradient
   */
  float[][] run(float[] x, float[] weight, float[] bias, float[] dy) {
    int oh = outH();
    int ow = outW();
    float[] y = new float[n * co * oh * ow];
    double[] dx = new double[x.length];
    double[] dw = new double[weight.length];
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < co; o++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            int yi = ((b * co + o) * oh + oy) * ow + ox;
            double acc = bias[o];
            double g = dy[yi];
            for (int c = 0; c < ci; c++) {
              for (int ky = 0; ky < k; ky++) {
                int iy = oy * stride + ky - pad[0];
                if (iy < 0 || iy >= h) {
                  continue;
                }
                for (int kx = 0; kx < k; kx++) {
                  int ix = ox * stride + kx - pad[1];
                  if (ix < 0 || ix >= w) {
                    continue;
                  }
                  int xi = ((b * ci + c) * h + iy) * w + ix;
                  int wi = ((o * ci + c) * k + ky) * k + kx;
                  acc += (double) x[xi] * weight[wi];
                  dx[xi] += (double) weight[wi] * g;
                  dw[wi] += (double) x[xi] * g;
                }
              }
            }
            y[yi] = (float) acc;
          }
        }
      }
    }
    return new float[][] {y, toFloat(dx), toFloat(dw)};
  }

  private static float[] toFloat(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    return f;
  }
}
