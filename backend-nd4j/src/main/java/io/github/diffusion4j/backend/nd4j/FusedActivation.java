package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Value;

/**
 * The output of a {@link GroupNormKernel} whose only reader is an {@link ActivationKernel}: the normalised
 * values are never stored; the group norm applies the activation while each group is in cache and hands its
 * result over here (and, in training, SiLU's sigmoid, which the activation's backward pass reads). The
 * activation kernel takes both out ({@link #take}); nothing else reads this value, and neither backward pass
 * reads it (the group norm's reads its input, the activation's its own output), so it has no memory of its
 * own.
 */
final class FusedActivation implements Value {
  /** The activation applied. */
  final Layer.Function function;
  private NativeValue result;
  private NativeValue sigmoid;

  FusedActivation(Layer.Function function, NativeValue result, NativeValue sigmoid) {
    this.function = function;
    this.result = result;
    this.sigmoid = sigmoid;
  }

  /**
   * Hands the activation's output over (once).
   *
   * @return the output; the caller owns it
   */
  NativeValue take() {
    NativeValue r = result;
    result = null;
    return r;
  }

  /**
   * Hands the sigmoid over (once; training with SiLU only).
   *
   * @return the sigmoid, or null; the caller owns it
   */
  NativeValue takeSigmoid() {
    NativeValue s = sigmoid;
    sigmoid = null;
    return s;
  }

  /** Releases what was not handed over. */
  void release(NativePass pass) {
    pass.release(take());
    pass.release(takeSigmoid());
  }
}
