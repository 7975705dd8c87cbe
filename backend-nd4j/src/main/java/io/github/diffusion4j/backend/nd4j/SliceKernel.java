package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.SliceChannels}: channels {@code [from, to)}. In the channel-major layout they are one
 * contiguous run, so the result is a view (a row-major input is converted first). Backward: a gradient of
 * the input's shape, zero outside the slice. Nothing is saved.
 */
final class SliceKernel implements Kernel {
  private final int from;
  private final int to;
  private final Shape in;
  private final Shape out;

  SliceKernel(int from, int to, Shape in, Shape out) {
    this.from = from;
    this.to = to;
    this.in = in;
    this.out = out;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.as(inputs[0], Layout.PLANES);
    int plane = x.items * (in.size() / in.dim(0));
    return ps.view(x, out, Layout.PLANES, x.offset + from * plane);
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    if (!needed[0]) {
      return new Value[] {null};
    }
    NativePass ps = (NativePass) pass;
    NativeValue dy = ps.as(gradOutput, Layout.PLANES);
    NativeValue dx = ps.allocate(in, Layout.PLANES);
    int plane = dx.items * (in.size() / in.dim(0));
    int before = from * plane;
    int inside = (to - from) * plane;
    ps.zero(dx.buffer(), dx.offset, before);
    NativePass.copy(dy.buffer(), dy.offset, dx.buffer(), dx.offset + before, inside);
    ps.zero(dx.buffer(), dx.offset + before + inside, (in.dim(0) - to) * plane);
    return new Value[] {dx};
  }
}
