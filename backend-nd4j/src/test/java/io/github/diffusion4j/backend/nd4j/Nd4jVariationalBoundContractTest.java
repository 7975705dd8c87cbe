package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.VariationalBoundContractTest;

/** The api's variational-bound contract (the DDPM authors' bits per dimension) on the nd4j backend. */
class Nd4jVariationalBoundContractTest extends VariationalBoundContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
