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
 * autograd): the gradient reshaped back; nothing is saved.
 */
final class ReshapeKernel implements Kernel {
  private final Shape itemShape;

  /**
   * A kernel for one target shape.
   *
   * @param layer the layer
   */
  ReshapeKernel(Layer.Reshape layer) {
    this.itemShape = layer.itemShape();
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    long[] dims = new long[itemShape.rank() + 1];
    dims[0] = pass.items();
    for (int i = 0; i < itemShape.rank(); i++) {
      dims[i + 1] = itemShape.dim(i);
    }
    return DjlPass.value(JniUtils.reshape(DjlPass.nd(inputs[0]), dims));
  }
}
