package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;

/**
 * Scores generated images against reference images with the sample metrics of this package, in double
 * precision. Images are in {@code [0, 1]} (denormalised), flat {@code N x C x H x W}. For more images than
 * fit in memory, add them batch by batch to a {@link QualityAccumulator}, which these methods use.
 */
public final class QualityMetrics {
  private QualityMetrics() {}

  /**
   * Computes the Frechet distance to the reference set, the gradient residual and the two corner KS
   * statistics (pooled, and the mean per corner and channel) of the samples.
   *
   * @param samples the generated images, at least 2
   * @param reference the reference images (e.g. fresh training data), at least 2
   * @param imageShape {@code [C, H, W]}
   * @return the report
   * @throws IllegalArgumentException if a length does not fit the shape or a set is too small
   */
  public static QualityReport evaluate(float[] samples, float[] reference, Shape imageShape) {
    ImageBatch.count(reference, imageShape, "reference");
    return evaluate(samples, Gaussian.fit(reference, imageShape.size()), imageShape);
  }

  /**
   * As {@link #evaluate(float[], float[], Shape)}, with the reference set's Gaussian fitted once
   * beforehand ({@link Gaussian#fit}).
   *
   * @param samples the generated images, at least 2
   * @param reference the reference fit, of dimension {@code C * H * W}
   * @param imageShape {@code [C, H, W]}
   * @return the report
   */
  public static QualityReport evaluate(float[] samples, Gaussian reference, Shape imageShape) {
    ImageBatch.count(samples, imageShape, "samples");
    return new QualityAccumulator(imageShape).add(samples).report(reference);
  }
}
