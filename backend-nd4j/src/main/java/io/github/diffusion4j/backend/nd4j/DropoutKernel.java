package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Dropout} in training (the model skips it in prediction): {@code y = x * mask}, the mask the
 * model draws with the portable generator (zeros and {@code 1 / (1 - p)}, row-major, converted to the
 * input's layout when that differs). Backward: {@code dx = dy * mask}. Nothing is saved: the mask is an
 * input and stays alive until the backward pass.
 */
final class DropoutKernel implements Kernel {

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.dense(inputs[0]);
    return multiply(ps, x, ps.as(inputs[1], x.layout));
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    if (!needed[0]) {
      return new Value[] {null, null};
    }
    NativePass ps = (NativePass) pass;
    NativeValue y = (NativeValue) output;
    return new Value[] {multiply(ps, ps.as(gradOutput, y.layout), ps.as(inputs[1], y.layout)), null};
  }

  /** {@code a * b} elementwise, in {@code a}'s layout ({@code b} readable in it). */
  private static NativeValue multiply(NativePass ps, NativeValue a, NativeValue b) {
    return ps.elementwise(a, b, (x, y, len) -> {
      for (int i = 0; i < len; i++) {
        x[i] *= y[i];
      }
    });
  }
}
