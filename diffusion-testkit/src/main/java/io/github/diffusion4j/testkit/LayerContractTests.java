package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * One contract test class per layer kind, each run on every backend (a backend's test module extends this
 * class once): a small network around the kind ({@link LayerCases}) must give PyTorch's output and loss
 * gradients ({@code docs/layers_reference.py}) within 1e-5 relative, and its gradients must agree with
 * central finite differences of the loss.
 *
 * <p>Tolerances: the networks are two to three layers deep, so two float32 implementations differ by about
 * 1e-7 of the values' scale; 1e-5 leaves room for other summation orders and an ulp in exp or sin, while a
 * wrong index, sign or constant misses by 1e-2 or more. Finite differences: {@code eps = 1e-2} in a random
 * unit direction per parameter; truncation ({@code eps^2}) and float32 rounding of the loss ({@code 1e-7 /
 * eps}) stay near 1e-4, so the check allows {@code 2e-3} absolute plus 2 percent.
 *
 * <p>A backend may lack layer kinds ({@link io.github.diffusion4j.spi.Backend#createModel} and {@link
 * LayerBackend#kernel} then throw {@code UnsupportedOperationException}): it overrides
 * {@link #supports(Class)}, the cases whose networks use a kind it lacks are skipped (a kind all of whose cases
 * are skipped reports its tests as aborted, naming the kinds), and {@code unsupportedKindsAreRefused} checks that
 * the backend does refuse them. Every case has a 1x1 {@code Conv2d} in front of the kind it tests, so a backend
 * without {@code Conv2d} skips them all; the tests of passes over two parameter stores skip their variants with a
 * convolution likewise (a linear layer, SiLU and reshapes otherwise).
 */
public abstract class LayerContractTests extends BackendFixture {
  private static final double TOL = 1e-5;

  private TensorFactory t() {
    return backend.tensors();
  }

  /**
   * Whether the backend under test implements a layer kind; all of them unless overridden. Sources ({@link
   * Layer#isSource()}) are computed by the model and never asked about.
   *
   * @param kind a layer kind, e.g. {@code Layer.GroupNorm.class}
   * @return false for a kind whose {@code kernel} throws {@code UnsupportedOperationException}
   */
  protected boolean supports(Class<? extends Layer> kind) {
    return true;
  }

  /** The simple names of the kinds a case's network uses that the backend lacks, sorted. */
  private Set<String> lacking(LayerCases.Case c) {
    Set<String> lacking = new TreeSet<>();
    for (Node n : c.spec().network().nodes()) {
      if (!n.layer().isSource() && !supports(n.layer().getClass())) {
        lacking.add(n.layer().getClass().getSimpleName());
      }
    }
    return lacking;
  }

  /** A backend that says it lacks a kind must refuse a network that uses it, as the SPI says. */
  @Test
  void unsupportedKindsAreRefused() {
    for (String name : LayerCases.names()) {
      LayerCases.Case c = LayerCases.get(name);
      Set<String> lacking = lacking(c);
      if (!lacking.isEmpty()) {
        assertThrows(UnsupportedOperationException.class,
            () -> backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 0).close(),
            name + ": supports(...) is false for " + lacking + ", so createModel must throw UnsupportedOperationException");
      }
    }
  }

  /** The checks every kind runs on its cases. */
  abstract class Kind {
    private final List<String> cases;

    Kind(String... cases) {
      this.cases = List.of(cases);
    }

    /** The cases the backend has every kind of; aborts the test (JUnit reports it skipped) when there is none. */
    List<String> cases() {
      List<String> run = cases.stream().filter(n -> lacking(LayerCases.get(n)).isEmpty()).toList();
      Assumptions.assumeFalse(run.isEmpty(), () -> "the backend lacks " + lacking(LayerCases.get(cases.get(0)))
          + " (supports(...) is false), which case " + cases.get(0) + " uses");
      return run;
    }

    private TrainableModel model(LayerCases.Case c, long seed) {
      TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), seed);
      m.loadStateDict(c.weights());
      return m;
    }

    private float[] predict(TrainableModel m, Shape shape) {
      try (TensorScope s = t().openScope()) {
        return m.predict(t().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS).toFloatArray();
      }
    }

    @Test
    void forwardMatchesPyTorch() {
      for (String name : cases()) {
        if (name.equals("dropout")) {
          continue; // PyTorch's numbers are the training pass; see trainingAppliesThePortableMask
        }
        LayerCases.Case c = LayerCases.get(name);
        try (TrainableModel m = model(c, 0)) {
          assertClose(c.output(), predict(m, c.batch()), name + " output");
        }
      }
    }

    @Test
    void gradientsMatchPyTorch() {
      for (String name : cases()) {
        if (name.equals("dropout")) {
          continue;
        }
        LayerCases.Case c = LayerCases.get(name);
        try (TrainableModel m = model(c, 0); TensorScope s = t().openScope()) {
          Shape shape = c.batch();
          StateDict g = m.gradients(t().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS,
              t().fromArray(GoldenCases.target(shape.size()), shape));
          assertEquals(c.gradients().keySet(), g.names(), name);
          // a gradient that vanishes mathematically (the key bias of attention: softmax ignores a constant
          // per query) is float32 noise in both: its scale is taken as at least 1e-2 of the case's largest
          double caseScale = 0;
          for (float[] v : c.gradients().values()) {
            for (float f : v) {
              caseScale = Math.max(caseScale, Math.abs(f));
            }
          }
          for (Map.Entry<String, float[]> e : c.gradients().entrySet()) {
            assertClose(e.getValue(), g.get(e.getKey()).toArray(), 1e-2 * caseScale, name + " gradient of " + e.getKey());
          }
        }
      }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
      for (String name : cases()) {
        LayerCases.Case c = LayerCases.get(name);
        try (TrainableModel m = model(c, 0)) {
          assertFiniteDifferences(m, c.batch(), c.weights(), name);
        }
      }
    }
  }

  /**
   * Checks the model's gradients, with weights {@code w} loaded, against central finite differences of the loss in a
   * random unit direction per parameter (tolerances as in the class comment).
   */
  private void assertFiniteDifferences(TrainableModel m, Shape shape, StateDict w, String name) {
    float[] x = GoldenCases.input(shape.size());
    float[] y = GoldenCases.target(shape.size());
    StateDict g;
    try (TensorScope s = t().openScope()) {
      g = m.gradients(t().fromArray(x, shape), LayerCases.TIMESTEPS, t().fromArray(y, shape));
    }
    int k = 0;
    for (String param : w.names()) {
      float[] dir = Noise.seeded(31).split(k++).normals(w.get(param).size());
      double norm = 0;
      for (float d : dir) {
        norm += d * d;
      }
      norm = Math.sqrt(norm);
      double analytic = 0;
      float[] gv = g.get(param).toArray();
      for (int i = 0; i < dir.length; i++) {
        dir[i] /= (float) norm;
        analytic += gv[i] * dir[i];
      }
      double eps = 1e-2;
      m.loadStateDict(moved(w, param, dir, eps));
      double up = loss(predictOn(backend, m, shape), y);
      m.loadStateDict(moved(w, param, dir, -eps));
      double down = loss(predictOn(backend, m, shape), y);
      m.loadStateDict(w);
      double numeric = (up - down) / (2 * eps);
      assertEquals(numeric, analytic, 2e-3 + 0.02 * Math.abs(numeric),
          name + " " + param + ": directional derivative vs finite difference");
    }
  }

  private static float[] predictOn(Backend b, TrainableModel m, Shape shape) {
    try (TensorScope s = b.tensors().openScope()) {
      return m.predict(b.tensors().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS).toFloatArray();
    }
  }

  private static StateDict gradientsOn(Backend b, TrainableModel m, Shape shape) {
    try (TensorScope s = b.tensors().openScope()) {
      return m.gradients(b.tensors().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS,
          b.tensors().fromArray(GoldenCases.target(shape.size()), shape));
    }
  }

  private static double loss(float[] out, float[] y) {
    double sum = 0;
    for (int i = 0; i < out.length; i++) {
      double d = (double) out[i] - y[i];
      sum += d * d;
    }
    return sum / out.length;
  }

  private static StateDict moved(StateDict w, String name, float[] dir, double eps) {
    Map<String, FloatArray> m = new LinkedHashMap<>(w.entries());
    float[] v = w.get(name).toArray();
    for (int i = 0; i < v.length; i++) {
      v[i] += (float) (eps * dir[i]);
    }
    m.put(name, FloatArray.wrap(w.get(name).shape(), v));
    return StateDict.of(m);
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertClose(expected, actual, 1e-30, what);
  }

  private static void assertClose(float[] expected, float[] actual, double minScale, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double scale = minScale;
    double diff = 0;
    int at = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      double d = Math.abs((double) expected[i] - actual[i]);
      if (d > diff) {
        diff = d;
        at = i;
      }
    }
    assertTrue(diff <= TOL * scale, what + ": element " + at + " is " + actual[at] + ", expected " + expected[at]
        + " (relative difference " + diff / scale + ")");
  }

  /** Fully connected layers, through a reshape to a vector and back. */
  @Nested
  class Linear extends Kind {
    Linear() {
      super("linear");
    }
  }

  /** Convolutions: 3x3 with padding, stride 2 with right/bottom and symmetric padding, 1x1 with a 2-D weight. */
  @Nested
  class Conv2d extends Kind {
    Conv2d() {
      super("conv3x3", "conv3x3_no_bias", "conv_stride2_right_bottom", "conv_stride2_symmetric", "conv1x1_linear_weight");
    }
  }

  /** Group normalisation of images and of vectors. */
  @Nested
  class GroupNorm extends Kind {
    GroupNorm() {
      super("group_norm", "group_norm_vector");
    }
  }

  /** SiLU and ReLU. */
  @Nested
  class Activation extends Kind {
    Activation() {
      super("silu", "relu");
    }
  }

  /** Nearest-neighbour upsampling. */
  @Nested
  class Upsample extends Kind {
    Upsample() {
      super("upsample");
    }
  }

  /** Residual sums, scaled and broadcast over positions. */
  @Nested
  class Add extends Kind {
    Add() {
      super("add_scaled", "add_broadcast");
    }
  }

  /** Concatenation along channels. */
  @Nested
  class Concat extends Kind {
    Concat() {
      super("concat");
    }
  }

  /** Channel slices. */
  @Nested
  class SliceChannels extends Kind {
    SliceChannels() {
      super("slice_channels");
    }
  }

  /** Self-attention with one and two heads. */
  @Nested
  class Attention extends Kind {
    Attention() {
      super("attention_one_head", "attention_two_heads");
    }
  }

  /** Timestep embeddings (the DDPM authors', diffusers' flipped, double precision) and the scaled timestep. */
  @Nested
  class TimestepEmbedding extends Kind {
    TimestepEmbedding() {
      super("embedding_ddpm", "embedding_diffusers_flip", "embedding_double", "add_broadcast");
    }

    /**
     * Batches whose timesteps are alike in some rows only and in all (a sampling step), in the embedding cases and in
     * the tutorial MLP's input (the flattened image beside the scaled timestep, into a linear layer): a backend that
     * computes one row for a batch of alike timesteps must find every row alike, not the first two, nor the first and
     * the last (every golden case has {@code {0, 500, 999}}). Against the reference backend at the suite's tolerance.
     */
    @Test
    void timestepsAlikeInSomeRowsOnly() {
      Map<String, ModelSpec> specs = new LinkedHashMap<>();
      Map<String, StateDict> weights = new LinkedHashMap<>();
      for (String name : cases()) {
        specs.put(name, LayerCases.get(name).spec());
        weights.put(name, LayerCases.get(name).weights());
      }
      LinkedHashMap<String, int[]> mlp = new LinkedHashMap<>();
      mlp.put("l.weight", new int[] {LayerCases.IMAGE.size(), LayerCases.IMAGE.size() + 1});
      mlp.put("l.bias", new int[] {LayerCases.IMAGE.size()});
      specs.put("image_beside_timestep", new LayerCases.Spec("image_beside_timestep", LayerCases.IMAGE, mlp,
          (b, x) -> b.reshape(b.linear("l", b.concat(b.reshape(x, Shape.of(LayerCases.IMAGE.size())),
              b.timestepScale(1000)), LayerCases.IMAGE.size()), LayerCases.IMAGE)));
      weights.put("image_beside_timestep", GoldenCases.testWeights(mlp, LayerCases.weightSeed()));
      Shape shape = Shape.batchOf(LayerCases.TIMESTEPS.length, LayerCases.IMAGE);
      for (String name : specs.keySet()) {
        try (ReferenceBackend ref = new ReferenceBackend();
            TrainableModel r = ref.createModel(specs.get(name), OptimizerSpec.adam(1e-3), 0);
            TrainableModel m = backend.createModel(specs.get(name), OptimizerSpec.adam(1e-3), 0)) {
          r.loadStateDict(weights.get(name));
          m.loadStateDict(weights.get(name));
          for (int[] ts : new int[][] {{3, 3, 800}, {800, 3, 3}, {3, 800, 3}, {3, 3, 3}}) {
            assertClose(predictAt(ref, r, shape, ts), predictAt(backend, m, shape, ts),
                name + " at timesteps " + java.util.Arrays.toString(ts));
          }
        }
      }
    }

    private float[] predictAt(Backend b, TrainableModel m, Shape shape, int[] timesteps) {
      try (TensorScope s = b.tensors().openScope()) {
        return m.predict(b.tensors().fromArray(GoldenCases.input(shape.size()), shape), timesteps).toFloatArray();
      }
    }
  }

  /** Dropout: the portable mask in training, the identity in prediction. */
  @Nested
  class Dropout extends Kind {
    Dropout() {
      super("dropout");
    }

    @Test
    void trainingAppliesThePortableMask() {
      cases();
      LayerCases.Case c = LayerCases.get("dropout");
      Shape shape = c.batch();
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 0);
          TensorScope s = t().openScope()) {
        m.loadStateDict(c.weights());
        float[] plain = m.predict(t().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS).toFloatArray();
        TrainingStepResult out = m.step(t().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS,
            t().fromArray(GoldenCases.target(shape.size()), shape));
        assertClose(c.output(), out.prediction().toFloatArray(), "the training pass of step 1");
        assertEquals(c.loss(), out.loss(), TOL * c.loss(), "the training loss of step 1");
        int zeros = 0;
        for (int i = 0; i < plain.length; i++) {
          if (c.output()[i] == 0) {
            zeros++;
          } else {
            assertEquals(plain[i] / 0.7, c.output()[i], 1e-5 * Math.abs(c.output()[i]) + 1e-6, "kept values are scaled by 1/(1-p)");
          }
        }
        assertTrue(zeros > 0.2 * plain.length && zeros < 0.4 * plain.length, zeros + " of " + plain.length + " dropped at p = 0.3");
      }
    }

    /**
     * The training step backpropagates through the mask: {@code gradients()} is that of the prediction pass (no
     * dropout), so the masked gradient is read from the step's update. Adam with {@code beta1 = beta2 = 0} and
     * {@code lr = eps = E} moves a weight by {@code u = E g / (|g| + E)}, so {@code g = u E / (E - |u|)} exactly;
     * with {@code E = 1e4} the update is the gradient itself, and reading it back as the difference of two float32
     * weights (below 2 here) costs at most {@code 2^-23}, so the check allows 1e-3 of the case's largest gradient
     * (a gradient that skips the mask, or its {@code 1 / (1 - p)}, misses by tens of percent of it).
     */
    @Test
    void theTrainingStepBackpropagatesThroughTheMask() {
      cases();
      LayerCases.Case c = LayerCases.get("dropout");
      Shape shape = c.batch();
      double e = 1e4;
      try (TrainableModel m = backend.createModel(c.spec(), new OptimizerSpec(e, 0, 0, e, 0, 0), 0);
          TensorScope s = t().openScope()) {
        StateDict w0 = c.weights();
        m.loadStateDict(w0);
        m.step(t().fromArray(GoldenCases.input(shape.size()), shape), LayerCases.TIMESTEPS,
            t().fromArray(GoldenCases.target(shape.size()), shape));
        StateDict w1 = m.stateDict();
        double caseScale = 0;
        for (float[] v : c.gradients().values()) {
          for (float f : v) {
            caseScale = Math.max(caseScale, Math.abs(f));
          }
        }
        for (Map.Entry<String, float[]> g : c.gradients().entrySet()) {
          float[] a = w0.get(g.getKey()).toArray();
          float[] b = w1.get(g.getKey()).toArray();
          for (int i = 0; i < a.length; i++) {
            double u = (double) a[i] - b[i];
            assertEquals(g.getValue()[i], u * e / (e - Math.abs(u)), 1e-3 * caseScale,
                "gradient of " + g.getKey() + "[" + i + "] in the training step of the dropout case");
          }
        }
      }
    }
  }

  /**
   * Networks beyond the golden cases, where a backend's kernels may take paths the golden cases never reach
   * (factors other than 2, sizes not a multiple of a tile, a normalisation's fused activation, several blocks of
   * planes, ...): each is compared with the plain-Java {@link ReferenceBackend} (output within 1e-5 relative and
   * gradients within 1e-5 of the case's largest, as PyTorch's numbers above: both are float32 implementations of
   * two to four layers, so they differ by about 1e-7 of the scale), and its gradients with finite differences, so
   * that the reference's own run of this suite checks the reference.
   */
  @Nested
  class BeyondTheGoldenCases {
    private void check(String name, LinkedHashMap<String, int[]> layout,
        BiFunction<NetworkBuilder, Node, Node> body) {
      check(name, LayerCases.IMAGE, layout, body, true);
    }

    private void check(String name, Shape image, LinkedHashMap<String, int[]> layout,
        BiFunction<NetworkBuilder, Node, Node> body) {
      check(name, image, layout, body, true);
    }

    /** {@code finiteDifferences} false where a step of 1e-2 crosses ReLU's kink (the reference comparison stays). */
    private void check(String name, Shape image, LinkedHashMap<String, int[]> layout,
        BiFunction<NetworkBuilder, Node, Node> body,
        boolean finiteDifferences) {
      LayerCases.Spec spec = new LayerCases.Spec(name, image, layout, body);
      for (Node n : spec.network().nodes()) {
        Assumptions.assumeTrue(n.layer().isSource() || supports(n.layer().getClass()),
            () -> name + ": the backend lacks " + n.layer().getClass().getSimpleName());
      }
      StateDict w = GoldenCases.testWeights(layout, LayerCases.weightSeed());
      Shape shape = Shape.batchOf(LayerCases.TIMESTEPS.length, image);
      try (ReferenceBackend ref = new ReferenceBackend();
          TrainableModel r = ref.createModel(spec, OptimizerSpec.adam(1e-3), 0);
          TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 0)) {
        r.loadStateDict(w);
        m.loadStateDict(w);
        assertClose(predictOn(ref, r, shape), predictOn(backend, m, shape), name + " output vs the reference backend");
        StateDict gr = gradientsOn(ref, r, shape);
        StateDict gm = gradientsOn(backend, m, shape);
        double caseScale = 0;
        for (String p : gr.names()) {
          for (float f : gr.get(p).toArray()) {
            caseScale = Math.max(caseScale, Math.abs(f));
          }
        }
        for (String p : gr.names()) {
          assertClose(gr.get(p).toArray(), gm.get(p).toArray(), caseScale, name + " gradient of " + p + " vs the reference backend");
        }
        if (finiteDifferences) {
          assertFiniteDifferences(m, shape, w, name);
        }
      }
    }

    private LinkedHashMap<String, int[]> layout(Object... pairs) {
      LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
      for (int i = 0; i < pairs.length; i += 2) {
        int[] w = (int[]) pairs[i + 1];
        m.put(pairs[i] + ".weight", w);
        m.put(pairs[i] + ".bias", new int[] {w[0]});
      }
      return m;
    }

    private static final Layer.Padding NONE = Layer.Padding.of(0);

    /** Nearest-neighbour upsampling by 3 (the golden cases and the U-Nets use 2 only): 6x6 -> 2x2 -> 6x6. */
    @Test
    void upsampleByThree() {
      check("upsample_by_3", layout("pre", new int[] {4, 4, 3, 3}), (b, x) -> b.upsample(b.conv("pre", x, 4, 3, 3, NONE), 3));
    }

    /**
     * SiLU on 3 x 4 x 7 x 7 = 588 values, not a multiple of any vector length (the golden case's 432 is 27 x 16), so a
     * vector loop's scalar tail runs.
     */
    @Test
    void siluOnAnOddSize() {
      check("silu_7x7", Shape.of(4, 7, 7), layout("pre", new int[] {4, 4, 1, 1}), (b, x) -> b.silu(b.conv("pre", x, 4, 1, 1, NONE)));
    }

    /** A group norm whose only reader is a ReLU or a SiLU (a backend may fuse the pair). */
    @Test
    void groupNormFollowedByAnActivation() {
      // normalised values are about N(0, 1), so a finite-difference step of 1e-2 moves some of the 432 across
      // ReLU's kink (5 percent off here): the golden relu case checks ReLU's derivative, this one the pair's
      check("group_norm_relu", LayerCases.IMAGE, layout("pre", new int[] {4, 4, 1, 1}, "gn", new int[] {4}),
          (b, x) -> b.relu(b.groupNorm("gn", b.conv("pre", x, 4, 1, 1, NONE), 2, 1e-5)), false);
      check("group_norm_silu", layout("pre", new int[] {4, 4, 1, 1}, "gn", new int[] {4}),
          (b, x) -> b.silu(b.groupNorm("gn", b.conv("pre", x, 4, 1, 1, NONE), 2, 1e-5)));
    }

    /** A linear layer without a bias (the golden cases' have one), after a convolution so its input gradient counts. */
    @Test
    void aLinearLayerWithoutABias() {
      LinkedHashMap<String, int[]> layout = layout("pre", new int[] {4, 4, 1, 1});
      layout.put("lin.weight", new int[] {144, 144});
      check("linear_no_bias", layout, (b, x) -> b.reshape(
          b.linear("lin", b.reshape(b.conv("pre", x, 4, 1, 1, NONE), Shape.of(144)), 144, false), LayerCases.IMAGE));
    }

    /**
     * A ReLU that no layer before it applies (it reads a reshape, not a linear layer), in a network of linear layers,
     * reshapes and activations only, which a backend may differentiate by hand (the golden relu case reads a
     * convolution). Against the reference only: a finite-difference step of 1e-2 moves some of the 432 values across
     * ReLU's kink.
     */
    @Test
    void aReluThatNoLayerAppliesInANetworkOfLinearLayers() {
      check("reshape_relu", LayerCases.IMAGE, layout("lin", new int[] {144, 144}),
          (b, x) -> b.relu(b.reshape(b.linear("lin", b.reshape(x, Shape.of(144)), 144), LayerCases.IMAGE)), false);
    }

    /**
     * Size-keeping 3x3 convolutions on planes of 64x64 (a backend may run large planes without columns), 17x17 (odd:
     * the last tile of a Winograd form is partial) and 16x16 with 16 channels (a Winograd F(4x4, 3x3) form).
     */
    @Test
    void largeOddAndWideConvolutions() {
      Layer.Padding same = Layer.Padding.of(1);
      check("conv3x3_64x64", Shape.of(4, 64, 64), layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {4, 4, 3, 3}),
          (b, x) -> b.conv("c", b.conv("pre", x, 4, 1, 1, NONE), 4, 3, 1, same));
      check("conv3x3_8_to_32_channels", Shape.of(4, 32, 32), layout("pre", new int[] {8, 4, 1, 1},
          "c", new int[] {32, 8, 3, 3}, "post", new int[] {4, 32, 1, 1}),
          (b, x) -> b.conv("post", b.conv("c", b.conv("pre", x, 8, 1, 1, NONE), 32, 3, 1, same), 4, 1, 1, NONE));
      for (int side : new int[] {7, 17}) {
        check("conv3x3_" + side + "x" + side, Shape.of(4, side, side), layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {5, 4, 3, 3},
            "post", new int[] {4, 5, 1, 1}),
            (b, x) -> b.conv("post", b.conv("c", b.conv("pre", x, 4, 1, 1, NONE), 5, 3, 1, same), 4, 1, 1, NONE));
      }
      check("conv3x3_9x9_8_to_72_channels", Shape.of(4, 9, 9), layout("pre", new int[] {8, 4, 1, 1},
          "c", new int[] {72, 8, 3, 3}, "post", new int[] {4, 72, 1, 1}),
          (b, x) -> b.conv("post", b.conv("c", b.conv("pre", x, 8, 1, 1, NONE), 72, 3, 1, same), 4, 1, 1, NONE));
      check("conv3x3_16_channels", Shape.of(16, 16, 16), layout("pre", new int[] {16, 16, 1, 1}, "c", new int[] {16, 16, 3, 3}),
          (b, x) -> b.conv("c", b.conv("pre", x, 16, 1, 1, NONE), 16, 3, 1, same));
    }

    /**
     * Paddings that differ between the sides or between the axes, and an image that is not square: the golden cases
     * and the U-Nets pad every side alike or only the bottom and right by the same amount, and their images are
     * square, so a backend that swapped the rows' and columns' paddings or sizes would pass them. Each case here
     * gives another output shape or other values if the vertical and horizontal settings were exchanged.
     */
    @Test
    void asymmetricPaddingsAndNonSquareImages() {
      Shape wide = Shape.of(4, 6, 8);
      // top 1, left 0, bottom 1, right 2: symmetric rows, asymmetric columns
      check("conv3x3_pad_1_0_1_2", wide, layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {4, 4, 3, 3}),
          (b, x) -> b.conv("c", b.conv("pre", x, 4, 1, 1, NONE), 4, 3, 1, new Layer.Padding(1, 0, 1, 2)));
      // each axis symmetric, but 2 rows against 1 column (6 x 8 -> 8 x 8), then 0 rows against 1 column (-> 6 x 8)
      check("conv3x3_pad_2_1", wide, layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {4, 4, 3, 3},
          "d", new int[] {4, 4, 3, 3}),
          (b, x) -> b.conv("d", b.conv("c", b.conv("pre", x, 4, 1, 1, NONE), 4, 3, 1, new Layer.Padding(2, 1, 2, 1)),
              4, 3, 1, new Layer.Padding(0, 1, 0, 1)));
      // a stride-2 downsampling with only a left and a top pad, then nearest upsampling of a 3 x 4 plane
      check("conv_stride2_pad_top_left_upsample", wide, layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {4, 4, 3, 3}),
          (b, x) -> b.upsample(b.conv("c", b.conv("pre", x, 4, 1, 1, NONE), 4, 3, 2, new Layer.Padding(1, 1, 0, 0)), 2));
    }

    /**
     * A group norm read by an activation and by another layer: a backend that fuses a group norm with its only
     * reader's activation must not take this activation as applied (nor apply it to the other reader's input).
     */
    @Test
    void groupNormReadByAnActivationAndAnotherLayer() {
      check("group_norm_two_readers", layout("pre", new int[] {4, 4, 1, 1}, "gn", new int[] {4}),
          (b, x) -> {
            Node g = b.groupNorm("gn", b.conv("pre", x, 4, 1, 1, NONE), 2, 1e-5);
            return b.add(b.silu(g), g);
          });
    }

    /**
     * A concatenation whose first part needs no gradient (the network's input) and whose second does, in a network of
     * linear layers, activations, concatenations and reshapes only (the kinds a backend may differentiate by hand):
     * the second part's gradient starts after the first part's channels whether or not the first one's is wanted.
     */
    @Test
    void aConcatenationWhoseFirstPartNeedsNoGradient() {
      LinkedHashMap<String, int[]> layout = layout("a", new int[] {12, 144}, "c", new int[] {144, 156});
      check("concat_input_first", layout, (b, x) -> {
        Node flat = b.reshape(x, Shape.of(144));
        Node h = b.concat(flat, b.silu(b.linear("a", flat, 12)));
        return b.reshape(b.linear("c", h, 144), LayerCases.IMAGE);
      });
    }

    /**
     * A concatenation read by an activation, not by a linear layer: the gradient that reaches the concatenation is
     * one value of all its channels rather than one per part, so each part's gradient is cut out of it at that part's
     * own columns (here the second part's 12 start after the input's 144).
     */
    @Test
    void aConcatenationReadByAnActivation() {
      LinkedHashMap<String, int[]> layout = layout("a", new int[] {12, 144}, "c", new int[] {144, 156});
      check("concat_then_silu", layout, (b, x) -> {
        Node flat = b.reshape(x, Shape.of(144));
        Node h = b.silu(b.concat(flat, b.linear("a", flat, 12)));
        return b.reshape(b.linear("c", h, 144), LayerCases.IMAGE);
      });
    }

    /**
     * A value read by a convolution and by a linear layer (through a reshape): the two gradients that add up at it
     * may come back in different memory layouts (one plane after another against one item after another), and the
     * sum must pair the same elements.
     */
    @Test
    void aValueReadByAConvolutionAndALinearLayer() {
      LinkedHashMap<String, int[]> layout = layout("pre", new int[] {4, 4, 1, 1}, "c", new int[] {4, 4, 1, 1},
          "l", new int[] {144, 144});
      check("conv_and_linear_readers", layout, (b, x) -> {
        Node h = b.conv("pre", x, 4, 1, 1, NONE);
        Node flat = b.linear("l", b.reshape(h, Shape.of(144)), 144);
        return b.add(b.conv("c", h, 4, 1, 1, NONE), b.reshape(flat, LayerCases.IMAGE));
      });
    }

    /**
     * The sum of two channel slices of one value of 48 channels that leave channels out: the second operand starts
     * inside the value (not at its start), and the gradient of the left-out channels is zero (channel 4, and channels
     * 9 to 47: for the first slice 44 channels after its own 4, of 44 x 3 items x 36 = 4752 values, more than a
     * backend's chunk of 4096 may be).
     */
    @Test
    void aSumOfTwoChannelSlices() {
      check("add_two_slices", layout("pre", new int[] {48, 4, 1, 1}), (b, x) -> {
        Node h = b.conv("pre", x, 48, 1, 1, NONE);
        return b.add(b.sliceChannels(h, 0, 4), b.sliceChannels(h, 5, 9));
      });
    }

    /**
     * A channel slice whose backward pass runs just after a value of its input's size was freed: channels 2 to 5 of a
     * value {@code h} of 48 channels feed a 1x1 convolution back to 48 channels, whose channels 0 to 3 are added to
     * the slice. Backwards, the convolution's output (3 items x 48 x 36 = 5184 non-zero values) is no longer needed
     * when the slice of {@code h} gets its gradient, so a backend that reuses memory may hand the slice that value's
     * memory: every one of the 2 + 42 channels outside the slice (216 values before it, 4536 after it, more than a
     * backend's chunk of 4096 may be) must be written as zero, not left as it was. (In {@link
     * #aSumOfTwoChannelSlices} what lies past the first 4096 values outside a slice was zero already, so a zeroing
     * that stops there passed.)
     */
    @Test
    void aSliceWhoseGradientReusesAFreedValue() {
      check("slice_after_a_freed_value", layout("pre", new int[] {48, 4, 1, 1}, "k", new int[] {48, 4, 1, 1}),
          (b, x) -> {
            Node s = b.sliceChannels(b.conv("pre", x, 48, 1, 1, NONE), 2, 6);
            return b.add(b.sliceChannels(b.conv("k", s, 48, 1, 1, NONE), 0, 4), s);
          });
    }

    /**
     * Convolutions whose backward passes run on memory a backend may have used before. A 5x5 convolution {@code c}
     * of 18 channels to 48 is followed by a 1x1 convolution {@code d} back to 18 channels, so backwards {@code d}'s
     * output (3 items x 18 x 9 x 9 = 4374 non-zero values, more than a backend's chunk of 4096 may be) is no longer
     * needed when {@code c}'s input gradient (the same size) is taken, and a backend that reuses memory may hand it
     * that value's memory: {@code c} must write its input gradient, not add to what was there. Before {@code c}, a
     * 5x5 convolution {@code s} of stride 2 from 44 channels runs its backward pass after {@code c}'s, so staging
     * memory a backend keeps between layers holds {@code c}'s numbers: {@code s} must write its weight gradient's
     * partial sums before adding to them. The sizes are chosen so that a backend computing these gradients from
     * columns (48 channels x 25 taps x 81 positions = 97200 floats an item for {@code c}'s output gradient, 44 x 25 x
     * 81 = 89100 for {@code s}'s input) stages them in more than one piece for 3 items, each piece's result written or
     * added by itself (in the ND4J backend no other case of this suite reaches these paths).
     */
    @Test
    void convolutionGradientsOnReusedMemory() {
      Layer.Padding two = Layer.Padding.of(2);
      check("conv5x5_on_reused_memory", Shape.of(4, 18, 18), layout("pre", new int[] {44, 4, 1, 1},
          "s", new int[] {18, 44, 5, 5}, "c", new int[] {48, 18, 5, 5}, "d", new int[] {18, 48, 1, 1},
          "post", new int[] {4, 18, 1, 1}),
          (b, x) -> {
            Node h = b.conv("s", b.conv("pre", x, 44, 1, 1, NONE), 18, 5, 2, two);
            Node back = b.conv("d", b.conv("c", h, 48, 5, 1, two), 18, 1, 1, NONE);
            return b.conv("post", b.upsample(back, 2), 4, 1, 1, NONE);
          });
    }
  }

  /** Reshapes (image to vector and back, in the linear case). */
  @Nested
  class Reshape extends Kind {
    Reshape() {
      super("linear");
    }
  }

  /**
   * {@link Pass#host} copies its array (the model may reuse it) and refuses one of another
   * length than {@code items() * itemShape.size()}, shorter or longer, rather than reading past it or ignoring the
   * rest. Exact comparison: the values only travel, no arithmetic touches them.
   */
  @Test
  void hostValuesAreCopiedAndCheckedForLength() {
    Network network = LayerCases.get("linear").spec().network();
    Shape item = Shape.of(2, 4);
    float[] data = GoldenCases.input(3 * item.size());
    float[] copy = data.clone();
    try (TensorScope s = t().openScope(); Pass pass = backend.layers().open(network, 3, false)) {
      Value v = pass.host(data, item);
      java.util.Arrays.fill(data, 9f);
      assertArrayEquals(copy, pass.output(v, Shape.batchOf(3, item)).toFloatArray(), "the values the pass was given");
      assertThrows(IllegalArgumentException.class, () -> pass.host(new float[3 * item.size() - 1], item), "one short");
      assertThrows(IllegalArgumentException.class, () -> pass.host(new float[3 * item.size() + 1], item), "one over");
      assertThrows(IllegalArgumentException.class, () -> pass.host(new float[2 * item.size()], item), "two items of three");
    }
  }

  /**
   * A pass reads items {@code [from, from + items())} of a batch ({@link Pass#input}, the loss's target), exactly
   * those, and refuses with an {@link IllegalArgumentException} a range the batch does not hold (past its last item,
   * or from a negative index), a target whose items have another shape than the prediction's, and a tensor shape of
   * another size than the value's ({@link Pass#output}), rather than reading fewer items, wrapping a negative index
   * round or broadcasting (what libtorch's slice and subtraction would do); a pass of no items is refused too. {@link Pass#items}, {@link Pass#training},
   * {@link ParameterStore#layout} and {@link ParameterStore#size} answer what they were created with. Exact
   * comparisons: the values only travel.
   */
  @Test
  void passesReadTheItemsAskedForAndRefuseOthers() {
    Network network = LayerCases.get("linear").spec().network();
    Shape item = network.inputShape();
    Shape outItem = network.node(network.output()).itemShape();
    boolean manual = backend.layers().differentiation(network) == LayerBackend.Differentiation.MANUAL;
    float[] data = GoldenCases.input(4 * item.size());
    assertThrows(IllegalArgumentException.class, () -> backend.layers().open(network, 0, false).close(), "no items");
    try (TensorScope s = t().openScope(); Pass pass = backend.layers().open(network, 3, false)) {
      assertEquals(3, pass.items());
      assertTrue(!pass.training(), "a pass opened for prediction");
      io.github.diffusion4j.tensor.Tensor x = t().fromArray(data, Shape.batchOf(4, item));
      Value v = pass.input(x, 1);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, item.size(), 4 * item.size()),
          pass.output(v, Shape.batchOf(3, item)).toFloatArray(), "items [1, 4) of 4");
      assertThrows(IllegalArgumentException.class, () -> pass.input(x, 2), "items [2, 5) of 4");
      assertThrows(IllegalArgumentException.class, () -> pass.input(x, -1), "items [-1, 2) of 4");
      assertThrows(IllegalArgumentException.class, () -> pass.output(v, Shape.batchOf(2, item)), "two items of three");
    }
    try (TensorScope s = t().openScope(); Pass pass = backend.layers().open(network, 3, true)) {
      assertTrue(pass.training(), "a pass opened for training");
      Value prediction = pass.host(GoldenCases.target(3 * outItem.size()), outItem);
      int[] column = outItem.dims();
      column[column.length - 1] = 1; // [..., 1]: a subtraction that broadcasts would take it
      for (Shape target : List.of(Shape.batchOf(3, Shape.of(column)), Shape.batchOf(3, Shape.of(outItem.size())),
          Shape.batchOf(2, outItem))) {
        io.github.diffusion4j.tensor.Tensor y = t().fromArray(GoldenCases.input(target.size()), target);
        assertThrows(IllegalArgumentException.class, () -> {
          if (manual) {
            pass.mse(prediction, y, 0, 1);
          } else {
            pass.mseBackward(prediction, y, 0, 1);
          }
        }, "a target " + target + " for a prediction of 3 items " + outItem);
      }
    }
    Map<String, int[]> layout = LayerCases.get("linear").spec().parameterShapes();
    try (ParameterStore store = backend.layers().parameters(layout)) {
      assertEquals(List.copyOf(layout.keySet()), List.copyOf(store.layout().keySet()), "the names, in order");
      int size = 0;
      for (Map.Entry<String, int[]> e : layout.entrySet()) {
        assertArrayEquals(e.getValue(), store.layout().get(e.getKey()), e.getKey());
        size += Shape.of(e.getValue()).size();
      }
      assertEquals(size, store.size());
    }
  }

  /**
   * A closed pass refuses every use that makes or reads a value ({@link Pass#input}, {@link Pass#host}, {@link
   * Pass#output}, {@link Pass#accumulate}, the loss) with an {@link IllegalStateException} saying it was closed, rather
   * than use memory it gave back (the ND4J pass's workspace goes back to the backend's pool, where the next pass takes
   * it, and is freed with the backend; the DJL pass's arrays are freed); releasing a value after close and closing
   * again do nothing. A second close gives nothing back twice: a pass opened after another closed does not overwrite
   * the values of a pass still open (a workspace given back twice went to two passes, and the first to close freed the
   * other's blocks for the next). Exact comparisons: the values only travel.
   */
  @Test
  void aClosedPassRefusesUseAndASecondCloseDoesNothing() {
    Network network = LayerCases.get("linear").spec().network();
    Shape item = network.inputShape();
    Shape outItem = network.node(network.output()).itemShape();
    boolean manual = backend.layers().differentiation(network) == LayerBackend.Differentiation.MANUAL;
    float[] a = GoldenCases.input(2 * item.size());
    float[] b = GoldenCases.target(2 * item.size());
    try (TensorScope s = t().openScope()) {
      io.github.diffusion4j.tensor.Tensor x = t().fromArray(a, Shape.batchOf(2, item));
      io.github.diffusion4j.tensor.Tensor y = t().fromArray(GoldenCases.input(2 * outItem.size()),
          Shape.batchOf(2, outItem));
      Pass pass = backend.layers().open(network, 2, true);
      Value v = pass.input(x, 0);
      Value h = pass.host(b, item);
      Value prediction = pass.host(GoldenCases.target(2 * outItem.size()), outItem);
      pass.close();
      pass.close();
      Map<String, org.junit.jupiter.api.function.Executable> uses = new LinkedHashMap<>();
      uses.put("input", () -> pass.input(x, 0));
      uses.put("host", () -> pass.host(b, item));
      uses.put("output", () -> pass.output(h, Shape.batchOf(2, item)));
      uses.put("accumulate", () -> pass.accumulate(v, h));
      uses.put("the loss", () -> {
        if (manual) {
          pass.mse(prediction, y, 0, 1);
        } else {
          pass.mseBackward(prediction, y, 0, 1);
        }
      });
      assertAll(uses.entrySet().stream().map(use -> () -> { // every use checked, each failure reported
        IllegalStateException e = assertThrows(IllegalStateException.class, use.getValue(), use.getKey() + " after close");
        assertTrue(e.getMessage().contains("pass was closed"), use.getKey() + ": " + e.getMessage());
      }));
      pass.release(v);
      pass.release(h);
      pass.close();
      try (Pass first = backend.layers().open(network, 2, false);
          Pass second = backend.layers().open(network, 2, false)) {
        first.host(a, item);
        Value kept = second.host(b, item);
        first.close();
        try (Pass third = backend.layers().open(network, 2, false)) {
          for (int i = 0; i < 3; i++) { // enough values of that size to take every block the first pass freed
            third.host(a, item);
          }
          assertArrayEquals(b, second.output(kept, Shape.batchOf(2, item)).toFloatArray(),
              "a value of a pass still open, after another pass closed and a third made values");
        }
      }
    }
  }

  /**
   * {@link LayerBackend#kernel} refuses, with an {@link IllegalArgumentException}, a store of another backend and a
   * store that does not hold the node's parameters at their shapes (one without them, one whose weight has fewer
   * rows), rather than reading another entry's values or past the store's end.
   */
  @Test
  void kernelsRefuseAStoreWithoutTheirParameters() {
    Network network = LayerCases.get("linear").spec().network();
    Node lin = network.nodes().stream().filter(n -> n.layer() instanceof Layer.Linear).findFirst().orElseThrow();
    Map<String, int[]> layout = LayerCases.get("linear").spec().parameterShapes();
    LinkedHashMap<String, int[]> without = new LinkedHashMap<>(layout);
    without.remove("lin.weight");
    without.remove("lin.bias");
    LinkedHashMap<String, int[]> fewerRows = new LinkedHashMap<>(layout);
    fewerRows.put("lin.weight", new int[] {12, 144});
    try (ReferenceBackend ref = new ReferenceBackend(); ParameterStore other = ref.layers().parameters(layout);
        ParameterStore own = backend.layers().parameters(layout)) {
      if (other.getClass() != own.getClass()) { // not for the reference backend itself (or one built on it)
        assertThrows(IllegalArgumentException.class, () -> backend.layers().kernel(network, lin, other),
            "a store of the reference backend");
      }
    }
    for (Map<String, int[]> bad : List.of(without, fewerRows)) {
      try (ParameterStore store = backend.layers().parameters(bad)) {
        assertThrows(IllegalArgumentException.class, () -> backend.layers().kernel(network, lin, store),
            "a store of " + bad.keySet() + " with lin.weight " + java.util.Arrays.toString(bad.get("lin.weight")));
      }
    }
  }

  /**
   * {@link ParameterStore}'s moving average, as its Javadoc says: before it starts it reads as
   * the weights, the first update starts it there, a write starts it at the values written, and a vector of another
   * length is refused. Exact comparisons: {@code 0.5 * w + 0.5 * w} is {@code w} in any precision.
   */
  @Test
  void theMovingAverageReadsAsTheWeightsUntilItStarts() {
    Map<String, int[]> layout = LayerCases.get("linear").spec().parameterShapes();
    try (ParameterStore store = backend.layers().parameters(layout)) {
      float[] w = GoldenCases.input(store.size());
      store.write(ParameterStore.Buffer.WEIGHTS, w);
      assertTrue(!store.hasAverage(), "no average before updateAverage or a write of it");
      assertArrayEquals(w, store.read(ParameterStore.Buffer.AVERAGE), "the average before it starts");
      assertThrows(IllegalArgumentException.class,
          () -> store.write(ParameterStore.Buffer.AVERAGE, new float[store.size() - 1]));
      assertThrows(IllegalArgumentException.class,
          () -> store.write(ParameterStore.Buffer.WEIGHTS, new float[store.size() + 1]));
      store.updateAverage(0.5);
      assertTrue(store.hasAverage());
      assertArrayEquals(w, store.read(ParameterStore.Buffer.AVERAGE), "started at the weights");
    }
    try (ParameterStore store = backend.layers().parameters(layout)) {
      float[] a = GoldenCases.target(store.size());
      store.write(ParameterStore.Buffer.AVERAGE, a);
      assertTrue(store.hasAverage(), "a write starts the average");
      assertArrayEquals(a, store.read(ParameterStore.Buffer.AVERAGE));
    }
  }

  /**
   * {@link ParameterStore#adam} and {@link ParameterStore#updateAverage}
   * give the reference store's weights, moments and average, in settings where every term of the update counts: a
   * large epsilon (the models' 1e-8 is lost next to gradients of order one, so a misplaced bias correction of it would
   * go unseen), a large weight decay, no clipping ({@code maxGradNorm} 0) and clipping that is active, three steps
   * (the bias corrections differ per step), and an average decay other than one half (which is symmetric in the
   * average and the weights). Tolerance 1e-5 relative to each buffer's largest value: a few float32 operations per
   * value, against the reference's double arithmetic rounded to float per step (the suite's {@code TOL}).
   */
  @Test
  void parameterUpdatesMatchTheReferenceStore() {
    Map<String, int[]> layout = LayerCases.get("linear").spec().parameterShapes();
    ParameterStore.AdamUpdate[] settings = {
      new ParameterStore.AdamUpdate(0.05, 0.8, 0.99, 0.3, 0.2, 0, 1),
      new ParameterStore.AdamUpdate(0.05, 0.8, 0.99, 0.3, 0.2, 0.5, 1)};
    try (ReferenceBackend ref = new ReferenceBackend()) {
      for (ParameterStore.AdamUpdate u : settings) {
        try (ParameterStore expected = ref.layers().parameters(layout);
            ParameterStore actual = backend.layers().parameters(layout)) {
          float[] w = GoldenCases.input(expected.size());
          for (ParameterStore s : List.of(expected, actual)) {
            s.write(ParameterStore.Buffer.WEIGHTS, w);
            s.updateAverage(0.9);
          }
          for (int step = 1; step <= 3; step++) {
            float[] g = GoldenCases.target(expected.size());
            for (int i = 0; i < g.length; i++) {
              g[i] *= step; // a norm of about 5 to 15: above the clipping bound of 0.5
            }
            ParameterStore.AdamUpdate at = new ParameterStore.AdamUpdate(
                u.learningRate(), u.beta1(), u.beta2(), u.epsilon(), u.weightDecay(), u.maxGradNorm(), step);
            for (ParameterStore s : List.of(expected, actual)) {
              s.write(ParameterStore.Buffer.GRADIENTS, g);
              s.adam(at);
              s.updateAverage(0.9);
            }
            for (ParameterStore.Buffer b : ParameterStore.Buffer.values()) {
              if (b == ParameterStore.Buffer.GRADIENTS) {
                continue;
              }
              float[] e = expected.read(b);
              assertClose(e, actual.read(b), b + " after Adam step " + step + " of " + u);
            }
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ passes reading several stores

  /** The loss factor of the passes below: not 1 (nor 1/2), so a factor of the gradient taken once too often or too few times shows. */
  private static final double SCALE = 0.37;

  /** Another loss factor, for a pass that adds to a gradient begun with {@link #SCALE}. */
  private static final double OTHER_SCALE = 0.21;

  /**
   * A network whose parameters live in two stores, one per layer with parameters ({@code "a.*"} in store A,
   * {@code "b.*"} in store B), compiled by one backend, with a second network of one layer like a whose parameters
   * are also in store A: either other entries of it ({@code "c.*"}), or layer a's own, so that each of a's parameters
   * is read by two compiled kernels (a tied weight; a network may not read a parameter twice, so two networks do).
   * It drives the kernels as the SPI lets any caller: forward in node order, then {@link
   * Pass#mseBackward} or {@link Pass#mse} and each kernel's
   * backward in reverse, as {@link LayerBackend#differentiation} says.
   */
  private static final class TwoStores implements AutoCloseable {
    private final Backend backend;
    private final Network both;
    private final Network aOnly;
    final ParameterStore a;
    final ParameterStore b;
    private final Kernel[] bothKernels;
    private final Kernel[] aOnlyKernels;
    /** The losses of the passes so far, in order. */
    final List<Double> losses = new java.util.ArrayList<>();

    /**
     * Compiles the networks.
     *
     * @param backend the backend
     * @param convolution whether layer a is a 3x3 convolution (else a linear layer, so the whole network has
     *     kernels that differentiate by hand on every backend that can)
     * @param shared whether the second network's layer reads layer a's parameters (else entries {@code "c.*"})
     */
    TwoStores(Backend backend, boolean convolution, boolean shared) {
      this(backend, convolution, shared, false);
    }

    /**
     * Compiles the networks, the second network's layer a possibly viewing layer a's entries with other dimensions.
     *
     * @param backend the backend
     * @param convolution whether layer a is a 3x3 convolution (else a linear layer)
     * @param shared whether the second network's layer reads layer a's parameters (else entries {@code "c.*"})
     * @param otherView whether the second network is a 1x1 convolution of 18 channels on an {@code [18, 1, 1]} image
     *     instead of a layer like a, reading the entries of linear layer a ({@code shared}, not {@code convolution})
     *     as a 1x1 convolution stored as a linear weight does: the {@code [18, 18]} weight viewed as {@code [18, 18,
     *     1, 1]}
     */
    TwoStores(Backend backend, boolean convolution, boolean shared, boolean otherView) {
      if (otherView && (convolution || !shared)) {
        throw new IllegalArgumentException("otherView needs shared linear entries, got convolution=" + convolution
            + ", shared=" + shared);
      }
      this.backend = backend;
      Shape image = Shape.of(2, 3, 3);
      String second = shared ? "a" : "c";
      Map<String, int[]> layoutLayerA = layoutOfA("a", convolution);
      Map<String, int[]> layoutSecond = layoutOfA(second, convolution);
      LinkedHashMap<String, int[]> layoutA = new LinkedHashMap<>(layoutLayerA);
      layoutA.putAll(layoutSecond);
      LinkedHashMap<String, int[]> layoutB = new LinkedHashMap<>();
      layoutB.put("b.weight", new int[] {18, 18});
      layoutB.put("b.bias", new int[] {18});
      LinkedHashMap<String, int[]> layout = new LinkedHashMap<>(layoutLayerA);
      layout.putAll(layoutB);
      NetworkBuilder nb = new NetworkBuilder(layout);
      Node h = layerA(nb, "a", nb.input(image), convolution);
      Node out = nb.linear("b", nb.reshape(nb.silu(h), Shape.of(18)), 18);
      this.both = nb.build(nb.reshape(out, image));
      NetworkBuilder na = new NetworkBuilder(layoutSecond);
      this.aOnly = otherView
          ? na.build(na.conv(second, na.input(Shape.of(18, 1, 1)), 18, 1, 1, Layer.Padding.of(0)))
          : na.build(layerA(na, second, na.input(image), convolution));
      this.a = backend.layers().parameters(layoutA);
      this.b = backend.layers().parameters(layoutB);
      float[] wa = GoldenCases.input(a.size());
      float[] wb = GoldenCases.target(b.size());
      for (int i = 0; i < wa.length; i++) {
        wa[i] *= 0.4f; // keeps the activations of order one
      }
      a.write(ParameterStore.Buffer.WEIGHTS, wa);
      b.write(ParameterStore.Buffer.WEIGHTS, wb);
      this.bothKernels = compile(both);
      this.aOnlyKernels = compile(aOnly);
    }

    /** The parameters of a layer of store A. */
    private static Map<String, int[]> layoutOfA(String name, boolean convolution) {
      LinkedHashMap<String, int[]> layout = new LinkedHashMap<>();
      layout.put(name + ".weight", convolution ? new int[] {2, 2, 3, 3} : new int[] {18, 18});
      layout.put(name + ".bias", new int[] {convolution ? 2 : 18});
      return layout;
    }

    /** A layer of store A, {@code [2, 3, 3] -> [2, 3, 3]} (a network's output has its input's shape). */
    private static Node layerA(NetworkBuilder nb, String name, Node x, boolean convolution) {
      return convolution
          ? nb.conv(name, x, 2, 3, 1, Layer.Padding.of(1))
          : nb.reshape(nb.linear(name, nb.reshape(x, Shape.of(18)), 18), x.itemShape());
    }

    /** Each node's kernel, bound to the store of its parameters (A for parameter-free kinds). */
    private Kernel[] compile(Network network) {
      Kernel[] k = new Kernel[network.size()];
      for (Node n : network.nodes()) {
        if (!n.layer().isSource()) {
          boolean inB = n.layer().parameterNames().stream().anyMatch(p -> p.startsWith("b."));
          k[n.id()] = backend.layers().kernel(network, n, inB ? b : a);
        }
      }
      return k;
    }

    /**
     * One training pass over items {@code [from, from + items)} of a batch of three, adding to the stores'
     * gradients.
     *
     * @param readBoth whether the pass evaluates the network of both stores (else the one reading store A alone)
     * @return the loss, also added to {@link #losses}
     */
    double pass(boolean readBoth, int from, int items, double scale) {
      double loss = forwardAndBackward(readBoth, from, items, scale);
      losses.add(loss);
      return loss;
    }

    private double forwardAndBackward(boolean readBoth, int from, int items, double scale) {
      Network network = readBoth ? both : aOnly;
      Kernel[] kernels = readBoth ? bothKernels : aOnlyKernels;
      boolean manual = backend.layers().differentiation(network) == LayerBackend.Differentiation.MANUAL;
      TensorFactory t = backend.tensors();
      Shape outItem = network.node(network.output()).itemShape();
      try (TensorScope s = t.openScope();
          Pass pass = backend.layers().open(network, items, true)) {
        io.github.diffusion4j.tensor.Tensor x = t.fromArray(GoldenCases.input(3 * 18), Shape.batchOf(3, network.inputShape()));
        io.github.diffusion4j.tensor.Tensor target = t.fromArray(GoldenCases.target(3 * outItem.size()), Shape.batchOf(3, outItem));
        Value[] values = new Value[network.size()];
        Saved[] saved = new Saved[network.size()];
        for (Node n : network.nodes()) {
          if (n.layer().isSource()) {
            values[n.id()] = pass.input(x, from);
            continue;
          }
          Value[] in = n.inputs().stream().map(i -> values[i]).toArray(Value[]::new);
          saved[n.id()] = new Saved();
          values[n.id()] = kernels[n.id()].forward(in, pass, saved[n.id()]);
        }
        Value prediction = values[network.output()];
        if (!manual) {
          return pass.mseBackward(prediction, target, from, scale);
        }
        Pass.Loss loss = pass.mse(prediction, target, from, scale);
        Value g = loss.gradient();
        for (int id = network.output(); id >= 0; id--) { // a chain: each node reads the one before it
          Node n = network.node(id);
          if (n.layer().isSource()) {
            break;
          }
          Value[] in = n.inputs().stream().map(i -> values[i]).toArray(Value[]::new);
          boolean[] needed = new boolean[in.length];
          for (int i = 0; i < in.length; i++) {
            needed[i] = !network.node(n.inputs().get(i)).layer().isSource();
          }
          g = kernels[id].backward(g, in, values[id], needed, pass, saved[id])[0];
        }
        return loss.value();
      }
    }

    @Override
    public void close() {
      a.close();
      b.close();
    }
  }

  /** Store A's and store B's buffer, one after the other. */
  private static float[] both(TwoStores s, ParameterStore.Buffer buffer) {
    float[] x = s.a.read(buffer);
    float[] y = s.b.read(buffer);
    float[] r = java.util.Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, r, x.length, y.length);
    return r;
  }

  /**
   * Runs the same passes on the reference backend and the backend under test, then compares each store's gradient,
   * and the weights after an Adam step on each store. Tolerance: the suite's {@code TOL} (1e-5 relative to each
   * vector's largest value), as for the layer cases: three layers of float32 arithmetic; a gradient off by a factor
   * (2, 0.37, 0) misses by far more.
   */
  private void checkPasses(boolean convolution, String what, java.util.function.Consumer<TwoStores> passes) {
    checkPasses(convolution, false, what, passes);
  }

  /**
   * {@link #checkPasses(boolean, String, java.util.function.Consumer)}, with the second network's layer reading
   * layer a's parameters or not ({@link TwoStores#TwoStores}); the passes' losses are compared too.
   */
  private void checkPasses(
      boolean convolution, boolean shared, String what, java.util.function.Consumer<TwoStores> passes) {
    checkPasses(convolution, shared, false, what, passes);
  }

  /**
   * {@link #checkPasses(boolean, boolean, String, java.util.function.Consumer)}, with the second network possibly
   * viewing layer a's entries with other dimensions ({@link TwoStores#TwoStores(Backend, boolean, boolean, boolean)}).
   */
  private void checkPasses(boolean convolution, boolean shared, boolean otherView, String what,
      java.util.function.Consumer<TwoStores> passes) {
    String net = (convolution ? "conv" : "linear") + " then linear, " + what;
    try (ReferenceBackend ref = new ReferenceBackend();
        TwoStores expected = new TwoStores(ref, convolution, shared, otherView)) {
      // a backend without a kind these networks use skips the case (JUnit reports the test skipped), as a layer
      // case of such a kind is; the variants before it in the test have run
      Set<String> lacking = new TreeSet<>();
      for (Network network : List.of(expected.both, expected.aOnly)) {
        for (Node n : network.nodes()) {
          if (!n.layer().isSource() && !supports(n.layer().getClass())) {
            lacking.add(n.layer().getClass().getSimpleName());
          }
        }
      }
      Assumptions.assumeTrue(lacking.isEmpty(),
          () -> net + ": the backend lacks " + lacking + " (supports(...) is false)");
      checkPasses(expected, net, shared, otherView, convolution, passes);
    }
  }

  private void checkPasses(TwoStores expected, String net, boolean shared, boolean otherView, boolean convolution,
      java.util.function.Consumer<TwoStores> passes) {
    try (TwoStores actual = new TwoStores(backend, convolution, shared, otherView)) {
      passes.accept(expected);
      passes.accept(actual);
      for (int i = 0; i < expected.losses.size(); i++) {
        assertEquals(expected.losses.get(i), actual.losses.get(i), TOL * Math.abs(expected.losses.get(i)),
            net + ": the loss of pass " + i);
      }
      assertClose(expected.a.read(ParameterStore.Buffer.GRADIENTS), actual.a.read(ParameterStore.Buffer.GRADIENTS),
          net + ": store A's gradient");
      assertClose(expected.b.read(ParameterStore.Buffer.GRADIENTS), actual.b.read(ParameterStore.Buffer.GRADIENTS),
          net + ": store B's gradient");
      ParameterStore.AdamUpdate u = new ParameterStore.AdamUpdate(0.05, 0.8, 0.99, 0.3, 0.2, 0, 1);
      for (TwoStores s : List.of(expected, actual)) {
        s.a.adam(u);
        s.b.adam(u);
      }
      assertClose(both(expected, ParameterStore.Buffer.WEIGHTS), both(actual, ParameterStore.Buffer.WEIGHTS),
          net + ": the weights after an Adam step on each store");
    }
  }

  /**
   * A pass whose kernels read two stores (the SPI compiles each node with any store of the backend) adds each
   * layer's gradient, at the loss's whole factor {@code 2 scale}, to its own store, as one store would: a batch of
   * three in two passes, the loss at a factor other than one.
   */
  @Test
  void aPassReadingTwoStoresAddsToEach() {
    for (boolean convolution : new boolean[] {false, true}) {
      checkPasses(convolution, "two passes reading both stores", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(true, 0, 2, SCALE);
        s.pass(true, 2, 1, SCALE);
      });
    }
  }

  /**
   * A store's gradient is the sum of every backward pass since {@link ParameterStore#zeroGradients()}, whether the
   * pass read that store alone or with another, in either order, and whatever each pass's loss factor.
   */
  @Test
  void aStoreReadAloneAndWithAnotherAddsBoth() {
    for (boolean convolution : new boolean[] {false, true}) {
      checkPasses(convolution, "store A alone, then both", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(false, 0, 3, OTHER_SCALE);
        s.pass(true, 0, 3, SCALE);
      });
      checkPasses(convolution, "both, then store A alone", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(true, 0, 3, SCALE);
        s.pass(false, 0, 3, OTHER_SCALE);
      });
    }
  }

  /**
   * A parameter read by two compiled kernels (the SPI lets any caller compile nodes of several networks against one
   * store, here layer a of both networks; a tied weight) gets the sum of both kernels' gradients, whichever network's
   * passes ran, in either order, split or whole, as on the reference backend ({@link LayerBackend#kernel}).
   */
  @Test
  void aParameterReadByTwoKernelsGetsTheSumOfTheirGradients() {
    for (boolean convolution : new boolean[] {false, true}) {
      checkPasses(convolution, true, "layer a in both networks, alone then both", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(false, 0, 3, OTHER_SCALE);
        s.pass(true, 0, 3, SCALE);
      });
      checkPasses(convolution, true, "layer a in both networks, both split around a pass alone", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(true, 0, 2, SCALE);
        s.pass(false, 0, 3, SCALE);
        s.pass(true, 2, 1, SCALE);
      });
    }
  }

  /**
   * A parameter read by two compiled kernels that view it with other dimensions: linear layer a's {@code [18, 18]}
   * weight, read by a 1x1 convolution of the second network as a 1x1 convolution stored as a linear weight may be
   * ({@code [18, 18, 1, 1]}; {@link io.github.diffusion4j.nn.Network} allows that layout), and its bias. A backend
   * that keeps one view of an entry per dimensions (as DJL's leaves) must still add every view's gradient into the
   * entry, whichever network's passes ran, in either order, split or whole.
   */
  @Test
  void aParameterViewedWithOtherDimensionsByTwoKernelsGetsTheSumOfTheirGradients() {
    checkPasses(false, true, true, "layer a's entries as a 1x1 convolution too, alone then both", s -> {
      s.a.zeroGradients();
      s.b.zeroGradients();
      s.pass(false, 0, 3, OTHER_SCALE);
      s.pass(true, 0, 3, SCALE);
    });
    checkPasses(false, true, true, "layer a's entries as a 1x1 convolution too, both split around it", s -> {
      s.a.zeroGradients();
      s.b.zeroGradients();
      s.pass(true, 0, 2, SCALE);
      s.pass(false, 0, 3, SCALE);
      s.pass(true, 2, 1, SCALE);
    });
  }

  /**
   * {@link ParameterStore.Buffer#GRADIENTS} is the gradient accumulated since {@link ParameterStore#zeroGradients()},
   * and a backward pass adds to the store's gradient ({@link Kernel#backward}, {@link
   * Pass#mseBackward}): a gradient written with {@link ParameterStore#write} is where the
   * next backward passes start adding, at their own loss factors.
   */
  @Test
  void aBackwardPassAddsToAWrittenGradient() {
    for (boolean convolution : new boolean[] {false, true}) {
      checkPasses(convolution, "a written gradient, then passes", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        float[] g = GoldenCases.target(s.a.size());
        s.a.write(ParameterStore.Buffer.GRADIENTS, g);
        s.b.write(ParameterStore.Buffer.GRADIENTS, GoldenCases.input(s.b.size()));
        s.pass(false, 0, 3, SCALE);
        s.pass(false, 0, 2, OTHER_SCALE);
      });
      checkPasses(convolution, "a pass, a written gradient, then passes", s -> {
        s.a.zeroGradients();
        s.b.zeroGradients();
        s.pass(false, 0, 3, OTHER_SCALE);
        s.a.write(ParameterStore.Buffer.GRADIENTS, GoldenCases.target(s.a.size()));
        s.pass(true, 0, 3, SCALE);
      });
    }
  }

  @Test
  void everyGoldenCaseBelongsToAKind() {
    assertArrayEquals(
        new String[] {"linear", "conv3x3", "conv3x3_no_bias", "conv_stride2_right_bottom", "conv_stride2_symmetric", "conv1x1_linear_weight",
          "group_norm", "group_norm_vector", "silu", "relu", "upsample", "add_scaled", "add_broadcast", "concat",
          "slice_channels", "attention_one_head", "attention_two_heads", "dropout", "embedding_ddpm",
          "embedding_diffusers_flip", "embedding_double"},
        LayerCases.names().toArray(new String[0]));
  }
}
