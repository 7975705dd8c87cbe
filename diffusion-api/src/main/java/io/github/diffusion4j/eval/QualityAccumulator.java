package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;

/**
 * The three metrics of {@link QualityMetrics} over samples given batch by batch, in memory independent of
 * their number (the Gaussian of the samples, the running sum of gradient residuals and histograms of the
 * corner pixels), so that {@code N} samples are scored as they are generated.
 *
 * <pre>{@code
 * QualityAccumulator q = new QualityAccumulator(Shape.of(3, 5, 5));
 * for (float[] batch : batches) q.add(batch);      // images in [0, 1]
 * QualityReport r = q.report(referenceGaussian);
 * }</pre>
 *
 * <p>Accumulators of disjoint parts of the samples {@linkplain #merge merge} (for example one per Spark
 * partition, combined by a tree aggregation); an accumulator is {@link java.io.Serializable}.
 */
public final class QualityAccumulator implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final Shape imageShape;
  private final Gaussian.Accumulator gaussian;
  private final CornerUniformity.Accumulator corners;
  private double residualSum;
  private long residualCount;
  private long images;

  /**
   * An empty accumulator.
   *
   * @param imageShape {@code [C, H, W]}
   */
  public QualityAccumulator(Shape imageShape) {
    if (imageShape.rank() != 3) {
      throw new IllegalArgumentException("image shape must be [C, H, W], got " + imageShape);
    }
    this.imageShape = imageShape;
    this.gaussian = new Gaussian.Accumulator(imageShape.size());
    this.corners = new CornerUniformity.Accumulator(imageShape.dim(0));
  }

  /**
   * Adds a batch of samples.
   *
   * @param batch a whole number of images in {@code [0, 1]}, {@code N x C x H x W}
   * @return this
   * @throws IllegalArgumentException if the length is not a whole number of images
   */
  public QualityAccumulator add(float[] batch) {
    int n = ImageBatch.count(batch, imageShape, "samples");
    gaussian.add(batch, n);
    corners.add(batch, imageShape, n);
    for (double r : GradientResidual.perChannel(batch, imageShape)) {
      residualSum += r;
    }
    residualCount += (long) n * imageShape.dim(0);
    images += n;
    return this;
  }

  /**
   * Adds what another accumulator has seen (a disjoint part of the same samples), as if its batches had been
   * added here: the Gaussians merge by Chan et al.'s update ({@link Gaussian.Accumulator#merge}), the corner
   * histograms and residual sums add. The other accumulator is not changed.
   *
   * @param other an accumulator of the same image shape
   * @return this
   * @throws IllegalArgumentException if the image shapes differ
   */
  public QualityAccumulator merge(QualityAccumulator other) {
    if (!other.imageShape.equals(imageShape)) {
      throw new IllegalArgumentException("cannot merge samples of shape " + other.imageShape + " into " + imageShape);
    }
    gaussian.merge(other.gaussian);
    corners.merge(other.corners);
    residualSum += other.residualSum;
    residualCount += other.residualCount;
    images += other.images;
    return this;
  }

  /**
   * The Gaussian of the samples added so far (mean and unbiased covariance in double precision): what
   * {@link #report} compares with the reference.
   *
   * @return the fit
   * @throws IllegalArgumentException if fewer than 2 samples were added
   */
  public Gaussian gaussian() {
    return gaussian.fit();
  }

  /** The serial form: the image shape's dimensions and the parts, which serialise themselves. */
  private Object writeReplace() {
    return new SerialForm(this);
  }

  private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
    throw new java.io.InvalidObjectException("an accumulator is read through its serial form");
  }

  /** The serial form of a {@link QualityAccumulator}. */
  private static final class SerialForm implements java.io.Serializable {
    private static final long serialVersionUID = 2L;

    private final int[] dims;
    private final Gaussian.Accumulator gaussian;
    private final CornerUniformity.Accumulator corners;
    private final double residualSum;
    private final long residualCount;
    private final long images;

    SerialForm(QualityAccumulator q) {
      dims = q.imageShape.dims();
      gaussian = q.gaussian;
      corners = q.corners;
      residualSum = q.residualSum;
      residualCount = q.residualCount;
      images = q.images;
    }

    private Object readResolve() throws java.io.ObjectStreamException {
      QualityAccumulator q;
      try {
        q = new QualityAccumulator(Shape.of(dims));
      } catch (RuntimeException e) {
        throw new java.io.InvalidObjectException("image shape: " + e.getMessage());
      }
      if (gaussian == null || corners == null || images < 0 || residualCount < 0) {
        throw new java.io.InvalidObjectException("inconsistent quality accumulator");
      }
      try {
        q.gaussian.merge(gaussian);
        q.corners.merge(corners);
      } catch (IllegalArgumentException e) {
        throw new java.io.InvalidObjectException(e.getMessage());
      }
      q.residualSum = residualSum;
      q.residualCount = residualCount;
      q.images = images;
      return q;
    }
  }

  /**
   * The number of samples added.
   *
   * @return the count
   */
  public long count() {
    return images;
  }

  /**
   * The report of the samples so far against a reference set.
   *
   * @param reference the reference set's Gaussian ({@link Gaussian#fit} or {@link Gaussian.Accumulator})
   * @return the scores
   * @throws IllegalArgumentException if fewer than 2 samples were added or the dimensions differ
   */
  public QualityReport report(Gaussian reference) {
    double fd = FrechetDistance.between(gaussian.fit(), reference);
    return new QualityReport(fd, residualSum / residualCount, corners.pooledKsStatistic(), corners.meanKsStatistic(),
        Math.toIntExact(images));
  }
}
