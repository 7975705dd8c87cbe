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
  class Bound extends VariationalBoundContractTest {
    @Override
    protected Backend createBackend() {
      return new ReferenceBackend();
    }
  }
}
