package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.UNetFixtureContractTest;

/** A small U-Net learns from the Fashion-MNIST fixture on ND4J. */
class Nd4jUNetFixtureTest extends UNetFixtureContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
