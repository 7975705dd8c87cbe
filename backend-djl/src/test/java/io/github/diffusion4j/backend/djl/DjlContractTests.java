package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.testkit.DdpmUNetContractTest;
import io.github.diffusion4j.testkit.DiffusersUNetContractTest;
import io.github.diffusion4j.testkit.LayerContractTests;
import io.github.diffusion4j.testkit.MlpContractTest;
import io.github.diffusion4j.testkit.SamplerContractTest;
import io.github.diffusion4j.testkit.TensorContractTest;
import io.github.diffusion4j.testkit.TrainingQualityContractTest;
import io.github.diffusion4j.testkit.UNetContractTest;
import io.github.diffusion4j.testkit.UNetFixtureContractTest;
import io.github.diffusion4j.testkit.VariationalBoundContractTest;
import org.junit.jupiter.api.Nested;

/**
 * The api's contract suites on the DJL backend: tensors, samplers, every layer kind against PyTorch and finite
 * differences, and the api's networks (the tutorial's MLP, the U-Net and the DDPM authors' U-Net family against
 * PyTorch's golden numbers, the U-Net learning from the Fashion-MNIST fixture, a short training run's quality,
 * the variational bound) evaluated by the api's model on this backend's layer kinds.
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

  @Nested
  class Layers extends LayerContractTests {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class Ddpm extends DdpmUNetContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class Bound extends VariationalBoundContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }

  @Nested
  class Diffusers extends DiffusersUNetContractTest {
    @Override
    protected Backend createBackend() {
      return DjlBackends.create();
    }
  }
}
