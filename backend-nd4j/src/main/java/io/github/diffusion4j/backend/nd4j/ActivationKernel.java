package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import java.nio.FloatBuffer;

/**
 * {@link Layer.Activation}: ReLU {@code y = max(x, 0)} or SiLU {@code y = x sigmoid(x)}, elementwise, in
 * any layout (the output keeps the input's).
 *
 * <p>Backward: ReLU {@code dx = dy [y > 0]} (from the output, positive exactly where the input was; a NaN
 * input gives a NaN gradient); SiLU
 * {@code dx = dy (s + y (1 - s))} with {@code s = sigmoid(x)}, which the training forward pass saves (one
 * value the size of the output; the sigmoid is the exponential that costs the time, {@link VectorMath}).
 * Each pass streams the native memory through heap chunks. After a group norm that it alone reads, the
 * group norm computes it ({@link FusedActivation}) and this kernel only takes the result.
 */
final class ActivationKernel implements Kernel {
  private final Layer.Function function;
  private final boolean fused;

  /**
   * The kernel of an activation.
   *
   * @param function the function
   * @param fused whether its input is a group norm that applies it ({@link FusedActivation})
   */
  ActivationKernel(Layer.Function function, boolean fused) {
    this.function = function;
    this.fused = fused;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    if (fused) {
      FusedActivation f = (FusedActivation) inputs[0];
      NativeValue s = f.takeSigmoid();
      if (saved != null) {
        saved.put(s);
      } else {
        ps.release(s);
      }
      return f.take();
    }
    NativeValue x = ps.dense(inputs[0]);
    if (function == Layer.Function.RELU) {
      return ps.elementwise(x, null, (h, unused, len) -> {
        for (int i = 0; i < len; i++) {
          h[i] = Math.max(h[i], 0f);
        }
      });
    }
    NativeValue y = ps.allocate(x.shape, x.layout);
    NativeValue s = saved != null ? ps.allocate(x.shape, x.layout) : null;
    Workspace ws = ps.ws();
    float[] h = ws.chunk(0);
    float[] hs = ws.chunk(1);
    int n = x.size();
    for (int o = 0; o < n; o += Workspace.CHUNK) {
      int len = Math.min(Workspace.CHUNK, n - o);
      x.buffer().get(x.offset + o, h, 0, len);
      VectorMath.sigmoid(h, hs, 0, len, true, ws.math());
      if (s != null) {
        s.buffer().put(s.offset + o, hs, 0, len);
      }
      y.buffer().put(y.offset + o, h, 0, len);
    }
    if (s != null) {
      saved.put(s);
    }
    return y;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue y = (NativeValue) output;
    NativeValue dy = ps.as(gradOutput, y.layout);
    NativeValue s = saved.get();
    if (!needed[0]) {
      ps.release(s);
      return new Value[] {null};
    }
    if (function == Layer.Function.RELU) {
      return new Value[] {ps.elementwise(dy, y, (d, out, len) -> {
        for (int i = 0; i < len; i++) {
          // [y > 0] for y = relu(x) >= 0 without a branch (a select per element mispredicts half the
          // time): the smallest positive float times 2^252 is above 1, so the minimum is 1 or 0
          d[i] *= Math.min(out[i] * 0x1p126f * 0x1p126f, 1f);
        }
      })};
    }
    NativeValue dx = ps.allocate(y.shape, y.layout);
    Workspace ws = ps.ws();
    float[] hd = ws.chunk(0);
    float[] hy = ws.chunk(1);
    float[] hs = ws.chunk(2);
    int n = y.size();
    for (int o = 0; o < n; o += Workspace.CHUNK) {
      int len = Math.min(Workspace.CHUNK, n - o);
      dy.buffer().get(dy.offset + o, hd, 0, len);
      y.buffer().get(y.offset + o, hy, 0, len);
      s.buffer().get(s.offset + o, hs, 0, len);
      for (int i = 0; i < len; i++) {
        float si = hs[i];
        hd[i] *= si + hy[i] * (1f - si);
      }
      dx.buffer().put(dx.offset + o, hd, 0, len);
    }
    ps.release(s);
    return new Value[] {dx};
  }
}
