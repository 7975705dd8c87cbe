package io.github.diffusion4j.spi;

/**
 * Settings a backend is created with.
 *
 * @param threads the number of native compute threads (intra-op), at least 1; one is fastest for small
 *     models on few cores
 */
public record BackendOptions(int threads) {

  /**
   * Validates the values.
   *
   * @param threads the number of native compute threads (intra-op), at least 1; one is fastest for small
   *     models on few cores
   */
  public BackendOptions {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
  }

  /**
   * One thread.
   *
   * @return the default options
   */
  public static BackendOptions defaults() {
    return new BackendOptions(1);
  }
}
