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
 * {@code torch.cat} into a new array. Backward (libtorch's autograd): each input gets its slice of the output
 * gradient; nothing is saved.
 */
final class ConcatKernel implements Kernel {
  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    PtNDArray[] arrays = new PtNDArray[inputs.length];
    for (int i = 0; i < arrays.length; i++) {
      arrays[i] = DjlPass.nd(inputs[i]);
    }
    return DjlPass.value(JniUtils.cat(arrays, 1));
  }
}
