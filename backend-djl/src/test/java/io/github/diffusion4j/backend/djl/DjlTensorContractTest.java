package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.TensorContractTest;

/** The api's tensor contract on the DJL backend. */
class DjlTensorContractTest extends TensorContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
