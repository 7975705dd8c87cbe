package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.NetworkModel;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.UNetReference;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the contract cannot see of the U-Net on this backend's layer kinds: a batch run in several passes
 * (the memory bound) gives the one-pass results, the convolution paths the contract's tiny nets do not take
 * agree with the reference module, and the workspaces stop growing once a batch size has run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Nd4jConvModelTest {
  /**
   * Two passes add their gradients in another order and OpenBLAS blocks products of other widths
   * differently: float32 sums of a few thousand terms then differ by ~1e-6 of their scale.
   */
  private static final double TOL = 2e-5;

  /** Three levels (two downsamplings, a stride-2 path in both directions), dropout, a 12x8 image. */
  private static final UNetSpec SPEC =
      new UNetSpec(Shape.of(2, 12, 8), 1000, 8, List.of(1, 2, 2), 1, true, 4, 0.2);

  private Backend backend;
  private TensorFactory t;
  private final List<Nd4jBackend> backends = new ArrayList<>();

  @BeforeAll
  void open() {
    backend = Nd4jTests.createBackend();
    t = backend.tensors();
  }

  @AfterAll
  void close() {
    for (Nd4jBackend b : backends) {
      b.close();
    }
    backend.close();
  }

  /**
   * A model on a backend whose passes hold about {@code items} items of this network's activations (a
   * backend per model, closed with the test class).
   */
  private NetworkModel model(int items, long seed) {
    long perItem = 4 * SPEC.network().activationFloatsPerItem(true);
    Nd4jBackend b = new Nd4jBackend(NativeRuntime.load(1), perItem * items, 1);
    backends.add(b);
    NetworkModel m = NetworkModel.create(SPEC, b.layers(), t, OptimizerSpec.adam(1e-3), seed);
    m.loadStateDict(UNetReference.testWeights(SPEC, 3));
    return m;
  }

  /** How many items a pass of a model's backend takes, as the model computes it. */
  private static long itemsPerPass(NetworkModel m, Backend b) {
    return b.layers().passMemoryBytes() / (4 * m.network().activationFloatsPerItem(true));
  }

  private static double relativeDiff(float[] expected, float[] actual) {
    double scale = 0;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    return Batches.maxAbsDiff(expected, actual) / scale;
  }

  private static double relativeDiff(StateDict expected, StateDict actual) {
    double worst = 0;
    for (String name : expected.names()) {
      worst = Math.max(worst, relativeDiff(expected.get(name).toArray(), actual.get(name).toArray()));
    }
    return worst;
  }

  @Test
  void aBatchInSeveralPassesGivesTheOnePassResults() {
    Shape shape = Shape.batchOf(7, SPEC.imageShape());
    float[] x = Batches.normal(shape, 1);
    float[] y = Batches.normal(shape, 2);
    int[] ts = Batches.timesteps(7, 1000, 3);
    try (NetworkModel whole = model(7, 9);
        NetworkModel split = model(3, 9)) {
      // each model runs on its own backend (its pass budget): its tensors come from that backend
      Nd4jBackend wb = backends.get(backends.size() - 2);
      Nd4jBackend sb = backends.get(backends.size() - 1);
      assertEquals(7, itemsPerPass(whole, wb));
      assertEquals(3, itemsPerPass(split, sb));
      Tensor xw = wb.fromArray(x, shape);
      Tensor yw = wb.fromArray(y, shape);
      Tensor xs = sb.fromArray(x, shape);
      Tensor ys = sb.fromArray(y, shape);
      double d = relativeDiff(whole.predict(xw, ts).toFloatArray(), split.predict(xs, ts).toFloatArray());
      assertTrue(d < TOL, "prediction differs by " + d);
      d = relativeDiff(whole.gradients(xw, ts, yw), split.gradients(xs, ts, ys));
      assertTrue(d < TOL, "gradients differ by " + d);
      // a training step with dropout: each pass takes its items' part of the batch's masks
      for (int i = 0; i < 2; i++) {
        if (i > 0) {
          // Adam's first step moves each weight by about lr = 1e-3 whatever its gradient's size, so where a
          // gradient is near zero its rounding can turn the update around: the two models then differ by far
          // more than rounding (2.3e-5 of a prediction's scale was seen once on JDK 25). The second step starts
          // from the same weights and moments, so that it too differs by rounding only.
          split.loadStateDict(whole.stateDict());
          split.loadOptimizerState(whole.optimizerState());
        }
        TrainingStepResult a = whole.step(xw, ts, yw);
        TrainingStepResult b = split.step(xs, ts, ys);
        assertEquals(a.loss(), b.loss(), TOL * a.loss(), "loss of step " + (i + 1));
        d = relativeDiff(a.prediction().toFloatArray(), b.prediction().toFloatArray());
        assertTrue(d < TOL, "step prediction differs by " + d);
      }
      // Adam's first moment is linear in the gradients, so it agrees like them
      StateDict mw = whole.optimizerState();
      StateDict ms = split.optimizerState();
      for (String name : mw.names()) {
        if (name.endsWith(".exp_avg")) {
          d = relativeDiff(mw.get(name).toArray(), ms.get(name).toArray());
          assertTrue(d < TOL, name + " differs by " + d);
        }
      }
      // the second step from the same weights: where a gradient is near zero an update can still turn around
      // (2 lr apart), and everywhere else the weights differ by far less
      StateDict ww = whole.stateDict();
      StateDict ws = split.stateDict();
      for (String name : ww.names()) {
        double diff = Batches.maxAbsDiff(ww.get(name).toArray(), ws.get(name).toArray());
        assertTrue(diff <= 2e-3 * (1 + 1e-3), "weights " + name + " after the second step differ by " + diff);
      }
    }
  }

  /**
   * The reference script computes a net with a stride-2 downsampling of a non-square image and a
   * 1x1 shortcut at every level: outputs and gradients agree (where {@code /usr/bin/python3} has torch).
   */
  @Test
  void unevenShapesMatchTheReferenceModule(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
    String why = UNetReference.unavailable();
    org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    UNetSpec spec = new UNetSpec(Shape.of(3, 12, 8), 1000, 8, List.of(1, 2, 3), 1, true, 2, 0.0);
    Shape shape = Shape.batchOf(2, spec.imageShape());
    float[] x = Batches.normal(shape, 5);
    float[] y = Batches.normal(shape, 6);
    int[] ts = {17, 940};
    StateDict w = UNetReference.testWeights(spec, 7);
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t.openScope()) {
      m.loadStateDict(w);
      UNetReference.Result ref = UNetReference.run(spec, w, x, ts, y, null, tmp);
      double d = relativeDiff(ref.output(), m.predict(t.fromArray(x, shape), ts).toFloatArray());
      assertTrue(d < 1e-5, "relative output difference " + d);
      StateDict g = m.gradients(t.fromArray(x, shape), ts, t.fromArray(y, shape));
      for (var e : ref.gradients().entrySet()) {
        double gd = relativeDiff(e.getValue(), g.get(e.getKey()).toArray());
        assertTrue(gd < 1e-4, e.getKey() + ": relative gradient difference " + gd);
      }
    }
  }

  @Test
  void workspacesStopGrowingOnceABatchSizeHasRun() {
    Shape big = Shape.batchOf(5, SPEC.imageShape());
    Shape small = Shape.batchOf(2, SPEC.imageShape());
    try (NetworkModel m = model(3, 4)) {
      Nd4jBackend b = backends.get(backends.size() - 1);
      Nd4jLayers layers = b.nd4jLayers();
      long[] first = null;
      for (int round = 0; round < 4; round++) {
        try (TensorScope s = b.openScope()) {
          for (Shape shape : new Shape[] {big, small}) {
            Tensor x = b.fromArray(Batches.normal(shape, round), shape);
            int[] ts = Batches.timesteps(shape.batch(), 1000, round);
            m.step(x, ts, x);
            m.predict(x, ts);
          }
        }
        if (round == 0) {
          first = layers.footprint();
          assertTrue(first[0] > 0 && first[1] > 0, "nothing allocated?");
        } else {
          assertArrayEquals(first, layers.footprint(), "round " + round + ": {native, heap} floats");
        }
      }
    }
  }

  @Test
  void predictionsAndStepOutputsBelongToTheCallersScope() {
    Shape shape = Shape.batchOf(2, SPEC.imageShape());
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 4)) {
      Tensor p;
      TrainingStepResult out;
      try (TensorScope s = t.openScope()) {
        Tensor x = t.fromArray(Batches.normal(shape, 1), shape);
        p = m.predict(x, new int[] {1, 2});
        out = m.step(x, new int[] {1, 2}, x);
        assertEquals(shape, out.prediction().shape());
        float[] before = out.prediction().toFloatArray();
        m.step(x, new int[] {1, 2}, out.prediction());
        assertArrayEquals(before, out.prediction().toFloatArray(), "a later step leaves it alone");
      }
      assertTrue(((Nd4jTensor) p).isReleased(), "the prediction is released with its scope");
      assertTrue(((Nd4jTensor) out.prediction()).isReleased(), "the step's prediction too");
      assertThrows(IllegalStateException.class, () -> out.prediction().toFloatArray());
    }
  }
}
