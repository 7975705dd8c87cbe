package com.example.archfixture.good;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;

/** A third-party backend that keeps the rules ({@code ArchitectureRules.backendIn}'s test fixture). */
public final class GoodBackendProvider implements BackendProvider {
  @Override
  public String name() {
    return "good";
  }

  @Override
  public String description() {
    return "fixture";
  }

  @Override
  public String artifact() {
    return "com.example:good";
  }

  @Override
  public Backend create(BackendOptions options) {
    return Impl.create();
  }
}
