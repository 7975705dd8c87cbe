package io.github.diffusion4j.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Layer.Padding;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The small networks of the layer-kind contracts, one or more per kind, each the twin of a case in {@code
 * docs/layers_reference.py} (same parameter names and order, same test weights, same input), with that
 * script's golden output, loss and gradients. A layer whose input gradient is not a parameter gradient gets a
 * 1x1 "pre" convolution in front, so a wrong input gradient shows in {@code pre}'s weight gradient.
 */
public final class LayerCases {
  /** The image of every case, {@code [4, 6, 6]}. */
  public static final Shape IMAGE = Shape.of(4, 6, 6);
  /** The timesteps of the batch (three items). */
  public static final int[] TIMESTEPS = {0, 500, 999};
  /** The dropout stream of the dropout case ({@code "LAYER_DR"}); its model seed is 0 and the step 1. */
  public static final long DROPOUT_STREAM = 0x4C415945525F4452L;

  private static final int C = 4;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Case> CASES = new LinkedHashMap<>();
  private static final JsonNode GOLDEN;

  static {
    try (InputStream in = LayerCases.class.getResourceAsStream("layers_golden.json")) {
      GOLDEN = JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Padding none = Padding.of(0);
    Padding same = Padding.of(1);
    int[] pre = {C, C, 1, 1};
    int[] bias = {C};
    define("linear", layout("pre", pre, "lin", new int[] {144, 144}), (b, x) ->
        b.reshape(b.linear("lin", b.reshape(b.conv("pre", x, C, 1, 1, none), Shape.of(144)), 144), IMAGE));
    define("conv3x3", layout("pre", pre, "c", new int[] {5, C, 3, 3}, "post", new int[] {C, 5, 1, 1}), (b, x) ->
        b.conv("post", b.conv("c", b.conv("pre", x, C, 1, 1, none), 5, 3, 1, same), C, 1, 1, none));
    LinkedHashMap<String, int[]> noBias = layout("pre", pre, "c", new int[] {5, C, 3, 3}, "post", new int[] {C, 5, 1, 1});
    noBias.remove("c.bias");
    define("conv3x3_no_bias", noBias, (b, x) ->
        b.conv("post", b.conv("c", b.conv("pre", x, C, 1, 1, none), 5, 3, 1, same, false), C, 1, 1, none));
    define("conv_stride2_right_bottom", layout("pre", pre, "c", new int[] {C, C, 3, 3}), (b, x) ->
        b.upsample(b.conv("c", b.conv("pre", x, C, 1, 1, none), C, 3, 2, new Padding(0, 0, 1, 1)), 2));
    define("conv_stride2_symmetric", layout("pre", pre, "c", new int[] {C, C, 3, 3}), (b, x) ->
        b.upsample(b.conv("c", b.conv("pre", x, C, 1, 1, none), C, 3, 2, same), 2));
    define("conv1x1_linear_weight", layout("pre", pre, "c", new int[] {C, C}), (b, x) ->
        b.conv("c", b.conv("pre", x, C, 1, 1, none), C, 1, 1, none));
    define("group_norm", layout("pre", pre, "gn.norm", bias), (b, x) ->
        b.groupNorm("gn.norm", b.conv("pre", x, C, 1, 1, none), 2, 1e-5));
    define("group_norm_vector", layout("pre", pre, "l", new int[] {C, 8}, "gn.norm", bias), (b, x) ->
        b.add(b.conv("pre", x, C, 1, 1, none),
            b.groupNorm("gn.norm", b.linear("l", b.timestepEmbedding(embedding(8, false, 1, Layer.Precision.DOUBLE)), C), 1, 1e-6)));
    define("silu", layout("pre", pre), (b, x) -> b.silu(b.conv("pre", x, C, 1, 1, none)));
    define("relu", layout("pre", pre), (b, x) -> b.relu(b.conv("pre", x, C, 1, 1, none)));
    define("upsample", layout("pre", new int[] {C, C, 3, 3}), (b, x) -> b.upsample(b.conv("pre", x, C, 3, 2, same), 2));
    define("add_scaled", layout("a", pre, "b", new int[] {C, C, 3, 3}), (b, x) ->
        b.add(b.conv("a", x, C, 1, 1, none), b.conv("b", x, C, 3, 1, same), 0.7));
    define("add_broadcast", layout("pre", pre, "l", new int[] {C, 1}), (b, x) ->
        b.add(b.conv("pre", x, C, 1, 1, none), b.linear("l", b.timestepScale(1000), C)));
    define("concat", layout("a", new int[] {2, C, 1, 1}, "b", new int[] {3, C, 1, 1}, "post", new int[] {C, 5, 1, 1}), (b, x) ->
        b.conv("post", b.concat(b.conv("a", x, 2, 1, 1, none), b.conv("b", x, 3, 1, 1, none)), C, 1, 1, none));
    define("slice_channels", layout("pre", new int[] {2 * C, C, 1, 1}), (b, x) ->
        b.sliceChannels(b.conv("pre", x, 2 * C, 1, 1, none), 2, 2 + C));
    define("attention_one_head", layout("q", pre, "k", pre, "v", pre), (b, x) -> attention(b, x, 1));
    define("attention_two_heads", layout("q", pre, "k", pre, "v", pre), (b, x) -> attention(b, x, 2));
    define("dropout", layout("pre", pre), (b, x) -> b.dropout(b.conv("pre", x, C, 1, 1, none), 0.3, DROPOUT_STREAM, 0));
    define("embedding_ddpm", layout("pre", pre, "l", new int[] {C, 16}), (b, x) -> embedded(b, x, embedding(16, false, 1, Layer.Precision.FLOAT32_DDPM)));
    define("embedding_diffusers_flip", layout("pre", pre, "l", new int[] {C, 16}), (b, x) -> embedded(b, x, embedding(16, true, 0, Layer.Precision.FLOAT32)));
    define("embedding_double", layout("pre", pre, "l", new int[] {C, 16}), (b, x) -> embedded(b, x, embedding(16, false, 1, Layer.Precision.DOUBLE)));
  }

  private LayerCases() {}

  private static Layer.TimestepEmbedding embedding(int dim, boolean flip, double shift, Layer.Precision p) {
    return new Layer.TimestepEmbedding(dim, flip, shift, 10000, p);
  }

  private static Node embedded(NetworkBuilder b, Node x, Layer.TimestepEmbedding e) {
    return b.add(b.conv("pre", x, C, 1, 1, Padding.of(0)), b.linear("l", b.timestepEmbedding(e), C));
  }

  private static Node attention(NetworkBuilder b, Node x, int heads) {
    Padding none = Padding.of(0);
    return b.attention(b.conv("q", x, C, 1, 1, none), b.conv("k", x, C, 1, 1, none), b.conv("v", x, C, 1, 1, none), heads);
  }

  /** Weights and biases in order: name, weight shape, name, weight shape, ... (each bias {@code [out]}). */
  private static LinkedHashMap<String, int[]> layout(Object... pairs) {
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      int[] w = (int[]) pairs[i + 1];
      String name = (String) pairs[i];
      m.put(name + ".weight", w);
      m.put(name + ".bias", new int[] {w[0]});
    }
    return m;
  }

  private static void define(String name, LinkedHashMap<String, int[]> layout, BiFunction<NetworkBuilder, Node, Node> body) {
    JsonNode g = null;
    for (JsonNode c : GOLDEN.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        g = c;
      }
    }
    if (g == null) {
      throw new IllegalStateException("layers_golden.json has no case " + name);
    }
    Map<String, float[]> grads = new HashMap<>();
    g.get("gradients").properties().forEach(e -> grads.put(e.getKey(), GoldenCases.floats(e.getValue())));
    CASES.put(name, new Case(name, new Spec(name, layout, body), GoldenCases.floats(g.get("output")), g.get("loss").asDouble(), grads));
  }

  /**
   * The case's names, in the order of the golden file.
   *
   * @return the names
   */
  public static List<String> names() {
    return List.copyOf(CASES.keySet());
  }

  /**
   * One case.
   *
   * @param name its name
   * @return the case
   */
  public static Case get(String name) {
    Case c = CASES.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no layer case " + name + "; cases are " + CASES.keySet());
    }
    return c;
  }

  /**
   * The seed of the test weights.
   *
   * @return the golden file's weight seed
   */
  public static long weightSeed() {
    return GOLDEN.get("weight_seed").asLong();
  }

  /**
   * One case: its network as a model spec and PyTorch's numbers for it.
   *
   * @param name the name
   * @param spec the network
   * @param output PyTorch's output for the test weights and {@link GoldenCases#input}
   * @param loss {@code mean((output - target)^2)} with {@link GoldenCases#target}
   * @param gradients the loss's gradient for every parameter
   */
  public record Case(String name, Spec spec, float[] output, double loss, Map<String, float[]> gradients) {

    /**
     * The batch shape, three items.
     *
     * @return {@code [3, 4, 6, 6]}
     */
    public Shape batch() {
      return Shape.batchOf(TIMESTEPS.length, IMAGE);
    }

    /**
     * The test weights of the reference script.
     *
     * @return the weights
     */
    public StateDict weights() {
      return GoldenCases.testWeights(spec.parameterShapes(), weightSeed());
    }
  }

  /**
   * A case's network as a model spec (T = 1000, initial weights the test weights).
   *
   * @param name the case
   * @param imageShape the images it takes ({@link #IMAGE} for the golden cases)
   * @param layout its parameters
   * @param body the layers between the input and the output
   */
  public record Spec(String name, Shape imageShape, LinkedHashMap<String, int[]> layout,
      BiFunction<NetworkBuilder, Node, Node> body) implements ModelSpec {

    /**
     * A golden case's network, on images of {@link #IMAGE}.
     *
     * @param name the case
     * @param layout its parameters
     * @param body the layers between the input and the output
     */
    public Spec(String name, LinkedHashMap<String, int[]> layout, BiFunction<NetworkBuilder, Node, Node> body) {
      this(name, IMAGE, layout, body);
    }

    @Override
    public String kind() {
      return "layer-case-" + name;
    }

    @Override
    public int numTrainTimesteps() {
      return 1000;
    }

    @Override
    public Map<String, int[]> parameterShapes() {
      return layout;
    }

    @Override
    public StateDict initialWeights(long seed) {
      return GoldenCases.testWeights(layout, seed);
    }

    @Override
    public Network network() {
      NetworkBuilder b = new NetworkBuilder(layout);
      return b.build(body.apply(b, b.input(imageShape)));
    }
  }
}
