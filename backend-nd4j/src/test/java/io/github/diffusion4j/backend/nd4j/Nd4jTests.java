package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;

/** Shared set-up of this module's tests. */
final class Nd4jTests {
  private Nd4jTests() {}

  /**
   * A new nd4j backend with one native thread, made through the provider as users make it.
   *
   * @return the backend
   */
  static Backend createBackend() {
    return new Nd4jBackendProvider().create(BackendOptions.defaults());
  }
}
