package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;

/**
 * A finite set of images of one shape, normalised to {@code [-1, 1]}, readable by index. Implementations
 * are immutable and thread-safe.
 */
public interface Dataset {

  /**
   * The number of images.
   *
   * @return the size, positive
   */
  int size();

  /**
   * The shape of one image, {@code [C, H, W]}.
   *
   * @return the shape
   */
  Shape imageShape();

  /**
   * Copies one image into {@code dst}.
   *
   * @param index the image, in {@code [0, size())}
   * @param dst the destination
   * @param offset where the first value goes; {@code imageShape().size()} values are written
   */
  void copyImage(int index, float[] dst, int offset);

  /**
   * The images as the training loop sees them in one epoch: this set itself, unless it augments its
   * images (e.g. {@link RandomFlip}), when the augmentation is drawn for that epoch. Evaluation and reference
   * images use the set itself.
   *
   * @param epoch the epoch, from 0
   * @return the images of that epoch
   */
  default Dataset epoch(int epoch) {
    return this;
  }

  /**
   * Gathers a batch: image {@code indices[i]} goes to item {@code i}.
   *
   * @param indices the images
   * @param dst the destination, at least {@code indices.length * imageShape().size()} long
   */
  default void gather(int[] indices, float[] dst) {
    int k = imageShape().size();
    for (int i = 0; i < indices.length; i++) {
      copyImage(indices[i], dst, i * k);
    }
  }
}
