package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.PassMemory;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.Map;

/**
 * The layer kinds on libtorch: {@link DjlParameters} (flat weights with an autograd leaf per parameter, the
 * fused Adam), one kernel class per layer kind (each a few libtorch operations; convolutions always through
 * {@link Convolution}), and {@link DjlPass}es that own their native memory and set the calling thread's grad
 * mode.
 *
 * <p><b>Differentiation.</b> libtorch's autograd differentiates every network that has a convolution, a group
 * norm, attention or any other kind without a backward pass here. The kinds of the tutorial's MLP (linear,
 * activation, concatenation, reshape) have their own backward passes ({@link Kernel#backward}, a few libtorch
 * operations each, as the hand-written MLP had), and a network made only of them is differentiated by hand:
 * for such small networks the autograd's bookkeeping (recording the graph, running its engine, accumulating
 * each parameter's {@code .grad} before it is collected into the flat gradient) cost about a fifth of a
 * training step.
 */
final class DjlLayers implements LayerBackend {
  /** The system property that sets {@link #passMemoryBytes()} in MiB ({@link PassMemory}). */
  static final String PASS_MEMORY_PROPERTY = "diffusion4j.djl.passMemoryMb";

  private final DjlBackend backend;
  private final long passMemoryBytes;

  /**
   * The layers of a backend.
   *
   * @param backend the backend
   * @param passMemoryBytes the activation memory a pass should stay within
   */
  DjlLayers(DjlBackend backend, long passMemoryBytes) {
    this.backend = backend;
    this.passMemoryBytes = passMemoryBytes;
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@link PassMemory#DEFAULT_MB} MiB unless the system property {@value #PASS_MEMORY_PROPERTY} says
   * otherwise ({@link PassMemory}): a large model's batch is split into passes whose gradients add up, so its
   * memory stays bounded.
   */
  @Override
  public long passMemoryBytes() {
    return passMemoryBytes;
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@link Differentiation#MANUAL} when every layer kind of the network has a backward pass here ({@link
   * #byHand}), else {@link Differentiation#AUTOGRAD}.
   */
  @Override
  public Differentiation differentiation(Network network) {
    for (Node node : network.nodes()) {
      if (!node.layer().isSource() && !byHand(node.layer())) {
        return Differentiation.AUTOGRAD;
      }
    }
    return Differentiation.MANUAL;
  }

  /** Whether this backend's kernel of a layer kind has its own backward pass. */
  static boolean byHand(Layer l) {
    return l instanceof Layer.Linear || l instanceof Layer.Activation || l instanceof Layer.Concat
        || l instanceof Layer.Reshape;
  }

  @Override
  public ParameterStore parameters(Map<String, int[]> layout) {
    return backend.register(new DjlParameters(backend, layout));
  }

  @Override
  public Kernel kernel(Network network, Node node, ParameterStore parameters) {
    if (!(parameters instanceof DjlParameters p)) {
      throw new IllegalArgumentException(
          "djl: the parameters were not created by this backend: " + parameters.getClass().getName());
    }
    Layer l = node.layer();
    Shape in = node.inputs().isEmpty() ? null : network.node(node.inputs().get(0)).itemShape();
    if (l instanceof Layer.Linear x) {
      return new LinearKernel(backend.innerProduct(), p, x, appliesRelu(network, node));
    }
    if (l instanceof Layer.Conv2d x) {
      return new ConvKernel(backend, p, x);
    }
    if (l instanceof Layer.GroupNorm x) {
      return new GroupNormKernel(backend.scriptOps(), p, x, network.soleActivation(node.id()).orElse(null));
    }
    if (l instanceof Layer.Activation x) {
      Node from = network.node(node.inputs().get(0));
      return new ActivationKernel(x.function(),
          from.layer() instanceof Layer.GroupNorm && network.soleActivation(from.id()).isPresent()
              || appliesRelu(network, from));
    }
    if (l instanceof Layer.Upsample x) {
      return new UpsampleKernel(x, in);
    }
    if (l instanceof Layer.Add x) {
      return new AddKernel(p, x, in, network.node(node.inputs().get(1)).itemShape());
    }
    if (l instanceof Layer.Concat) {
      long[] channels = new long[node.inputs().size()];
      for (int i = 0; i < channels.length; i++) {
        channels[i] = network.node(node.inputs().get(i)).itemShape().dim(0);
      }
      return new ConcatKernel(channels);
    }
    if (l instanceof Layer.SliceChannels x) {
      return new SliceKernel(x);
    }
    if (l instanceof Layer.Attention x) {
      return new AttentionKernel(p, x, in.dim(0));
    }
    if (l instanceof Layer.Dropout) {
      return new DropoutKernel();
    }
    if (l instanceof Layer.Reshape x) {
      return new ReshapeKernel(x, in);
    }
    throw new UnsupportedOperationException("djl: no kernel for " + l + " (node " + node.id() + ")");
  }

  /** Whether a node is a linear layer that applies the ReLU which is its output's only reader. */
  private static boolean appliesRelu(Network network, Node node) {
    return node.layer() instanceof Layer.Linear
        && network.soleActivation(node.id()).orElse(null) == Layer.Function.RELU;
  }

  /**
   * {@inheritDoc}
   *
   * <p>A pass of a network differentiated by hand ({@link Differentiation#MANUAL}: linear layers and
   * activations, small by nature) runs confined to the calling thread ({@link DjlBackend#confineToCallingThread()})
   * when the backend has several threads: libtorch's parallel regions cost more than they save on operations that
   * small (the bench's MLP trained at 1,470-1,530 steps/s at two threads against 2,760-2,960 at one;
   * docs/benchmarks.md).
   */
  @Override
  public Pass open(Network network, int items, boolean training) {
    if (items < 1) {
      throw new IllegalArgumentException("djl: a pass needs at least one item, got " + items);
    }
    backend.checkOpen();
    backend.useOnThisThread();
    boolean manual = differentiation(network) == Differentiation.MANUAL;
    return new DjlPass(backend, items, training, training && !manual,
        manual ? backend.confineToCallingThread() : ThreadConfinement.NONE);
  }
}
