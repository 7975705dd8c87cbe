package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.diffusion4j.io.SafeTensors;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The U-Net contract: a backend's {@link UNetSpec} model has the reference module's state dict, starts
 * from the portable initialisation, computes the reference module's function and gradients (golden
 * numbers written by {@code docs/unet_reference.py}, and, where Python and PyTorch are installed, the
 * script itself on other shapes), agrees with finite differences, takes PyTorch's Adam step, applies the
 * portable dropout masks in training only, and predicts from many threads at once.
 *
 * <p>Tolerances: outputs and gradients are float32 computations of depth ~30 layers in which GroupNorm
 * renormalises every activation, so the differences between two float32 implementations (other summation
 * orders, other convolution algorithms) stay at a few 1e-6 of the values' scale (about 1); the checks
 * allow 1e-4, which a wrong layer, order or constant exceeds by orders of magnitude (a single weight
 * wrongly ordered moves outputs by ~1e-2).
 */
public abstract class UNetContractTest extends BackendFixture {
  private static final UNetReference.Golden GOLDEN = UNetReference.golden();
  private static final double TOL = 1e-4;

  /** A directory for the exchange with the reference script. */
  @TempDir Path tmp;

  private TensorFactory t() {
    return backend.tensors();
  }

  private UNetReference.Case tiny() {
    return GOLDEN.cases().get(0);
  }

  private static double relativeDiff(float[] expected, float[] actual) {
    double scale = 0;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    return Batches.maxAbsDiff(expected, actual) / Math.max(scale, 1e-12);
  }

  private float[] predict(TrainableModel m, float[] x, int[] ts, Shape shape) {
    try (TensorScope s = t().openScope()) {
      return m.predict(t().fromArray(x, shape), ts).toFloatArray();
    }
  }

  private StateDict gradients(TrainableModel m, float[] x, int[] ts, float[] y, Shape shape) {
    try (TensorScope s = t().openScope()) {
      return m.gradients(t().fromArray(x, shape), ts, t().fromArray(y, shape));
    }
  }

  @Test
  void stateDictHasTheReferenceModulesNamesOrderAndShapes() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
        StateDict sd = m.stateDict();
        List<String> names = new ArrayList<>(sd.names());
        assertEquals(c.entries().stream().map(UNetReference.Entry::name).toList(), names, c.name());
        assertEquals(List.copyOf(c.spec().parameterShapes().keySet()), names, c.name());
        for (UNetReference.Entry e : c.entries()) {
          assertEquals(Shape.of(e.shape()), sd.get(e.name()).shape(), c.name() + " " + e.name());
        }
      }
    }
  }

  @Test
  void initialWeightsAreThePortableInitialisation() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), GOLDEN.initSeed())) {
        StateDict w = m.stateDict();
        assertEquals(c.spec().initialWeights(GOLDEN.initSeed()), w, "bit-identical initial weights");
        assertEquals(0, m.stepCount());
        for (UNetReference.Entry e : c.entries()) {
          float[] v = w.get(e.name()).toArray();
          float[] head = java.util.Arrays.copyOf(v, e.initHead().length);
          // the Python port of the rule gives the same floats: both round the same double
          assertArrayEquals(e.initHead(), head, c.name() + " " + e.name());
          double sum = 0;
          for (float f : v) {
            sum += f;
          }
          // sums of <= 70k floats below 1 in double: orders of summation differ by < 1e-10
          assertEquals(e.initSum(), sum, 1e-9, c.name() + " " + e.name());
        }
      }
    }
  }

  @Test
  void outputMatchesTheReferenceModule() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
        m.loadStateDict(UNetReference.testWeights(c.spec(), GOLDEN.weightSeed()));
        float[] out = predict(m, UNetReference.input(c.batch().size()), c.timesteps(), c.batch());
        double d = relativeDiff(c.output(), out);
        assertTrue(d < TOL, c.name() + ": relative difference to the reference module " + d);
      }
    }
  }

  @Test
  void gradientsMatchTheReferenceModule() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
        StateDict w = UNetReference.testWeights(c.spec(), GOLDEN.weightSeed());
        m.loadStateDict(w);
        int n = c.batch().size();
        StateDict g =
            gradients(m, UNetReference.input(n), c.timesteps(), UNetReference.target(n), c.batch());
        assertEquals(w, m.stateDict(), "gradients() does not change the weights");
        for (UNetReference.Entry e : c.entries()) {
          float[] v = g.get(e.name()).toArray();
          double l2 = 0;
          for (float f : v) {
            l2 += (double) f * f;
          }
          l2 = Math.sqrt(l2);
          String what = c.name() + " " + e.name();
          assertEquals(e.gradL2(), l2, TOL * e.gradL2() + 1e-9, what + " gradient norm");
          for (int i = 0; i < e.gradHead().length; i++) {
            assertEquals(e.gradHead()[i], v[i], TOL * e.gradL2() + 1e-9, what + " gradient[" + i + "]");
          }
        }
      }
    }
  }

  /** Mean squared error of the backend's forward pass, accumulated in double. */
  private double loss(TrainableModel m, float[] x, int[] ts, float[] y, Shape shape) {
    float[] out = predict(m, x, ts, shape);
    double sum = 0;
    for (int i = 0; i < out.length; i++) {
      double d = (double) out[i] - y[i];
      sum += d * d;
    }
    return sum / out.length;
  }

  private static StateDict moved(StateDict w, String name, float[] direction, double eps) {
    Map<String, FloatArray> m = new LinkedHashMap<>(w.entries());
    float[] v = w.get(name).toArray();
    for (int i = 0; i < v.length; i++) {
      v[i] += (float) (eps * direction[i]);
    }
    m.put(name, FloatArray.wrap(w.get(name).shape(), v));
    return StateDict.of(m);
  }

  /**
   * For every entry of the tiny U-Net, the directional derivative along the entry's own gradient and
   * along a random unit direction equals the central difference {@code (L(w + eps v) - L(w - eps v)) / (2
   * eps)}. With {@code eps = 1e-2} the truncation error ({@code eps^2} times third derivatives of order 1)
   * and float32 noise in the loss (~1e-7 / eps) both stay near 1e-4, so the check allows {@code 2e-3 + 2%};
   * a gradient with a wrong sign, factor or index misses by far more.
   */
  @Test
  void gradientsMatchFiniteDifferences() {
    UNetReference.Case c = tiny();
    Shape shape = c.batch();
    float[] x = UNetReference.input(shape.size());
    float[] y = UNetReference.target(shape.size());
    int[] ts = c.timesteps();
    double eps = 1e-2;
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
      StateDict w = UNetReference.testWeights(c.spec(), 7);
      m.loadStateDict(w);
      StateDict g = gradients(m, x, ts, y, shape);
      int index = 0;
      for (String name : w.names()) {
        float[] gv = g.get(name).toArray();
        float[] random = Noise.seeded(3).split(index++).normals(gv.length);
        for (float[] dir : List.of(gv, random)) {
          double norm = 0;
          for (float f : dir) {
            norm += (double) f * f;
          }
          norm = Math.sqrt(norm);
          if (norm == 0) {
            continue;
          }
          float[] v = new float[dir.length];
          double analytic = 0;
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) (dir[i] / norm);
            analytic += (double) gv[i] * v[i];
          }
          m.loadStateDict(moved(w, name, v, eps));
          double plus = loss(m, x, ts, y, shape);
          m.loadStateDict(moved(w, name, v, -eps));
          double minus = loss(m, x, ts, y, shape);
          double numeric = (plus - minus) / (2 * eps);
          assertEquals(numeric, analytic, 2e-3 + 0.02 * Math.abs(analytic),
              name + (dir == gv ? " along its gradient" : " along a random direction"));
        }
      }
    }
  }

  /**
   * The first Adam step moves every weight by {@code -lr g / (|g| + eps)} (bias corrections cancel at
   * step 1), {@code g} the gradient {@link TrainableModel#gradients} reports: this pins the order in which
   * the backend flattens its gradients for the fused update. Tolerance 1e-6: weights below 2 in float32
   * carry rounding of 1e-7, and a mismatched entry moves by up to {@code 2 lr = 2e-3}.
   */
  @Test
  void firstAdamStepFollowsTheGradients() {
    UNetReference.Case c = tiny();
    Shape shape = c.batch();
    float[] x = UNetReference.input(shape.size());
    float[] y = UNetReference.target(shape.size());
    double lr = 1e-3;
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(lr), 1)) {
      StateDict w = UNetReference.testWeights(c.spec(), 11);
      m.loadStateDict(w);
      StateDict g = gradients(m, x, ts(c), y, shape);
      double loss;
      try (TensorScope s = t().openScope()) {
        TrainingStepResult out = m.step(t().fromArray(x, shape), ts(c), t().fromArray(y, shape));
        loss = out.loss();
        double direct = 0;
        float[] p = out.prediction().toFloatArray();
        for (int i = 0; i < p.length; i++) {
          direct += ((double) p[i] - y[i]) * ((double) p[i] - y[i]);
        }
        assertEquals(direct / p.length, loss, 1e-6 * loss, "the step's loss is that of its prediction");
      }
      assertEquals(1, m.stepCount());
      StateDict after = m.stateDict();
      for (String name : w.names()) {
        float[] w0 = w.get(name).toArray();
        float[] w1 = after.get(name).toArray();
        float[] gv = g.get(name).toArray();
        for (int i = 0; i < w0.length; i++) {
          double expected = w0[i] - lr * gv[i] / (Math.abs(gv[i]) + 1e-8);
          assertEquals(expected, w1[i], 1e-6, name + "[" + i + "]");
        }
      }
    }
  }

  private static int[] ts(UNetReference.Case c) {
    return c.timesteps();
  }

  @Test
  void adamStepsLowerTheLossOnAFixedBatch() {
    UNetSpec spec = tiny().spec();
    Shape shape = Shape.batchOf(8, spec.imageShape());
    float[] x = Batches.normal(shape, 1);
    float[] y = Batches.normal(shape, 2);
    int[] ts = Batches.timesteps(8, spec.numTrainTimesteps(), 3);
    try (TrainableModel m = backend.createModel(spec, new OptimizerSpec(2e-3, 0.9, 0.999, 1e-8, 0.0, 1.0), 5)) {
      double first = 0;
      double last = 0;
      for (int i = 0; i < 30; i++) {
        try (TensorScope s = t().openScope()) {
          double l = m.step(t().fromArray(x, shape), ts, t().fromArray(y, shape)).loss();
          if (i == 0) {
            first = l;
          }
          last = l;
        }
      }
      // the model starts by predicting 0 (zero-initialised conv_out), so the first loss is mean(y^2) ~ 1;
      // 30 steps on one batch of 8 learn part of it
      assertEquals(1.0, first, 0.2);
      assertTrue(last < 0.9 * first, "loss " + first + " -> " + last);
      assertEquals(30, m.stepCount());
    }
  }

  @Test
  void predictIsThreadSafe() throws Exception {
    UNetReference.Case c = tiny();
    Shape shape = Shape.batchOf(4, c.spec().imageShape());
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 8)) {
      m.loadStateDict(UNetReference.testWeights(c.spec(), 8));
      List<float[]> inputs = new ArrayList<>();
      List<float[]> sequential = new ArrayList<>();
      int[] ts = Batches.timesteps(4, 1000, 9);
      for (int i = 0; i < 6; i++) {
        float[] x = Batches.normal(shape, 100 + i);
        inputs.add(x);
        sequential.add(predict(m, x, ts, shape));
      }
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        for (int round = 0; round < 3; round++) {
          List<Future<float[]>> futures = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            float[] x = inputs.get(i);
            futures.add(pool.submit(() -> predict(m, x, ts, shape)));
          }
          for (int i = 0; i < 6; i++) {
            assertArrayEquals(sequential.get(i), futures.get(i).get(), "thread " + i);
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static UNetSpec withDropout(UNetSpec s, double p) {
    return new UNetSpec(s.imageShape(), s.numTrainTimesteps(), s.baseChannels(), s.channelMult(),
        s.numResBlocks(), s.attention(), s.groups(), p);
  }

  /**
   * Dropout acts in training steps only, with the portable masks: predictions ignore it, two models with
   * the same seed take the same step, and the step's loss is the loss of the masked forward pass, which
   * (with the masks of {@link UNetSpec#dropoutMask}) differs from the unmasked one.
   */
  @Test
  void dropoutUsesThePortableMasksInTrainingOnly() {
    UNetReference.Case c = tiny();
    UNetSpec spec = withDropout(c.spec(), 0.3);
    Shape shape = c.batch();
    float[] x = UNetReference.input(shape.size());
    float[] y = UNetReference.target(shape.size());
    StateDict w = UNetReference.testWeights(spec, 5);
    try (TrainableModel a = backend.createModel(spec, OptimizerSpec.adam(1e-3), 77);
        TrainableModel b = backend.createModel(spec, OptimizerSpec.adam(1e-3), 77);
        TrainableModel plain = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 77)) {
      a.loadStateDict(w);
      b.loadStateDict(w);
      plain.loadStateDict(w);
      assertArrayEquals(predict(plain, x, c.timesteps(), shape), predict(a, x, c.timesteps(), shape),
          "no dropout when predicting");
      double unmasked = loss(plain, x, c.timesteps(), y, shape);
      double la;
      double lb;
      try (TensorScope s = t().openScope()) {
        la = a.step(t().fromArray(x, shape), c.timesteps(), t().fromArray(y, shape)).loss();
        lb = b.step(t().fromArray(x, shape), c.timesteps(), t().fromArray(y, shape)).loss();
      }
      assertEquals(la, lb, 0.0, "same seed, same masks");
      assertEquals(a.stateDict(), b.stateDict());
      assertNotEquals(unmasked, la, 1e-3, "the masks change the training forward pass");
    }
  }

  @Test
  void badInputIsRejectedWithItsName() {
    UNetReference.Case c = tiny();
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t().openScope()) {
      int[] late = {0, 1000};
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> m.predict(t().zeros(c.batch()), late));
      assertTrue(e.getMessage().contains("timestep 1000 at index 1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> m.predict(t().zeros(Shape.of(2, 1, 8, 9)), new int[2]));
      assertTrue(e.getMessage().contains("unet"), e.getMessage());
      StateDict good = c.spec().initialWeights(1);
      Map<String, FloatArray> bad = new LinkedHashMap<>(good.entries());
      bad.remove("mid.attn_1.qkv.bias");
      e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(StateDict.of(bad)));
      assertTrue(e.getMessage().contains("mid.attn_1.qkv.bias"), e.getMessage());
    }
  }

  @Test
  void optimizerStateAndAverageRoundTrip() {
    UNetReference.Case c = tiny();
    Shape shape = c.batch();
    float[] x = UNetReference.input(shape.size());
    float[] y = UNetReference.target(shape.size());
    try (TrainableModel a = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 3);
        TrainableModel b = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 4)) {
      for (int i = 0; i < 2; i++) {
        try (TensorScope s = t().openScope()) {
          a.step(t().fromArray(x, shape), c.timesteps(), t().fromArray(y, shape));
        }
        a.updateEma(0.9);
      }
      b.loadStateDict(a.stateDict());
      b.loadOptimizerState(a.optimizerState());
      b.loadEmaStateDict(a.emaStateDict());
      assertEquals(2, b.stepCount());
      try (TensorScope s = t().openScope()) {
        double la = a.step(t().fromArray(x, shape), c.timesteps(), t().fromArray(y, shape)).loss();
        double lb = b.step(t().fromArray(x, shape), c.timesteps(), t().fromArray(y, shape)).loss();
        assertEquals(la, lb, 0.0);
      }
      assertEquals(a.stateDict(), b.stateDict(), "resumed training is exact");
    }
  }

  /**
   * A model's weights written as {@code model.safetensors} load in the reference script, which then
   * predicts what the model predicts (where {@code /usr/bin/python3} has PyTorch).
   */
  @Test
  void savedWeightsLoadInTheReferenceScript() {
    String why = UNetReference.unavailable();
    assumeTrue(why == null, () -> "skipped: " + why);
    UNetReference.Case c = GOLDEN.cases().get(1);
    Shape shape = c.batch();
    float[] x = Batches.normal(shape, 41);
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
      m.loadStateDict(UNetReference.testWeights(c.spec(), 42));
      Path file = tmp.resolve("model.safetensors");
      SafeTensors.write(file, m.stateDict(), Map.of());
      float[] expected = UNetReference.predictFile(file, c.spec().groups(), x, shape, c.timesteps(), tmp);
      double d = relativeDiff(expected, predict(m, x, c.timesteps(), shape));
      assertTrue(d < TOL, "relative output difference " + d);
    }
  }

  /**
   * Where {@code /usr/bin/python3} has PyTorch, the reference script itself computes a larger U-Net (three
   * levels, two blocks per level, 16x16) on dense weights: output and every gradient must agree, and the
   * loss of a training step with dropout equals the script's loss with the same portable masks.
   */
  @Test
  void matchesTheLiveReferenceModule() {
    String why = UNetReference.unavailable();
    assumeTrue(why == null, () -> "skipped: " + why);
    UNetSpec spec = new UNetSpec(Shape.of(2, 16, 16), 1000, 16, List.of(1, 2, 2), 2, true, 4, 0.25);
    Shape shape = Shape.batchOf(3, spec.imageShape());
    float[] x = Batches.normal(shape, 31);
    float[] y = Batches.normal(shape, 32);
    int[] ts = {5, 500, 999};
    StateDict w = UNetReference.testWeights(spec, 33);
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 34)) {
      m.loadStateDict(w);
      UNetReference.Result ref = UNetReference.run(spec, w, x, ts, y, null, tmp);
      assertEquals(ref.names(), List.copyOf(m.stateDict().names()));
      double d = relativeDiff(ref.output(), predict(m, x, ts, shape));
      assertTrue(d < TOL, "relative output difference " + d);
      StateDict g = gradients(m, x, ts, y, shape);
      for (Map.Entry<String, float[]> e : ref.gradients().entrySet()) {
        double gd = relativeDiff(e.getValue(), g.get(e.getKey()).toArray());
        assertTrue(gd < 1e-3, e.getKey() + ": relative gradient difference " + gd);
      }

      List<float[]> masks = new ArrayList<>();
      List<UNetSpec.ResBlock> blocks = spec.resBlocks();
      for (int i = 0; i < blocks.size(); i++) {
        UNetSpec.ResBlock b = blocks.get(i);
        int size = shape.batch() * spec.activation(b.level(), b.outChannels()).size();
        masks.add(spec.dropoutMask(34, 1, i, size));
      }
      UNetReference.Result masked = UNetReference.run(spec, w, x, ts, y, masks, tmp);
      double loss;
      try (TensorScope s = t().openScope()) {
        loss = m.step(t().fromArray(x, shape), ts, t().fromArray(y, shape)).loss();
      }
      assertEquals(masked.loss(), loss, TOL * masked.loss(), "training loss with the portable dropout masks");
    }
  }
}
