package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;

/**
 * Whether generated corner colours are spread like the training data's: in the tutorial's gradients
 * the top-left and bottom-right pixels are the two random corner colours, uniform on {@code [0, 1]}
 * (to 1/255). The score is a Kolmogorov-Smirnov statistic {@code D = sup_x |F_n(x) - x|} of those pixel
 * values against Uniform(0, 1): near 0 when they are uniform (of order {@code 1 / sqrt(n)}), up to 1 when
 * they collapse to one value. It comes in two definitions, reported side by side and named apart:
 *
 * <ul>
 *   <li><b>pooled</b> ({@code corner_ks_pooled}, {@link #pooledKsStatistic}): one test over all corner
 *       values, both corners and all channels together ({@code 2 N C} values). It is blind to a mix-up
 *       between corners or channels: top-left values all low and bottom-right values all high pool to a
 *       uniform-looking set.
 *   <li><b>mean</b> ({@code corner_ks_mean}, {@link #meanKsStatistic}): the mean of {@code 2 C} tests, one
 *       per corner and channel ({@code N} values each; six tests for RGB), the definition of the PyTorch
 *       reference ({@code docs/corner_ks_reference.py}). Each test sees fewer values, so its floor on real
 *       data is higher (about {@code 0.87 / sqrt(N)} against {@code 0.87 / sqrt(2 N C)}).
 * </ul>
 */
public final class CornerUniformity {
  private CornerUniformity() {}

  /**
   * The pooled KS statistic of the corner pixels of a batch: one test over every corner value.
   *
   * @param images {@code N x C x H x W} values
   * @param imageShape {@code [C, H, W]}
   * @return {@code D} in {@code [0, 1]}
   */
  public static double pooledKsStatistic(float[] images, Shape imageShape) {
    return ksStatistic(corners(images, imageShape));
  }

  /**
   * The mean over corners and channels of the KS statistic of each corner's values in each channel: the
   * reference definition (for RGB, the mean of six tests of {@code N} values each).
   *
   * @param images {@code N x C x H x W} values
   * @param imageShape {@code [C, H, W]}
   * @return the mean {@code D} in {@code [0, 1]}
   */
  public static double meanKsStatistic(float[] images, Shape imageShape) {
    double[] all = corners(images, imageShape);
    int groups = 2 * imageShape.dim(0);
    int n = all.length / groups;
    double sum = 0;
    for (int g = 0; g < groups; g++) {
      int channel = g / 2;
      int corner = g % 2;
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = all[2 * (i * imageShape.dim(0) + channel) + corner];
      }
      sum += ksStatistic(x);
    }
    return sum / groups;
  }

  /**
   * Both KS statistics of the corner pixels of images given batch by batch, in memory independent of their
   * number: the values (clamped to {@code [0, 1]}, NaN as 1) are counted in {@value #BINS} equal bins per
   * corner and channel ({@code 2 C} histograms of {@code 8 * BINS} bytes, 3 MiB for RGB; the pooled
   * histogram is their sum). Per histogram the statistic is bounded from both sides by its counts (the
   * value of largest rank in bin {@code j} has {@code i/n - x} within {@code 1/BINS} of
   * {@code c_(j+1)/n - j/BINS}, the one of smallest rank {@code x - (i-1)/n} within {@code 1/BINS} of
   * {@code (j+1)/BINS - c_j/n}); the result, the middle of those bounds, is within {@code 0.5 / BINS}
   * (about 7.6e-6) of {@link #pooledKsStatistic} and {@link #meanKsStatistic} on the same values.
   *
   * <p>Accumulators of parts of a set {@linkplain #merge merge} exactly (the counts add). An accumulator is
   * {@link java.io.Serializable}; its serial form holds only the bins that are not empty.
   */
  public static final class Accumulator implements java.io.Serializable {
    /** The number of bins. */
    public static final int BINS = 1 << 16;

    private static final long serialVersionUID = 2L;

    /** One histogram per channel and corner: index {@code 2 * channel + corner} (0 top-left, 1 bottom-right). */
    private final long[][] counts;
    private long n;

    /**
     * An empty accumulator.
     *
     * @param channels the images' channels {@code C}, at least 1
     * @throws IllegalArgumentException if {@code channels} is not positive
     */
    public Accumulator(int channels) {
      if (channels < 1) {
        throw new IllegalArgumentException("channels must be at least 1, got " + channels);
      }
      counts = new long[2 * channels][BINS];
    }

    /**
     * Adds the corner pixels of the first {@code count} images of a batch.
     *
     * @param images at least {@code count} images, {@code C x H x W} values each
     * @param imageShape {@code [C, H, W]}, with the accumulator's {@code C}
     * @param count how many images
     * @return this
     */
    public Accumulator add(float[] images, Shape imageShape, int count) {
      int c = imageShape.dim(0);
      int p = imageShape.dim(1) * imageShape.dim(2);
      if (2 * c != counts.length) {
        throw new IllegalArgumentException("images of " + imageShape + " have " + c + " channels, the accumulator "
            + counts.length / 2);
      }
      if (count < 0 || (long) count * c * p > images.length) {
        throw new IllegalArgumentException(images.length + " values hold fewer than " + count + " images of "
            + imageShape);
      }
      for (int k = 0; k < count * c; k++) {
        int channel = k % c;
        bin(counts[2 * channel], images[k * p]);
        bin(counts[2 * channel + 1], images[k * p + p - 1]);
      }
      n += 2L * count * c;
      return this;
    }

    /**
     * Adds the values another accumulator has counted (the other is not changed).
     *
     * @param other an accumulator of the same number of channels
     * @return this
     * @throws IllegalArgumentException if the channels differ
     */
    public Accumulator merge(Accumulator other) {
      if (other.counts.length != counts.length) {
        throw new IllegalArgumentException("cannot merge corners of " + other.counts.length / 2 + " channels into "
            + counts.length / 2);
      }
      for (int h = 0; h < counts.length; h++) {
        for (int j = 0; j < BINS; j++) {
          counts[h][j] += other.counts[h][j];
        }
      }
      n += other.n;
      return this;
    }

    /** The serial form: the bins that are not empty, as (bin, count) pairs. */
    private Object writeReplace() {
      return new SerialForm(this);
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
      throw new java.io.InvalidObjectException("an accumulator is read through its serial form");
    }

    private static void bin(long[] histogram, float v) {
      double x = Float.isNaN(v) ? 1.0 : Math.min(Math.max(v, 0.0), 1.0);
      histogram[Math.min((int) (x * BINS), BINS - 1)]++;
    }

    /**
     * The number of corner values counted ({@code 2 C} per image).
     *
     * @return the count
     */
    public long count() {
      return n;
    }

    /**
     * The pooled KS statistic of the values so far against Uniform(0, 1), to within {@code 0.5 / BINS}.
     *
     * @return {@code D} in {@code [0, 1]}
     * @throws IllegalStateException if no value was added
     */
    public double pooledKsStatistic() {
      requireValues();
      long[] pooled = new long[BINS];
      for (long[] h : counts) {
        for (int j = 0; j < BINS; j++) {
          pooled[j] += h[j];
        }
      }
      return ksStatistic(pooled, n);
    }

    /**
     * The mean over corners and channels of their KS statistics against Uniform(0, 1), to within
     * {@code 0.5 / BINS}.
     *
     * @return the mean {@code D} in {@code [0, 1]}
     * @throws IllegalStateException if no value was added
     */
    public double meanKsStatistic() {
      requireValues();
      double sum = 0;
      for (long[] h : counts) {
        sum += ksStatistic(h, n / counts.length);
      }
      return sum / counts.length;
    }

    private void requireValues() {
      if (n == 0) {
        throw new IllegalStateException("the KS statistic needs at least one value");
      }
    }

    private static double ksStatistic(long[] histogram, long n) {
      double upper = 0;
      long below = 0;
      for (int j = 0; j < BINS; j++) {
        if (histogram[j] == 0) {
          continue;
        }
        long through = below + histogram[j];
        upper = Math.max(upper, Math.max((double) through / n - (double) j / BINS,
            (double) (j + 1) / BINS - (double) below / n));
        below = through;
      }
      return Math.min(1.0, Math.max(0.0, upper - 0.5 / BINS));
    }
  }

  /** The serial form of an {@link Accumulator}: per histogram, its bins that are not empty. */
  private static final class SerialForm implements java.io.Serializable {
    private static final long serialVersionUID = 2L;

    private final int[][] bins;
    private final long[][] counts;

    SerialForm(Accumulator a) {
      bins = new int[a.counts.length][];
      counts = new long[a.counts.length][];
      for (int h = 0; h < a.counts.length; h++) {
        int used = 0;
        for (long c : a.counts[h]) {
          used += c != 0 ? 1 : 0;
        }
        bins[h] = new int[used];
        counts[h] = new long[used];
        for (int j = 0, k = 0; j < Accumulator.BINS; j++) {
          if (a.counts[h][j] != 0) {
            bins[h][k] = j;
            counts[h][k++] = a.counts[h][j];
          }
        }
      }
    }

    private Object readResolve() throws java.io.ObjectStreamException {
      if (bins == null || counts == null || bins.length != counts.length || bins.length == 0
          || bins.length % 2 != 0) {
        throw new java.io.InvalidObjectException("inconsistent corner histograms");
      }
      Accumulator a = new Accumulator(bins.length / 2);
      long perHistogram = -1;
      for (int h = 0; h < bins.length; h++) {
        if (bins[h] == null || counts[h] == null || bins[h].length != counts[h].length) {
          throw new java.io.InvalidObjectException("inconsistent corner histogram " + h);
        }
        long total = 0;
        for (int k = 0; k < bins[h].length; k++) {
          if (bins[h][k] < 0 || bins[h][k] >= Accumulator.BINS || counts[h][k] < 0) {
            throw new java.io.InvalidObjectException("corner histogram bin " + bins[h][k] + " of count " + counts[h][k]);
          }
          a.counts[h][bins[h][k]] += counts[h][k];
          total += counts[h][k];
        }
        if (perHistogram >= 0 && total != perHistogram) {
          throw new java.io.InvalidObjectException("corner histograms of different sizes");
        }
        perHistogram = total;
        a.n += total;
      }
      return a;
    }
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
   * @param d the statistic, in {@code [0, 1]}
   * @param n the sample size, positive
   * @return the p-value in {@code [0, 1]}
   * @throws IllegalArgumentException if {@code d} is not in {@code [0, 1]} or {@code n} is not positive
   */
  public static double pValue(double d, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("the KS p-value needs a sample size of at least 1, got n = " + n);
    }
    if (!(d >= 0 && d <= 1)) {
      throw new IllegalArgumentException("a KS statistic is in [0, 1], got d = " + d);
    }
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
