package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.MlpContractTest;
import io.github.diffusion4j.testkit.SamplerContractTest;
import io.github.diffusion4j.testkit.TensorContractTest;
import io.github.diffusion4j.testkit.TrainingQualityContractTest;
import io.github.diffusion4j.testkit.UNetContractTest;
import io.github.diffusion4j.testkit.UNetFixtureContractTest;
import org.junit.jupiter.api.Nested;

/**
 * The api's contract suites on the DJL backend: tensors, samplers, and the api's networks (the tutorial's
 * MLP, the DDPM U-Net against PyTorch's golden numbers, the U-Net learning from the Fashion-MNIST fixture, a
 * short training run's quality) evaluated by the api's model on this backend's layer kinds.
 */
class DjlContractTests {
  @Nested
  class Tensors extends TensorContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class Samplers extends SamplerContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class Mlp extends MlpContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class UNet extends UNetContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class UNetFixture extends UNetFixtureContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class TrainingQuality extends TrainingQualityContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }
}
