package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.ParameterStore.Buffer;
import io.github.diffusion4j.random.Noise;
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
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * DJL-specific behaviour of models evaluated on this backend's layer kinds, beyond the api's contracts:
 * PyTorch's layout, grad mode per thread (two models train at once), ownership of the results, no native
 * array left behind, and the parameter store's per-step zeroing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlModelsTest {
  private static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
  private static final Shape BATCH = Shape.of(16, 3, 5, 5);
  private static final UNetSpec SMALL = new UNetSpec(Shape.of(1, 8, 8), 100, 8, List.of(1, 2), 1, true, 4, 0.1);
  private static final Shape SMALL_BATCH = Shape.batchOf(4, SMALL.imageShape());

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

  /** A step's prediction is the output before the update, owned by the caller's scope like any result. */
  @Test
  void stepPredictionIsTheOutputBeforeTheUpdateInTheCallersScope() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1)) {
      Tensor prediction;
      float[] before;
      try (TensorScope s = t.openScope()) {
        Tensor x = t.fromArray(Batches.normal(BATCH, 1), BATCH);
        Tensor y = t.fromArray(Batches.normal(BATCH, 2), BATCH);
        int[] ts = Batches.timesteps(16, 100, 3);
        before = m.predict(x, ts).toFloatArray();
        TrainingStepResult first = m.step(x, ts, y);
        prediction = first.prediction();
        assertEquals(BATCH, prediction.shape());
        assertEquals(0, Batches.maxAbsDiff(before, prediction.toFloatArray()), "prediction before the update");
        m.step(x, ts, y);
        assertEquals(0, Batches.maxAbsDiff(before, prediction.toFloatArray()), "unchanged by the next update");
        assertTrue(Batches.maxAbsDiff(before, m.predict(x, ts).toFloatArray()) > 0, "the weights changed");
      }
      assertThrows(IllegalStateException.class, prediction::toFloatArray, "released with the scope");
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
   * before. One leaked intermediate per call would show here as hundreds. The first step and average update
   * run before counting: they create the model's views of the leaves' gradients and its average, which live
   * as long as the model.
   */
  @Test
  void scopedWorkLeavesNoNativeArrayBehind() {
    try (TrainableModel m = backend.createModel(SPEC, new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.01, 0.5), 2)) {
      Shape first = Shape.of(8, 3, 5, 5);
      try (TensorScope s = t.openScope()) {
        m.step(t.fromArray(Batches.normal(first, 99), first), new int[8], t.zeros(first));
      }
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
      assertEquals(before, liveArrays(), "native arrays on the backend's manager");
      assertEquals(rootBefore, backend.scopes().rootLiveCount(), "tensors owned outside any scope");
      Tensor unscoped = t.zeros(shape);
      assertEquals(rootBefore + 1, backend.scopes().rootLiveCount(), "a tensor made outside any scope");
      unscoped.close();
      assertEquals(rootBefore, backend.scopes().rootLiveCount());
    }
  }

  private TrainingStepResult step(TrainableModel m, long i) {
    Tensor x = t.fromArray(Batches.normal(SMALL_BATCH, 2 * i), SMALL_BATCH);
    Tensor y = t.fromArray(Batches.normal(SMALL_BATCH, 2 * i + 1), SMALL_BATCH);
    return m.step(x, Batches.timesteps(4, 100, i), y);
  }

  private StateDict train(TrainableModel m, int steps) {
    for (int i = 0; i < steps; i++) {
      try (TensorScope s = t.openScope()) {
        step(m, i);
      }
    }
    return m.stateDict();
  }

  private float[] predict(TrainableModel m, long i) {
    try (TensorScope s = t.openScope()) {
      return m.predict(t.fromArray(Batches.normal(SMALL_BATCH, 100 + i), SMALL_BATCH), Batches.timesteps(4, 100, i))
          .toFloatArray();
    }
  }

  /**
   * DJL's {@code GradientCollector} allows one per process; this backend's passes set libtorch's
   * thread-local grad mode themselves, so two models train at once on two threads (while a third thread
   * predicts) and reach exactly the weights they reach one after the other (one intra-op thread: every
   * kernel is deterministic).
   */
  @Test
  void twoModelsTrainAtOnceOnTwoThreads() throws Exception {
    StateDict alone;
    float[] expectedPrediction;
    try (TrainableModel m = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 3);
        TrainableModel p = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 4)) {
      alone = train(m, 6);
      expectedPrediction = predict(p, 1);
    }
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (TrainableModel a = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 3);
        TrainableModel b = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 3);
        TrainableModel p = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 4)) {
      Future<StateDict> fa = pool.submit(() -> train(a, 6));
      Future<StateDict> fb = pool.submit(() -> train(b, 6));
      Callable<List<float[]>> predictions =
          () -> {
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
              out.add(predict(p, 1));
            }
            return out;
          };
      Future<List<float[]>> fp = pool.submit(predictions);
      assertEquals(alone, fa.get());
      assertEquals(alone, fb.get());
      for (float[] prediction : fp.get()) {
        assertArrayEquals(expectedPrediction, prediction);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Every native array a step (with dropout masks), a prediction, a gradient computation or an average
   * update makes is released with its scope: the count of arrays on the backend's manager (the models'
   * included) is the same after the work as before it. The first call of each kind runs before counting
   * (the first average update allocates the average).
   */
  @Test
  void unetWorkLeavesNoNativeArrayBehind() {
    try (TrainableModel m = backend.createModel(SMALL, OptimizerSpec.adam(1e-3), 2)) {
      Runnable work =
          () -> {
            try (TensorScope s = t.openScope()) {
              TrainingStepResult out = step(m, 5);
              out.prediction().toFloatArray();
              predict(m, 3);
              m.gradients(t.fromArray(Batches.normal(SMALL_BATCH, 7), SMALL_BATCH), new int[4], t.normal(SMALL_BATCH, Noise.seeded(1)));
              m.updateEma(0.9);
            }
          };
      work.run();
      int before = liveArrays();
      int rootBefore = backend.scopes().rootLiveCount();
      for (int i = 0; i < 10; i++) {
        work.run();
      }
      assertEquals(before, liveArrays(), "native arrays on the backend's manager");
      assertEquals(rootBefore, backend.scopes().rootLiveCount(), "tensors owned outside any scope");
    }
  }

  /**
   * A gradient of 300,000 values, NaN and infinities among them, reads back as zeros after {@code zeroGradients},
   * and the call allocates no Java heap in proportion to the parameters: at most 4 KB a call on average over 20
   * calls (the thread's allocated bytes; a zero block per call, as before, was 64 KB).
   */
  @Test
  void zeroingTheGradientClearsEveryValueWithoutAllocating() {
    int size = 300_000;
    try (DjlParameters p = new DjlParameters(backend, Map.of("w", new int[] {size}))) {
      float[] g = new float[size];
      for (int i = 0; i < size; i++) {
        g[i] = i % 7 == 0 ? Float.NaN : i % 11 == 0 ? Float.NEGATIVE_INFINITY : i + 0.5f;
      }
      p.write(Buffer.GRADIENTS, g);
      p.zeroGradients();
      float[] back = p.read(Buffer.GRADIENTS);
      assertEquals(size, back.length);
      assertTrue(Arrays.equals(new float[size], back), "a value survived zeroing");

      com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long thread = Thread.currentThread().getId();
      long before = mx.getThreadAllocatedBytes(thread);
      for (int i = 0; i < 20; i++) {
        p.zeroGradients();
      }
      long perCall = (mx.getThreadAllocatedBytes(thread) - before) / 20;
      assertTrue(perCall <= 4096, "zeroGradients allocated " + perCall + " bytes of heap a call");
    }
  }

  /**
   * A store larger than {@link DjlParameters#UPDATE_CHUNK} (two chunks and a part) updates in chunks, and its Adam
   * steps (weight decay and clipping on) and moving average give the same bits as DJL's fused Adam and the
   * average's operations over the whole vectors at once: the operations are elementwise.
   */
  @Test
  void aLargeStoreUpdatesInChunksToTheSameBits() {
    updatesLikeOneCall(100_000);
    updatesLikeOneCall(2 * DjlParameters.UPDATE_CHUNK + 12_345);
  }

  private void updatesLikeOneCall(int size) {
    float[][] start = new float[4][size];
    for (int j = 0; j < 4; j++) {
      Noise.seeded(40 + j).fillNormal(start[j], 0, size);
    }
    for (int i = 0; i < size; i++) {
      start[3][i] = Math.abs(start[3][i]); // a second moment
    }
    ParameterStore.AdamUpdate u = new ParameterStore.AdamUpdate(1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0, 3);
    try (DjlParameters p = new DjlParameters(backend, Map.of("w", new int[] {size}));
        PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      p.write(Buffer.WEIGHTS, start[0]);
      p.write(Buffer.GRADIENTS, start[1]);
      p.write(Buffer.FIRST_MOMENT, start[2]);
      p.write(Buffer.SECOND_MOMENT, start[3]);
      p.adam(u);
      p.updateAverage(0.99);
      p.updateAverage(0.99);

      PtNDArray w = PtArrays.fromArray(m, start[0], size);
      PtNDArray g = PtArrays.fromArray(m, start[1], size);
      PtNDArray m1 = PtArrays.fromArray(m, start[2], size);
      PtNDArray m2 = PtArrays.fromArray(m, start[3], size);
      double norm = PtArrays.readScalar(JniUtils.norm(g, 2, new int[] {0}, false)); // as the store clips
      double bc1 = 1 - Math.pow(0.9, 3);
      double bc2Sqrt = Math.sqrt(1 - Math.pow(0.999, 3));
      JniUtils.adamUpdate(w, g, m1, m2, 1e-3f, (float) (1e-3 * bc2Sqrt / bc1), 0.01f,
          (float) (1.0 / (norm + 1e-6)), -1f, 0.9f, 0.999f, (float) (1e-8 * bc2Sqrt), false);
      float[] weights = PtArrays.read(w, size);
      assertFalse(Arrays.equals(start[0], weights), "the whole-vector update changed nothing");
      assertArrayEquals(weights, p.read(Buffer.WEIGHTS), "weights, size " + size);
      assertArrayEquals(PtArrays.read(m1, size), p.read(Buffer.FIRST_MOMENT), "first moment");
      assertArrayEquals(PtArrays.read(m2, size), p.read(Buffer.SECOND_MOMENT), "second moment");

      PtNDArray average = JniUtils.clone(w);
      PtNDArray keep = PtArrays.scalar(m, 0.99);
      PtNDArray take = PtArrays.scalar(m, 1 - 0.99);
      for (int i = 0; i < 2; i++) {
        PtNDArray part = JniUtils.mul(w, take);
        JniUtils.muli(average, keep);
        JniUtils.addi(average, part);
      }
      assertArrayEquals(PtArrays.read(average, size), p.read(Buffer.AVERAGE), "moving average");
    }
  }
}
