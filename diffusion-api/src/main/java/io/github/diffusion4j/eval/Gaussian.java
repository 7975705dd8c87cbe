package io.github.diffusion4j.eval;

import java.io.Serializable;

/**
 * A Gaussian fitted to a set of flattened images: the mean and the unbiased covariance ({@code n - 1}
 * in the denominator, as {@code numpy.cov}), in double precision. Fit the reference set once and
 * compare many sample sets against it with {@link FrechetDistance#between(Gaussian, Gaussian)}.
 *
 * <p><b>Two forms.</b> A fit of more vectors than their dimension {@code d} holds the {@code d x d} covariance.
 * A fit of at most {@code d} vectors holds them centred instead ({@code n x d} values): its covariance has rank
 * {@code n - 1} at most, and {@link FrechetDistance} computes with the vectors in that case, in memory and time
 * that grow with {@code n}, not {@code d^2} and {@code d^3} (a {@code 3 x 64 x 64} image has {@code d = 12288}:
 * its covariance alone is 1.2 GB). Both forms give the same statistics up to rounding; {@link #covariance()}
 * builds the matrix of either.
 */
public final class Gaussian {
  private static final int BLOCK = 16;

  private final double[] mean;
  /** The covariance, {@code d x d}; null in the centred form. */
  private final double[][] covariance;
  /** The centred form: the fitted vectors less the mean, {@code n x d}; null when the covariance is held. */
  private final double[][] centred;
  private final int count;

  private Gaussian(double[] mean, double[][] covariance, double[][] centred, int count) {
    this.mean = mean;
    this.covariance = covariance;
    this.centred = centred;
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
    return new Accumulator(dimension).add(values).fit();
  }

  /**
   * Fits a Gaussian to vectors given batch by batch, in memory independent of their number beyond the
   * dimension: while at most {@code d} vectors have been added it keeps them as given (a fit of them is
   * {@linkplain Gaussian centred}); the first batch past that turns it into the running mean and the upper
   * triangle of the sum of centred outer products, the kept batches added first, each in turn. Each batch is
   * centred on its own mean (two passes over the batch, as numerically sound as fitting it alone) and merged
   * with the total by Chan, Golub and LeVeque's update ({@code M += M_b + delta delta^T n_a n_b / (n_a + n_b)});
   * one batch gives exactly {@link Gaussian#fit}'s result, many give it to rounding.
   *
   * <p>Accumulators of disjoint parts of a set {@linkplain #merge merge} by the same update, in any order
   * and grouping (e.g. one per Spark partition, combined by a tree aggregation), again to rounding. An
   * accumulator is {@link Serializable}: its serial form is the count and either the kept batches or the mean
   * and the upper triangle of {@code M} (nothing but the dimension while empty).
   */
  public static final class Accumulator implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int d;
    /** How many vectors are kept as given before the comoment is formed. */
    private final long keep;
    /** The batches as given while at most {@link #keep} vectors have been added; null once {@link #comoment} is. */
    private java.util.List<float[]> kept = new java.util.ArrayList<>();
    private double[] mean;
    private double[][] comoment;
    private transient double[][] block;
    private long n;

    /**
     * An empty accumulator.
     *
     * @param dimension the length of one vector, positive
     */
    public Accumulator(int dimension) {
      this(dimension, dimension);
    }

    /**
     * An empty accumulator that keeps up to {@code keep} vectors as given (tests compare the two forms).
     *
     * @param dimension the length of one vector, positive
     * @param keep how many vectors are kept before the comoment is formed, at least 0
     */
    Accumulator(int dimension, long keep) {
      if (dimension < 1) {
        throw new IllegalArgumentException("dimension must be positive, got " + dimension);
      }
      if (keep < 0) {
        throw new IllegalArgumentException("keep must be at least 0, got " + keep);
      }
      this.d = dimension;
      this.keep = keep;
    }

    /**
     * Adds a batch of vectors.
     *
     * @param values whole vectors, one after another
     * @return this
     * @throws IllegalArgumentException if the length is not a multiple of the dimension
     */
    public Accumulator add(float[] values) {
      if (values.length % d != 0) {
        throw new IllegalArgumentException(values.length + " values do not split into vectors of length " + d);
      }
      return add(values, values.length / d);
    }

    /**
     * Adds the first {@code count} vectors of an array.
     *
     * @param values at least {@code count} vectors
     * @param count how many, at least 0
     * @return this
     */
    public Accumulator add(float[] values, int count) {
      if (count < 0 || (long) count * d > values.length) {
        throw new IllegalArgumentException(values.length + " values hold fewer than " + count + " vectors of length " + d);
      }
      if (count == 0) {
        return this;
      }
      if (kept != null && n + count <= keep) {
        kept.add(java.util.Arrays.copyOf(values, count * d));
        n += count;
        return this;
      }
      formComoment();
      addBatch(values, count);
      return this;
    }

    /** Turns the kept batches into the running mean and comoment, adding them in the order they came. */
    private void formComoment() {
      if (kept == null) {
        return;
      }
      mean = new double[d];
      comoment = new double[d][d];
      java.util.List<float[]> batches = kept;
      kept = null;
      n = 0;
      for (float[] b : batches) {
        addBatch(b, b.length / d);
      }
    }

    private void addBatch(float[] values, int count) {
      if (block == null) {
        block = new double[BLOCK][d];
      }
      double[] batchMean = new double[d];
      for (int s = 0; s < count; s++) {
        int off = s * d;
        for (int i = 0; i < d; i++) {
          batchMean[i] += values[off + i];
        }
      }
      for (int i = 0; i < d; i++) {
        batchMean[i] /= count;
      }
      // upper triangle of sum_s (x_s - mean_b)(x_s - mean_b)^T, BLOCK samples at a time so that a row of
      // the matrix stays in cache while BLOCK rank-1 updates are applied to it
      for (int s0 = 0; s0 < count; s0 += BLOCK) {
        int b = Math.min(BLOCK, count - s0);
        for (int k = 0; k < b; k++) {
          int off = (s0 + k) * d;
          for (int i = 0; i < d; i++) {
            block[k][i] = values[off + i] - batchMean[i];
          }
        }
        for (int i = 0; i < d; i++) {
          double[] row = comoment[i];
          for (int k = 0; k < b; k++) {
            double[] x = block[k];
            double xi = x[i];
            for (int j = i; j < d; j++) {
              row[j] += xi * x[j];
            }
          }
        }
      }
      combine(count, batchMean);
    }

    /**
     * Adds the vectors another accumulator has seen (a disjoint part of the same set), as if they had been
     * added here: {@code M = M_a + M_b + delta delta^T n_a n_b / (n_a + n_b)} and
     * {@code mean = mean_a + delta n_b / (n_a + n_b)} with {@code delta = mean_b - mean_a} (Chan, Golub and
     * LeVeque 1979, the pairwise update). The other accumulator is not changed.
     *
     * @param other an accumulator of the same dimension (may be empty)
     * @return this
     * @throws IllegalArgumentException if the dimensions differ
     */
    public Accumulator merge(Accumulator other) {
      if (other.d != d) {
        throw new IllegalArgumentException("cannot merge vectors of length " + other.d + " into length " + d);
      }
      if (other.n == 0) {
        return this;
      }
      if (kept != null && other.kept != null && n + other.n <= keep) {
        kept.addAll(other.kept); // the batches are never written to, so both may hold them
        n += other.n;
        return this;
      }
      formComoment();
      Accumulator o = other;
      if (other.kept != null) { // its comoment as it would have formed it
        o = new Accumulator(d, 0);
        for (float[] b : other.kept) {
          o.add(b);
        }
      }
      for (int i = 0; i < d; i++) {
        double[] row = comoment[i];
        double[] add = o.comoment[i];
        for (int j = i; j < d; j++) {
          row[j] += add[j];
        }
      }
      combine(o.n, o.mean.clone());
      return this;
    }

    /**
     * Folds in the mean of {@code count} vectors whose centred comoment has already been added to
     * {@code comoment}: the cross term {@code delta delta^T n_a n_b / (n_a + n_b)}, the mean and the count.
     * {@code otherMean} is overwritten (with {@code delta}).
     */
    private void combine(long count, double[] otherMean) {
      long total = n + count;
      if (n > 0) {
        double w = (double) n * count / total;
        double[] delta = otherMean;
        for (int i = 0; i < d; i++) {
          delta[i] -= mean[i];
        }
        for (int i = 0; i < d; i++) {
          double[] row = comoment[i];
          double di = delta[i] * w;
          for (int j = i; j < d; j++) {
            row[j] += di * delta[j];
          }
        }
        double f = (double) count / total;
        for (int i = 0; i < d; i++) {
          mean[i] += delta[i] * f;
        }
      } else {
        System.arraycopy(otherMean, 0, mean, 0, d);
      }
      n = total;
    }

    /** The serial form: the dimension, the count, the mean and the upper triangle row by row. */
    private Object writeReplace() {
      return new SerialForm(this);
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
      throw new java.io.InvalidObjectException("an accumulator is read through its serial form");
    }

    /**
     * The number of vectors added.
     *
     * @return the count
     */
    public long count() {
      return n;
    }

    /**
     * The Gaussian of the vectors added so far (the accumulator can go on).
     *
     * @return the mean and the unbiased covariance
     * @throws IllegalArgumentException if fewer than 2 vectors were added
     */
    public Gaussian fit() {
      if (n < 2) {
        throw new IllegalArgumentException("a covariance needs at least 2 vectors, got " + n);
      }
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("more than " + Integer.MAX_VALUE + " vectors");
      }
      if (kept != null) {
        return centredFit();
      }
      double[][] cov = new double[d][d];
      for (int i = 0; i < d; i++) {
        cov[i][i] = comoment[i][i] / (n - 1);
        for (int j = i + 1; j < d; j++) {
          cov[i][j] = comoment[i][j] / (n - 1);
          cov[j][i] = cov[i][j];
        }
      }
      return new Gaussian(mean.clone(), cov, null, (int) n);
    }

    /** The centred form of the kept vectors: their mean, and each vector less it. */
    private Gaussian centredFit() {
      double[] m = new double[d];
      for (float[] b : kept) {
        for (int off = 0; off < b.length; off += d) {
          for (int i = 0; i < d; i++) {
            m[i] += b[off + i];
          }
        }
      }
      for (int i = 0; i < d; i++) {
        m[i] /= n;
      }
      double[][] c = new double[(int) n][d];
      int row = 0;
      for (float[] b : kept) {
        for (int off = 0; off < b.length; off += d, row++) {
          double[] r = c[row];
          for (int i = 0; i < d; i++) {
            r[i] = b[off + i] - m[i];
          }
        }
      }
      return new Gaussian(m, null, c, (int) n);
    }
  }

  /**
   * The serial form of an {@link Accumulator}: its kept batches, or only the upper triangle of the comoment; none
   * while empty.
   */
  private static final class SerialForm implements Serializable {
    private static final long serialVersionUID = 2L;

    private final int dimension;
    private final long keep;
    private final long count;
    private final float[][] kept;
    private final double[] mean;
    private final double[] upper;

    SerialForm(Accumulator a) {
      this.dimension = a.d;
      this.keep = a.keep;
      this.count = a.n;
      boolean dense = a.n > 0 && a.kept == null;
      this.kept = a.n > 0 && a.kept != null ? a.kept.toArray(new float[0][]) : null;
      this.mean = dense ? a.mean.clone() : null;
      this.upper = dense ? new double[Math.toIntExact((long) a.d * (a.d + 1) / 2)] : null;
      int k = 0;
      for (int i = 0; dense && i < a.d; i++) {
        System.arraycopy(a.comoment[i], i, upper, k, a.d - i);
        k += a.d - i;
      }
    }

    private Object readResolve() throws java.io.ObjectStreamException {
      boolean dense = mean != null || upper != null;
      if (dimension < 1 || keep < 0 || count < 0 || (count > 0 && kept == null && !dense) || (dense && (kept != null
          || mean == null || upper == null || mean.length != dimension
          || upper.length != (long) dimension * (dimension + 1) / 2))) {
        throw new java.io.InvalidObjectException("inconsistent accumulator of dimension " + dimension);
      }
      Accumulator a = new Accumulator(dimension, keep);
      if (kept != null) {
        long n = 0;
        for (float[] b : kept) {
          if (b == null || b.length == 0 || b.length % dimension != 0) {
            throw new java.io.InvalidObjectException("inconsistent accumulator of dimension " + dimension);
          }
          n += b.length / dimension;
        }
        if (n != count || n > keep) {
          throw new java.io.InvalidObjectException("inconsistent accumulator of dimension " + dimension);
        }
        a.kept.addAll(java.util.Arrays.asList(kept));
        a.n = count;
      } else if (count > 0) {
        a.kept = null;
        a.mean = mean.clone();
        a.comoment = new double[dimension][dimension];
        int k = 0;
        for (int i = 0; i < dimension; i++) {
          System.arraycopy(upper, k, a.comoment[i], i, dimension - i);
          k += dimension - i;
        }
        a.n = count;
      }
      return a;
    }
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
    if (covariance == null) {
      return centredCovariance();
    }
    double[][] c = new double[covariance.length][];
    for (int i = 0; i < c.length; i++) {
      c[i] = covariance[i].clone();
    }
    return c;
  }

  /** {@code C^T C / (n - 1)} of the centred vectors {@code C}. */
  private double[][] centredCovariance() {
    int d = mean.length;
    double[][] cov = new double[d][d];
    for (double[] r : centred) {
      for (int i = 0; i < d; i++) {
        double ri = r[i];
        double[] row = cov[i];
        for (int j = i; j < d; j++) {
          row[j] += ri * r[j];
        }
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        cov[i][j] /= count - 1;
        cov[j][i] = cov[i][j];
      }
    }
    return cov;
  }

  /** The covariance without copying where it is held, else built (read only). */
  double[][] covarianceView() {
    return covariance != null ? covariance : centredCovariance();
  }

  /** The centred vectors without copying, {@code n x d}; null where the covariance is held (read only). */
  double[][] centredView() {
    return centred;
  }

  /** The mean without copying (read only). */
  double[] meanView() {
    return mean;
  }
}
