package io.github.diffusion4j.testkit;

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
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The MLP contract: a backend's MLP computes the same function, gradients and Adam updates as the
 * reference (plain Java, double sums) on the tutorial's shapes.
 *
 * <p>Tolerances: outputs are sums of ~130 float32 products of magnitude below 1, so float32 evaluation
 * differs from the double reference by a few 1e-7; 1e-5 absolute leaves an order of magnitude. Adam's
 * first steps move each weight by about {@code lr = 1e-3} times the sign of its gradient, so the updated
 * weights agree to the same 1e-5 unless a gradient is within float noise of zero. That does happen
 * here: at the first step of {@code adamStepsMatchTheReference}, {@code model.2.weight[7111]} has a
 * gradient of 3.8e-8, where a float32 backward pass is off by ~5e-10 (its forward pass already differs
 * by ~2e-7), so its update {@code lr * g / (|g| + eps)} differs by ~0.3% of {@code lr}, up to 6e-6 with
 * {@code lr = 2e-3}; the predictions that follow then differ by about 1e-5, so those are held to 2e-5.
 */
public abstract class MlpContractTest extends BackendFixture {
  /** The tutorial's model: 3x5x5 images, hidden 128, T = 100. */
  protected static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);

  private static final Shape BATCH = Shape.of(16, 3, 5, 5);
  private static final double TOL = 1e-5;
  private static final double TRAINED_PREDICTION_TOL = 2e-5;

  /** The backend the one under test is compared with; closed after the suite ({@link #closeReference}). */
  private final ReferenceBackend reference = new ReferenceBackend();

  /** Closes the reference backend after the suite, as {@link BackendFixture} closes the backend under test. */
  @AfterAll
  void closeReference() {
    reference.close();
  }

  private TensorFactory t() {
    return backend.tensors();
  }

  private static double maxDiff(StateDict a, StateDict b) {
    double m = 0;
    for (String name : a.names()) {
      m = Math.max(m, Batches.maxAbsDiff(a.get(name).toArray(), b.get(name).toArray()));
    }
    return m;
  }

  @Test
  void initialWeightsAreTheSpecsPortableInitialisation() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 11)) {
      assertEquals(SPEC.initialWeights(11), m.stateDict(), "bit-identical initial weights");
      assertEquals(0, m.stepCount());
    }
  }

  @Test
  void stateDictRoundTripsAndUsesPytorchLayout() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1)) {
      StateDict other = SPEC.initialWeights(2);
      m.loadStateDict(other);
      StateDict back = m.stateDict();
      assertEquals(other, back);
      assertEquals(List.of(MlpSpec.W1, MlpSpec.B1, MlpSpec.W2, MlpSpec.B2), List.copyOf(back.names()));
      assertEquals(Shape.of(128, 76), back.get(MlpSpec.W1).shape());
      assertEquals(Shape.of(75, 128), back.get(MlpSpec.W2).shape());
    }
  }

  @Test
  void loadStateDictRejectsBadWeights() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1)) {
      StateDict good = SPEC.initialWeights(3);
      Map<String, FloatArray> missing = new LinkedHashMap<>(good.entries());
      missing.remove(MlpSpec.B2);
      assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(StateDict.of(missing)));

      Map<String, FloatArray> misshapen = new LinkedHashMap<>(good.entries());
      misshapen.put(MlpSpec.B2, FloatArray.of(Shape.of(74), new float[74]));
      assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(StateDict.of(misshapen)));

      Map<String, FloatArray> nan = new LinkedHashMap<>(good.entries());
      float[] b = new float[75];
      b[3] = Float.NaN;
      nan.put(MlpSpec.B2, FloatArray.of(Shape.of(75), b));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(StateDict.of(nan)));
      assertTrue(e.getMessage().contains(MlpSpec.B2), e.getMessage());
      assertEquals(good.entries().keySet(), m.stateDict().names());
    }
  }

  /**
   * Predictions match the reference at the contract's batch and at the benchmark's 1,000 images (a backend
   * may compute large products another way: split over threads, another library's kernels).
   */
  @ParameterizedTest
  @ValueSource(ints = {16, 1000})
  void predictMatchesTheReference(int items) {
    Shape batch = Shape.of(items, 3, 5, 5);
    StateDict w = SPEC.initialWeights(5);
    float[] x = Batches.normal(batch, 6);
    int[] ts = Batches.timesteps(items, 100, 7);
    float[] expected;
    try (TrainableModel r = reference.createModel(SPEC, OptimizerSpec.adam(1e-3), 5);
        TensorScope s = reference.openScope()) {
      expected = r.predict(reference.fromArray(x, batch), ts).toFloatArray();
    }
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 5);
        TensorScope s = t().openScope()) {
      m.loadStateDict(w);
      Tensor out = m.predict(t().fromArray(x, batch), ts);
      assertEquals(batch, out.shape());
      double diff = Batches.maxAbsDiff(expected, out.toFloatArray());
      assertTrue(diff < TOL, "max difference " + diff);
    }
  }

  /**
   * The tutorial's PyTorch module saved with safetensors ({@code model.0.weight [h, k+1]}, ...,
   * float32) loads into the backend and computes the module's function: the test writes such a file
   * itself, reads it with the api's codec, and compares with the double-precision reference.
   */
  @Test
  void weightsSavedInPytorchLayoutLoadAndMatch() {
    StateDict written = SPEC.initialWeights(77);
    byte[] file = io.github.diffusion4j.io.SafeTensors.toBytes(written, Map.of("format", "pt"));
    StateDict read = io.github.diffusion4j.io.SafeTensors.read(file, "tutorial.safetensors").tensors();
    float[] x = Batches.normal(BATCH, 78);
    int[] ts = Batches.timesteps(BATCH.batch(), 100, 79);
    float[] expected;
    try (TrainableModel r = reference.createModel(SPEC, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = reference.openScope()) {
      r.loadStateDict(written);
      expected = r.predict(reference.fromArray(x, BATCH), ts).toFloatArray();
    }
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = t().openScope()) {
      m.loadStateDict(read);
      assertTrue(Batches.maxAbsDiff(expected, m.predict(t().fromArray(x, BATCH), ts).toFloatArray()) < TOL);
    }
  }

  @Test
  void predictIsThreadSafe() throws Exception {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 8)) {
      List<float[]> inputs = new ArrayList<>();
      List<float[]> sequential = new ArrayList<>();
      int[] ts = Batches.timesteps(BATCH.batch(), 100, 9);
      for (int i = 0; i < 8; i++) {
        float[] x = Batches.normal(BATCH, 100 + i);
        inputs.add(x);
        try (TensorScope s = t().openScope()) {
          sequential.add(m.predict(t().fromArray(x, BATCH), ts).toFloatArray());
        }
      }
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        for (int round = 0; round < 5; round++) {
          List<Future<float[]>> futures = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            float[] x = inputs.get(i);
            futures.add(
                pool.submit(
                    () -> {
                      try (TensorScope s = t().openScope()) {
                        return m.predict(t().fromArray(x, BATCH), ts).toFloatArray();
                      }
                    }));
          }
          for (int i = 0; i < 8; i++) {
            assertArrayEquals(sequential.get(i), futures.get(i).get(), "thread " + i);
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Gradients match the reference at the contract's batch and at 1,000 items (see the predictions'). */
  @ParameterizedTest
  @ValueSource(ints = {16, 1000})
  void gradientsMatchTheReference(int items) {
    Shape batch = Shape.of(items, 3, 5, 5);
    float[] x = Batches.normal(batch, 10);
    float[] y = Batches.normal(batch, 11);
    int[] ts = Batches.timesteps(items, 100, 12);
    StateDict expected;
    try (TrainableModel r = reference.createModel(SPEC, OptimizerSpec.adam(1e-3), 13);
        TensorScope s = reference.openScope()) {
      expected = r.gradients(reference.fromArray(x, batch), ts, reference.fromArray(y, batch));
    }
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 13);
        TensorScope s = t().openScope()) {
      StateDict g = m.gradients(t().fromArray(x, batch), ts, t().fromArray(y, batch));
      assertEquals(expected.names(), g.names());
      // gradients are ~1e-3..1e-1 (means over the items); float32 accumulation over up to 1,000 items x 128
      // units stays below 1e-6
      assertTrue(maxDiff(expected, g) < 1e-6, "max gradient difference " + maxDiff(expected, g));
      assertEquals(SPEC.initialWeights(13), m.stateDict(), "gradients() does not change the weights");
    }
  }

  /** Mean squared error of the backend's own forward pass, accumulated in double. */
  private double loss(TrainableModel m, float[] x, int[] ts, float[] y, Shape shape) {
    try (TensorScope s = t().openScope()) {
      float[] out = m.predict(t().fromArray(x, shape), ts).toFloatArray();
      double sum = 0;
      for (int i = 0; i < out.length; i++) {
        double d = (double) out[i] - y[i];
        sum += d * d;
      }
      return sum / out.length;
    }
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    Shape shape = Shape.of(4, 3, 5, 5);
    float[] x = Batches.normal(shape, 20);
    float[] y = Batches.normal(shape, 21);
    int[] ts = Batches.timesteps(4, 100, 22);
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 23)) {
      StateDict w = m.stateDict();
      StateDict g;
      try (TensorScope s = t().openScope()) {
        g = m.gradients(t().fromArray(x, shape), ts, t().fromArray(y, shape));
      }
      int checked = 0;
      for (String name : w.names()) {
        float[] gv = g.get(name).toArray();
        // the 5 largest gradients of each tensor: relative error is meaningful there
        Integer[] idx = new Integer[gv.length];
        for (int i = 0; i < idx.length; i++) {
          idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(gv[b]), Math.abs(gv[a])));
        for (int r = 0; r < 5; r++) {
          int i = idx[r];
          double h = 1e-3;
          double plus = lossWith(m, w, name, i, h, x, ts, y, shape);
          double minus = lossWith(m, w, name, i, -h, x, ts, y, shape);
          double fd = (plus - minus) / (2 * h);
          // central differences have O(h^2) error (the loss is piecewise quadratic in one weight) and
          // float32 forward noise of ~1e-7 / h; 2% relative covers both, and a ReLU kink crossing
          double tol = 0.02 * Math.abs(gv[i]) + 1e-5;
          assertEquals(gv[i], fd, tol, name + "[" + i + "]");
          checked++;
        }
      }
      m.loadStateDict(w);
      assertEquals(20, checked);
    }
  }

  private double lossWith(
      TrainableModel m, StateDict w, String name, int index, double delta, float[] x, int[] ts, float[] y, Shape shape) {
    Map<String, FloatArray> copy = new LinkedHashMap<>(w.entries());
    float[] v = w.get(name).toArray();
    v[index] += (float) delta;
    copy.put(name, FloatArray.of(w.get(name).shape(), v));
    m.loadStateDict(StateDict.of(copy));
    return loss(m, x, ts, y, shape);
  }

  private static OptimizerSpec[] optimizers() {
    return new OptimizerSpec[] {
      OptimizerSpec.adam(1e-3),
      new OptimizerSpec(1e-3, 0.8, 0.99, 1e-6, 0.01, 0.0),
      new OptimizerSpec(2e-3, 0.9, 0.999, 1e-8, 0.0, 0.05)
    };
  }

  @Test
  void adamStepsMatchTheReference() {
    for (OptimizerSpec opt : optimizers()) {
      try (TrainableModel r = reference.createModel(SPEC, opt, 31);
          TrainableModel m = backend.createModel(SPEC, opt, 31)) {
        for (int step = 0; step < 5; step++) {
          float[] x = Batches.normal(BATCH, 40 + step);
          float[] y = Batches.normal(BATCH, 50 + step);
          int[] ts = Batches.timesteps(BATCH.batch(), 100, 60 + step);
          double expectedLoss;
          float[] expectedPred;
          try (TensorScope s = reference.openScope()) {
            TrainingStepResult o = r.step(reference.fromArray(x, BATCH), ts, reference.fromArray(y, BATCH));
            expectedLoss = o.loss();
            expectedPred = o.prediction().toFloatArray();
          }
          try (TensorScope s = t().openScope()) {
            TrainingStepResult o = m.step(t().fromArray(x, BATCH), ts, t().fromArray(y, BATCH));
            assertEquals(expectedLoss, o.loss(), 1e-5 * expectedLoss, opt + " step " + step + " loss");
            double pd = Batches.maxAbsDiff(expectedPred, o.prediction().toFloatArray());
            assertTrue(pd < TRAINED_PREDICTION_TOL, opt + " step " + step + ": max prediction difference " + pd);
          }
        }
        assertEquals(5, m.stepCount());
        double d = maxDiff(r.stateDict(), m.stateDict());
        assertTrue(d < TOL, opt + ": max weight difference after 5 steps " + d);
      }
    }
  }

  /**
   * Three steps follow {@code torch.optim.Adam} written out here in doubles from the model's own gradients
   * ({@link TrainableModel#gradients}, the unclipped gradient of the same batch at the same weights), so the
   * reference backend is held to it too and not only compared with itself: PyTorch's global-norm clipping
   * ({@code clip_grad_norm_}: {@code coef = max_norm / (norm + 1e-6)}, applied only when below 1), then L2 weight
   * decay added to the clipped gradient, {@code m = b1 m + (1 - b1) g}, {@code v = b2 v + (1 - b2) g^2},
   * {@code t} counted from 1, {@code w -= lr m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps)}, with each step's own
   * learning rate (a schedule's, not the optimiser's). The settings make every part visible: betas 0.5 and 0.7
   * (far apart, and their bias corrections large for three steps), {@code eps = 1e-3} of the order of the gradients
   * (so adding it inside the square root, or rescaling it, changes updates by a good fraction of {@code lr}), weight
   * decay 0.1 (of the order of the gradients, so decoupling it or clipping it shows), and a clipping threshold once
   * below the gradient's norm (0.3 of it: clipped) and once above (3 times it: the coefficient must not scale the
   * gradient up), which Adam's scale invariance would hide without eps and weight decay.
   *
   * <p>Tolerances: the update is computed by the backend in float32 from float32 moments; with the denominator at
   * least {@code eps = 1e-3} its error is about 1e-7 relative of an update below {@code 3 lr}, far below the float32
   * rounding of the weights (below 1, so 6e-8), hence 2e-7 absolute for the weights. The moments are float32 sums of
   * three terms: 1e-5 of their largest value. Every defect listed moves most weights by 1e-5 or more.
   */
  @Test
  void adamStepsFollowTorchOptimAdamWrittenOut() {
    float[] x0 = Batches.normal(BATCH, 400);
    float[] y0 = Batches.normal(BATCH, 401);
    int[] ts0 = Batches.timesteps(BATCH.batch(), 100, 402);
    double norm0;
    try (TrainableModel probe = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 41);
        TensorScope s = t().openScope()) {
      norm0 = Math.sqrt(sumOfSquares(probe.gradients(t().fromArray(x0, BATCH), ts0, t().fromArray(y0, BATCH))));
    }
    double[] learningRates = {2e-3, 5e-4, 1e-3};
    for (double clipFactor : new double[] {0.3, 3.0}) {
      // the optimiser's own rate (1e-2) is never the one to use: each step passes its own
      OptimizerSpec opt = new OptimizerSpec(1e-2, 0.5, 0.7, 1e-3, 0.1, clipFactor * norm0);
      try (TrainableModel m = backend.createModel(SPEC, opt, 41)) {
        Map<String, double[]> first = new LinkedHashMap<>();
        Map<String, double[]> second = new LinkedHashMap<>();
        boolean clipped = false;
        for (int step = 0; step < learningRates.length; step++) {
          float[] x = step == 0 ? x0 : Batches.normal(BATCH, 410 + step);
          float[] y = step == 0 ? y0 : Batches.normal(BATCH, 420 + step);
          int[] ts = step == 0 ? ts0 : Batches.timesteps(BATCH.batch(), 100, 430 + step);
          int adamT = step + 1;
          double lr = learningRates[step];
          StateDict before = m.stateDict();
          StateDict g;
          try (TensorScope s = t().openScope()) {
            g = m.gradients(t().fromArray(x, BATCH), ts, t().fromArray(y, BATCH));
          }
          double norm = Math.sqrt(sumOfSquares(g));
          double coef = Math.min(1.0, opt.maxGradNorm() / (norm + 1e-6));
          clipped |= coef < 1;
          Map<String, float[]> expected = new LinkedHashMap<>();
          for (String name : before.names()) {
            float[] w = before.get(name).toArray();
            float[] gv = g.get(name).toArray();
            double[] mv = first.computeIfAbsent(name, k -> new double[w.length]);
            double[] vv = second.computeIfAbsent(name, k -> new double[w.length]);
            float[] out = new float[w.length];
            for (int i = 0; i < w.length; i++) {
              double grad = coef * gv[i] + opt.weightDecay() * w[i];
              mv[i] = opt.beta1() * mv[i] + (1 - opt.beta1()) * grad;
              vv[i] = opt.beta2() * vv[i] + (1 - opt.beta2()) * grad * grad;
              double mHat = mv[i] / (1 - Math.pow(opt.beta1(), adamT));
              double vHat = vv[i] / (1 - Math.pow(opt.beta2(), adamT));
              out[i] = (float) (w[i] - lr * mHat / (Math.sqrt(vHat) + opt.epsilon()));
            }
            expected.put(name, out);
          }
          try (TensorScope s = t().openScope()) {
            m.step(t().fromArray(x, BATCH), ts, t().fromArray(y, BATCH), lr);
          }
          String at = "clip " + clipFactor + " x the norm, step " + adamT;
          assertEquals(adamT, m.stepCount(), at);
          StateDict after = m.stateDict();
          StateDict state = m.optimizerState();
          assertEquals((float) adamT, state.get("step").get(0), at + ": the state's step");
          for (String name : before.names()) {
            double dw = Batches.maxAbsDiff(expected.get(name), after.get(name).toArray());
            assertTrue(dw < 2e-7, at + ": " + name + " differs from torch.optim.Adam's update by " + dw);
            assertMoment(first.get(name), state.get(name + ".exp_avg").toArray(), at + ": " + name + ".exp_avg");
            assertMoment(second.get(name), state.get(name + ".exp_avg_sq").toArray(), at + ": " + name + ".exp_avg_sq");
          }
        }
        assertEquals(clipFactor < 1, clipped, "the threshold " + clipFactor + " x the first norm clips or not");
      }
    }
  }

  private static double sumOfSquares(StateDict d) {
    double sq = 0;
    for (String name : d.names()) {
      for (float v : d.get(name).toArray()) {
        sq += (double) v * v;
      }
    }
    return sq;
  }

  private static void assertMoment(double[] expected, float[] actual, String what) {
    double max = 0;
    double diff = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs(expected[i]));
      diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(diff <= 1e-5 * max, what + " differs by " + diff + " (largest " + max + ")");
  }

  @Test
  void stepsAcceptChangingBatchSizes() {
    // an epoch's last batch is smaller (PyTorch DataLoader semantics), and sampling uses other sizes
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel r = reference.createModel(SPEC, opt, 32);
        TrainableModel m = backend.createModel(SPEC, opt, 32)) {
      int[] sizes = {16, 5, 16, 1, 7};
      for (int step = 0; step < sizes.length; step++) {
        Shape shape = Shape.of(sizes[step], 3, 5, 5);
        float[] x = Batches.normal(shape, 140 + step);
        float[] y = Batches.normal(shape, 150 + step);
        int[] ts = Batches.timesteps(sizes[step], 100, 160 + step);
        double expected;
        try (TensorScope s = reference.openScope()) {
          expected = r.step(reference.fromArray(x, shape), ts, reference.fromArray(y, shape)).loss();
        }
        try (TensorScope s = t().openScope()) {
          TrainingStepResult o = m.step(t().fromArray(x, shape), ts, t().fromArray(y, shape));
          assertEquals(expected, o.loss(), 1e-5 * expected, "batch of " + sizes[step]);
          assertEquals(shape, o.prediction().shape());
          assertEquals(shape, m.predict(t().fromArray(x, shape), ts).shape());
        }
      }
      assertTrue(maxDiff(r.stateDict(), m.stateDict()) < TOL);
    }
  }

  @Test
  void optimizerStateResumesExactly() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel a = backend.createModel(SPEC, opt, 70);
        TrainableModel b = backend.createModel(SPEC, opt, 71)) {
      for (int step = 0; step < 6; step++) {
        if (step == 3) {
          b.loadStateDict(a.stateDict());
          b.loadOptimizerState(a.optimizerState());
          assertEquals(3, b.stepCount());
        }
        float[] x = Batches.normal(BATCH, 80 + step);
        float[] y = Batches.normal(BATCH, 90 + step);
        int[] ts = Batches.timesteps(BATCH.batch(), 100, step);
        try (TensorScope s = t().openScope()) {
          a.step(t().fromArray(x, BATCH), ts, t().fromArray(y, BATCH));
          if (step >= 3) {
            b.step(t().fromArray(x, BATCH), ts, t().fromArray(y, BATCH));
          }
        }
      }
      assertEquals(a.stateDict(), b.stateDict(), "resumed training is bit-identical");
      assertEquals(a.optimizerState(), b.optimizerState());
    }
  }

  @Test
  void emaFollowsItsDefinition() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-2), 100)) {
      assertEquals(m.stateDict(), m.emaStateDict(), "before any update the average is the weights");
      StateDict w0 = m.stateDict();
      m.updateEma(0.9);
      try (TensorScope s = t().openScope()) {
        m.step(t().fromArray(Batches.normal(BATCH, 1), BATCH), Batches.timesteps(16, 100, 1),
            t().fromArray(Batches.normal(BATCH, 2), BATCH));
      }
      StateDict w1 = m.stateDict();
      m.updateEma(0.75);
      StateDict ema = m.emaStateDict();
      for (String name : w0.names()) {
        float[] a = w0.get(name).toArray();
        float[] b = w1.get(name).toArray();
        float[] e = ema.get(name).toArray();
        for (int i = 0; i < a.length; i++) {
          assertEquals(0.75 * a[i] + 0.25 * b[i], e[i], 1e-6, name + "[" + i + "]");
        }
      }
      try (TrainableModel other = backend.createModel(SPEC, OptimizerSpec.adam(1e-2), 101)) {
        other.loadEmaStateDict(ema);
        assertEquals(ema, other.emaStateDict());
      }
    }
  }

  @Test
  void predictRejectsWrongShapes() {
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t().openScope()) {
      Tensor wrong = t().zeros(Shape.of(2, 1, 5, 5));
      assertThrows(IllegalArgumentException.class, () -> m.predict(wrong, new int[] {0, 0}));
      Tensor ok = t().zeros(Shape.of(2, 3, 5, 5));
      assertThrows(IllegalArgumentException.class, () -> m.predict(ok, new int[] {0}));
    }
  }

  /**
   * A model whose backend was closed (its parameters freed) refuses a pass with the backend's own message
   * instead of running it on freed memory (a step, the parameters' own); the input tensors, in a scope still open, are not the backend's to
   * keep alive.
   */
  @Test
  void passesOfAModelWhoseBackendClosedAreRefused() {
    Backend other = createBackend();
    TrainableModel m = other.createModel(SPEC, OptimizerSpec.adam(1e-3), 7);
    TensorScope scope = other.tensors().openScope();
    Tensor x = other.tensors().fromArray(Batches.normal(BATCH, 1), BATCH);
    int[] ts = Batches.timesteps(BATCH.batch(), 100, 2);
    m.predict(x, ts);
    other.close();
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> m.predict(x, ts));
    assertEquals("the " + other.name() + " backend is closed", refused.getMessage());
    // a step reaches the parameters (zeroing their gradient) before its pass
    IllegalStateException step = assertThrows(IllegalStateException.class, () -> m.step(x, ts, x));
    assertTrue(step.getMessage().contains("closed"), step.getMessage());
    scope.close();
    m.close();
  }
}
