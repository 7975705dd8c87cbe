package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Activation}, elementwise on any shape: ReLU {@code max(x, 0)} ({@code torch.relu}; its backward
 * saves the output) and SiLU {@code x * sigmoid(x)} (a sigmoid and a product, as DJL has no {@code silu}; the
 * backward saves {@code x} and {@code sigmoid(x)}). The sigmoid's handle is closed after the product, so in
 * prediction only the output outlives the call.
 *
 * <p>Backward by hand ({@link #backward}, in a network differentiated by hand): ReLU's {@code dy * sign(y)} (the
 * output is 0 or positive, so its sign is the step function); SiLU's {@code dy * s (1 + x (1 - s))} with {@code s =
 * sigmoid(x)}.
 *
 * <p>After a group norm or a linear layer whose only reader it is, that layer has applied the function already
 * ({@link GroupNormKernel}; {@link LinearKernel}, ReLU only): the kernel then passes its input on (a view, no copy;
 * the gradient passes back unchanged).
 */
final class ActivationKernel implements Kernel {
  private final boolean relu;
  private final boolean applied;

  /**
   * A kernel for one function.
   *
   * @param function the function
   * @param applied whether the input has the function applied already (by the layer before)
   */
  ActivationKernel(Layer.Function function, boolean applied) {
    this.relu = function == Layer.Function.RELU;
    this.applied = applied;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    PtNDArray x = DjlPass.nd(inputs[0]);
    if (applied) {
      return DjlPass.value(JniUtils.reshape(x, x.getShape().getShape()));
    }
    if (relu) {
      return DjlPass.value(JniUtils.relu(x));
    }
    PtNDArray s = JniUtils.sigmoid(x);
    PtNDArray y = JniUtils.mul(x, s);
    s.close();
    return DjlPass.value(y);
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    if (!needed[0]) {
      return new Value[1];
    }
    PtNDArray dy = DjlPass.nd(gradOutput);
    if (applied) {
      return new Value[] {DjlPass.value(JniUtils.reshape(dy, dy.getShape().getShape()))};
    }
    if (relu) {
      return new Value[] {DjlPass.value(reluGradient(dy, DjlPass.nd(output)))};
    }
    PtNDArray x = DjlPass.nd(inputs[0]);
    try (PtNDArray s = JniUtils.sigmoid(x);
        PtNDArray xs = JniUtils.mul(x, s);
        PtNDArray slope = JniUtils.sub(x, xs); // x (1 - s)
        PtNDArray one = PtArrays.scalar(DjlPass.of(pass).manager(), 1)) {
      JniUtils.addi(slope, one);
      JniUtils.muli(slope, s);
      return new Value[] {DjlPass.value(JniUtils.mul(dy, slope))};
    }
  }

  /**
   * ReLU's input gradient from its output: {@code dy * sign(y)} (the output is 0 or positive, so its sign is the
   * step function).
   *
   * @param dy the output gradient
   * @param y the output
   * @return a new array
   */
  static PtNDArray reluGradient(PtNDArray dy, PtNDArray y) {
    try (PtNDArray step = JniUtils.sign(y)) {
      return JniUtils.mul(dy, step);
    }
  }
}
