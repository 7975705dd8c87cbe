package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Add}: {@code (a + b) * scale}, where {@code b} has {@code a}'s shape or is a vector {@code [N, C]}
 * added to every position of {@code a = [N, C, H, W]} (viewed as {@code [N, C, 1, 1]} to broadcast). The scale,
 * when it is not 1, is a constant of this kernel (rounded to float, as the reference rounds it). Backward
 * (libtorch's autograd): the output gradient (times the scale) to {@code a}, and to {@code b} summed over the
 * positions it was broadcast to; nothing is saved.
 */
final class AddKernel implements Kernel {
  private final boolean broadcast;
  private final PtNDArray scale;

  /**
   * A kernel for one pair of input shapes.
   *
   * @param parameters the network's parameters (their manager keeps the scale)
   * @param layer the layer
   * @param a one item of the first input
   * @param b one item of the second input
   */
  AddKernel(DjlParameters parameters, Layer.Add layer, Shape a, Shape b) {
    this.broadcast = !a.equals(b);
    this.scale = (float) layer.scale() == 1f ? null : parameters.constant(new float[] {(float) layer.scale()});
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    PtNDArray a = DjlPass.nd(inputs[0]);
    PtNDArray b = DjlPass.nd(inputs[1]);
    PtNDArray sum;
    if (broadcast) {
      long[] dims = b.getShape().getShape();
      PtNDArray column = JniUtils.reshape(b, new long[] {dims[0], dims[1], 1, 1});
      sum = JniUtils.add(a, column);
      column.close();
    } else {
      sum = JniUtils.add(a, b);
    }
    if (scale == null) {
      return DjlPass.value(sum);
    }
    PtNDArray y = JniUtils.mul(sum, scale);
    sum.close();
    return DjlPass.value(y);
  }
}
