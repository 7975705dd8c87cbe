package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Reshape}: the same values with another item shape, a view. A row-major value can take any
 * shape of its size; a channel-major one keeps its layout when the channels stay the same (and so the
 * positions per channel), and is converted to row-major otherwise. Backward: the gradient viewed with the
 * input's shape, by the same rule. Nothing is saved.
 */
final class ReshapeKernel implements Kernel {
  private final Shape in;
  private final Shape out;

  ReshapeKernel(Shape in, Shape out) {
    this.in = in;
    this.out = out;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    return reshape((NativePass) pass, inputs[0], out);
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    return new Value[] {needed[0] ? reshape((NativePass) pass, gradOutput, in) : null};
  }

  private static NativeValue reshape(NativePass ps, Value v, Shape to) {
    NativeValue x = ps.dense(v);
    if (x.layout == Layout.PLANES && !x.layoutFree() && x.c() == to.dim(0)) {
      return ps.view(x, to, Layout.PLANES, x.offset);
    }
    NativeValue rows = ps.as(x, Layout.ROWS);
    return ps.view(rows, to, Layout.ROWS, rows.offset);
  }
}
