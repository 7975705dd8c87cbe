package io.github.diffusion4j.eval;

/**
 * Eigenvalues and eigenvectors of a real symmetric matrix: Householder reduction to tridiagonal form
 * followed by the implicit QL algorithm, as {@code tred2} and {@code tql2} of JAMA (public domain),
 * which derive from the EISPACK routines of the same names (Wilkinson and Reinsch, Handbook for
 * Automatic Computation, vol. II, 1971).
 *
 * <p>The code keeps the transpose of JAMA's eigenvector matrix, so that every inner loop walks a row
 * (contiguous memory): {@code d = 1024} takes about a second instead of many. With {@link
 * #values(double[][])} the transformations are not accumulated and the QL step costs {@code O(n^2)}.
 */
final class SymmetricEigen {
  private static final double EPS = Math.ulp(1.0); // 2^-52
  private static final int MAX_SWEEPS = 100;

  /** Eigenvalues in ascending order. */
  final double[] values;

  /** {@code vectors[i]} is the unit eigenvector of {@code values[i]}; null if not computed. */
  final double[][] vectors;

  private SymmetricEigen(double[] values, double[][] vectors) {
    this.values = values;
    this.vectors = vectors;
  }

  /**
   * Decomposes {@code a = sum_i values[i] vectors[i] vectors[i]^T}.
   *
   * @param a a symmetric {@code n x n} matrix (only read)
   * @return the eigenvalues (ascending) and eigenvectors
   */
  static SymmetricEigen of(double[][] a) {
    int n = checkSquare(a);
    double[][] z = copy(a);
    double[] d = new double[n];
    double[] e = new double[n];
    tred2(z, d, e, true);
    tql2(d, e, z);
    return new SymmetricEigen(d, z);
  }

  /**
   * The eigenvalues only.
   *
   * @param a a symmetric matrix (only read)
   * @return the eigenvalues, ascending
   */
  static double[] values(double[][] a) {
    int n = checkSquare(a);
    double[][] z = copy(a);
    double[] d = new double[n];
    double[] e = new double[n];
    tred2(z, d, e, false);
    tql2(d, e, null);
    return d;
  }

  private static int checkSquare(double[][] a) {
    int n = a.length;
    if (n == 0) {
      throw new IllegalArgumentException("empty matrix");
    }
    for (double[] row : a) {
      if (row.length != n) {
        throw new IllegalArgumentException("matrix is not square: " + n + " rows, a row of " + row.length);
      }
    }
    return n;
  }

  private static double[][] copy(double[][] a) {
    double[][] z = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      z[i] = a[i].clone();
    }
    return z;
  }

  /**
   * Householder tridiagonalisation. {@code z} holds the transpose of JAMA's {@code V} (equal to the
   * input for a symmetric matrix); on return {@code d} is the diagonal, {@code e[1..n-1]} the
   * subdiagonal, and, if {@code accumulate}, {@code z[i]} the i-th column of the orthogonal transform.
   */
  private static void tred2(double[][] z, double[] d, double[] e, boolean accumulate) {
    int n = d.length;
    for (int j = 0; j < n; j++) {
      d[j] = z[j][n - 1];
    }
    for (int i = n - 1; i > 0; i--) {
      // scale to avoid under/overflow
      double scale = 0.0;
      double h = 0.0;
      for (int k = 0; k < i; k++) {
        scale += Math.abs(d[k]);
      }
      if (scale == 0.0) {
        e[i] = d[i - 1];
        for (int j = 0; j < i; j++) {
          d[j] = z[j][i - 1];
          z[j][i] = 0.0;
          z[i][j] = 0.0;
        }
      } else {
        // generate the Householder vector
        for (int k = 0; k < i; k++) {
          d[k] /= scale;
          h += d[k] * d[k];
        }
        double f = d[i - 1];
        double g = Math.sqrt(h);
        if (f > 0) {
          g = -g;
        }
        e[i] = scale * g;
        h -= f * g;
        d[i - 1] = f - g;
        for (int j = 0; j < i; j++) {
          e[j] = 0.0;
        }
        // apply the similarity transformation to the remaining columns
        for (int j = 0; j < i; j++) {
          f = d[j];
          double[] zj = z[j];
          z[i][j] = f;
          g = e[j] + zj[j] * f;
          for (int k = j + 1; k <= i - 1; k++) {
            g += zj[k] * d[k];
            e[k] += zj[k] * f;
          }
          e[j] = g;
        }
        f = 0.0;
        for (int j = 0; j < i; j++) {
          e[j] /= h;
          f += e[j] * d[j];
        }
        double hh = f / (h + h);
        for (int j = 0; j < i; j++) {
          e[j] -= hh * d[j];
        }
        for (int j = 0; j < i; j++) {
          f = d[j];
          g = e[j];
          double[] zj = z[j];
          for (int k = j; k <= i - 1; k++) {
            zj[k] -= (f * e[k] + g * d[k]);
          }
          d[j] = zj[i - 1];
          zj[i] = 0.0;
        }
      }
      d[i] = h;
    }

    if (!accumulate) {
      for (int j = 0; j < n; j++) {
        d[j] = z[j][j];
      }
      e[0] = 0.0;
      return;
    }
    // accumulate the transformations
    for (int i = 0; i < n - 1; i++) {
      z[i][n - 1] = z[i][i];
      z[i][i] = 1.0;
      double h = d[i + 1];
      double[] zi1 = z[i + 1];
      if (h != 0.0) {
        for (int k = 0; k <= i; k++) {
          d[k] = zi1[k] / h;
        }
        for (int j = 0; j <= i; j++) {
          double[] zj = z[j];
          double g = 0.0;
          for (int k = 0; k <= i; k++) {
            g += zi1[k] * zj[k];
          }
          for (int k = 0; k <= i; k++) {
            zj[k] -= g * d[k];
          }
        }
      }
      for (int k = 0; k <= i; k++) {
        zi1[k] = 0.0;
      }
    }
    for (int j = 0; j < n; j++) {
      d[j] = z[j][n - 1];
      z[j][n - 1] = 0.0;
    }
    z[n - 1][n - 1] = 1.0;
    e[0] = 0.0;
  }

  /**
   * Implicit QL on the tridiagonal matrix {@code (d, e)}; rotations are applied to the rows of {@code
   * z} unless it is null. On return {@code d} holds the eigenvalues in ascending order and {@code z[i]}
   * the eigenvector of {@code d[i]}.
   */
  private static void tql2(double[] d, double[] e, double[][] z) {
    int n = d.length;
    for (int i = 1; i < n; i++) {
      e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    double f = 0.0;
    double tst1 = 0.0;
    for (int l = 0; l < n; l++) {
      // find a small subdiagonal element
      tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
      int m = l;
      while (m < n) {
        if (Math.abs(e[m]) <= EPS * tst1) {
          break;
        }
        m++;
      }
      // if m == l, d[l] is an eigenvalue; otherwise iterate
      if (m > l) {
        int sweeps = 0;
        do {
          if (++sweeps > MAX_SWEEPS) {
            throw new ArithmeticException(
                "eigenvalue " + l + " did not converge in " + MAX_SWEEPS + " QL sweeps");
          }
          // implicit shift
          double g = d[l];
          double p = (d[l + 1] - g) / (2.0 * e[l]);
          double r = Math.hypot(p, 1.0);
          if (p < 0) {
            r = -r;
          }
          d[l] = e[l] / (p + r);
          d[l + 1] = e[l] * (p + r);
          double dl1 = d[l + 1];
          double h = g - d[l];
          for (int i = l + 2; i < n; i++) {
            d[i] -= h;
          }
          f += h;
          // implicit QL transformation
          p = d[m];
          double c = 1.0;
          double c2 = c;
          double c3 = c;
          double el1 = e[l + 1];
          double s = 0.0;
          double s2 = 0.0;
          for (int i = m - 1; i >= l; i--) {
            c3 = c2;
            c2 = c;
            s2 = s;
            g = c * e[i];
            h = c * p;
            r = Math.hypot(p, e[i]);
            e[i + 1] = s * r;
            s = e[i] / r;
            c = p / r;
            p = c * d[i] - s * g;
            d[i + 1] = h + s * (c * g + s * d[i]);
            if (z != null) {
              double[] zi = z[i];
              double[] zi1 = z[i + 1];
              for (int k = 0; k < n; k++) {
                double t = zi1[k];
                zi1[k] = s * zi[k] + c * t;
                zi[k] = c * zi[k] - s * t;
              }
            }
          }
          p = -s * s2 * c3 * el1 * e[l] / dl1;
          e[l] = s * p;
          d[l] = c * p;
        } while (Math.abs(e[l]) > EPS * tst1);
      }
      d[l] += f;
      e[l] = 0.0;
    }
    // sort eigenvalues (and vectors) ascending
    for (int i = 0; i < n - 1; i++) {
      int k = i;
      double p = d[i];
      for (int j = i + 1; j < n; j++) {
        if (d[j] < p) {
          k = j;
          p = d[j];
        }
      }
      if (k != i) {
        d[k] = d[i];
        d[i] = p;
        if (z != null) {
          double[] t = z[i];
          z[i] = z[k];
          z[k] = t;
        }
      }
    }
  }
}
