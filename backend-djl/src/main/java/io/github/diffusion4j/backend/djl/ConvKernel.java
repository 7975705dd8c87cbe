package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Conv2d}: PyTorch's cross-correlation {@code [N, in, H, W] -> [N, out, H', W']} with any stride and
 * zero padding (asymmetric padding, such as the DDPM downsampling's right and bottom only, is applied by an
 * explicit pad first). Always computed through {@link Convolution#apply}, which checks libtorch's oneDNN
 * kernels at first use and routes around the ones that are wrong on this CPU (docs/djl-convolutions.md).
 *
 * <p>Weight leaf {@code [out, in, k, k]} (a 1x1 weight stored {@code [out, in]} is viewed so), bias leaf
 * {@code [out]}. Backward (libtorch's autograd): the input and weight gradients of the convolution (and of the
 * workaround's pads and slices); the graph saves the input and the weight. The result may be in oneDNN's
 * channels-last layout; the pass makes it contiguous when it is read.
 */
final class ConvKernel implements Kernel {
  private final PtNDManager manager;
  private final DjlParameters parameters;
  private final PtNDArray weight;
  private final PtNDArray bias;
  private final int stride;
  private final int[] padding;

  /**
   * Binds the layer to its parameters.
   *
   * @param backend the backend (its manager hosts the first use's self-check)
   * @param parameters the network's parameters
   * @param layer the layer
   */
  ConvKernel(DjlBackend backend, DjlParameters parameters, Layer.Conv2d layer) {
    this.manager = backend.root();
    int k = layer.kernel();
    this.parameters = parameters;
    this.weight = parameters.leaf(layer.name() + ".weight", layer.out(), layer.in(), k, k);
    this.bias = layer.bias() ? parameters.leaf(layer.name() + ".bias", layer.out()) : null;
    this.stride = layer.stride();
    Layer.Padding p = layer.padding();
    this.padding = new int[] {p.top(), p.left(), p.bottom(), p.right()};
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    DjlPass.of(pass).uses(parameters);
    return DjlPass.value(Convolution.apply(manager, DjlPass.nd(inputs[0]), weight, bias, stride, padding));
  }
}
