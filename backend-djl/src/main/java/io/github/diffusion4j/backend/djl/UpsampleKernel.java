package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Upsample}: nearest-neighbour upsampling {@code [N, C, H, W] -> [N, C, fH, fW]},
 * {@code y[c, i, j] = x[c, i / f, j / f]}, libtorch's {@code upsample_nearest2d} (its backward sums each
 * {@code f x f} block of the output gradient; it saves nothing).
 */
final class UpsampleKernel implements Kernel {
  private static final int NEAREST = 0; // DJL's interpolation mode

  private final long[] size;

  /**
   * A kernel for one input shape.
   *
   * @param layer the layer
   * @param itemShape one item of the input, {@code [C, H, W]}
   */
  UpsampleKernel(Layer.Upsample layer, Shape itemShape) {
    this.size = new long[] {(long) itemShape.dim(1) * layer.factor(), (long) itemShape.dim(2) * layer.factor()};
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    return DjlPass.value(JniUtils.interpolate(DjlPass.nd(inputs[0]), size, NEAREST, false));
  }
}
