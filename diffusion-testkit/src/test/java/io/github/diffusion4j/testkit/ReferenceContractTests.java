package io.github.diffusion4j.testkit;

import io.github.diffusion4j.spi.Backend;
import org.junit.jupiter.api.Nested;

/** The contract suites run against the reference backend itself, so the suites are known to pass. */
class ReferenceContractTests {
  @Nested
  class Tensors extends TensorContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }

  @Nested
  class Mlp extends MlpContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }

  @Nested
  class Samplers extends SamplerContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }

  @Nested
  class UNet extends UNetContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }

  @Nested
  class Ddpm extends DdpmUNetContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }

    @Override
    protected boolean runs(String name) {
      return name.equals("mini");
    }
  }

  @Nested
  class Diffusers extends DiffusersUNetContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }

    /** The miniatures; {@code -Ddiffusion4j.reference.all=true} runs every case (slow, and needs a 10 GB heap). */
    @Override
    protected boolean runs(String name) {
      return name.startsWith("mini") || Boolean.getBoolean("diffusion4j.reference.all");
    }
  }

  @Nested
  class Layers extends LayerContractTests {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }

  @Nested
  class Bound extends VariationalBoundContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }
}
