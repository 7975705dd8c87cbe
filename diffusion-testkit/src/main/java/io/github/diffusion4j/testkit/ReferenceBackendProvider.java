package io.github.diffusion4j.testkit;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;

/**
 * The reference backend as {@code reference}, for tests that find backends by name. The testkit registers it
 * nowhere: a module whose tests need it lists this class in its own test resources
 * ({@code src/test/resources/META-INF/services/io.github.diffusion4j.spi.BackendProvider}), so it is on that
 * module's test class path only.
 */
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
    return "io.github.diffusion4j:diffusion-testkit";
  }

  @Override
  public Backend create(BackendOptions options) {
    return new ReferenceBackend();
  }
}
