package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Linear}: {@code y = x W^T + b}, {@code [N, in] -> [N, out]}, one {@code torch.nn.functional.linear}
 * (an {@code addmm}) with the weight leaf {@code [out, in]} and the bias leaf {@code [out]}.
 *
 * <p>Backward (libtorch's autograd): {@code dx = dy W}, {@code dW = dy^T x}, {@code db = sum_n dy}; the graph
 * saves {@code x} (and {@code W}), nothing more than the activations already alive.
 */
final class LinearKernel implements Kernel {
  private final DjlParameters parameters;
  private final PtNDArray weight;
  private final PtNDArray bias;

  /**
   * Binds the layer to its parameters.
   *
   * @param parameters the network's parameters
   * @param layer the layer
   */
  LinearKernel(DjlParameters parameters, Layer.Linear layer) {
    this.parameters = parameters;
    this.weight = parameters.leaf(layer.name() + ".weight", layer.out(), layer.in());
    this.bias = layer.bias() ? parameters.leaf(layer.name() + ".bias", layer.out()) : null;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    DjlPass.of(pass).uses(parameters);
    return DjlPass.value(JniUtils.linear(DjlPass.nd(inputs[0]), weight, bias));
  }
}
