package io.github.diffusion4j.data;

/**
 * A decoded image, read one row at a time, already in the target's channels: values in {@code [0, 255]},
 * not rounded, so that converting colour and resampling round only once.
 */
interface PixelRows {
  /**
   * Reads one row.
   *
   * @param y the row, in {@code [0, height)}
   * @param dst {@code [C][width]}, filled
   */
  void row(int y, double[][] dst);
}
