package io.github.diffusion4j.eval;

/**
 * The Frechet distance between two Gaussians fitted to sets of images, in pixel space (FID's formula,
 * Heusel et al. 2017, without the Inception features):
 *
 * <pre>
 * FD = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))
 * </pre>
 *
 * <p>The trace of the matrix square root is computed stably with symmetric eigendecompositions only:
 * with {@code S1 = Z^T L Z} ({@code Z} orthogonal), {@code S1^(1/2) S2 S1^(1/2)} has the same
 * eigenvalues as {@code S1 S2} and is orthogonally similar to {@code L^(1/2) (Z S2 Z^T) L^(1/2)}, which is
 * symmetric positive semi-definite; so {@code Tr((S1 S2)^(1/2)) = sum sqrt(mu_i)} over the eigenvalues
 * {@code mu_i} of that matrix. Eigenvalues that rounding makes slightly negative count as 0, and the
 * result, a squared distance, is at least 0. Everything is double precision.
 */
public final class FrechetDistance {
  private static final int BLOCK = 32;

  private FrechetDistance() {}

  /**
   * The Frechet distance between two sets of images.
   *
   * @param a the first set, {@code n1 x dimension} values
   * @param b the second set, {@code n2 x dimension} values
   * @param dimension the values per image ({@code C * H * W})
   * @return the distance (NaN if a value is NaN or infinite)
   * @throws IllegalArgumentException if a set has fewer than 2 images or a length is not a multiple
   *     of {@code dimension}
   */
  public static double between(float[] a, float[] b, int dimension) {
    return between(Gaussian.fit(a, dimension), Gaussian.fit(b, dimension));
  }

  /**
   * The Frechet distance between two fitted Gaussians.
   *
   * @param g1 the first
   * @param g2 the second, of the same dimension
   * @return the distance, at least 0 (NaN if a statistic is not finite)
   * @throws IllegalArgumentException if the dimensions differ
   */
  public static double between(Gaussian g1, Gaussian g2) {
    if (g1.dimension() != g2.dimension()) {
      throw new IllegalArgumentException(
          "dimensions differ: " + g1.dimension() + " and " + g2.dimension());
    }
    double[] m1 = g1.meanView();
    double[] m2 = g2.meanView();
    double[][] s1 = g1.covarianceView();
    double[][] s2 = g2.covarianceView();
    double fd = 0;
    for (int i = 0; i < m1.length; i++) {
      double diff = m1[i] - m2[i];
      fd += diff * diff;
      fd += s1[i][i] + s2[i][i];
    }
    if (!Double.isFinite(fd) || !allFinite(s1) || !allFinite(s2)) {
      return Double.NaN;
    }
    fd -= 2 * traceSqrtProduct(s1, s2);
    return Math.max(fd, 0.0);
  }

  /**
   * {@code Tr((S1 S2)^(1/2))} for symmetric positive semi-definite {@code S1}, {@code S2}.
   *
   * @param s1 the first matrix
   * @param s2 the second matrix
   * @return the trace
   */
  static double traceSqrtProduct(double[][] s1, double[][] s2) {
    int n = s1.length;
    SymmetricEigen e = SymmetricEigen.of(s1);
    double[][] z = e.vectors; // rows: eigenvectors of S1
    double[] root = new double[n];
    for (int i = 0; i < n; i++) {
      root[i] = Math.sqrt(Math.max(e.values[i], 0.0));
    }
    // W = Z S2 Z^T, then M = L^(1/2) W L^(1/2)
    double[][] zs2 = multiply(z, s2);
    double[][] m = multiply(zs2, transpose(z));
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < i; j++) {
        double v = 0.5 * (m[i][j] + m[j][i]) * root[i] * root[j]; // symmetric up to rounding
        m[i][j] = v;
        m[j][i] = v;
      }
      m[i][i] *= root[i] * root[i];
    }
    double trace = 0;
    for (double mu : SymmetricEigen.values(m)) {
      trace += Math.sqrt(Math.max(mu, 0.0));
    }
    return trace;
  }

  /** {@code A B}, blocked over the rows of {@code B} so that a block stays in cache. */
  static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length;
    int inner = b.length;
    int cols = b[0].length;
    double[][] c = new double[n][cols];
    for (int k0 = 0; k0 < inner; k0 += BLOCK) {
      int k1 = Math.min(inner, k0 + BLOCK);
      for (int i = 0; i < n; i++) {
        double[] ai = a[i];
        double[] ci = c[i];
        for (int k = k0; k < k1; k++) {
          double aik = ai[k];
          if (aik == 0) {
            continue;
          }
          double[] bk = b[k];
          for (int j = 0; j < cols; j++) {
            ci[j] += aik * bk[j];
          }
        }
      }
    }
    return c;
  }

  private static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }

  private static boolean allFinite(double[][] a) {
    for (double[] row : a) {
      for (double v : row) {
        if (!Double.isFinite(v)) {
          return false;
        }
      }
    }
    return true;
  }
}
