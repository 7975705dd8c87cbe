package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.TensorContractTest;

/** The api's tensor contract on the nd4j backend. */
class Nd4jTensorContractTest extends TensorContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
