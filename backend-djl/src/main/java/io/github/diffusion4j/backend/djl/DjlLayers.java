package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;

/**
 * The layer kinds on libtorch, differentiated by libtorch's autograd: {@link DjlParameters} (flat weights with
 * an autograd leaf per parameter, the fused Adam), one kernel class per layer kind (each a few libtorch
 * operations; convolutions always through {@link Convolution}), and {@link DjlPass}es that own their native
 * memory and set the calling thread's grad mode.
 */
final class DjlLayers implements LayerBackend {
  private final DjlBackend backend;

  /**
   * The layers of a backend.
   *
   * @param backend the backend
   */
  DjlLayers(DjlBackend backend) {
    this.backend = backend;
  }

  @Override
  public Differentiation differentiation() {
    return Differentiation.AUTOGRAD;
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
      return new LinearKernel(p, x);
    }
    if (l instanceof Layer.Conv2d x) {
      return new ConvKernel(backend, p, x);
    }
    if (l instanceof Layer.GroupNorm x) {
      return new GroupNormKernel(p, x, in);
    }
    if (l instanceof Layer.Activation x) {
      return new ActivationKernel(x.function());
    }
    if (l instanceof Layer.Upsample x) {
      return new UpsampleKernel(x, in);
    }
    if (l instanceof Layer.Add x) {
      return new AddKernel(p, x, in, network.node(node.inputs().get(1)).itemShape());
    }
    if (l instanceof Layer.Concat) {
      return new ConcatKernel();
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
      return new ReshapeKernel(x);
    }
    throw new UnsupportedOperationException("djl: no kernel for " + l + " (node " + node.id() + ")");
  }

  @Override
  public Pass open(Network network, int items, boolean training) {
    backend.checkOpen();
    return new DjlPass(backend, items, training);
  }
}
