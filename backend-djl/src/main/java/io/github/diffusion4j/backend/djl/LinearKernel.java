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
 * <p>Backward: {@code dx = dy W}, {@code dW = dy^T x}, {@code db = sum_n dy}, by libtorch's autograd (the graph
 * saves {@code x} and {@code W}, nothing more than the activations already alive) or, in a network
 * differentiated by hand, by {@link #backward}: two products and a sum, {@code dW} and {@code db} added into the
 * store's flat gradient.
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

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    PtNDArray dy = DjlPass.nd(gradOutput);
    try (PtNDArray dyT = JniUtils.transpose(dy, 0, 1);
        PtNDArray dw = JniUtils.matmul(dyT, DjlPass.nd(inputs[0]))) {
      parameters.addGradient(weight, dw);
    }
    if (bias != null) {
      try (PtNDArray db = JniUtils.sum(dy, new long[] {0}, false)) {
        parameters.addGradient(bias, db);
      }
    }
    return new Value[] {needed[0] ? DjlPass.value(JniUtils.matmul(dy, weight)) : null};
  }
}
