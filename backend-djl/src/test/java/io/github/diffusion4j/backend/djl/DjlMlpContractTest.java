package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.MlpContractTest;

/** The api's mlp contract on the DJL backend. */
class DjlMlpContractTest extends MlpContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
