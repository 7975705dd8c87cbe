package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.SliceChannels}: channels {@code [from, to)} of {@code [N, C, ...]}, a strided view of the input
 * (no copy; not contiguous when {@code N > 1}, which every kernel accepts and the pass fixes when it reads a
 * value). Backward (libtorch's autograd): the output gradient placed in a zero gradient of the input's shape.
 */
final class SliceKernel implements Kernel {
  private final long from;
  private final long to;

  /**
   * A kernel for one slice.
   *
   * @param layer the layer
   */
  SliceKernel(Layer.SliceChannels layer) {
    this.from = layer.from();
    this.to = layer.to();
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    return DjlPass.value(JniUtils.slice(DjlPass.nd(inputs[0]), 1, from, to, 1));
  }
}
