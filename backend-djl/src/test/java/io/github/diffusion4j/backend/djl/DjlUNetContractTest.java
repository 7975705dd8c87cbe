package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.UNetContractTest;

/** The api's U-Net contract on the DJL backend. */
class DjlUNetContractTest extends UNetContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
