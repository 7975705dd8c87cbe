package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;

/**
 * Whether generated corner colours are spread like the training data's: in the tutorial's gradients
 * the top-left and bottom-right pixels are the two random corner colours, uniform on {@code [0, 1]}
 * (to 1/255). The score is the Kolmogorov-Smirnov statistic {@code D = sup_x |F_n(x) - x|} of those
 * pixel values (both corners, all channels pooled) against Uniform(0, 1): near 0 when they are
 * uniform (of order {@code 1 / sqrt(n)}), up to 1 when they collapse to one value.
 */
public final class CornerUniformity {
  private CornerUniformity() {}

  /**
   * The KS statistic of the corner pixels of a batch.
   *
   * @param images {@code N x C x H x W} values
   * @param imageShape {@code [C, H, W]}
   * @return {@code D} in {@code [0, 1]}
   */
  public static double ksStatistic(float[] images, Shape imageShape) {
    return ksStatistic(corners(images, imageShape));
  }

  /**
   * The corner values a statistic is computed from.
   *
   * @param images {@code N x C x H x W} values
   * @param imageShape {@code [C, H, W]}
   * @return {@code 2 * N * C} values: for each image and channel, top-left then bottom-right
   */
  public static double[] corners(float[] images, Shape imageShape) {
    int n = ImageBatch.count(images, imageShape, "images");
    int c = imageShape.dim(0);
    int p = imageShape.dim(1) * imageShape.dim(2);
    double[] v = new double[2 * n * c];
    for (int k = 0; k < n * c; k++) {
      v[2 * k] = images[k * p];
      v[2 * k + 1] = images[k * p + p - 1];
    }
    return v;
  }

  /**
   * The one-sample KS statistic against Uniform(0, 1): {@code max_i max(i/n - F(x_(i)), F(x_(i)) -
   * (i-1)/n)} over the sorted values, with {@code F(x) = min(max(x, 0), 1)}.
   *
   * @param values the sample (not modified); NaN counts as outside {@code [0, 1]}, i.e. as 1
   * @return {@code D} in {@code [0, 1]}
   * @throws IllegalArgumentException if there are no values
   */
  public static double ksStatistic(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("the KS statistic needs at least one value");
    }
    double[] x = values.clone();
    for (int i = 0; i < x.length; i++) {
      x[i] = Double.isNaN(x[i]) ? 1.0 : Math.min(Math.max(x[i], 0.0), 1.0);
    }
    Arrays.sort(x);
    int n = x.length;
    double d = 0;
    for (int i = 0; i < n; i++) {
      d = Math.max(d, Math.max((i + 1.0) / n - x[i], x[i] - (double) i / n));
    }
    return d;
  }

  /**
   * The asymptotic p-value of a KS statistic (Kolmogorov's distribution with Stephens' small-sample
   * correction, {@code lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D}): the probability that {@code n}
   * uniform values give a statistic at least {@code d}.
   *
   * @param d the statistic
   * @param n the sample size, positive
   * @return the p-value in {@code [0, 1]}
   */
  public static double pValue(double d, int n) {
    double sn = Math.sqrt(n);
    double lambda = (sn + 0.12 + 0.11 / sn) * d;
    if (lambda < 0.2) {
      return 1.0; // the series converges slowly here, and 1 - Q(0.2) < 1e-12
    }
    double sum = 0;
    for (int k = 1; k <= 100; k++) {
      double term = Math.exp(-2.0 * k * k * lambda * lambda);
      sum += (k % 2 == 1 ? 2 : -2) * term;
      if (term < 1e-16) {
        break;
      }
    }
    return Math.min(Math.max(sum, 0.0), 1.0);
  }
}
