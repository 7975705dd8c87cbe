package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.UNetReference;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the contract cannot see of the nd4j U-Net: a batch run in several passes (the memory bound) gives
 * the one-pass results, the convolution paths the contract's tiny nets do not take agree with the
 * reference, and the workspaces stop growing once a batch size has run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Nd4jUNetTest {
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

  @BeforeAll
  void open() {
    backend = Nd4jTests.createBackend();
    t = backend.tensors();
  }

  @AfterAll
  void close() {
    backend.close();
  }

  /** A model that runs {@code items} items per pass. */
  private Nd4jUNet model(int items, long seed) {
    Nd4jUNet probe = new Nd4jUNet((Nd4jBackend) backend, SPEC, OptimizerSpec.adam(1e-3), seed);
    long perItem = probe.floatsPerItem();
    probe.close();
    Nd4jUNet m = new Nd4jUNet((Nd4jBackend) backend, SPEC, OptimizerSpec.adam(1e-3), seed, perItem * items);
    m.loadStateDict(UNetReference.testWeights(SPEC, 3));
    return m;
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
    try (Nd4jUNet whole = model(7, 9);
        Nd4jUNet split = model(3, 9);
        TensorScope s = t.openScope()) {
      assertEquals(7, whole.itemsPerPass(7));
      assertEquals(3, split.itemsPerPass(7));
      Tensor xt = t.fromArray(x, shape);
      Tensor yt = t.fromArray(y, shape);
      double d = relativeDiff(whole.predict(xt, ts).toFloatArray(), split.predict(xt, ts).toFloatArray());
      assertTrue(d < TOL, "prediction differs by " + d);
      d = relativeDiff(whole.gradients(xt, ts, yt), split.gradients(xt, ts, yt));
      assertTrue(d < TOL, "gradients differ by " + d);
      // a training step with dropout: each pass takes its items' part of the batch's masks
      for (int i = 0; i < 2; i++) {
        StepOutput a = whole.step(xt, ts, yt);
        StepOutput b = split.step(xt, ts, yt);
        assertEquals(a.loss(), b.loss(), TOL * a.loss(), "loss of step " + (i + 1));
        d = relativeDiff(a.prediction().toFloatArray(), b.prediction().toFloatArray());
        assertTrue(d < TOL, "step prediction differs by " + d);
      }
      // Adam's first steps move each weight by about lr whatever the gradient's size: 1e-3 / scale
      d = relativeDiff(whole.stateDict(), split.stateDict());
      assertTrue(d < 1e-4, "weights after two steps differ by " + d);
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
    try (Nd4jUNet m = model(3, 4)) {
      long[] first = null;
      for (int round = 0; round < 4; round++) {
        try (TensorScope s = t.openScope()) {
          for (Shape shape : new Shape[] {big, small}) {
            Tensor x = t.fromArray(Batches.normal(shape, round), shape);
            int[] ts = Batches.timesteps(shape.batch(), 1000, round);
            m.step(x, ts, x);
            m.predict(x, ts);
          }
        }
        if (round == 0) {
          first = m.footprint();
          assertTrue(first[0] > 0 && first[1] > 0, "nothing allocated?");
        } else {
          assertArrayEquals(first, m.footprint(), "round " + round + ": {heap, native} floats");
        }
      }
    }
  }

  @Test
  void predictionsBelongToTheCallersScopeAndTheStepOutputToTheModel() {
    Shape shape = Shape.batchOf(2, SPEC.imageShape());
    try (Nd4jUNet m = model(2, 4)) {
      Tensor x;
      Tensor p;
      StepOutput out;
      try (TensorScope s = t.openScope()) {
        x = t.fromArray(Batches.normal(shape, 1), shape);
        p = m.predict(x, new int[] {1, 2});
        out = m.step(x, new int[] {1, 2}, x);
        assertEquals(shape, out.prediction().shape());
      }
      assertTrue(((Nd4jTensor) p).isReleased(), "the prediction is released with its scope");
      assertTrue(!((Nd4jTensor) out.prediction()).isReleased(), "the step's prediction is the model's until its next step");
      try (TensorScope s = t.openScope()) {
        Tensor x2 = t.fromArray(Batches.normal(shape, 2), shape);
        m.step(x2, new int[] {1, 2}, x2);
      }
      assertTrue(((Nd4jTensor) out.prediction()).isReleased(), "released by the next step");
      assertThrows(IllegalStateException.class, () -> out.prediction().toFloatArray());
    }
  }
}
