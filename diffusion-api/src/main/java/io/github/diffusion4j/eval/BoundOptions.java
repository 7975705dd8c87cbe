package io.github.diffusion4j.eval;

/**
 * How a {@link VariationalBound} is evaluated over a set of images.
 *
 * @param count how many images, from the first (0 = all of the set)
 * @param batchSize images per model call, at least 1
 * @param seed the seed of the noise that forms {@code x_t} and of the timestep draws
 * @param timesteps the model evaluations per image: 0 for all {@code T} (the full bound), or {@code K} in
 *     {@code [2, T]} for the stratified, importance-weighted estimate of {@link TimestepStrata}
 */
public record BoundOptions(int count, int batchSize, long seed, int timesteps) {

  /**
   * Validates the values.
   *
   * @param count how many images (0 = all)
   * @param batchSize images per model call
   * @param seed the noise seed
   * @param timesteps evaluations per image (0 = all)
   * @throws IllegalArgumentException if a value is negative or the batch size is 0
   */
  public BoundOptions {
    if (count < 0) {
      throw new IllegalArgumentException("count must be at least 0 (0 = all images), got " + count);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (timesteps < 0 || timesteps == 1) {
      throw new IllegalArgumentException("timesteps per image must be 0 (all) or at least 2, got " + timesteps);
    }
  }

  /**
   * The full bound over all images.
   *
   * @param batchSize images per model call
   * @param seed the noise seed
   * @return the options
   */
  public static BoundOptions full(int batchSize, long seed) {
    return new BoundOptions(0, batchSize, seed, 0);
  }
}
