package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Dropout} in training: {@code y = x * mask}, the mask (zeros and {@code 1 / (1 - p)}) drawn by the
 * model from the portable generator ({@link Layer.Dropout#mask}) and handed over as the second input, so
 * training is reproducible on every backend. Backward (libtorch's autograd): {@code dx = dy * mask}; the graph
 * saves the mask. In prediction the model skips the layer.
 */
final class DropoutKernel implements Kernel {
  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    return DjlPass.value(JniUtils.mul(DjlPass.nd(inputs[0]), DjlPass.nd(inputs[1])));
  }
}
