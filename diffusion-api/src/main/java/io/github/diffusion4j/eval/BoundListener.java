package io.github.diffusion4j.eval;

/**
 * Sees a {@link VariationalBound} evaluation as it goes: progress after every model call, and each batch's
 * per-image totals (so a caller can keep them, or not: the evaluation itself keeps no per-image data).
 * Called on the evaluating thread.
 */
public interface BoundListener {
  /** A listener that does nothing. */
  BoundListener NONE = new BoundListener() {};

  /**
   * After each model call.
   *
   * @param done the image-timesteps evaluated so far
   * @param total the image-timesteps of the whole evaluation ({@code images * timesteps per image})
   */
  default void onProgress(long done, long total) {}

  /**
   * After each batch.
   *
   * @param first the index of the batch's first image in the set
   * @param totalBpd each image's bound (or its estimate), in bits per dimension
   */
  default void onImages(int first, double[] totalBpd) {}
}
