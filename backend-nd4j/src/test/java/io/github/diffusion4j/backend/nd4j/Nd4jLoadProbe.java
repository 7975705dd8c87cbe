package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendUnavailableException;

/**
 * Creates the nd4j backend and prints {@code loaded: <description>} or {@code unavailable: <message>},
 * twice (the second attempt must fail the same way). Run by {@link Nd4jBackendProviderTest} in a JVM
 * whose class path lacks the native jar.
 */
public final class Nd4jLoadProbe {
  private Nd4jLoadProbe() {}

  /**
   * Entry point.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    for (int attempt = 0; attempt < 2; attempt++) {
      try (Backend b = new Nd4jBackendProvider().create(BackendOptions.defaults())) {
        System.out.println("loaded: " + b.describe());
      } catch (BackendUnavailableException e) {
        System.out.println("unavailable: " + e.getMessage());
      }
    }
  }
}
