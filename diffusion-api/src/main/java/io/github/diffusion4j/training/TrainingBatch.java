package io.github.diffusion4j.training;

/**
 * The arrays of one training batch of {@code size} images of {@code imageSize} values each: which images,
 * their timesteps and {@code alphaBar}, the clean images, the noise, the noised images and the target. The
 * {@link Trainer} reuses one while the batch size stays the same.
 */
final class TrainingBatch {
  final int size;
  final int[] indices;
  final int[] timesteps;
  final double[] alphaBar;
  final float[] x0;
  final float[] eps;
  final float[] xt;
  final float[] target;

  private TrainingBatch(int size, int imageSize) {
    this.size = size;
    this.indices = new int[size];
    this.timesteps = new int[size];
    this.alphaBar = new double[size];
    this.x0 = new float[size * imageSize];
    this.eps = new float[size * imageSize];
    this.xt = new float[size * imageSize];
    this.target = new float[size * imageSize];
  }

  /**
   * A batch of {@code size} images: {@code reuse} when it has that size, else a new one.
   *
   * @param reuse the batch used before, or null
   * @param size the number of images
   * @param imageSize the values per image
   * @return the batch
   */
  static TrainingBatch ofSize(TrainingBatch reuse, int size, int imageSize) {
    return reuse != null && reuse.size == size ? reuse : new TrainingBatch(size, imageSize);
  }
}
