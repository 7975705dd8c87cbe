package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.TrainingQualityContractTest;

/** A short training run on DJL improves every quality metric. */
class DjlTrainingQualityTest extends TrainingQualityContractTest {
  @Override
  protected Backend createBackend() {
    return DjlBackends.create();
  }
}
