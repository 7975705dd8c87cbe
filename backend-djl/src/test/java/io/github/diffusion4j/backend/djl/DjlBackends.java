package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.BackendOptions;

/** The one backend instance the tests of this module share (libtorch loads once per process). */
final class DjlBackends {
  private DjlBackends() {}

  /**
   * A new DJL backend with one thread, as the provider creates it.
   *
   * @return the backend
   */
  static DjlBackend create() {
    return (DjlBackend) new DjlBackendProvider().create(new BackendOptions(1));
  }
}
