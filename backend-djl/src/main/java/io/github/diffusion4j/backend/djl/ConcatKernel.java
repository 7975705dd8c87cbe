package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Concat}: the inputs side by side along channels (axis 1 of {@code [N, C, ...]}), one
 * {@code torch.cat} into a new array. Backward (libtorch's autograd, or {@link #backward} in a network
 * differentiated by hand): each input gets its slice of the output gradient, a view; nothing is saved.
 */
final class ConcatKernel implements Kernel {
  private final long[] channels;

  /**
   * A kernel for inputs of the given channel counts.
   *
   * @param channels each input's channels (axis 1), in input order
   */
  ConcatKernel(long[] channels) {
    this.channels = channels.clone();
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    PtNDArray[] arrays = new PtNDArray[inputs.length];
    for (int i = 0; i < arrays.length; i++) {
      arrays[i] = DjlPass.nd(inputs[i]);
    }
    return DjlPass.value(JniUtils.cat(arrays, 1));
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    PtNDArray dy = DjlPass.nd(gradOutput);
    Value[] dx = new Value[inputs.length];
    long from = 0;
    for (int i = 0; i < channels.length; i++) {
      if (needed[i]) {
        dx[i] = DjlPass.value(JniUtils.slice(dy, 1, from, from + channels[i], 1));
      }
      from += channels[i];
    }
    return dx;
  }
}
