package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.SamplerContractTest;

/** The api's sampler contract on the nd4j backend. */
class Nd4jSamplerContractTest extends SamplerContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
