package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;

/**
 * {@link Layer.Linear} ({@code torch.nn.Linear}): {@code Y = X W^T + b} for a batch {@code X [N, in]},
 * the weight {@code [out, in]} read in place in the native parameters; the output is row-major
 * {@code [N, out]}.
 *
 * <p>The input may arrive in parts (a {@link Joined} concatenation, e.g. a scaled timestep next to a
 * flattened image): each part {@code X_i} of width {@code F_i} is multiplied by its own columns of the
 * weight, {@code Y = sum_i X_i W[:, o_i : o_i + F_i]^T}, all accumulating into {@code Y}, so the
 * concatenation is never copied. A channel-major vector ({@code [F, N]}, the transpose) is read transposed.
 * The bias is written into {@code Y} first and the products add to it (OpenBLAS with {@code beta = 1} needs
 * no extra pass over {@code Y}).
 *
 * <p>Backward, with {@code dY [N, out]}: {@code dW[:, o_i : o_i + F_i] += dY^T X_i} and {@code db += dY^T
 * 1} straight into the native gradient (BLAS with {@code beta = 1}), {@code dX_i = dY W[:, o_i : o_i +
 * F_i]} (a {@link Joined} gradient for a joined input). Nothing is saved: the input stays alive.
 *
 * <p>Threads: {@code Y} and {@code dX} are computed in fixed pieces of at least {@link #ROWS} rows shared
 * over the lanes ({@link NativePass#pieces}); the weight gradient, a sum over the batch, is one product.
 */
final class LinearKernel implements Kernel {
  /** The fewest rows (items) of a piece of the forward product and the input gradient. */
  private static final int ROWS = 512;

  private final Parameters params;
  private final int in;
  private final int out;
  private final int weight;
  private final int bias;
  private final Shape outShape;

  LinearKernel(Parameters params, Layer.Linear layer) {
    this.params = params;
    this.in = layer.in();
    this.out = layer.out();
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() ? params.offset(layer.name() + ".bias") : -1;
    this.outShape = Shape.of(out);
  }

  /** The parts of the input: a joined value's, or the value itself. */
  private static NativeValue[] parts(NativePass ps, Value v) {
    if (v instanceof Joined j) {
      return j.parts;
    }
    NativeValue x = (NativeValue) v;
    if (x.readableAs(Layout.ROWS) || x.p() == 1) {
      return new NativeValue[] {x};
    }
    return new NativeValue[] {ps.as(x, Layout.ROWS)};
  }

  /** Whether a part is stored transposed ({@code [F, N]}: a channel-major batch of vectors). */
  private static boolean transposed(NativeValue x) {
    return !x.readableAs(Layout.ROWS);
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue[] parts = parts(ps, inputs[0]);
    int n = ps.items();
    NativeValue y = ps.allocate(outShape, Layout.ROWS);
    float beta = 0f;
    int narrow = narrowParts(parts);
    if (bias >= 0 || narrow > 0) {
      fillRows(ps, y, n, parts, narrow);
      beta = 1f;
    }
    int col = 0;
    for (NativeValue x : parts) {
      int f = x.shape.size();
      if (narrow > 0 && f == 1) {
        col += f; // added by fillRows
        continue;
      }
      boolean t = transposed(x);
      FloatPointer w = params.weightsAt(weight + col);
      float b = beta;
      // rows of y in fixed pieces over the lanes
      ps.pieces(n, NativePass.pieceCount(n, ROWS), (lane, r0, r1) -> Blas.gemm(t, true, r1 - r0, out, f,
          t ? x.at(r0) : x.at((long) r0 * f), t ? n : f, w, in, b, y.at((long) r0 * out), out));
      beta = 1f;
      col += f;
    }
    return y;
  }

  /**
   * How many one-feature parts an input in several parts has (added by {@link #fillRows}); 0 for an input in
   * one part.
   */
  private static int narrowParts(NativeValue[] parts) {
    int narrow = 0;
    if (parts.length > 1) {
      for (NativeValue x : parts) {
        narrow += x.shape.size() == 1 ? 1 : 0;
      }
    }
    return narrow;
  }

  /**
   * Writes the bias into every row of {@code y}, plus, for an input in several parts, the products of its
   * one-feature parts (a scaled timestep beside an image): {@code Y[r][o] = b[o] + sum_p x_p[r] W[o][c_p]}.
   * A product of depth one through BLAS would be one more pass over {@code Y} and a call of its own.
   */
  private void fillRows(NativePass ps, NativeValue y, int n, NativeValue[] parts, int narrow) {
    Workspace ws = ps.ws();
    float[] h = ws.scratch(2, Math.max(Workspace.CHUNK, out));
    int rows = Math.max(1, h.length / out);
    float[] b = ws.scratch(0, out);
    if (bias >= 0) {
      params.weights(bias, b, out);
    } else {
      Arrays.fill(b, 0, out, 0f);
    }
    // the one-feature parts: their values, and their weight columns read one weight at a time
    float[] xs = ws.scratch(1, narrow * n);
    float[] wc = ws.scratch(3, narrow * out);
    int col = 0;
    int p = 0;
    for (int i = 0; i < parts.length && p < narrow; i++) {
      NativeValue x = parts[i];
      if (x.shape.size() == 1) {
        x.buffer().get(x.offset, xs, p * n, n); // [1, N] and [N, 1] alike: n consecutive values
        for (int o = 0; o < out; o++) {
          wc[p * out + o] = params.weight(weight + o * in + col);
        }
        p++;
      }
      col += x.shape.size();
    }
    if (n > 1 && sameRows(xs, narrow, n)) {
      // every row alike (a sampling step: one timestep for the whole batch): one row written, then copied
      // in native memory, doubling, instead of each row computed on the heap and copied over
      int at = y.offset;
      FloatBuffer yb = y.buffer();
      rowsInto(h, b, xs, wc, narrow, n, 0, 1);
      yb.put(at, h, 0, out);
      for (int done = 1; done < n; done *= 2) {
        NativePass.copy(yb, at, yb, at + done * out, Math.min(done, n - done) * out);
      }
      return;
    }
    for (int r0 = 0; r0 < n; r0 += rows) {
      int nr = Math.min(rows, n - r0);
      rowsInto(h, b, xs, wc, narrow, n, r0, nr);
      y.buffer().put(y.offset + r0 * out, h, 0, nr * out);
    }
  }

  /**
   * Rows {@code r0 .. r0 + nr} of {@link #fillRows}' sum into {@code h}: the bias, then each one-feature
   * part's value times its weight column.
   */
  private void rowsInto(float[] h, float[] b, float[] xs, float[] wc, int narrow, int n, int r0, int nr) {
    for (int r = 0; r < nr; r++) {
      int at = r * out;
      System.arraycopy(b, 0, h, at, out);
      for (int q = 0; q < narrow; q++) {
        float v = xs[q * n + r0 + r];
        for (int o = 0; o < out; o++) {
          h[at + o] += v * wc[q * out + o];
        }
      }
    }
  }

  /** Whether every one-feature part has one value for all {@code n} rows (the rows of the sum are alike). */
  private static boolean sameRows(float[] xs, int narrow, int n) {
    for (int q = 0; q < narrow; q++) {
      float first = xs[q * n];
      for (int r = 1; r < n; r++) {
        if (xs[q * n + r] != first) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue dy = ps.as(gradOutput, Layout.ROWS);
    NativeValue[] parts = parts(ps, inputs[0]);
    int n = ps.items();
    FloatPointer d = dy.pointer();
    if (bias >= 0) {
      Blas.gemv(true, n, out, d, out, ps.ws().ones(n), 1f, params.gradientAt(bias));
    }
    NativeValue[] grads = needed[0] ? new NativeValue[parts.length] : null;
    int col = 0;
    for (int i = 0; i < parts.length; i++) {
      NativeValue x = parts[i];
      int f = x.shape.size();
      boolean t = transposed(x);
      Blas.gemm(true, t, out, f, n, d, out, x.pointer(), t ? n : f, 1f, params.gradientAt(weight + col), in);
      if (grads != null) {
        NativeValue dx = ps.allocate(x.shape, Layout.ROWS);
        FloatPointer w = params.weightsAt(weight + col);
        ps.pieces(n, NativePass.pieceCount(n, ROWS), (lane, r0, r1) -> Blas.gemm(false, false, r1 - r0, f, out,
            dy.at((long) r0 * out), out, w, in, 0f, dx.at((long) r0 * f), f));
        grads[i] = dx;
      }
      col += f;
    }
    if (grads == null) {
      return new Value[] {null};
    }
    return new Value[] {inputs[0] instanceof Joined j ? new Joined(grads, j.shape) : grads[0]};
  }
}
