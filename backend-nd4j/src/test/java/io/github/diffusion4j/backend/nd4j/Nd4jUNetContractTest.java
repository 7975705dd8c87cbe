package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.UNetContractTest;

/** The api's U-Net contract on the nd4j backend. */
class Nd4jUNetContractTest extends UNetContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
