package io.github.diffusion4j.benchmarks;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer.Padding;
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
import io.github.diffusion4j.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One layer of each kind on a U-Net's typical shapes (batch 16, 64 channels, 16x16), through a backend's
 * {@link LayerBackend}: a one-layer {@link Network} built with {@link NetworkBuilder}, its kernels from
 * {@link LayerBackend#kernel}, and one {@link Pass} per call, as {@code NetworkModel} runs a network.
 *
 * <p>{@code forward}: a prediction pass: the batch handed to the pass ({@link Pass#input}, as for a network's
 * first layer: on nd4j an image kernel converts it to its channel-major layout), the kind's forward kernel,
 * the values released. The cases ({@code kind}):
 *
 * <ul>
 *   <li>{@code linear}: {@code [256] -> [256]} (a time-embedding layer of a base-64 U-Net; the batch is
 *       {@code [16, 256, 1, 1]}, reshaped);
 *   <li>{@code conv3x3} and {@code conv1x1}: 64 to 64 channels, padding 1 and 0;
 *   <li>{@code groupnorm_silu}: group norm (32 groups) and SiLU, two nodes (nd4j fuses them);
 *   <li>{@code attention}: one head over the 256 positions, {@code q = k = v} the input;
 *   <li>{@code upsample}: nearest, {@code [64, 8, 8] -> [64, 16, 16]} (the batch's first 16 channels seen as
 *       {@code [64, 8, 8]}, so that the output has the batch's shape, as a network's must);
 *   <li>{@code add}: the batch to itself; {@code concat}: the batch's two halves of 32 channels (the slices
 *       are timed too).
 * </ul>
 *
 * <p>{@code train}: a training pass: the forward kernels, the mean squared error against a fixed target and
 * the backward pass (the kernels' own backward in reverse order on a backend that differentiates by hand,
 * libtorch's autograd on the other), with the parameters' gradients zeroed first. The batch's own gradient is
 * never needed, so a kind without parameters ({@code attention}, {@code upsample}, {@code add},
 * {@code concat}) gets 1x1 convolutions in front of each of its inputs (as the layer contract tests do), and
 * the backward pass must go through it; the {@code conv1x1} case times one such convolution alone
 * ({@code attention} has three: its q, k and v projections).
 *
 * <p>Each fork runs with the JDK's Vector API module, as the launcher runs the CLI and {@code diffusion bench} its
 * children on CPUs with AVX2 or AVX-512: without it ND4J's kernels fall back to their scalar loops and products
 * of columns (no direct or Winograd convolutions, a scalar sigmoid), which is not what a user runs (until
 * 2026-12-05 this benchmark's forks lacked it, so its ND4J figures timed those fallbacks).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(jvmArgsAppend = {"-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector"})
public class LayerBenchmark {
  static final int BATCH = 16;
  static final int CHANNELS = 64;
  static final Shape IMAGE = Shape.of(CHANNELS, 16, 16);
  static final Shape SMALL_IMAGE = Shape.of(CHANNELS, 8, 8);
  static final Shape EMBEDDING = Shape.of(256, 1, 1);

  /** The backend: {@code nd4j} or {@code djl}. */
  @Param({"nd4j", "djl"})
  public String backend;

  /** The layer kind (see the class comment). */
  @Param({"linear", "conv3x3", "conv1x1", "groupnorm_silu", "attention", "upsample", "add", "concat"})
  public String kind;

  private Backend engine;
  private LayerBackend layers;
  private Compiled prediction;
  private Compiled training;
  private Tensor input;
  private Tensor target;

  /** Creates the benchmark state; JMH calls it. */
  public LayerBenchmark() {}

  /** Opens the backend, builds the two networks of the case, compiles their kernels and makes the batch. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = BenchmarkBackends.open(backend);
    layers = engine.layers();
    Case c = Case.of(kind);
    prediction = new Compiled(layers, c.network(false));
    training = new Compiled(layers, c.network(true));
    Shape batch = Shape.batchOf(BATCH, c.input);
    input = engine.tensors().fromArray(Noise.seeded(1).normals(batch.size()), batch);
    Shape out = Shape.batchOf(BATCH, training.network.node(training.network.output()).itemShape());
    target = engine.tensors().fromArray(Noise.seeded(2).normals(out.size()), out);
  }

  /** Releases the parameters, the tensors and the backend. */
  @TearDown(Level.Trial)
  public void tearDown() {
    prediction.parameters.close();
    training.parameters.close();
    input.close();
    target.close();
    engine.close();
  }

  /**
   * The kind's forward pass in prediction.
   *
   * @return the number of values the pass created (so the work is not eliminated)
   */
  @Benchmark
  public int forward() {
    try (Pass pass = layers.open(prediction.network, BATCH, false)) {
      Value[] values = prediction.forward(pass, input, null);
      return release(pass, values, Collections.newSetFromMap(new IdentityHashMap<>()));
    }
  }

  /**
   * The forward pass in training, the loss and the backward pass.
   *
   * @return the loss
   */
  @Benchmark
  public double train() {
    Network net = training.network;
    training.parameters.zeroGradients();
    try (Pass pass = layers.open(net, BATCH, true)) {
      Saved[] saved = new Saved[net.size()];
      Value[] values = training.forward(pass, input, saved);
      Set<Value> extra = Collections.newSetFromMap(new IdentityHashMap<>());
      double scale = 1.0 / target.shape().size();
      double loss;
      if (layers.differentiation(net) == LayerBackend.Differentiation.AUTOGRAD) {
        loss = pass.mseBackward(values[net.output()], target, 0, scale);
      } else {
        Pass.Loss l = pass.mse(values[net.output()], target, 0, scale);
        loss = l.value();
        training.backward(pass, values, saved, l.gradient(), extra);
      }
      release(pass, values, extra);
      return loss;
    }
  }

  /** Releases every distinct value once. */
  private static int release(Pass pass, Value[] values, Set<Value> more) {
    Set<Value> all = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Value v : values) {
      if (v != null) {
        all.add(v);
      }
    }
    all.addAll(more);
    for (Value v : all) {
      pass.release(v);
    }
    return all.size();
  }

  /** A network with its parameters (test weights) and kernels on the backend. */
  private static final class Compiled {
    final Network network;
    final ParameterStore parameters;
    final Kernel[] kernels;
    /** Whether a node's value depends on a parameter, so that its gradient is needed. */
    final boolean[] needsGradient;

    Compiled(LayerBackend layers, Network network) {
      this.network = network;
      this.parameters = layers.parameters(network.parameterShapes());
      parameters.write(ParameterStore.Buffer.WEIGHTS, weights(parameters.size()));
      this.kernels = new Kernel[network.size()];
      this.needsGradient = new boolean[network.size()];
      for (Node node : network.nodes()) {
        if (!node.layer().isSource()) {
          kernels[node.id()] = layers.kernel(network, node, parameters);
        }
        boolean needs = !node.layer().parameterNames().isEmpty();
        for (int in : node.inputs()) {
          needs |= needsGradient[in];
        }
        needsGradient[node.id()] = needs;
      }
    }

    /** Small weights (0.05 standard normals): the speed of a kernel does not depend on them. */
    private static float[] weights(int n) {
      float[] w = Noise.seeded(3).normals(n);
      for (int i = 0; i < n; i++) {
        w[i] *= 0.05f;
      }
      return w;
    }

    /** Every node in order; {@code saved} is null in prediction. */
    Value[] forward(Pass pass, Tensor x, Saved[] saved) {
      Value[] values = new Value[network.size()];
      for (Node node : network.nodes()) {
        int id = node.id();
        if (node.layer().isSource()) {
          values[id] = pass.input(x, 0);
          continue;
        }
        Value[] in = new Value[node.inputs().size()];
        for (int i = 0; i < in.length; i++) {
          in[i] = values[node.inputs().get(i)];
        }
        Saved s = null;
        if (saved != null) {
          s = new Saved();
          saved[id] = s;
        }
        values[id] = kernels[id].forward(in, pass, s);
      }
      return values;
    }

    /**
     * The kernels' backward passes in reverse order. In these networks a value whose gradient is needed is
     * read by one node only, so no gradient is summed.
     */
    void backward(Pass pass, Value[] values, Saved[] saved, Value lossGradient, Set<Value> created) {
      Value[] grads = new Value[network.size()];
      grads[network.output()] = lossGradient;
      created.add(lossGradient);
      for (int id = network.size() - 1; id >= 0; id--) {
        Node node = network.node(id);
        Value g = grads[id];
        if (g == null || node.layer().isSource()) {
          continue;
        }
        Value[] in = new Value[node.inputs().size()];
        boolean[] needed = new boolean[in.length];
        for (int i = 0; i < in.length; i++) {
          int from = node.inputs().get(i);
          in[i] = values[from];
          needed[i] = needsGradient[from];
        }
        Value[] gin = kernels[id].backward(g, in, values[id], needed, pass, saved[id]);
        for (int i = 0; i < in.length; i++) {
          if (needed[i] && gin[i] != null) {
            grads[node.inputs().get(i)] = gin[i];
            created.add(gin[i]);
          }
        }
      }
    }
  }

  /**
   * A case: its batch's item shape, its kind's parameters, the nodes its kind reads (views of the batch) and
   * its layers.
   *
   * @param input the item shape of the batch
   * @param parameters the kind's own parameters (name and shape, in order)
   * @param inputs the nodes the kind reads, made from the batch without parameters
   * @param body the layers, given the nodes the kind reads; they end in the batch's shape
   */
  private record Case(
      Shape input,
      Map<String, int[]> parameters,
      BiFunction<NetworkBuilder, Node, Node[]> inputs,
      BiFunction<NetworkBuilder, Node[], Node> body) {
    static Case of(String kind) {
      int c = CHANNELS;
      int e = EMBEDDING.dim(0);
      BiFunction<NetworkBuilder, Node, Node[]> batch = (b, x) -> new Node[] {x};
      return switch (kind) {
        case "linear" -> new Case(EMBEDDING, own(new int[] {e, e}, e), (b, x) -> new Node[] {b.reshape(x, Shape.of(e))},
            (b, x) -> b.reshape(b.linear("layer", x[0], e), EMBEDDING));
        case "conv3x3" -> new Case(IMAGE, own(new int[] {c, c, 3, 3}, c), batch,
            (b, x) -> b.conv("layer", x[0], c, 3, 1, Padding.of(1)));
        case "conv1x1" -> new Case(IMAGE, own(new int[] {c, c, 1, 1}, c), batch,
            (b, x) -> b.conv("layer", x[0], c, 1, 1, Padding.of(0)));
        case "groupnorm_silu" -> new Case(IMAGE, own(new int[] {c}, c), batch,
            (b, x) -> b.silu(b.groupNorm("layer", x[0], 32, 1e-6)));
        case "attention" -> new Case(IMAGE, Map.of(), (b, x) -> new Node[] {x, x, x},
            (b, x) -> b.attention(x[0], x[1], x[2], 1));
        case "upsample" -> new Case(IMAGE, Map.of(),
            (b, x) -> new Node[] {b.reshape(b.sliceChannels(x, 0, c / 4), SMALL_IMAGE)},
            (b, x) -> b.upsample(x[0], 2));
        case "add" -> new Case(IMAGE, Map.of(), (b, x) -> new Node[] {x, x}, (b, x) -> b.add(x[0], x[1]));
        case "concat" -> new Case(IMAGE, Map.of(),
            (b, x) -> new Node[] {b.sliceChannels(x, 0, c / 2), b.sliceChannels(x, c / 2, c)},
            (b, x) -> b.concat(x[0], x[1]));
        default -> throw new IllegalArgumentException("kind '" + kind + "' is unknown; kinds are linear, conv3x3,"
            + " conv1x1, groupnorm_silu, attention, upsample, add, concat");
      };
    }

    private static Map<String, int[]> own(int[] weight, int bias) {
      Map<String, int[]> m = new LinkedHashMap<>();
      m.put("layer.weight", weight);
      m.put("layer.bias", new int[] {bias});
      return m;
    }

    /**
     * The case's network; with {@code pre} (for training) a kind without parameters reads each of its inputs
     * through a 1x1 convolution of its own.
     */
    Network network(boolean pre) {
      boolean convs = pre && parameters.isEmpty();
      NetworkBuilder probe = new NetworkBuilder(Map.of());
      Node[] shapes = inputs.apply(probe, probe.input(input));
      Map<String, int[]> layout = new LinkedHashMap<>();
      for (int i = 0; convs && i < shapes.length; i++) {
        int ci = shapes[i].itemShape().dim(0);
        layout.put("pre" + i + ".weight", new int[] {ci, ci, 1, 1});
        layout.put("pre" + i + ".bias", new int[] {ci});
      }
      layout.putAll(parameters);
      NetworkBuilder b = new NetworkBuilder(layout);
      Node[] in = inputs.apply(b, b.input(input));
      for (int i = 0; convs && i < in.length; i++) {
        in[i] = b.conv("pre" + i, in[i], in[i].itemShape().dim(0), 1, 1, Padding.of(0));
      }
      return b.build(body.apply(b, in));
    }
  }
}
