package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.BackendFixture;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tutorial's MLP on this backend's layer kinds, beyond the api's {@code MlpContractTest} (run by
 * {@link Nd4jContractTests}): a tighter one-step Adam check, finite differences over every weight of a small
 * model, the ownership of the step's prediction, concurrent predictions of different batch sizes, and error
 * messages.
 */
class Nd4jDenseModelTest extends BackendFixture {
  /** The tutorial's workload: images 3x5x5, hidden 128, T = 100. */
  private static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
  private static final int BATCH = 32;
  private static final Shape BATCH_SHAPE = Shape.batchOf(BATCH, SPEC.imageShape());

  private TensorFactory nd;
  private static final ReferenceBackend REF = new ReferenceBackend();

  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }

  @BeforeEach
  void factory() {
    nd = backend.tensors();
  }

  /** One training batch: noisy input, timesteps and target, as heap arrays. */
  private record Batch(float[] x, int[] t, float[] y, Shape shape) {
    static Batch of(long seed, Shape shape, int numTrainTimesteps) {
      Noise root = Noise.seeded(seed);
      RandomGenerator g = root.split(0).generator();
      int[] t = new int[shape.batch()];
      for (int i = 0; i < t.length; i++) {
        t[i] = g.nextInt(numTrainTimesteps);
      }
      return new Batch(root.split(1).normals(shape.size()), t, root.split(2).normals(shape.size()), shape);
    }

    Tensor x(TensorFactory f) {
      return f.fromArray(x, shape);
    }

    Tensor y(TensorFactory f) {
      return f.fromArray(y, shape);
    }
  }

  private static Batch batch(long seed) {
    return Batch.of(seed, BATCH_SHAPE, SPEC.numTrainTimesteps());
  }

  private static void assertClose(float[] expected, float[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
        throw new AssertionError(
            what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (tolerance " + tol + ")");
      }
    }
  }

  private static void assertClose(StateDict expected, StateDict actual, double tol, String what) {
    assertEquals(expected.names(), actual.names(), what + ": names");
    for (String name : expected.names()) {
      assertEquals(expected.get(name).shape(), actual.get(name).shape(), what + " " + name + ": shape");
      assertClose(expected.get(name).toArray(), actual.get(name).toArray(), tol, what + " " + name);
    }
  }

  private static double maxAbs(StateDict d) {
    double m = 0;
    for (FloatArray a : d.entries().values()) {
      for (float v : a.toArray()) {
        m = Math.max(m, Math.abs(v));
      }
    }
    return m;
  }

  @Test
  void oneAdamStepMatchesTheReference() {
    OptimizerSpec adam = OptimizerSpec.adam(1e-3);
    try (TrainableModel m = backend.createModel(SPEC, adam, 2);
        TrainableModel r = REF.createModel(SPEC, adam, 2)) {
      Batch b = batch(12);
      TrainingStepResult got = m.step(b.x(nd), b.t, b.y(nd));
      TrainingStepResult want = r.step(b.x(REF), b.t, b.y(REF));
      // the loss is a mean of 2400 squares of order 1 accumulated in double from float predictions
      // that are within 1e-5 of the reference's: relative error well below 1e-5
      assertEquals(want.loss(), got.loss(), 1e-5 * want.loss());
      assertClose(want.prediction().toFloatArray(), got.prediction().toFloatArray(), 1e-5, "prediction");
      // at step 1 Adam moves each weight by lr * g / (|g| + eps): about +-1e-3 whatever g's size, so
      // float gradients that differ from the reference's by 1e-6 relative change the update by far less
      // than 1e-7; the weights (order 0.1) themselves round at ~1e-8
      assertClose(r.stateDict(), m.stateDict(), 1e-6, "weights after one step");
      assertClose(r.optimizerState(), m.optimizerState(), 1e-6, "optimizer state after one step");
      assertEquals(1, m.stepCount());
    }
  }

  @Test
  void severalStepsWithClippingWeightDecayAndEmaMatchTheReference() {
    // a clipping threshold below the gradient norm (about 0.5 here), so the scaling is exercised
    OptimizerSpec spec = new OptimizerSpec(3e-3, 0.8, 0.99, 1e-6, 0.01, 0.05);
    try (TrainableModel m = backend.createModel(SPEC, spec, 3);
        TrainableModel r = REF.createModel(SPEC, spec, 3)) {
      for (int i = 0; i < 5; i++) {
        Batch b = batch(100 + i);
        try (TensorScope s = nd.openScope(); TensorScope s2 = REF.openScope()) {
          double want = r.step(b.x(REF), b.t, b.y(REF)).loss();
          double got = m.step(b.x(nd), b.t, b.y(nd)).loss();
          assertEquals(want, got, 1e-5 * want, "loss at step " + i);
        }
        m.updateEma(0.9);
        r.updateEma(0.9);
      }
      // five steps of at most lr = 3e-3 each; per-step differences stay below 1e-6 (see the one-step
      // test), and grow only through the gradients' dependence on the weights
      assertClose(r.stateDict(), m.stateDict(), 1e-5, "weights after five steps");
      assertClose(r.emaStateDict(), m.emaStateDict(), 1e-5, "EMA after five steps");
      assertEquals(5, m.stepCount());
    }
  }

  @Test
  void gradientsMatchCentralFiniteDifferencesOfTheModelItself() {
    // A small model keeps the loss O(1) and ReLU kinks rare. The loss is evaluated from the float32
    // forward pass; its rounding noise is about 1e-7 * loss, so a central difference with step e
    // carries an error of about 1e-7 / e = 1e-4 for e = 1e-3, plus O(e^2) curvature terms (the loss is
    // piecewise quadratic in each weight). 5e-4 absolute plus 1% relative allows for that and still
    // fails for any wrong term of the backward pass (those are off by O(|g|)).
    MlpSpec small = new MlpSpec(Shape.of(1, 2, 3), 50, 8);
    Shape shape = Shape.batchOf(4, small.imageShape());
    Batch b = Batch.of(14, shape, small.numTrainTimesteps());
    double e = 1e-3;
    try (TrainableModel m = backend.createModel(small, OptimizerSpec.adam(1e-3), 5);
        TensorScope s = nd.openScope()) {
      Tensor x = b.x(nd);
      Tensor y = b.y(nd);
      StateDict grads = m.gradients(x, b.t, y);
      StateDict base = m.stateDict();
      int checked = 0;
      for (String name : base.names()) {
        float[] w = base.get(name).toArray();
        float[] g = grads.get(name).toArray();
        for (int i = 0; i < w.length; i++) {
          double plus = loss(m, base, name, w, i, w[i] + e, x, b.t, y);
          double minus = loss(m, base, name, w, i, w[i] - e, x, b.t, y);
          double fd = (plus - minus) / (2 * e);
          assertEquals(fd, g[i], 5e-4 + 1e-2 * Math.abs(fd), name + "[" + i + "]");
          checked++;
        }
      }
      assertEquals(small.parameterCount(), checked);
    }
  }

  private static double loss(
      TrainableModel m, StateDict base, String name, float[] w, int i, double value, Tensor x, int[] t, Tensor y) {
    float[] changed = w.clone();
    changed[i] = (float) value;
    StateDict.Builder b = StateDict.builder();
    for (Map.Entry<String, FloatArray> entry : base.entries().entrySet()) {
      b.put(entry.getKey(),
          entry.getKey().equals(name) ? FloatArray.of(entry.getValue().shape(), changed) : entry.getValue());
    }
    m.loadStateDict(b.build());
    float[] p = m.predict(x, t).toFloatArray();
    float[] target = y.toFloatArray();
    double s = 0;
    for (int j = 0; j < p.length; j++) {
      double d = (double) p[j] - target[j];
      s += d * d;
    }
    m.loadStateDict(base);
    return s / p.length;
  }

  @Test
  void stateRoundTripsResumeTrainingExactly() {
    OptimizerSpec adam = new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 1e-4, 1.0);
    try (TrainableModel a = backend.createModel(SPEC, adam, 6);
        TrainableModel b = backend.createModel(SPEC, adam, 99)) {
      for (int i = 0; i < 3; i++) {
        Batch bt = batch(200 + i);
        try (TensorScope s = nd.openScope()) {
          a.step(bt.x(nd), bt.t, bt.y(nd));
        }
      }
      a.updateEma(0.5);
      b.loadStateDict(a.stateDict());
      b.loadOptimizerState(a.optimizerState());
      b.loadEmaStateDict(a.emaStateDict());
      assertEquals(a.stateDict(), b.stateDict());
      assertEquals(a.optimizerState(), b.optimizerState());
      assertEquals(a.emaStateDict(), b.emaStateDict());
      assertEquals(3, b.stepCount());
      Batch next = batch(300);
      try (TensorScope s = nd.openScope()) {
        assertEquals(
            a.step(next.x(nd), next.t, next.y(nd)).loss(), b.step(next.x(nd), next.t, next.y(nd)).loss(), 0.0);
      }
      assertEquals(a.stateDict(), b.stateDict()); // bit-identical after resuming
      assertEquals(a.optimizerState(), b.optimizerState());
    }
  }

  @Test
  void badStateIsRejectedWithAMessageNamingTheEntry() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 8)) {
      StateDict good = m.stateDict();
      StateDict.Builder wrongShape = StateDict.builder();
      good.entries().forEach((k, v) ->
          wrongShape.put(k, k.equals(MlpSpec.B1) ? FloatArray.of(Shape.of(64), new float[64]) : v));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(wrongShape.build()));
      assertTrue(e.getMessage().contains(MlpSpec.B1), e.getMessage());
      StateDict.Builder nan = StateDict.builder();
      good.entries().forEach((k, v) -> {
        float[] d = v.toArray();
        if (k.equals(MlpSpec.W2)) {
          d[3] = Float.NaN;
        }
        nan.put(k, FloatArray.of(v.shape(), d));
      });
      e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(nan.build()));
      assertTrue(e.getMessage().contains(MlpSpec.W2), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> m.loadOptimizerState(good));
      assertTrue(e.getMessage().contains("exp_avg"), e.getMessage());
      assertEquals(good, m.stateDict(), "a rejected load must change nothing");
    }
  }

  @Test
  void badInputsAreRejectedWithAMessage() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 9);
        TensorScope s = nd.openScope()) {
      Batch b = batch(15);
      Tensor x = b.x(nd);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.predict(x, new int[3]));
      assertTrue(e.getMessage().contains("expected 32 timesteps (one per item), got 3"), e.getMessage());
      int[] late = b.t.clone();
      late[5] = 100;
      e = assertThrows(IllegalArgumentException.class, () -> m.predict(x, late));
      assertTrue(e.getMessage().contains("timestep 100 at index 5"), e.getMessage());
      Tensor wrong = nd.zeros(Shape.of(2, 3, 4, 4));
      e = assertThrows(IllegalArgumentException.class, () -> m.predict(wrong, new int[2]));
      assertTrue(e.getMessage().contains("[N, 3, 5, 5]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> m.predict(b.x(REF), b.t));
      assertTrue(e.getMessage().contains("not a tensor of this nd4j backend"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> m.step(x, b.t, b.y(REF)));
      assertTrue(e.getMessage().contains("not a tensor of this nd4j backend"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> m.step(x, b.t, wrong));
    }
  }

  @Test
  void theStepPredictionAndPredictOutputBelongToTheCallersScope() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 10)) {
      Batch b = batch(16);
      Tensor x = b.x(nd);
      Tensor y = b.y(nd);
      Tensor first;
      Tensor out;
      try (TensorScope s = nd.openScope()) {
        first = m.step(x, b.t, y).prediction();
        assertEquals(BATCH_SHAPE, first.shape());
        float[] copy = first.toFloatArray();
        Tensor derived = first.sub(y); // usable like any tensor
        assertEquals(copy[0] - b.y[0], derived.toFloatArray()[0], 0f);
        // later steps do not touch it, and it may be given back to a step
        m.step(x, b.t, y);
        assertArrayEquals(copy, first.toFloatArray());
        m.step(x, b.t, first);
        out = m.predict(x, b.t);
        out.toFloatArray();
      }
      assertThrows(IllegalStateException.class, first::toFloatArray);
      assertThrows(IllegalStateException.class, out::toFloatArray);
      x.close();
      y.close();
    }
  }

  @Test
  void aClosedModelRefusesWork() {
    TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 11);
    m.close();
    m.close();
    Batch b = batch(17);
    try (TensorScope s = nd.openScope()) {
      assertThrows(IllegalStateException.class, () -> m.predict(b.x(nd), b.t));
      assertThrows(IllegalStateException.class, m::stateDict);
    }
  }

  @Test
  void predictIsThreadSafe() throws Exception {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 12)) {
      int jobs = 64;
      List<float[]> sequential = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        sequential.add(predictOnce(m, i));
      }
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<float[]>> futures = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
          for (int i = 0; i < jobs; i++) {
            int job = i;
            futures.add(pool.submit(() -> predictOnce(m, job)));
          }
        }
        for (int i = 0; i < futures.size(); i++) {
          assertArrayEquals(sequential.get(i % jobs), futures.get(i).get(), "job " + i);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private float[] predictOnce(TrainableModel m, int job) {
    // batch sizes vary between jobs so that concurrent calls use buffers of different shapes
    Shape shape = Shape.batchOf(1 + job % 40, SPEC.imageShape());
    Batch b = Batch.of(1000 + job, shape, SPEC.numTrainTimesteps());
    try (TensorScope s = nd.openScope()) {
      return m.predict(b.x(nd), b.t).toFloatArray();
    }
  }

  /**
   * Closed parameters refuse every accessor a kernel reads them through (their pointers were cleared), so a
   * pass that reaches them after its backend closed fails instead of handing freed memory to BLAS.
   */
  @Test
  void closedParametersRefuseTheKernelsAccessors() {
    Parameters p = (Parameters) backend.layers().parameters(Map.of("w", new int[] {4, 3}));
    p.close();
    for (Runnable read : List.<Runnable>of(() -> p.weightsAt(0), () -> p.gradientAt(0), () -> p.weights(0, 2),
        () -> p.weight(1), p::gradientBuffer, p::zeroGradients)) {
      IllegalStateException refused = assertThrows(IllegalStateException.class, read::run);
      assertEquals("nd4j: the parameters are closed (their model or backend was closed)", refused.getMessage());
    }
  }
}
