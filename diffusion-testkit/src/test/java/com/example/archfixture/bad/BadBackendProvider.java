package com.example.archfixture.bad;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.testkit.ReferenceBackend;

/** A third-party backend that breaks each rule ({@code ArchitectureRules.backendIn}'s test fixture). */
public final class BadBackendProvider implements BackendProvider {
  @Override
  public String name() {
    return "bad";
  }

  @Override
  public String description() {
    return "fixture";
  }

  @Override
  public String artifact() {
    return "com.example:bad";
  }

  @Override
  public Backend create(BackendOptions options) {
    return new ReferenceBackend(); // the testkit, a test dependency, in main code
  }
}
