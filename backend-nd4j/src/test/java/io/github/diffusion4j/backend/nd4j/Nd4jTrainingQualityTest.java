package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.TrainingQualityContractTest;

/** A short training run on nd4j improves every quality metric. */
class Nd4jTrainingQualityTest extends TrainingQualityContractTest {
  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }
}
