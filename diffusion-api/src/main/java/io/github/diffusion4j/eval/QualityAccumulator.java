package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;

/**
 * The three metrics of {@link QualityMetrics} over samples given batch by batch, in memory independent of
 * their number (the Gaussian of the samples, the running sum of gradient residuals and a histogram of the
 * corner pixels), so that {@code N} samples are scored as they are generated.
 *
 * <pre>{@code
 * QualityAccumulator q = new QualityAccumulator(Shape.of(3, 5, 5));
 * for (float[] batch : batches) q.add(batch);      // images in [0, 1]
 * QualityReport r = q.report(referenceGaussian);
 * }</pre>
 */
public final class QualityAccumulator {
  private final Shape imageShape;
  private final Gaussian.Accumulator gaussian;
  private final CornerUniformity.Accumulator corners = new CornerUniformity.Accumulator();
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
    return new QualityReport(fd, residualSum / residualCount, corners.ksStatistic(), Math.toIntExact(images));
  }
}
