package io.github.diffusion4j.backend.nd4j;

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
import org.junit.jupiter.api.Nested;

/**
 * The api's contract suites on the nd4j backend: its tensors, and every layer kind and network through its
 * kernels ({@link Nd4jVariationalBoundContractTest} runs the bound's).
 */
class Nd4jContractTests {

  @Nested
  class Tensors extends TensorContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  @Nested
  class Mlp extends MlpContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  @Nested
  class UNet extends UNetContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  /** The DDPM authors' U-Net family, every published shape. */
  @Nested
  class Ddpm extends DdpmUNetContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  /** Each layer kind against PyTorch and finite differences. */
  @Nested
  class Layers extends LayerContractTests {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  /** A small U-Net learns from the Fashion-MNIST fixture. */
  @Nested
  class UNetFixture extends UNetFixtureContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  @Nested
  class Samplers extends SamplerContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  /** A short training run improves every quality metric. */
  @Nested
  class TrainingQuality extends TrainingQualityContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }

  /**
   * diffusers' UNet2DModel: the published configs, the authors' names, DDIM-10 and a full-size 256x256 forward
   * pass against PyTorch's numbers (its 128-512-channel 3x3 convolutions by Winograd's F(2x2, 3x3) on AVX2).
   */
  @Nested
  class Diffusers extends DiffusersUNetContractTest {
    @Override
    protected Backend createBackend() {
      return Nd4jTests.createBackend();
    }
  }
}
