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
 *
 * <p>Where both Gaussians are fits of at most their dimension's number of vectors ({@link Gaussian}'s centred
 * form), the same quantities come from the vectors: with the centred vectors {@code C1 [n1 x d]} and {@code C2},
 * {@code S1 = C1^T C1 / (n1 - 1)}, the non-zero eigenvalues of {@code S1 S2} are those of {@code G G^T} with
 * {@code G = C1 C2^T / sqrt((n1 - 1)(n2 - 1))} ({@code n1 x n2}), and {@code Tr(S1)} is the sum of {@code C1}'s
 * squares over {@code n1 - 1}: {@code d n1 n2} multiply-adds and an eigendecomposition of order
 * {@code min(n1, n2)}, where the covariances take {@code d^3}.
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
    double fd = 0;
    for (int i = 0; i < m1.length; i++) {
      double diff = m1[i] - m2[i];
      fd += diff * diff;
    }
    double[][] c1 = g1.centredView();
    double[][] c2 = g2.centredView();
    if (c1 != null && c2 != null) {
      if (!Double.isFinite(fd) || !allFinite(c1) || !allFinite(c2)) {
        return Double.NaN;
      }
      fd += squares(c1) / (c1.length - 1) + squares(c2) / (c2.length - 1);
      fd -= 2 * traceSqrtProductOfVectors(c1, c2);
      return Math.max(fd, 0.0);
    }
    double[][] s1 = g1.covarianceView();
    double[][] s2 = g2.covarianceView();
    for (int i = 0; i < m1.length; i++) {
      fd += s1[i][i] + s2[i][i];
    }
    if (!Double.isFinite(fd) || !allFinite(s1) || !allFinite(s2)) {
      return Double.NaN;
    }
    fd -= 2 * traceSqrtProduct(s1, s2);
    return Math.max(fd, 0.0);
  }

  /**
   * About how many bytes of Java heap scoring takes: fitting {@code samples} and {@code references} vectors of a
   * dimension with {@link Gaussian.Accumulator}s (each accumulator and its fit alive at once) and the distance's
   * own arrays. A fit of at most {@code dimension} vectors keeps them ({@code 12} bytes a value: the floats as given
   * and the centred doubles) and the distance works on products of the vectors ({@code 8} bytes an entry of
   * {@code n1 x n2} and twice {@code min(n1, n2)^2}); a larger one holds the {@code d x d} comoment and covariance
   * ({@code 16 d^2} bytes a set) and the distance decomposes covariances ({@code 40 d^2} bytes, {@code 8 d^2} more
   * for each fit whose covariance it builds). For a check before anything is sampled ({@link #checkHeap}).
   *
   * @param dimension the values per vector, positive
   * @param samples the samples scored, at least 2
   * @param references the reference vectors, at least 2
   * @return the estimate in bytes
   */
  public static long heapBytes(int dimension, long samples, long references) {
    double d = dimension;
    boolean keptSamples = samples <= dimension;
    boolean keptReferences = references <= dimension;
    double fits = fitBytes(d, samples) + fitBytes(d, references);
    double work = keptSamples && keptReferences
        ? 8.0 * (samples * (double) references + 2.0 * Math.min(samples, references) * Math.min(samples, references))
        : 8 * d * d * (5 + (keptSamples ? 1 : 0) + (keptReferences ? 1 : 0));
    double total = fits + work;
    return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
  }

  /** The heap of an accumulator and its fit of {@code n} vectors: kept floats and centred doubles, or two matrices. */
  private static double fitBytes(double d, long n) {
    return n <= d ? 12 * d * n : 16 * d * d;
  }

  /**
   * {@link #checkHeap(io.github.diffusion4j.tensor.Shape, long, long)} with half of this JVM's largest heap as the
   * budget (the rest is the model's, the batches' and the JVM's): what {@code diffusion eval} and {@code spark
   * eval} check before they sample.
   *
   * @param imageShape the images' {@code [C, H, W]}
   * @param count the samples and the reference images, at least 2
   * @throws ScoringMemoryException if the scoring would not fit
   */
  public static void checkHeap(io.github.diffusion4j.tensor.Shape imageShape, long count) {
    checkHeap(imageShape, count, Runtime.getRuntime().maxMemory() / 2);
  }

  /**
   * Checks, before anything is sampled, that scoring {@code count} samples of an image shape against as many
   * real images fits a heap ({@link #heapBytes}).
   *
   * @param imageShape the images' {@code [C, H, W]}
   * @param count the samples and the reference images, at least 2
   * @param budget the bytes of heap scoring may take (e.g. a share of {@link Runtime#maxMemory()})
   * @throws ScoringMemoryException if it does not, with the largest count that fits and what the estimate is
   *     made of
   */
  public static void checkHeap(io.github.diffusion4j.tensor.Shape imageShape, long count, long budget) {
    int d = imageShape.size();
    long need = heapBytes(d, count, count);
    if (need <= budget) {
      return;
    }
    long lo = 1;
    long hi = count; // heapBytes(d, n, n) grows with n: the largest n with heapBytes <= budget, or 1 for none
    while (lo < hi) {
      long mid = lo + (hi - lo + 1) / 2;
      if (heapBytes(d, mid, mid) <= budget) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    String dims = imageShape.dim(0) + "x" + imageShape.dim(1) + "x" + imageShape.dim(2);
    throw new ScoringMemoryException(String.format(java.util.Locale.ROOT,
        "scoring %d samples of %s images (%d values each) against as many real images takes about %.1f GB of "
            + "Java heap in pixel space (%s); %.1f GB are available for it: %s, or give the JVM more heap (-Xmx)",
        count, dims, d, need / 1e9, count <= d ? "the images as double-precision vectors"
            : "their " + d + " x " + d + " covariances and an eigendecomposition", budget / 1e9,
        lo >= 2 ? "score " + lo + " or fewer" : "no count fits"), lo >= 2 ? lo : 0, need, budget);
  }

  /**
   * {@code Tr((S1 S2)^(1/2))} for {@code S1 = C1^T C1 / (n1 - 1)} and {@code S2 = C2^T C2 / (n2 - 1)}: the sum of
   * the square roots of the eigenvalues of {@code G G^T}, {@code G = C1 C2^T / sqrt((n1 - 1)(n2 - 1))}, taken
   * over the smaller of its two orders.
   *
   * @param c1 the first set's centred vectors, {@code n1 x d}
   * @param c2 the second set's, {@code n2 x d}
   * @return the trace
   */
  static double traceSqrtProductOfVectors(double[][] c1, double[][] c2) {
    double[][] a = c1.length <= c2.length ? c1 : c2;
    double[][] b = a == c1 ? c2 : c1;
    double[][] g = new double[a.length][b.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        g[i][j] = dot(a[i], b[j]);
      }
    }
    double[][] k = new double[a.length][a.length];
    double scale = 1.0 / ((double) (c1.length - 1) * (c2.length - 1));
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j <= i; j++) {
        double v = dot(g[i], g[j]) * scale;
        k[i][j] = v;
        k[j][i] = v;
      }
    }
    double trace = 0;
    for (double mu : SymmetricEigen.values(k)) {
      trace += Math.sqrt(Math.max(mu, 0.0));
    }
    return trace;
  }

  /** {@code x . y}, in four running sums (so that the loop is not one chain of dependent additions). */
  private static double dot(double[] x, double[] y) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int n = x.length;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += x[i] * y[i];
      s1 += x[i + 1] * y[i + 1];
      s2 += x[i + 2] * y[i + 2];
      s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++) {
      s0 += x[i] * y[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static double squares(double[][] c) {
    double s = 0;
    for (double[] r : c) {
      s += dot(r, r);
    }
    return s;
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
