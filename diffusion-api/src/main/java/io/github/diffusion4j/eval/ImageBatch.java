package io.github.diffusion4j.eval;

import io.github.diffusion4j.tensor.Shape;

/** Argument checks shared by the metrics: a flat batch of {@code [C, H, W]} images. */
final class ImageBatch {
  private ImageBatch() {}

  /**
   * The number of images in {@code values}.
   *
   * @param values the batch
   * @param imageShape {@code [C, H, W]}
   * @param what the argument's name, for messages
   * @return the count, at least 1
   * @throws IllegalArgumentException if the shape is not rank 3 or the length does not fit
   */
  static int count(float[] values, Shape imageShape, String what) {
    if (imageShape.rank() != 3) {
      throw new IllegalArgumentException("image shape must be [C, H, W], got " + imageShape);
    }
    int k = imageShape.size();
    if (values.length == 0 || values.length % k != 0) {
      throw new IllegalArgumentException(
          what + ": " + values.length + " values are not a whole number of " + imageShape.toCompactString()
              + " images");
    }
    return values.length / k;
  }
}
