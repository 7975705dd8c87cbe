package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.SamplerContractTest;

/** The api's sampler contract on the DJL backend. */
class DjlSamplerContractTest extends SamplerContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
