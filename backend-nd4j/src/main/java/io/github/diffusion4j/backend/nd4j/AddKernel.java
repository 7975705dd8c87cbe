package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import java.nio.FloatBuffer;

/**
 * {@link Layer.Add}: {@code y = (a + b) * scale} in {@code a}'s layout, where {@code b} has {@code a}'s
 * shape (read in {@code a}'s layout) or is a vector {@code [C]} added to every position of channel
 * {@code c} of an item {@code [C, ...]} (a residual block's timestep projection).
 *
 * <p>Backward: {@code da = scale dy}, a view of {@code dy} when {@code scale = 1}; {@code db} the same, or
 * for the broadcast {@code db[n, c] = scale * sum over positions of dy[n, c]} (row-major, summed in double).
 * Nothing is saved.
 */
final class AddKernel implements Kernel {
  private final float scale;

  AddKernel(double scale) {
    this.scale = (float) scale;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue a = ps.dense(inputs[0]);
    NativeValue b = ps.dense(inputs[1]);
    if (b.shape.equals(a.shape)) {
      return ps.elementwise(a, ps.as(b, a.layout), (x, z, len) -> {
        for (int i = 0; i < len; i++) {
          x[i] = (x[i] + z[i]) * scale;
        }
      });
    }
    // b is [C]: one value per plane of a, in a's plane order
    float[] perPlane = planeValues(ps, a, b);
    NativeValue y = ps.allocate(a.shape, a.layout);
    float[] ha = ps.ws().chunk(0);
    int n = a.size();
    int p = a.p();
    for (int o = 0; o < n; o += Workspace.CHUNK) {
      int len = Math.min(Workspace.CHUNK, n - o);
      a.buffer().get(a.offset + o, ha, 0, len);
      for (int i = 0; i < len; ) {
        int plane = (o + i) / p;
        int end = Math.min(len, (plane + 1) * p - o);
        float v = perPlane[plane];
        for (; i < end; i++) {
          ha[i] = (ha[i] + v) * scale;
        }
      }
      y.buffer().put(y.offset + o, ha, 0, len);
    }
    return y;
  }

  /** The vector {@code b [C]}'s value for each plane of {@code a}, in {@code a}'s memory order. */
  private static float[] planeValues(NativePass ps, NativeValue a, NativeValue b) {
    int c = a.c();
    int items = a.items;
    if (b.shape.size() != c) {
      throw new IllegalArgumentException("add: " + b.shape + " cannot be added to " + a.shape);
    }
    NativeValue rows = ps.as(b, Layout.ROWS);
    float[] v = new float[items * c];
    rows.buffer().get(rows.offset, v, 0, v.length);
    if (a.readableAs(Layout.ROWS)) {
      return v;
    }
    float[] t = new float[v.length];
    for (int n = 0; n < items; n++) {
      for (int ci = 0; ci < c; ci++) {
        t[ci * items + n] = v[n * c + ci];
      }
    }
    return t;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue y = (NativeValue) output;
    NativeValue dy = ps.as(gradOutput, y.layout);
    NativeValue a = ps.dense(inputs[0]);
    NativeValue b = ps.dense(inputs[1]);
    Value da = needed[0] ? scaled(ps, dy, a) : null;
    Value db = null;
    if (needed[1]) {
      db = b.shape.equals(a.shape) ? scaled(ps, dy, b) : planeSums(ps, dy, b);
    }
    return new Value[] {da, db};
  }

  /** {@code scale * dy} with the shape of {@code like}: a view when the scale is 1. */
  private NativeValue scaled(NativePass ps, NativeValue dy, NativeValue like) {
    if (scale == 1f) {
      return ps.view(dy, like.shape, dy.layout, dy.offset);
    }
    return ps.elementwise(dy, null, (x, unused, len) -> {
      for (int i = 0; i < len; i++) {
        x[i] *= scale;
      }
    });
  }

  /** The gradient of the broadcast vector: each plane's sum times the scale, row-major {@code [N, C]}. */
  private NativeValue planeSums(NativePass ps, NativeValue dy, NativeValue b) {
    int c = dy.c();
    int p = dy.p();
    int items = dy.items;
    float[] h = ps.ws().scratch(1, p);
    float[] sums = new float[items * c];
    FloatBuffer d = dy.buffer();
    for (int n = 0; n < items; n++) {
      for (int ci = 0; ci < c; ci++) {
        d.get(dy.plane(n, ci), h, 0, p);
        sums[n * c + ci] = (float) (scale * ArrayMath.sum(h, 0, p));
      }
    }
    NativeValue out = ps.allocate(b.shape, Layout.ROWS);
    out.buffer().put(out.offset, sums, 0, sums.length);
    return out;
  }
}
