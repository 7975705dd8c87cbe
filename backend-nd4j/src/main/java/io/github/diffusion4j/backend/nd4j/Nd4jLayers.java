package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.PassMemory;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The layer kinds on ND4J's native memory, differentiated by hand: a {@link Kernel} per layer kind (one
 * small class each, {@code *Kernel}), {@link Parameters} for the weights, gradient, Adam state and moving
 * average, and {@link NativePass}es that each borrow a {@link Workspace} from a pool, so any number of
 * threads may predict at once and a pass of a given size allocates nothing after its first run.
 *
 * <p>Where the time goes: matrix products (linear layers, convolutions as im2col, attention) are direct
 * OpenBLAS calls on the values' native memory ({@link Blas}), except the forward pass of stride-1
 * convolutions where the Vector API is available ({@link DirectConv}) and that of the other 3x3 stride-1 ones,
 * by Winograd's F(2x2, 3x3) ({@link WinogradConv}: its forward products in Java vectors where the Vector API is
 * available, else, and for its weight gradient, OpenBLAS's); everything else streams native memory
 * through small heap arrays in loops that the JIT vectorises ({@link ArrayMath}, {@link VectorMath}).
 * With more than one thread, OpenBLAS uses them inside each product, and the kernels split their Java loops
 * over independent outputs across the backend's own {@link KernelPool} (bit-identical to one thread).
 */
final class Nd4jLayers implements LayerBackend {
  /**
   * The system property that sets the activation budget of a pass in MiB ({@link PassMemory}): a batch whose
   * activations (as the network counts them, {@link Network#activationFloatsPerItem}) need more is split into
   * several passes.
   */
  static final String PASS_MEMORY_PROPERTY = "diffusion4j.nd4j.passMemoryMb";

  /** The default activation budget of a pass ({@link PassMemory#DEFAULT_MB}), in bytes. */
  static final long PASS_BYTES = PassMemory.DEFAULT_MB << 20;

  private final Nd4jBackend backend;
  private final long passBytes;
  private final WorkspacePool<Workspace> pool = new WorkspacePool<>();
  private final Set<Parameters> stores = ConcurrentHashMap.newKeySet();
  private final KernelPool threads;
  private final DirectConv.Use convolution;

  /**
   * The layers of a backend.
   *
   * @param backend the backend whose tensors the passes read and write
   * @param passBytes the activation budget of one pass (tests use small ones to split batches)
   * @param threads the backend's thread count: the lanes of the kernels' {@link KernelPool}
   * @param convolution which convolutions run their forward pass directly ({@link DirectConv})
   */
  /**
   * Which form the convolutions take.
   *
   * @return the choice given at construction
   */
  DirectConv.Use convolution() {
    return convolution;
  }

  Nd4jLayers(Nd4jBackend backend, long passBytes, int threads, DirectConv.Use convolution) {
    this.backend = backend;
    this.passBytes = passBytes;
    this.threads = new KernelPool(threads, "diffusion4j-nd4j-kernels");
    this.convolution = convolution;
  }

  /**
   * The threads that the kernels split their Java loops over.
   *
   * @return the pool
   */
  KernelPool threads() {
    return threads;
  }

  Nd4jBackend backend() {
    return backend;
  }

  @Override
  public Differentiation differentiation(Network network) {
    return Differentiation.MANUAL;
  }

  @Override
  public ParameterStore parameters(Map<String, int[]> layout) {
    Parameters p = new Parameters(this, layout, threads);
    stores.add(p);
    return p;
  }

  void forget(Parameters p) {
    stores.remove(p);
  }

  @Override
  public Kernel kernel(Network network, Node node, ParameterStore parameters) {
    if (!(parameters instanceof Parameters p) || !stores.contains(p)) {
      throw new IllegalArgumentException("parameters " + parameters + " were not created by this nd4j backend");
    }
    Layer layer = node.layer();
    Map<String, int[]> shapes = network.parameterShapes();
    for (String name : layer.parameterNames()) {
      p.requireEntry(name, shapes.get(name));
    }
    List<Shape> in = new ArrayList<>();
    for (int i : node.inputs()) {
      in.add(network.node(i).itemShape());
    }
    Shape out = node.itemShape();
    if (layer instanceof Layer.Linear l) {
      return new LinearKernel(p, l);
    }
    if (layer instanceof Layer.Conv2d c) {
      return new Conv2dKernel(p, c, in.get(0), out, convolution);
    }
    if (layer instanceof Layer.GroupNorm g) {
      return new GroupNormKernel(p, g, network.soleActivation(node.id()).orElse(null));
    }
    if (layer instanceof Layer.Activation a) {
      Node from = network.node(node.inputs().get(0));
      return new ActivationKernel(
          a.function(), from.layer() instanceof Layer.GroupNorm && network.soleActivation(from.id()).isPresent());
    }
    if (layer instanceof Layer.Upsample u) {
      return new UpsampleKernel(u.factor(), in.get(0));
    }
    if (layer instanceof Layer.Add a) {
      return new AddKernel(a.scale());
    }
    if (layer instanceof Layer.Concat) {
      return new ConcatKernel(out);
    }
    if (layer instanceof Layer.SliceChannels s) {
      return new SliceKernel(s.from(), s.to(), in.get(0), out);
    }
    if (layer instanceof Layer.Attention a) {
      return new AttentionKernel(a.heads());
    }
    if (layer instanceof Layer.Dropout) {
      return new DropoutKernel();
    }
    if (layer instanceof Layer.Reshape) {
      return new ReshapeKernel(in.get(0), out);
    }
    throw new UnsupportedOperationException("backend 'nd4j' has no kernel for layer " + layer);
  }

  @Override
  public Pass open(Network network, int items, boolean training) {
    if (items < 1) {
      throw new IllegalArgumentException("a pass needs at least one item, got " + items);
    }
    backend.checkOpen();
    Workspace ws = pool.take(w -> true, () -> new Workspace(threads.lanes()));
    return new NativePass(this, ws, items, training);
  }

  /**
   * Takes a workspace back from a closed pass: every block becomes free.
   *
   * @param ws the pass's workspace
   */
  void give(Workspace ws) {
    ws.reset();
    pool.give(ws);
  }

  @Override
  public long passMemoryBytes() {
    return passBytes;
  }

  /**
   * The floats held by every workspace, in native memory and in heap scratch (for tests: constant once
   * every pass shape in use has run).
   *
   * @return {@code {native, heap}}
   */
  long[] footprint() {
    long nat = 0;
    long heap = 0;
    for (Workspace w : pool.all()) {
      nat += w.nativeFloats();
      heap += w.heapFloats();
    }
    return new long[] {nat, heap};
  }

  /** Frees every workspace and every parameter store still open. */
  void close() {
    for (Parameters p : new ArrayList<>(stores)) {
      p.close();
    }
    pool.close();
    threads.close();
  }
}
