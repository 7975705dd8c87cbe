package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.UNetFixtureContractTest;

/** A small U-Net learns from the Fashion-MNIST fixture on DJL. */
class DjlUNetFixtureTest extends UNetFixtureContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
