package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Linear}: {@code y = x W^T + b}, {@code [N, in] -> [N, out]}, with the weight leaf {@code [out, in]}
 * and the bias leaf {@code [out]}; the products go by {@link InnerProduct} (oneDNN's inner product for large
 * products where no graph is recorded, else libtorch's {@code linear}). When the network's only reader of the
 * output is a ReLU ({@link io.github.diffusion4j.nn.Network#soleActivation}), the product applies it as it writes
 * the result and the ReLU's kernel passes its input on ({@link ActivationKernel}).
 *
 * <p>Backward: {@code dx = dy W}, {@code dW = dy^T x}, {@code db = sum_n dy} (with the ReLU applied here, {@code
 * dy} first masked where the output is 0), by libtorch's autograd (the graph saves {@code x} and {@code W},
 * nothing more than the activations already alive) or, in a network differentiated by hand, by {@link #backward}:
 * two products and a sum, {@code dW} and {@code db} added into the store's flat gradient.
 */
final class LinearKernel implements Kernel {
  private final InnerProduct products;
  private final DjlParameters parameters;
  private final PtNDArray weight;
  private final PtNDArray bias;
  private final boolean relu;

  /**
   * Binds the layer to its parameters.
   *
   * @param products the backend's products
   * @param parameters the network's parameters
   * @param layer the layer
   * @param relu whether ReLU is applied to the output here
   */
  LinearKernel(InnerProduct products, DjlParameters parameters, Layer.Linear layer, boolean relu) {
    this.products = products;
    this.parameters = parameters;
    this.weight = parameters.leaf(layer.name() + ".weight", layer.out(), layer.in());
    this.bias = layer.bias() ? parameters.leaf(layer.name() + ".bias", layer.out()) : null;
    this.relu = relu;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    DjlPass.of(pass).uses(parameters);
    return DjlPass.value(products.forward(DjlPass.nd(inputs[0]), weight, bias, relu));
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    PtNDArray dy = relu
        ? ActivationKernel.reluGradient(DjlPass.nd(gradOutput), DjlPass.nd(output))
        : DjlPass.nd(gradOutput);
    try {
      try (PtNDArray dw = products.weightGradient(dy, DjlPass.nd(inputs[0]))) {
        parameters.addGradient(weight, dw);
      }
      if (bias != null) {
        try (PtNDArray db = JniUtils.sum(dy, new long[] {0}, false)) {
          parameters.addGradient(bias, db);
        }
      }
      return new Value[] {needed[0] ? DjlPass.value(products.inputGradient(dy, weight)) : null};
    } finally {
      if (relu) {
        dy.close();
      }
    }
  }
}
