package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Concat}: the inputs' channels one after the other.
 *
 * <p>Row-major inputs are not copied: the result is a {@link Joined} of views of them, which a linear
 * layer reads part by part (any other reader gets the copy once, see {@link NativePass#dense}). Otherwise
 * the result is channel-major, where each input's channels are one contiguous run: one copy per input.
 *
 * <p>Backward: the gradient's parts, as views (of a {@link Joined} gradient's parts, or of a channel-major
 * gradient's channel ranges), or copies of a row-major gradient's columns. Nothing is saved.
 */
final class ConcatKernel implements Kernel {
  private final Shape out;

  ConcatKernel(Shape out) {
    this.out = out;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue[] in = new NativeValue[inputs.length];
    boolean rows = true;
    for (int i = 0; i < in.length; i++) {
      in[i] = ps.dense(inputs[i]);
      rows &= in[i].readableAs(Layout.ROWS);
    }
    if (rows) {
      NativeValue[] parts = new NativeValue[in.length];
      for (int i = 0; i < in.length; i++) {
        parts[i] = ps.view(in[i], in[i].shape, Layout.ROWS, in[i].offset);
      }
      return new Joined(parts, out);
    }
    NativeValue y = ps.allocate(out, Layout.PLANES);
    int at = y.offset;
    for (NativeValue v : in) {
      NativeValue p = ps.as(v, Layout.PLANES);
      NativePass.copy(p.buffer(), p.offset, y.buffer(), at, p.size());
      at += p.size();
    }
    return y;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    Value[] grads = new Value[inputs.length];
    if (gradOutput instanceof Joined j && j.parts.length == inputs.length) {
      for (int i = 0; i < inputs.length; i++) {
        if (needed[i]) {
          NativeValue part = j.parts[i];
          grads[i] = ps.view(part, part.shape, part.layout, part.offset);
        }
      }
      return grads;
    }
    NativeValue dy = ps.dense(gradOutput);
    int width = out.size();
    int at = 0;
    for (int i = 0; i < inputs.length; i++) {
      NativeValue x = ps.dense(inputs[i]);
      int size = x.shape.size();
      if (needed[i]) {
        if (dy.readableAs(Layout.PLANES)) {
          grads[i] = ps.view(dy, x.shape, Layout.PLANES, dy.offset + at * dy.items);
        } else {
          NativeValue g = ps.allocate(x.shape, Layout.ROWS);
          ps.copyColumns(dy, width, at, g, size, 0, size);
          grads[i] = g;
        }
      }
      at += size;
    }
    return grads;
  }
}
