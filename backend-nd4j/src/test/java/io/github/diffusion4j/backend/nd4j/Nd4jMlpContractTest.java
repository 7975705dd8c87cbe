package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.MlpContractTest;

/** The api's mlp contract on the nd4j backend. */
class Nd4jMlpContractTest extends MlpContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
