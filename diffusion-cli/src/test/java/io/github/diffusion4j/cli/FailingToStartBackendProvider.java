package io.github.diffusion4j.cli;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;

/**
 * A backend, {@code fails_to_start}, whose creation throws what a third party's provider may throw outside the
 * contract (an {@link IllegalStateException} of its own words, which name no backend): the command line must still
 * say which backend failed, in one line ({@link CliTest}).
 */
public final class FailingToStartBackendProvider implements BackendProvider {
  /** The provider's own words. */
  static final String MESSAGE = "native lib missing";

  /** Made by {@link java.util.ServiceLoader}. */
  public FailingToStartBackendProvider() {}

  @Override
  public String name() {
    return "fails_to_start";
  }

  @Override
  public String description() {
    return "a backend whose creation fails (tests only)";
  }

  @Override
  public String artifact() {
    return "com.example:fails-to-start";
  }

  @Override
  public Backend create(BackendOptions options) {
    throw new IllegalStateException(MESSAGE);
  }
}
