package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.VariationalBoundContractTest;

/** The api's variational-bound contract (the DDPM authors' bits per dimension) on the DJL backend. */
class DjlVariationalBoundContractTest extends VariationalBoundContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
