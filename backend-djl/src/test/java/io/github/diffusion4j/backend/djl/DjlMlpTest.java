package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** DJL-specific behaviour of the MLP beyond the api's contract: layout, ownership and leaks. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlMlpTest {
  private static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
  private static final Shape BATCH = Shape.of(16, 3, 5, 5);

  private DjlBackend backend;
  private TensorFactory t;

  @BeforeAll
  void open() {
    backend = DjlBackends.create();
    t = backend.tensors();
  }

  @AfterAll
  void close() {
    backend.close();
  }

  /**
   * Weights written by this test in PyTorch's {@code state_dict} layout for {@code nn.Sequential(Linear(76,
   * 128), ReLU(), Linear(128, 75))} ({@code weight[out][in]}, row-major) load and give the output of that
   * module, computed here in double straight from the definition; and the reference backend agrees.
   *
   * <p>Tolerance 1e-5: each output is a sum of 77 + 129 float32 products of magnitude below 0.1 x 3, whose
   * float32 rounding stays below 1e-6.
   */
  @Test
  void pytorchLayoutWeightsReproduceTheModule() {
    int k = 75;
    int h = 128;
    float[] w1 = new float[h * (k + 1)];
    float[] b1 = new float[h];
    float[] w2 = new float[k * h];
    float[] b2 = new float[k];
    for (int o = 0; o < h; o++) {
      for (int i = 0; i <= k; i++) {
        w1[o * (k + 1) + i] = (float) (0.1 * Math.sin(0.37 * o + 1.3 * i)); // weight[out=o][in=i]
      }
      b1[o] = (float) (0.05 * Math.cos(o));
    }
    for (int o = 0; o < k; o++) {
      for (int i = 0; i < h; i++) {
        w2[o * h + i] = (float) (0.1 * Math.cos(0.11 * o - 0.7 * i));
      }
      b2[o] = (float) (0.01 * o - 0.3);
    }
    StateDict weights =
        StateDict.builder()
            .put("model.0.weight", new int[] {h, k + 1}, w1)
            .put("model.0.bias", new int[] {h}, b1)
            .put("model.2.weight", new int[] {k, h}, w2)
            .put("model.2.bias", new int[] {k}, b2)
            .build();
    float[] x = Batches.normal(BATCH, 3);
    int[] ts = {0, 1, 5, 17, 33, 50, 64, 71, 80, 88, 90, 95, 97, 98, 99, 42};

    float[] expected = new float[x.length];
    for (int n = 0; n < ts.length; n++) {
      double[] in = new double[k + 1];
      in[0] = ts[n] / 100.0; // the scaled timestep comes first
      for (int i = 0; i < k; i++) {
        in[1 + i] = x[n * k + i];
      }
      double[] hidden = new double[h];
      for (int o = 0; o < h; o++) {
        double s = b1[o];
        for (int i = 0; i <= k; i++) {
          s += (double) w1[o * (k + 1) + i] * in[i];
        }
        hidden[o] = Math.max(s, 0);
      }
      for (int o = 0; o < k; o++) {
        double s = b2[o];
        for (int i = 0; i < h; i++) {
          s += (double) w2[o * h + i] * hidden[i];
        }
        expected[n * k + o] = (float) s;
      }
    }

    float[] actual;
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = t.openScope()) {
      m.loadStateDict(weights);
      assertEquals(weights, m.stateDict());
      actual = m.predict(t.fromArray(x, BATCH), ts).toFloatArray();
    }
    assertTrue(Batches.maxAbsDiff(expected, actual) < 1e-5, "djl vs definition " + Batches.maxAbsDiff(expected, actual));

    ReferenceBackend ref = new ReferenceBackend();
    try (TrainableModel r = ref.createModel(SPEC, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = ref.openScope()) {
      r.loadStateDict(weights);
      float[] byReference = r.predict(ref.fromArray(x, BATCH), ts).toFloatArray();
      assertTrue(Batches.maxAbsDiff(byReference, actual) < 1e-5);
    }
  }

  @Test
  void stepPredictionIsValidUntilTheNextStep() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t.openScope()) {
      Tensor x = t.fromArray(Batches.normal(BATCH, 1), BATCH);
      Tensor y = t.fromArray(Batches.normal(BATCH, 2), BATCH);
      int[] ts = Batches.timesteps(16, 100, 3);
      float[] before = m.predict(x, ts).toFloatArray();
      StepOutput first = m.step(x, ts, y);
      assertEquals(BATCH, first.prediction().shape());
      assertTrue(Batches.maxAbsDiff(before, first.prediction().toFloatArray()) == 0, "prediction before the update");
      m.step(x, ts, y);
      assertThrows(IllegalStateException.class, first.prediction()::toFloatArray);
    }
  }

  @Test
  void predictionsBelongToTheCallersScope() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1)) {
      Tensor kept;
      Tensor dropped;
      try (TensorScope outer = t.openScope()) {
        Tensor x = t.fromArray(Batches.normal(BATCH, 1), BATCH);
        try (TensorScope inner = t.openScope()) {
          dropped = m.predict(x, new int[16]);
          kept = inner.keep(m.predict(x, new int[16]));
        }
        assertThrows(IllegalStateException.class, dropped::toFloatArray);
        assertEquals(BATCH.size(), kept.toFloatArray().length);
      }
      assertThrows(IllegalStateException.class, kept::toFloatArray);
    }
  }

  @Test
  void aClosedModelRefusesWork() {
    TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1);
    m.close();
    try (TensorScope s = t.openScope()) {
      Tensor x = t.zeros(BATCH);
      assertThrows(IllegalStateException.class, () -> m.predict(x, new int[16]));
      assertThrows(IllegalStateException.class, m::stateDict);
    }
    m.close();
  }

  @Test
  void badInputIsRejectedWithItsName() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t.openScope()) {
      Tensor x = t.zeros(BATCH);
      int[] late = new int[16];
      late[4] = 100;
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.predict(x, late));
      assertTrue(e.getMessage().contains("timestep 100 at index 4"), e.getMessage());
      Tensor foreign = new ReferenceBackend().zeros(BATCH);
      assertThrows(IllegalArgumentException.class, () -> m.predict(foreign, new int[16]));
      assertThrows(IllegalArgumentException.class, () -> m.step(x, new int[16], t.zeros(Shape.of(16, 75))));
      assertThrows(IllegalArgumentException.class, () -> m.updateEma(1.5));

      StateDict state = m.optimizerState();
      Map<String, FloatArray> bad = new LinkedHashMap<>(state.entries());
      bad.put("step", FloatArray.scalar(-2));
      assertThrows(IllegalArgumentException.class, () -> m.loadOptimizerState(StateDict.of(bad)));
      bad.remove("step");
      e = assertThrows(IllegalArgumentException.class, () -> m.loadOptimizerState(StateDict.of(bad)));
      assertTrue(e.getMessage().contains("'step'"), e.getMessage());
    }
  }

  private int liveArrays() {
    return backend.root().getManagedArrays().size();
  }

  /**
   * Every native array an operation, a step, a prediction or a sampling run makes is released with its
   * scope: the count of arrays on the backend's manager (models' included) is the same after the work as
   * before. One leaked intermediate per call would show here as hundreds.
   */
  @Test
  void scopedWorkLeavesNoNativeArrayBehind() {
    try (TrainableModel m = backend.createModel(SPEC, new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.01, 0.5), 2)) {
      m.updateEma(0.5);
      int before = liveArrays();
      int rootBefore = backend.scopes().rootLiveCount();
      Shape shape = Shape.of(32, 3, 5, 5);
      for (int i = 0; i < 100; i++) {
        try (TensorScope s = t.openScope()) {
          Tensor x = t.fromArray(Batches.normal(shape, i), shape);
          Tensor y = t.normal(shape, io.github.diffusion4j.random.Noise.seeded(i));
          int[] ts = Batches.timesteps(32, 100, i);
          m.step(x, ts, y);
          m.predict(x, ts).combine(0.5, y, 2).combinePerSample(new double[32], x, new double[32]);
          x.mul(2).add(1).sub(y).div(y).sqrt().clamp(-1, 1).mulPerSample(new double[32]).sum();
          m.updateEma(0.99);
        }
      }
      Schedule schedule = Schedule.of(ScheduleSpec.linear(100));
      DdpmSampler ddpm =
          new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.clip(1), t);
      try (TensorScope s = t.openScope()) {
        ddpm.sample(m, t, SamplingRequest.of(8, SPEC.imageShape(), 3, Timesteps.full(100)));
        m.gradients(t.fromArray(Batches.normal(shape, 1), shape), new int[32], t.zeros(shape));
      }
      // the last step's prediction (1 array) stays with the model until its next step
      assertEquals(before + 1, liveArrays(), "native arrays on the backend's manager");
      assertEquals(rootBefore, backend.scopes().rootLiveCount(), "tensors owned outside any scope");
      Tensor unscoped = t.zeros(shape);
      assertEquals(rootBefore + 1, backend.scopes().rootLiveCount(), "a tensor made outside any scope");
      unscoped.close();
      assertEquals(rootBefore, backend.scopes().rootLiveCount());
    }
  }
}
