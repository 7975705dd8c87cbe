package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prediction-type conversions, the MLP spec and state dicts. */
class ModelTest {
  private final ReferenceBackend ref = new ReferenceBackend();

  @Test
  void predictionTypesConvertConsistently() {
    Shape shape = Shape.of(2, 3, 2, 2);
    double ab = 0.37;
    try (TensorScope s = ref.openScope()) {
      float[] x0v = Batches.normal(shape, 1);
      float[] epsv = Batches.normal(shape, 2);
      Tensor x0 = ref.fromArray(x0v, shape);
      Tensor eps = ref.fromArray(epsv, shape);
      Tensor xt = x0.combine(Math.sqrt(ab), eps, Math.sqrt(1 - ab));
      for (PredictionType p : PredictionType.values()) {
        float[] target = new float[shape.size()];
        p.target(x0v, epsv, new double[] {ab, ab}, target);
        Tensor out = ref.fromArray(target, shape);
        assertTrue(Batches.maxAbsDiff(x0v, p.toSample(out, xt, ab).toFloatArray()) < 1e-5, p + " x0");
        assertTrue(Batches.maxAbsDiff(epsv, p.toEpsilon(out, xt, ab).toFloatArray()) < 1e-5, p + " eps");
      }
    }
  }

  @Test
  void aSpecWhoseNetworkReadsAnotherImageShapeIsRefusedBeforeAnyAllocation() {
    MlpSpec mlp = new MlpSpec(Shape.of(2, 4, 4), 100, 8);
    ModelSpec wrong = new ModelSpec() {
      @Override public String kind() { return "custom"; }
      @Override public Shape imageShape() { return Shape.of(2, 8, 8); } // the network reads [2, 4, 4]
      @Override public int numTrainTimesteps() { return 100; }
      @Override public java.util.Map<String, int[]> parameterShapes() { return mlp.parameterShapes(); }
      @Override public StateDict initialWeights(long seed) { return mlp.initialWeights(seed); }
      @Override public io.github.diffusion4j.nn.Network network() { return mlp.network(); }
    };
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ref.createModel(wrong, OptimizerSpec.adam(1e-3), 1));
    assertEquals("custom: the network's input [2, 4, 4] is not the spec's image shape [2, 8, 8]", e.getMessage());
  }

  /**
   * A spec whose initial weights fail with a checked exception (Kotlin code declares none: weights read from a file,
   * an {@code IOException}) or an Error fails {@code createModel} with it as thrown, and the parameter store the
   * model had allocated is closed (it stayed open, a backend's native memory, for all but unchecked exceptions).
   */
  @Test
  void aSpecWhoseInitialWeightsFailLeavesNoParameterStoreOpen() {
    MlpSpec mlp = new MlpSpec(Shape.of(2, 4, 4), 100, 8);
    for (Throwable failure : List.of(new java.io.IOException("weights.bin: no such file"), new OutOfMemoryError())) {
      ModelSpec failing = new ModelSpec() {
        @Override public String kind() { return "custom"; }
        @Override public Shape imageShape() { return mlp.imageShape(); }
        @Override public int numTrainTimesteps() { return 100; }
        @Override public java.util.Map<String, int[]> parameterShapes() { return mlp.parameterShapes(); }
        @Override public StateDict initialWeights(long seed) { throw ModelTest.<RuntimeException>sneaky(failure); }
        @Override public io.github.diffusion4j.nn.Network network() { return mlp.network(); }
      };
      List<String> stores = new ArrayList<>();
      ParameterStore[] store = new ParameterStore[1]; // the reference store, which the reference kernels are given
      LayerBackend layers = (LayerBackend) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {LayerBackend.class}, (proxy, method, args) -> {
            if (method.getName().equals("kernel")) {
              args[2] = store[0];
            }
            Object result = invoke(method, ref.layers(), args);
            if (method.getName().equals("parameters")) {
              store[0] = (ParameterStore) result;
              return recordingClose(store[0], stores);
            }
            return result;
          });
      assertSame(failure, assertThrows(failure.getClass(),
          () -> NetworkModel.create(failing, layers, ref, OptimizerSpec.adam(1e-3), 1)));
      assertEquals(List.of("closed"), stores, "the store is closed, failing with " + failure);
    }
  }

  /** A parameter store that adds "closed" to a list when it is closed. */
  private static ParameterStore recordingClose(ParameterStore store, List<String> closes) {
    return (ParameterStore) Proxy.newProxyInstance(ModelTest.class.getClassLoader(),
        new Class<?>[] {ParameterStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            closes.add("closed");
          }
          return invoke(method, store, args);
        });
  }

  private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }

  @Test
  void mlpSpecLayoutAndInitialisation() {
    MlpSpec spec = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
    assertEquals(75, spec.pixels());
    assertEquals(76 * 128 + 128 + 128 * 75 + 75, spec.parameterCount());
    StateDict w = spec.initialWeights(9);
    assertEquals(w, spec.initialWeights(9));
    double bound1 = 1 / Math.sqrt(76);
    double bound2 = 1 / Math.sqrt(128);
    double max1 = 0;
    for (float v : w.get(MlpSpec.W1).toArray()) {
      max1 = Math.max(max1, Math.abs(v));
    }
    assertTrue(max1 <= bound1 && max1 > 0.95 * bound1, "uniform in +-1/sqrt(k+1): " + max1);
    for (float v : w.get(MlpSpec.B2).toArray()) {
      assertTrue(Math.abs(v) <= bound2);
    }
    assertThrows(IllegalArgumentException.class, () -> new MlpSpec(Shape.of(3, 5), 100, 128));
    assertThrows(IllegalArgumentException.class, () -> new MlpSpec(Shape.of(3, 5, 5), 100, 0));
  }

  @Test
  void stateDictRejectsDuplicatesAndReportsLayoutProblems() {
    StateDict.Builder b = StateDict.builder().put("a", new int[] {2}, new float[] {1, 2});
    assertThrows(IllegalArgumentException.class, () -> b.put("a", new int[] {1}, new float[] {1}));
    StateDict d = b.build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> d.requireLayout(java.util.Map.of("a", new int[] {3}), "weights"));
    assertTrue(e.getMessage().contains("'a' has shape [2], expected [3]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> FloatArray.of(Shape.of(3), new float[2]));
  }

  /** A 256x256 diffusers model has 450 entries: one missing or extra name must not list them all. */
  @Test
  void layoutErrorsOfLargeModelsNameAFewEntriesNotAll() {
    java.util.Map<String, int[]> layout = new java.util.LinkedHashMap<>();
    StateDict.Builder b = StateDict.builder();
    for (int i = 0; i < 450; i++) {
      layout.put("block." + i + ".weight", new int[] {1});
      if (i != 7 && i != 300) {
        b.put("block." + i + ".weight", new int[] {1}, new float[] {1});
      }
    }
    b.put("model.block.7.weight", new int[] {1}, new float[] {1});
    StateDict missing = b.build();
    String m = assertThrows(IllegalArgumentException.class, () -> missing.requireLayout(layout, "weights"))
        .getMessage();
    assertTrue(m.startsWith("weights: missing 'block.7.weight' (expected shape [1]) and 1 more missing (block.300.weight)"), m);
    assertTrue(m.contains("the file has 449 entries, the model expects 450"), m);
    assertTrue(m.contains("not expected: model.block.7.weight"), m);
    assertTrue(m.length() < 400, m.length() + " characters: " + m);

    StateDict.Builder extra = StateDict.builder();
    layout.keySet().forEach(k -> extra.put(k, new int[] {1}, new float[] {1}));
    extra.put("extra.weight", new int[] {3}, new float[3]);
    StateDict withExtra = extra.build();
    String u = assertThrows(IllegalArgumentException.class, () -> withExtra.requireLayout(layout, "weights"))
        .getMessage();
    assertTrue(u.startsWith("weights: unexpected entry 'extra.weight'; the file has 451 entries, the model expects 450"), u);
    assertTrue(u.length() < 400, u.length() + " characters: " + u);
  }

  @Test
  void optimizerSpecValidates() {
    assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.adam(0));
    assertThrows(IllegalArgumentException.class, () -> new OptimizerSpec(1e-3, 1.0, 0.999, 1e-8, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, -1, 0));
  }
}
