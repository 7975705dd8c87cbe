package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Reshape}: the same values, row-major, with another item shape: {@code torch.reshape} to {@code
 * [N, shape...]}, a view of a contiguous input and a row-major copy of any other. Backward (libtorch's
 * autograd, or {@link #backward} in a network differentiated by hand): the gradient reshaped back; nothing is
 * saved.
 */
final class ReshapeKernel implements Kernel {
  private final Shape itemShape;
  private final Shape inputShape;

  /**
   * A kernel for one target shape.
   *
   * @param layer the layer
   * @param inputShape the input's item shape (the gradient's shape in the backward pass)
   */
  ReshapeKernel(Layer.Reshape layer, Shape inputShape) {
    this.itemShape = layer.itemShape();
    this.inputShape = inputShape;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    return DjlPass.value(JniUtils.reshape(DjlPass.nd(inputs[0]), DjlPass.of(pass).batchDims(itemShape)));
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    if (!needed[0]) {
      return new Value[1];
    }
    long[] dims = DjlPass.of(pass).batchDims(inputShape);
    return new Value[] {DjlPass.value(JniUtils.reshape(DjlPass.nd(gradOutput), dims))};
  }
}
