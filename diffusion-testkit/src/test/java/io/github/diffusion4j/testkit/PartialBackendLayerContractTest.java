package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@link LayerContractTests#supports(Class)}: a backend that lacks layer kinds, as the SPI allows, runs the layer
 * suite on the kinds it has, and is held to refusing the others.
 */
class PartialBackendLayerContractTest {
  private static final Set<Class<? extends Layer>> LACKED = Set.of(Layer.GroupNorm.class, Layer.Attention.class);

  /** The reference backend without the kinds in {@code lacked}. */
  static Backend lacking(Set<Class<? extends Layer>> lacked) {
    ReferenceBackend ref = new ReferenceBackend();
    LayerBackend all = ref.layers();
    LayerBackend some = new LayerBackend() {
      @Override
      public Differentiation differentiation(Network network) {
        return all.differentiation(network);
      }

      @Override
      public ParameterStore parameters(Map<String, int[]> layout) {
        return all.parameters(layout);
      }

      @Override
      public Kernel kernel(Network network, Node node, ParameterStore parameters) {
        if (lacked.contains(node.layer().getClass())) {
          throw new UnsupportedOperationException("no " + node.layer().getClass().getSimpleName());
        }
        return all.kernel(network, node, parameters);
      }

      @Override
      public Pass open(Network network, int items, boolean training) {
        return all.open(network, items, training);
      }
    };
    return new Backend() {
      @Override
      public String name() {
        return "partial";
      }

      @Override
      public String describe() {
        return "the reference backend without " + lacked;
      }

      @Override
      public TensorFactory tensors() {
        return ref;
      }

      @Override
      public LayerBackend layers() {
        return some;
      }

      @Override
      public void close() {
        ref.close();
      }
    };
  }

  /** The suite as a backend without GroupNorm and Attention extends it: everything else runs and passes. */
  @Nested
  class WithoutGroupNormAndAttention extends LayerContractTests {
    @Override
    protected Backend createBackend() {
      return lacking(LACKED);
    }

    @Override
    protected boolean supports(Class<? extends Layer> kind) {
      return !LACKED.contains(kind);
    }
  }

  /** The kinds of the tutorial's MLP, which the README says a partial backend may have alone. */
  private static final Set<Class<? extends Layer>> MLP_KINDS =
      Set.of(Layer.Linear.class, Layer.Activation.class, Layer.Concat.class, Layer.Reshape.class);

  /**
   * The suite as a backend with the MLP's kinds alone extends it (no convolution, which every golden case and the
   * two-store cases' convolution variants use): the cases it cannot run are skipped, none fails for a kind it lacks.
   */
  @Nested
  class OnlyTheMlpKinds extends LayerContractTests {
    @Override
    protected Backend createBackend() {
      return lacking(kindsOtherThan(MLP_KINDS));
    }

    @Override
    protected boolean supports(Class<? extends Layer> kind) {
      return MLP_KINDS.contains(kind);
    }
  }

  /** Every layer kind that is not a source, other than {@code kept}. */
  @SuppressWarnings("unchecked")
  private static Set<Class<? extends Layer>> kindsOtherThan(Set<Class<? extends Layer>> kept) {
    Set<Class<? extends Layer>> other = new java.util.HashSet<>();
    for (Class<?> c : Layer.class.getPermittedSubclasses()) {
      Class<? extends Layer> kind = (Class<? extends Layer>) c;
      if (!kept.contains(kind)) {
        other.add(kind);
      }
    }
    return other;
  }

  @Test
  void aLackedKindsTestsAreAbortedNamingTheKind() {
    WithoutGroupNormAndAttention suite = new WithoutGroupNormAndAttention();
    suite.backend = suite.createBackend();
    try {
      // JUnit's TestAbortedException (opentest4j): the test is reported skipped, with the message
      RuntimeException e = assertThrows(RuntimeException.class, () -> suite.new GroupNorm().forwardMatchesPyTorch());
      assertEquals("TestAbortedException", e.getClass().getSimpleName());
      assertTrue(e.getMessage().contains("the backend lacks [GroupNorm]"), e.getMessage());
      e = assertThrows(RuntimeException.class, () -> suite.new Attention().gradientsMatchFiniteDifferences());
      assertEquals("TestAbortedException", e.getClass().getSimpleName());
      suite.new Linear().forwardMatchesPyTorch(); // a kind it has still runs
    } finally {
      suite.backend.close();
    }
  }

  /**
   * A model that needs a kind the backend lacks is refused in one line naming the backend, the model and the node,
   * around the backend's own words (which need not name the backend: a third party's "no GroupNorm" alone said
   * neither which backend nor which model).
   */
  @Test
  void aModelNeedingALackedKindIsRefusedNamingTheBackendModelAndNode() {
    try (Backend b = lacking(LACKED)) {
      LayerCases.Case c = LayerCases.get("group_norm");
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
          () -> b.createModel(c.spec(), io.github.diffusion4j.model.OptimizerSpec.adam(1e-3), 0).close());
      Node norm = c.spec().network().nodes().stream().filter(n -> n.layer() instanceof Layer.GroupNorm)
          .findFirst().orElseThrow();
      assertEquals("backend 'partial' cannot run model 'layer-case-group_norm': node " + norm.id() + " ("
          + norm.layer() + "): no GroupNorm", e.getMessage());
    }
  }

  /** A backend that says it lacks a kind it runs is caught: the SPI says it must throw. */
  @Test
  void sayingAKindIsLackedWhileRunningItFails() {
    WithoutGroupNormAndAttention suite = new WithoutGroupNormAndAttention();
    suite.backend = new ReferenceBackend(); // runs GroupNorm and Attention, while supports(...) says it lacks them
    try {
      AssertionError e = assertThrows(AssertionError.class, suite::unsupportedKindsAreRefused);
      assertTrue(e.getMessage().contains("supports(...) is false for [GroupNorm]"), e.getMessage());
    } finally {
      suite.backend.close();
    }
  }
}
