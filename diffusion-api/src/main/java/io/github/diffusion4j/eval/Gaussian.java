package io.github.diffusion4j.eval;

/**
 * A Gaussian fitted to a set of flattened images: the mean and the unbiased covariance ({@code n - 1}
 * in the denominator, as {@code numpy.cov}), in double precision. Fit the reference set once and
 * compare many sample sets against it with {@link FrechetDistance#between(Gaussian, Gaussian)}.
 */
public final class Gaussian {
  private static final int BLOCK = 16;

  private final double[] mean;
  private final double[][] covariance;
  private final int count;

  private Gaussian(double[] mean, double[][] covariance, int count) {
    this.mean = mean;
    this.covariance = covariance;
    this.count = count;
  }

  /**
   * Fits a Gaussian to {@code values.length / dimension} vectors.
   *
   * @param values the vectors, one after another (e.g. {@code N x C x H x W} images)
   * @param dimension the length of one vector ({@code C * H * W}), positive
   * @return the fit
   * @throws IllegalArgumentException if the length is not a multiple of {@code dimension}, or there
   *     are fewer than 2 vectors
   */
  public static Gaussian fit(float[] values, int dimension) {
    if (dimension < 1 || values.length % dimension != 0) {
      throw new IllegalArgumentException(
          values.length + " values do not split into vectors of length " + dimension);
    }
    int n = values.length / dimension;
    if (n < 2) {
      throw new IllegalArgumentException("a covariance needs at least 2 vectors, got " + n);
    }
    int d = dimension;
    double[] mean = new double[d];
    for (int s = 0; s < n; s++) {
      int off = s * d;
      for (int i = 0; i < d; i++) {
        mean[i] += values[off + i];
      }
    }
    for (int i = 0; i < d; i++) {
      mean[i] /= n;
    }
    // upper triangle of sum_s (x_s - mean)(x_s - mean)^T, BLOCK samples at a time so that a row of the
    // covariance stays in cache while BLOCK rank-1 updates are applied to it
    double[][] cov = new double[d][d];
    double[][] block = new double[BLOCK][d];
    for (int s0 = 0; s0 < n; s0 += BLOCK) {
      int b = Math.min(BLOCK, n - s0);
      for (int k = 0; k < b; k++) {
        int off = (s0 + k) * d;
        for (int i = 0; i < d; i++) {
          block[k][i] = values[off + i] - mean[i];
        }
      }
      for (int i = 0; i < d; i++) {
        double[] row = cov[i];
        for (int k = 0; k < b; k++) {
          double[] x = block[k];
          double xi = x[i];
          for (int j = i; j < d; j++) {
            row[j] += xi * x[j];
          }
        }
      }
    }
    for (int i = 0; i < d; i++) {
      cov[i][i] /= (n - 1);
      for (int j = i + 1; j < d; j++) {
        cov[i][j] /= (n - 1);
        cov[j][i] = cov[i][j];
      }
    }
    return new Gaussian(mean, cov, n);
  }

  /**
   * The dimension.
   *
   * @return the length of the mean
   */
  public int dimension() {
    return mean.length;
  }

  /**
   * The number of vectors fitted.
   *
   * @return the count
   */
  public int count() {
    return count;
  }

  /**
   * The mean.
   *
   * @return a copy
   */
  public double[] mean() {
    return mean.clone();
  }

  /**
   * The covariance.
   *
   * @return a copy, {@code dimension x dimension}
   */
  public double[][] covariance() {
    double[][] c = new double[covariance.length][];
    for (int i = 0; i < c.length; i++) {
      c[i] = covariance[i].clone();
    }
    return c;
  }

  /** The covariance without copying (read only). */
  double[][] covarianceView() {
    return covariance;
  }

  /** The mean without copying (read only). */
  double[] meanView() {
    return mean;
  }
}
