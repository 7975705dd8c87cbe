package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.NetworkModel;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.PassMemory;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The layer kinds on libtorch against the reference kernels (plain Java, double sums) in the settings that the
 * api's MLP and U-Net do not use (a group norm of vectors, a scaled and broadcast sum, a stride-2 convolution
 * padded right and bottom only, a stride-3 one, a 1x1 weight stored as a linear one, two attention heads, three
 * inputs concatenated, upsampling by three), the kinds that are differentiated by hand in a network of only them,
 * and the passes' bookkeeping: a batch split into one-item passes
 * gives the gradient, the steps and the predictions of the whole batch.
 */
class DjlLayersTest extends DjlBackendTest {
  private static final Shape IMAGE = Shape.of(4, 6, 6);
  private static final Shape BATCH = Shape.batchOf(5, IMAGE);

  /** A small network of layer kinds, with its own parameter shapes and random weights. */
  static final class Probe implements ModelSpec {
    private final Map<String, int[]> shapes;
    private final BiFunction<NetworkBuilder, Node, Node> body;

    private Probe(Map<String, int[]> shapes, BiFunction<NetworkBuilder, Node, Node> body) {
      this.shapes = shapes;
      this.body = body;
    }

    /** A network that uses every layer kind, most of them in a setting the api's networks do not use. */
    static Probe everyKind() {
      Map<String, int[]> shapes = new LinkedHashMap<>();
      shapes.put("down.weight", new int[] {8, 4, 3, 3});
      shapes.put("down.bias", new int[] {8});
      shapes.put("gn.weight", new int[] {8});
      shapes.put("gn.bias", new int[] {8});
      shapes.put("tl.weight", new int[] {8, 8});
      shapes.put("tl.bias", new int[] {8});
      shapes.put("tn.weight", new int[] {8});
      shapes.put("tn.bias", new int[] {8});
      shapes.put("qkv.weight", new int[] {24, 8}); // a 1x1 convolution's weight stored as a linear one
      shapes.put("qkv.bias", new int[] {24});
      shapes.put("s3.weight", new int[] {4, 16, 3, 3});
      shapes.put("s3.bias", new int[] {4});
      shapes.put("o.weight", new int[] {4, 16, 3, 3});
      shapes.put("o.bias", new int[] {4});
      shapes.put("fin.weight", new int[] {144, 144});
      shapes.put("fin.bias", new int[] {144});
      return new Probe(shapes, (b, x) -> {
        Node a = b.conv("down", x, 8, 3, 2, new Layer.Padding(0, 0, 1, 1)); // [8, 3, 3]
        a = b.silu(b.groupNorm("gn", a, 4, 1e-6));
        Node e = b.timestepEmbedding(new Layer.TimestepEmbedding(8, false, 1, 10000, Layer.Precision.DOUBLE));
        e = b.relu(b.groupNorm("tn", b.linear("tl", e, 8), 2, 1e-5)); // a group norm of vectors, then ReLU
        a = b.add(a, e, 0.5); // broadcast over positions, scaled
        Node qkv = b.conv("qkv", a, 24, 1, 1, Layer.Padding.of(0));
        Node att =
            b.attention(b.sliceChannels(qkv, 0, 8), b.sliceChannels(qkv, 8, 16), b.sliceChannels(qkv, 16, 24), 2);
        a = b.dropout(b.add(a, att), 0.3, 77, 0);
        Node c = b.concat(b.upsample(a, 2), x, b.relu(x)); // [16, 6, 6]
        Node s = b.upsample(b.conv("s3", c, 4, 3, 3, Layer.Padding.of(1)), 3); // [4, 2, 2] -> [4, 6, 6]
        Node out = b.add(s, b.conv("o", c, 4, 3, 1, Layer.Padding.of(1)));
        Node flat = b.linear("fin", b.reshape(out, Shape.of(144)), 144);
        return b.reshape(flat, IMAGE);
      });
    }

    /**
     * A network of only the kinds that the DJL kernels differentiate by hand, in settings the MLP does not use:
     * SiLU, a linear layer without bias, a value read twice by a concatenation of three parts whose gradients are
     * all needed (so they are summed), a reshape between two vector shapes.
     */
    static Probe handDifferentiated() {
      Map<String, int[]> shapes = new LinkedHashMap<>();
      shapes.put("a.weight", new int[] {12, 145});
      shapes.put("a.bias", new int[] {12});
      shapes.put("b.weight", new int[] {6, 145});
      shapes.put("c.weight", new int[] {144, 30});
      shapes.put("c.bias", new int[] {144});
      return new Probe(shapes, (b, x) -> {
        Node in = b.concat(b.timestepScale(10), b.reshape(x, Shape.of(144))); // [145]
        Node a = b.silu(b.linear("a", in, 12));
        Node h = b.concat(a, b.relu(b.linear("b", in, 6, false)), a); // [30]
        Node wide = b.reshape(b.reshape(h, Shape.of(30, 1)), Shape.of(30));
        return b.reshape(b.linear("c", wide, 144), IMAGE);
      });
    }

    @Override
    public String kind() {
      return "probe";
    }

    @Override
    public Shape imageShape() {
      return IMAGE;
    }

    @Override
    public int numTrainTimesteps() {
      return 10;
    }

    @Override
    public Map<String, int[]> parameterShapes() {
      return shapes;
    }

    @Override
    public StateDict initialWeights(long seed) {
      StateDict.Builder b = StateDict.builder();
      long i = 0;
      for (Map.Entry<String, int[]> e : shapes.entrySet()) {
        Shape s = Shape.of(e.getValue());
        float[] v = new float[s.size()];
        Noise.seeded(seed).split(i++).fillNormal(v, 0, v.length);
        double scale = e.getKey().startsWith("fin") ? 0.08 : 0.4;
        for (int j = 0; j < v.length; j++) {
          v[j] = (float) (v[j] * scale + (e.getKey().endsWith("n.weight") ? 1 : 0));
        }
        b.put(e.getKey(), FloatArray.wrap(s, v));
      }
      return b.build();
    }

    @Override
    public Network network() {
      NetworkBuilder b = new NetworkBuilder(shapes);
      return b.build(body.apply(b, b.input(IMAGE)));
    }
  }

  private static double scaleOf(float[] v) {
    double m = 1e-30;
    for (float f : v) {
      m = Math.max(m, Math.abs(f));
    }
    return m;
  }

  /** The largest difference of two state dicts' entries, relative to each reference entry's largest value. */
  private static double relativeDifference(StateDict expected, StateDict actual) {
    double worst = 0;
    for (Map.Entry<String, FloatArray> e : expected.entries().entrySet()) {
      float[] ref = e.getValue().toArray();
      float[] got = actual.get(e.getKey()).toArray();
      worst = Math.max(worst, Batches.maxAbsDiff(ref, got) / scaleOf(ref));
    }
    return worst;
  }

  /** The largest difference of two state dicts' values. */
  private static double absoluteDifference(StateDict expected, StateDict actual) {
    double worst = 0;
    for (Map.Entry<String, FloatArray> e : expected.entries().entrySet()) {
      worst = Math.max(worst, Batches.maxAbsDiff(e.getValue().toArray(), actual.get(e.getKey()).toArray()));
    }
    return worst;
  }

  private record Run(float[] prediction, StateDict gradients, StateDict weights, double loss) {}

  /** A prediction, a gradient, then three Adam steps (with dropout masks), on one backend. */
  private static Run run(TrainableModel m, Backend b) {
    float[] x = Batches.normal(BATCH, 1);
    float[] y = Batches.normal(BATCH, 2);
    int[] ts = {0, 3, 9, 5, 7};
    try (TensorScope s = b.tensors().openScope()) {
      Tensor xt = b.tensors().fromArray(x, BATCH);
      Tensor yt = b.tensors().fromArray(y, BATCH);
      float[] prediction = m.predict(xt, ts).toFloatArray();
      StateDict gradients = m.gradients(xt, ts, yt);
      double loss = 0;
      for (int i = 0; i < 3; i++) {
        loss = m.step(xt, ts, yt).loss();
      }
      return new Run(prediction, gradients, m.stateDict(), loss);
    }
  }

  /**
   * Tolerances, 1e-5 relative throughout (the bound; measured: outputs 7e-7, gradients 5e-7, weights
   * 1.4e-6): outputs are sums of at most 144 float32 products after a handful of layers, which libtorch sums in
   * float32 and the reference in double; gradients are relative to each parameter's largest gradient; weights
   * after three Adam steps (lr 1e-3) relative to each parameter's largest weight (Adam divides by the gradient's
   * root mean square, so float rounding of near-zero gradients moves weights by a little more).
   */
  @Test
  void everyLayerKindMatchesTheReferenceKernels() {
    Probe spec = Probe.everyKind();
    OptimizerSpec adam = new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0);
    Run djl;
    try (TrainableModel m = backend.createModel(spec, adam, 5)) {
      djl = run(m, backend);
    }
    ReferenceBackend ref = new ReferenceBackend();
    Run expected;
    try (TrainableModel m = ref.createModel(spec, adam, 5)) {
      expected = run(m, ref);
    }
    double out = Batches.maxAbsDiff(expected.prediction(), djl.prediction()) / scaleOf(expected.prediction());
    double grad = relativeDifference(expected.gradients(), djl.gradients());
    double weights = relativeDifference(expected.weights(), djl.weights());
    String report = String.format(Locale.ROOT, "output %.2e, gradients %.2e, weights %.2e", out, grad, weights);
    System.out.println("djl against the reference kernels: " + report);
    assertTrue(out < 1e-5, report);
    assertTrue(grad < 1e-5, report);
    assertTrue(weights < 1e-5, report);
    assertEquals(expected.loss(), djl.loss(), 1e-5 * expected.loss(), report);
  }

  /**
   * A layer's view of a parameter must have the parameter's size, and one of another size is refused by the store
   * with an {@link IllegalArgumentException} that names the parameter and both shapes, before libtorch sees it (its
   * own error names neither, and a view of another size would read a neighbouring parameter's values).
   */
  @Test
  void aParameterViewOfAnotherSizeIsRefused() {
    Map<String, int[]> layout = new LinkedHashMap<>();
    layout.put("a", new int[] {2, 3});
    layout.put("b", new int[] {4});
    try (DjlParameters p = (DjlParameters) backend.layers().parameters(layout)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.leaf("a", 5));
      assertEquals("djl: parameter 'a' [2, 3] cannot be viewed as [5]", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> p.leaf("a", 7));
      assertThrows(IllegalArgumentException.class, () -> p.leaf("b", 3));
      assertEquals(6, p.leaf("a", 3, 2).size());
    }
  }

  /**
   * Kernels that view one parameter with the same dimensions share its leaf, so libtorch sums their uses' gradients
   * in it; a view of other dimensions (a 1x1 convolution's weight read as a linear layer's) is a leaf of its own whose
   * gradient goes to the same entry. Either way the entry's gradient is the sum of every use, added by hand ({@link
   * DjlParameters#addGradient}) or by libtorch's backward pass (one graph using the shared leaf twice and the other
   * view once). Exact: small integers, whose products and sums float32 holds exactly.
   */
  @Test
  void aParameterViewedTwiceGetsTheSumOfItsUsesGradients() {
    Map<String, int[]> layout = new LinkedHashMap<>();
    layout.put("a", new int[] {2, 3});
    layout.put("b", new int[] {4});
    float[] x = {1, 2, 3, 4, 5, 6};
    float[] y = {-3, 1, 0, 2, 7, -1};
    float[] expected = new float[10];
    for (int i = 0; i < 6; i++) {
      expected[i] = 2 * x[i] + y[i];
    }
    try (DjlParameters p = (DjlParameters) backend.layers().parameters(layout)) {
      PtNDArray same = p.leaf("a", 2, 3);
      assertSame(same, p.leaf("a", 2, 3), "one leaf for one view");
      PtNDArray other = p.leaf("a", 3, 2);
      assertNotSame(same, other, "a leaf for another view");
      PtNDArray xs = p.constant(x, 2, 3);
      PtNDArray ys = p.constant(y, 3, 2);
      p.zeroGradients();
      p.addGradient(same, xs);
      p.addGradient(other, ys);
      p.addGradient(same, xs);
      assertArrayEquals(expected, p.read(ParameterStore.Buffer.GRADIENTS), "added by hand");
      p.zeroGradients();
      boolean before = JniUtils.isGradMode();
      JniUtils.setGradMode(true);
      try (PtNDArray u = JniUtils.mul(same, xs);
          PtNDArray u2 = JniUtils.mul(same, xs);
          PtNDArray v = JniUtils.mul(other, ys);
          PtNDArray vr = JniUtils.reshape(v, new long[] {2, 3});
          PtNDArray sum = JniUtils.add(u, u2);
          PtNDArray z = JniUtils.add(sum, vr);
          PtNDArray ones = p.constant(new float[] {1, 1, 1, 1, 1, 1}, 2, 3)) {
        p.backwardRan();
        JniUtils.backward(z, ones, false, false);
      } finally {
        JniUtils.setGradMode(before);
      }
      assertArrayEquals(expected, p.read(ParameterStore.Buffer.GRADIENTS), "by libtorch's backward pass");
    }
  }

  /**
   * A network of the kinds whose DJL kernels have their own backward passes is differentiated by hand (grad mode
   * off in its training passes), and its outputs, gradients, losses and weights after three Adam steps are the
   * reference kernels', to the tolerances of {@link #everyLayerKindMatchesTheReferenceKernels}, in one pass and
   * in one-item passes whose gradients add up.
   */
  @Test
  void aNetworkOfTheHandDifferentiatedKindsMatchesTheReferenceKernels() {
    Probe spec = Probe.handDifferentiated();
    assertEquals(LayerBackend.Differentiation.MANUAL, backend.layers().differentiation(spec.network()));
    assertEquals(LayerBackend.Differentiation.AUTOGRAD, backend.layers().differentiation(Probe.everyKind().network()));
    try (Pass pass = backend.layers().open(spec.network(), 2, true)) {
      assertFalse(JniUtils.isGradMode(), "a training pass differentiated by hand records nothing");
    }
    OptimizerSpec adam = new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0);
    ReferenceBackend ref = new ReferenceBackend();
    Run expected;
    try (TrainableModel m = ref.createModel(spec, adam, 5)) {
      expected = run(m, ref);
    }
    for (long passMemory : new long[] {PassMemory.DEFAULT_MB << 20, 1}) {
      Run djl;
      try (TrainableModel m = NetworkModel.create(spec, new DjlLayers(backend, passMemory), backend, adam, 5)) {
        djl = run(m, backend);
      }
      double out = Batches.maxAbsDiff(expected.prediction(), djl.prediction()) / scaleOf(expected.prediction());
      double grad = relativeDifference(expected.gradients(), djl.gradients());
      double weights = relativeDifference(expected.weights(), djl.weights());
      String report = String.format(Locale.ROOT, "pass memory %d: output %.2e, gradients %.2e, weights %.2e",
          passMemory, out, grad, weights);
      System.out.println("djl by hand against the reference kernels: " + report);
      assertTrue(out < 1e-5, report);
      assertTrue(grad < 1e-5, report);
      assertTrue(weights < 1e-5, report);
      assertEquals(expected.loss(), djl.loss(), 1e-5 * expected.loss(), report);
    }
  }

  /**
   * With a pass memory of one byte every item is a pass of its own: the gradients of the five passes add up in
   * the flat gradient (and the loss's factor is applied once), so gradients, losses (with dropout masks) and
   * predictions are those of the whole batch in one pass to float rounding (1e-5 relative; a pass that lost
   * another's gradient would be off by tens of percent).
   *
   * <p>The weights after three Adam steps are checked against a bound derived from the gradients' difference, on the
   * same U-Net without dropout (whose step gradient is then what {@link TrainableModel#gradients} gives), with
   * Adam's epsilon {@code eps = 10} far above any {@code sqrt(v)}, so that the update is nearly linear in the
   * gradient. Let {@code D_t} be the L2 norm of the two models' gradient difference before step {@code t} (measured,
   * each at its own weights, and itself bounded by float32 rounding of the summed passes to 1e-5 of the gradient's
   * norm). Clipping to the norm {@code c = 0.5} does not increase a difference (it is a contraction), so each
   * element of the clipped gradients differs by at most {@code D_t}, and each is at most {@code c}. Adam's {@code
   * m^} and {@code v^} are averages of the clipped gradients and their squares with weights summing to one, so
   * {@code |dm^| <= max D} and {@code |d sqrt(v^)| <= max D} (a weighted root mean square is 1-Lipschitz), {@code
   * |m^| <= c}; the update {@code lr m^ / (sqrt(v^) + eps)} then differs by at most {@code lr / eps (1 + c / eps)
   * max D}. Over the steps that sums to the bound below, plus float32 rounding: each step rounds each weight to half
   * an ulp in each model ({@code 2^-23 max|w|} together) and the update to a few ulps of its size {@code lr c / eps}
   * ({@code 2^-20 lr c / eps}). A pass's gradient dropped or doubled in a step moves the weights by a tenth or more
   * of a step, {@code lr / eps} times the gradient's largest elements: hundreds of times the bound.
   */
  @Test
  void aBatchSplitIntoPassesGivesTheWholeBatchsResults() {
    UNetSpec spec = new UNetSpec(Shape.of(1, 8, 8), 100, 8, List.of(1, 2), 1, true, 4, 0.1);
    OptimizerSpec adam = new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.0, 0.5);
    Shape batch = Shape.batchOf(5, spec.imageShape());
    int[] ts = {1, 20, 40, 60, 99};
    try (TrainableModel whole = backend.createModel(spec, adam, 3);
        TrainableModel split = NetworkModel.create(spec, new DjlLayers(backend, 1), backend, adam, 3);
        TensorScope s = backend.openScope()) {
      Tensor x = backend.fromArray(Batches.normal(batch, 4), batch);
      Tensor y = backend.fromArray(Batches.normal(batch, 5), batch);
      double g = relativeDifference(whole.gradients(x, ts, y), split.gradients(x, ts, y));
      assertTrue(g < 1e-5, "gradients differ by " + g);
      for (int i = 0; i < 3; i++) {
        double a = whole.step(x, ts, y).loss();
        double b = split.step(x, ts, y).loss();
        assertEquals(a, b, 1e-5 * a);
      }
      float[] p = whole.predict(x, ts).toFloatArray();
      assertTrue(Batches.maxAbsDiff(p, split.predict(x, ts).toFloatArray()) < 1e-5 * scaleOf(p));
    }
    UNetSpec noDropout = new UNetSpec(Shape.of(1, 8, 8), 100, 8, List.of(1, 2), 1, true, 4, 0.0);
    double lr = 0.1;
    double eps = 10;
    double clip = 0.5;
    OptimizerSpec linear = new OptimizerSpec(lr, 0.9, 0.999, eps, 0.0, clip);
    try (TrainableModel whole = backend.createModel(noDropout, linear, 3);
        TrainableModel split = NetworkModel.create(noDropout, new DjlLayers(backend, 1), backend, linear, 3);
        TensorScope s = backend.openScope()) {
      Tensor x = backend.fromArray(Batches.normal(batch, 4), batch);
      Tensor y = backend.fromArray(Batches.normal(batch, 5), batch);
      double bound = 0;
      double largest = 0;
      for (int i = 0; i < 3; i++) {
        float[] gw = flat(whole.gradients(x, ts, y));
        double d = l2(gw, flat(split.gradients(x, ts, y)));
        assertTrue(d < 1e-5 * l2(gw, new float[gw.length]), "step " + i + ": gradients differ by " + d);
        largest = Math.max(largest, d);
        double a = whole.step(x, ts, y).loss();
        double b = split.step(x, ts, y).loss();
        assertEquals(a, b, 1e-5 * a);
        bound += lr / eps * (1 + clip / eps) * largest + 0x1p-20 * lr * clip / eps
            + 0x1p-23 * scaleOf(flat(whole.stateDict()));
      }
      double w = absoluteDifference(whole.stateDict(), split.stateDict());
      System.out.printf(Locale.ROOT, "one pass against one-item passes: gradients %.2e, weights %.2e (bound %.2e)%n",
          largest, w, bound);
      assertTrue(w <= bound, "weights differ by " + w + ", above the bound " + bound);
    }
  }

  /** A state dict's entries, one after the other. */
  private static float[] flat(StateDict d) {
    float[][] parts = d.entries().values().stream().map(FloatArray::toArray).toArray(float[][]::new);
    int n = 0;
    for (float[] part : parts) {
      n += part.length;
    }
    float[] all = new float[n];
    int at = 0;
    for (float[] part : parts) {
      System.arraycopy(part, 0, all, at, part.length);
      at += part.length;
    }
    return all;
  }

  /** The L2 norm of {@code a - b}, in double. */
  private static double l2(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      sum += d * d;
    }
    return Math.sqrt(sum);
  }

  /** A pass sets grad mode on its own thread (on in training, off in prediction) and gives back what it found. */
  @Test
  void passesSetTheirThreadsGradModeAndRestoreIt() {
    Network network = Probe.everyKind().network();
    boolean before = JniUtils.isGradMode();
    try {
      for (boolean found : new boolean[] {true, false}) {
        for (boolean training : new boolean[] {true, false}) {
          JniUtils.setGradMode(found);
          try (Pass pass = backend.layers().open(network, 2, training)) {
            assertEquals(training, JniUtils.isGradMode(), "inside a pass, training " + training);
          }
          assertEquals(found, JniUtils.isGradMode(), "after a pass, training " + training);
        }
      }
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  /** A network without parameters predicts, and a step has nothing to differentiate (its loss is still reported). */
  @Test
  void aNetworkWithoutParametersRuns() {
    Shape image = Shape.of(1, 2, 2);
    ModelSpec identity =
        new ModelSpec() {
          @Override
          public String kind() {
            return "identity";
          }

          @Override
          public Shape imageShape() {
            return image;
          }

          @Override
          public int numTrainTimesteps() {
            return 10;
          }

          @Override
          public Map<String, int[]> parameterShapes() {
            return Map.of();
          }

          @Override
          public StateDict initialWeights(long seed) {
            return StateDict.builder().build();
          }

          @Override
          public Network network() {
            NetworkBuilder b = new NetworkBuilder(Map.of());
            return b.build(b.reshape(b.reshape(b.input(image), Shape.of(4)), image));
          }
        };
    Shape batch = Shape.batchOf(2, image);
    try (TrainableModel m = backend.createModel(identity, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = backend.openScope()) {
      Tensor x = backend.fromArray(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, batch);
      assertEquals(0, Batches.maxAbsDiff(x.toFloatArray(), m.predict(x, new int[2]).toFloatArray()));
      assertEquals(204.0 / 8, m.step(x, new int[2], backend.zeros(batch)).loss(), 1e-5);
      assertEquals(0, m.gradients(x, new int[2], x).size());
    }
  }

  /**
   * A training pass has one loss: {@link Pass#mse} where the kernels differentiate by hand, {@link Pass#mseBackward}
   * where libtorch records; the other is refused, and both in a prediction pass, naming why (not a libtorch error, nor
   * a loss whose gradient no backward pass would feed).
   */
  @Test
  void aPassRefusesTheLossOfTheOtherDifferentiation() {
    Network byHand = Probe.handDifferentiated().network();
    Network recorded = Probe.everyKind().network();
    assertLossRefused(byHand, true, false, "does not record");
    assertLossRefused(recorded, true, true, "outside a training pass differentiated by hand");
    assertLossRefused(byHand, false, true, "outside a training pass differentiated by hand");
    assertLossRefused(byHand, false, false, "does not record");
  }

  /** Opens a pass of two items and calls the loss of one kind on a prediction of zeros, expecting a refusal. */
  private void assertLossRefused(Network network, boolean training, boolean byHand, String why) {
    Shape out = network.node(network.output()).itemShape();
    try (TensorScope s = backend.openScope(); Pass pass = backend.layers().open(network, 2, training)) {
      Tensor target = backend.zeros(Shape.batchOf(2, out));
      var prediction = pass.host(new float[2 * out.size()], out);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
        if (byHand) {
          pass.mse(prediction, target, 0, 1);
        } else {
          pass.mseBackward(prediction, target, 0, 1);
        }
      }, (byHand ? "mse" : "mseBackward") + " in a " + (training ? "training" : "prediction") + " pass");
      assertTrue(e.getMessage().contains(why), e.getMessage());
    }
  }

  @Test
  void thePassMemoryIsASystemPropertyInMib() {
    assertEquals(2048L << 20, PassMemory.parse(DjlLayers.PASS_MEMORY_PROPERTY, null));
    assertEquals(64L << 20, PassMemory.parse(DjlLayers.PASS_MEMORY_PROPERTY, " 64 "));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PassMemory.parse(DjlLayers.PASS_MEMORY_PROPERTY, "1g"));
    assertTrue(e.getMessage().contains(DjlLayers.PASS_MEMORY_PROPERTY) && e.getMessage().contains("'1g'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PassMemory.parse(DjlLayers.PASS_MEMORY_PROPERTY, "0"));
  }
}
