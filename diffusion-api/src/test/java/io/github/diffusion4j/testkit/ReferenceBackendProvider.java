package io.github.diffusion4j.testkit;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;

/** Registers the reference backend as {@code reference} for tests of the runtime (test class path only). */
public final class ReferenceBackendProvider implements BackendProvider {
  /** Creates the provider. */
  public ReferenceBackendProvider() {}

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public String description() {
    return "reference backend (plain Java, tests only)";
  }

  @Override
  public String artifact() {
    return "io.github.diffusion4j:diffusion-api:tests";
  }

  @Override
  public Backend create(BackendOptions options) {
    return new ReferenceBackend();
  }
}
