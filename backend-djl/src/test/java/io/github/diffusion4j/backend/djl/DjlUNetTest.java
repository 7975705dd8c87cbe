package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** DJL-specific behaviour of the U-Net beyond the api's contract: autograd per thread, ownership, leaks. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlUNetTest {
  private static final UNetSpec SPEC = new UNetSpec(Shape.of(1, 8, 8), 100, 8, List.of(1, 2), 1, true, 4, 0.1);
  private static final Shape BATCH = Shape.batchOf(4, SPEC.imageShape());

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

  private StepOutput step(TrainableModel m, long i) {
    Tensor x = t.fromArray(Batches.normal(BATCH, 2 * i), BATCH);
    Tensor y = t.fromArray(Batches.normal(BATCH, 2 * i + 1), BATCH);
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
      return m.predict(t.fromArray(Batches.normal(BATCH, 100 + i), BATCH), Batches.timesteps(4, 100, i))
          .toFloatArray();
    }
  }

  /**
   * DJL's {@code GradientCollector} allows one per process; this model sets libtorch's thread-local grad
   * mode itself, so two models train at once on two threads (while a third thread predicts) and reach
   * exactly the weights they reach one after the other (one intra-op thread: every kernel is
   * deterministic).
   */
  @Test
  void twoModelsTrainAtOnceOnTwoThreads() throws Exception {
    StateDict alone;
    float[] expectedPrediction;
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 3);
        TrainableModel p = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 4)) {
      alone = train(m, 6);
      expectedPrediction = predict(p, 1);
    }
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (TrainableModel a = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 3);
        TrainableModel b = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 3);
        TrainableModel p = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 4)) {
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

  @Test
  void stepPredictionIsValidUntilTheNextStep() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t.openScope()) {
      StepOutput first = step(m, 0);
      assertEquals(BATCH, first.prediction().shape());
      first.prediction().toFloatArray();
      step(m, 1);
      assertThrows(IllegalStateException.class, first.prediction()::toFloatArray);
    }
  }

  private int liveArrays() {
    return backend.root().getManagedArrays().size();
  }

  /**
   * Every native array a step (with dropout masks), a prediction, a gradient computation or an average
   * update makes is released with its scope: the count of arrays on the backend's manager (the models'
   * included) is the same after the work as before it. The first call of each kind runs before counting:
   * it creates the model's GroupNorm constants, which live as long as the model.
   */
  @Test
  void scopedWorkLeavesNoNativeArrayBehind() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 2)) {
      Runnable work =
          () -> {
            try (TensorScope s = t.openScope()) {
              StepOutput out = step(m, 5);
              out.prediction().toFloatArray();
              predict(m, 3);
              m.gradients(t.fromArray(Batches.normal(BATCH, 7), BATCH), new int[4], t.normal(BATCH, Noise.seeded(1)));
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
}
