package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.backend.nd4j.Workspace.Buffer;
import io.github.diffusion4j.backend.nd4j.Workspace.Slot;
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
 * {@link Layer.Conv2d} ({@code torch.nn.Conv2d} with a square kernel, any stride, and zero padding that may
 * differ per side) on channel-major values {@code [C, N P]}, as matrix products: with the input's columns
 * {@code col[(ci, ky, kx)][(n, oy, ox)] = x[ci][n][oy s + ky - top][ox s + kx - left]} (zero outside the
 * image), {@code y = W col + b}, where {@code W} is the weight {@code [Cout, Cin, k, k]} read in place in the
 * native parameters as a {@code [Cout, Cin k k]} matrix. A 1x1 convolution without padding needs no columns:
 * the input itself is the {@code [Cin, N P]} matrix. Products write straight into the output (row stride
 * {@code N P}), on which the bias was written first.
 *
 * <p>Backward: {@code db = rowsum(dy)} (a matrix-vector product into the gradient). For a convolution that
 * keeps the size (stride 1, {@code top + bottom = left + right = k - 1}), both other gradients come from the
 * columns of {@code dy} taken with the mirrored padding ({@code bottom}, {@code right} first): the input
 * gradient is the convolution of {@code dy} with the weight transposed and flipped ({@code W'[ci][co][ky][kx]
 * = W[co][ci][k-1-ky][k-1-kx]}), and the weight gradient is {@code x colD^T} read back flipped, so the
 * input's columns are not built again. Otherwise {@code dW += dy col^T} (straight into the gradient) and
 * {@code dx} is {@code W^T dy} for a 1x1 convolution, {@code col2im(W^T dy)} for any other. Nothing is
 * saved: the input stays alive.
 *
 * <p>Images are processed in chunks whose columns fit {@link #BUDGET} floats, so the staging buffers stay
 * small whatever the batch. Columns are built a plane at a time through heap scratch: for the
 * size-keeping case a column row of one image is its plane shifted, read from a zero-margined copy.
 */
final class Conv2dKernel implements Kernel {
  /** Floats of columns per chunk (1 MB, about half the L2 cache of one core here). */
  static final int BUDGET = 1 << 18;

  private final Parameters params;
  private final int cin;
  private final int cout;
  private final int k;
  private final int stride;
  private final int top;
  private final int left;
  private final int bottom;
  private final int right;
  private final int hin;
  private final int win;
  private final int hout;
  private final int wout;
  private final int weight;
  private final int bias;
  private final int kk;
  private final Shape outShape;
  private final boolean pointwise;
  /** Stride 1 with an output the size of the input: columns are shifted planes. */
  private final boolean same;

  Conv2dKernel(Parameters params, Layer.Conv2d layer, Shape in, Shape out) {
    this.params = params;
    this.cin = layer.in();
    this.cout = layer.out();
    this.k = layer.kernel();
    this.stride = layer.stride();
    this.top = layer.padding().top();
    this.left = layer.padding().left();
    this.bottom = layer.padding().bottom();
    this.right = layer.padding().right();
    this.hin = in.dim(1);
    this.win = in.dim(2);
    this.hout = out.dim(1);
    this.wout = out.dim(2);
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() ? params.offset(layer.name() + ".bias") : -1;
    this.kk = cin * k * k;
    this.outShape = out;
    this.pointwise = k == 1 && stride == 1 && top + left + bottom + right == 0;
    this.same = stride == 1 && hout == hin && wout == win;
  }

  /** Images per chunk: as many as keep the columns within {@link #BUDGET}. */
  private int chunk(int nb, boolean backward) {
    int rows = kk;
    if (backward && same) {
      rows = Math.max(rows, cout * k * k);
    }
    long perImage = (long) rows * hout * wout;
    return (int) Math.max(1, Math.min(nb, BUDGET / perImage));
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.as(inputs[0], Layout.PLANES);
    int nb = x.items;
    int pin = hin * win;
    int pout = hout * wout;
    int min = nb * pin;
    int mout = nb * pout;
    NativeValue y = ps.allocate(outShape, Layout.PLANES);
    float beta = 0f;
    if (bias >= 0) {
      fillChannels(ps, y, mout);
      beta = 1f;
    }
    FloatPointer w = params.weightsAt(weight);
    if (pointwise) {
      Blas.gemm(false, false, cout, mout, cin, w, cin, x.pointer(), min, beta, y.pointer(), mout);
      return y;
    }
    int per = chunk(nb, false);
    Buffer col = ps.ws().slot(Slot.COLUMNS, (long) kk * per * pout);
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * pout;
      columns(ps.ws(), x, cin, j0, jn, col, top, left);
      Blas.gemm(false, false, cout, cols, kk, w, kk, col.pointer, cols, beta, y.at((long) j0 * pout), mout);
    }
    return y;
  }

  /** Writes each channel's bias over its {@code m} floats. */
  private void fillChannels(NativePass ps, NativeValue y, int m) {
    float[] h = ps.ws().chunk(0);
    float[] bs = params.weights(bias, cout);
    FloatBuffer b = y.buffer();
    for (int co = 0; co < cout; co++) {
      Arrays.fill(h, 0, Math.min(m, Workspace.CHUNK), bs[co]);
      int base = y.offset + co * m;
      for (int o = 0; o < m; o += Workspace.CHUNK) {
        b.put(base + o, h, 0, Math.min(Workspace.CHUNK, m - o));
      }
    }
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.as(inputs[0], Layout.PLANES);
    NativeValue dy = ps.as(gradOutput, Layout.PLANES);
    int nb = x.items;
    int mout = nb * hout * wout;
    if (bias >= 0) {
      Blas.gemv(false, cout, mout, dy.pointer(), mout, ps.ws().ones(mout), 1f, params.gradientAt(bias));
    }
    NativeValue dx = needed[0] ? ps.allocate(x.shape, Layout.PLANES) : null;
    if (pointwise) {
      int min = nb * hin * win;
      Blas.gemm(false, true, cout, cin, mout, dy.pointer(), mout, x.pointer(), min, 1f, params.gradientAt(weight), cin);
      if (dx != null) {
        Blas.gemm(true, false, cin, mout, cout, params.weightsAt(weight), cin, dy.pointer(), mout, 0f, dx.pointer(), min);
      }
    } else if (same && (dx != null || cout <= cin)) {
      backwardFromOutputColumns(ps, x, dy, dx);
    } else {
      backwardFromInputColumns(ps, x, dy, dx);
    }
    return new Value[] {dx};
  }

  /**
   * The backward pass of a size-keeping convolution from the columns of {@code dy} (taken with the
   * mirrored padding): {@code dx = W' colD} and {@code dW'[ci][(co, k-1-ky, k-1-kx)] = (x colD^T)}, since
   * {@code dW[co][ci][t] = sum_i x[ci][i] dy[co][i - t + top] = sum_i x[ci][i] dy[co][i + (k-1-t) - bottom]}
   * along each axis: one set of columns (of {@code cout} channels) instead of two.
   */
  private void backwardFromOutputColumns(NativePass ps, NativeValue x, NativeValue dy, NativeValue dx) {
    Workspace ws = ps.ws();
    int nb = x.items;
    int p = hin * win;
    int m = nb * p;
    int kf = cout * k * k;
    int per = chunk(nb, true);
    Buffer dcol = ws.slot(Slot.COLUMN_GRADIENT, (long) kf * per * p);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) cin * kf);
    Buffer wf = dx == null ? null : flippedWeight(ws);
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * p;
      columns(ws, dy, cout, j0, jn, dcol, bottom, right);
      Blas.gemm(false, true, cin, kf, cols, x.at((long) j0 * p), m, dcol.pointer, cols, j0 == 0 ? 0f : 1f,
          wg.pointer, kf);
      if (dx != null) {
        Blas.gemm(false, false, cin, cols, kf, wf.pointer, kf, dcol.pointer, cols, 0f, dx.at((long) j0 * p), m);
      }
    }
    int kk2 = k * k;
    int size = cin * kf;
    float[] g = ws.scratch(0, size);
    wg.buffer.get(0, g, 0, size);
    float[] add = ws.scratch(1, size);
    for (int co = 0; co < cout; co++) {
      for (int ci = 0; ci < cin; ci++) {
        int dst = (co * cin + ci) * kk2;
        int src = ci * kf + co * kk2 + kk2 - 1;
        for (int t = 0; t < kk2; t++) {
          add[dst + t] = g[src - t];
        }
      }
    }
    ps.addToGradient(params, weight, add, 0, size);
  }

  /**
   * The backward pass from the input's columns: {@code dW += dy col^T}; {@code dx = col2im(W^T dy)}.
   */
  private void backwardFromInputColumns(NativePass ps, NativeValue x, NativeValue dy, NativeValue dx) {
    Workspace ws = ps.ws();
    int nb = x.items;
    int pout = hout * wout;
    int mout = nb * pout;
    int per = chunk(nb, true);
    Buffer col = ws.slot(Slot.COLUMNS, (long) kk * per * pout);
    Buffer dcol = dx == null ? null : ws.slot(Slot.COLUMN_GRADIENT, (long) kk * per * pout);
    FloatPointer w = params.weightsAt(weight);
    FloatPointer g = params.gradientAt(weight);
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * pout;
      FloatPointer rows = dy.at((long) j0 * pout);
      columns(ws, x, cin, j0, jn, col, top, left);
      Blas.gemm(false, true, cout, kk, cols, rows, mout, col.pointer, cols, 1f, g, kk);
      if (dx != null) {
        Blas.gemm(true, false, kk, cols, cout, w, kk, rows, mout, 0f, dcol.pointer, cols);
        col2im(ws, dcol, cols, j0, jn, dx);
      }
    }
  }

  /** {@code W'[ci][(co, ky, kx)] = W[co][ci][k-1-ky][k-1-kx]} in a staging buffer. */
  private Buffer flippedWeight(Workspace ws) {
    int kk2 = k * k;
    int size = cin * cout * kk2;
    float[] w = ws.scratch(1, size);
    params.weights(weight, w, size);
    float[] f = ws.scratch(0, size);
    for (int co = 0; co < cout; co++) {
      for (int ci = 0; ci < cin; ci++) {
        int src = (co * cin + ci) * kk2;
        int dst = (ci * cout + co) * kk2;
        for (int t = 0; t < kk2; t++) {
          f[dst + kk2 - 1 - t] = w[src + t];
        }
      }
    }
    Buffer b = ws.slot(Slot.FLIPPED_WEIGHT, size);
    b.buffer.put(0, f, 0, size);
    return b;
  }

  /**
   * Writes the columns of images {@code [j0, j0 + jn)} of a channel-major value of {@code c} channels (the
   * input, or for the backward pass the output gradient) into a staging buffer: {@code [(ci, ky, kx)][(j,
   * oy, ox)]}, the padding {@code (padTop, padLeft)} before the image.
   */
  private void columns(Workspace ws, NativeValue v, int c, int j0, int jn, Buffer dst, int padTop, int padLeft) {
    int nb = v.items;
    int pin = hin * win;
    int pout = hout * wout;
    int cols = jn * pout;
    float[] plane = ws.scratch(2, pin);
    FloatBuffer src = v.buffer();
    if (same) {
      // stride 1, same size: the column row of tap (ky, kx) and one image is the plane shifted by
      // dy = ky - padTop rows and dx = kx - padLeft columns, zero where that reads outside: one contiguous
      // copy from a copy of the plane with padTop rows and padLeft columns of zeros before it and the rest
      // after, in which the |dx| columns that the shift wraps around to the neighbouring row are zero.
      int before = padTop * win + padLeft;
      int after = (k - 1 - padTop) * win + (k - 1 - padLeft);
      int rowLen = before + pin + after;
      float[] padded = ws.scratch(3, k * rowLen);
      Arrays.fill(padded, 0, k * rowLen, 0f);
      for (int ci = 0; ci < c; ci++) {
        for (int j = 0; j < jn; j++) {
          src.get(v.offset + (ci * nb + j0 + j) * pin, plane, 0, pin);
          for (int kx = 0; kx < k; kx++) {
            maskedCopy(plane, padded, kx * rowLen + before, kx - padLeft);
          }
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              int at = ((ci * k + ky) * k + kx) * cols + j * pout;
              dst.buffer.put(at, padded, kx * rowLen + before + (ky - padTop) * win + kx - padLeft, pin);
            }
          }
        }
      }
      return;
    }
    float[] tap = ws.scratch(3, pout);
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < jn; j++) {
        src.get(v.offset + (ci * nb + j0 + j) * pin, plane, 0, pin);
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            gatherTap(plane, ky, kx, padTop, padLeft, tap);
            dst.buffer.put(((ci * k + ky) * k + kx) * cols + j * pout, tap, 0, pout);
          }
        }
      }
    }
  }

  /**
   * Copies a plane and zeroes its {@code |dx|} columns that a shift by {@code dx} wraps onto: the first
   * columns for {@code dx > 0} (read past a row's end), the last ones for {@code dx < 0}.
   */
  private void maskedCopy(float[] plane, float[] dst, int at, int dx) {
    int w = win;
    System.arraycopy(plane, 0, dst, at, hin * w);
    if (dx == 0) {
      return;
    }
    int count = Math.min(w, Math.abs(dx));
    int first = dx > 0 ? 0 : w - count;
    for (int y = 0; y < hin; y++) {
      int row = at + y * w + first;
      for (int i = 0; i < count; i++) {
        dst[row + i] = 0f;
      }
    }
  }

  /** The first output column whose input column {@code ox * stride + kx - padLeft} is inside the image. */
  private int firstColumn(int kx, int padLeft) {
    return Math.min(wout, Math.max(0, (padLeft - kx + stride - 1) / stride));
  }

  /** One past the last output column whose input column is inside the image. */
  private int endColumn(int kx, int padLeft) {
    int last = win - 1 + padLeft - kx; // ox * stride <= last
    return last < 0 ? 0 : Math.min(wout, last / stride + 1);
  }

  /** One tap's column row of one image ({@code hout * wout} values), any stride and padding. */
  private void gatherTap(float[] plane, int ky, int kx, int padTop, int padLeft, float[] tap) {
    int lo = firstColumn(kx, padLeft);
    int hi = Math.max(lo, endColumn(kx, padLeft));
    for (int oy = 0; oy < hout; oy++) {
      int iy = oy * stride + ky - padTop;
      int row = oy * wout;
      if (iy < 0 || iy >= hin) {
        Arrays.fill(tap, row, row + wout, 0f);
        continue;
      }
      int s = iy * win + kx - padLeft;
      Arrays.fill(tap, row, row + lo, 0f);
      for (int ox = lo; ox < hi; ox++) {
        tap[row + ox] = plane[s + ox * stride];
      }
      Arrays.fill(tap, row + hi, row + wout, 0f);
    }
  }

  /**
   * Adds column gradients back onto the images they came from (the adjoint of the columns) and writes
   * the planes of images {@code [j0, j0 + jn)} of {@code dx}.
   */
  private void col2im(Workspace ws, Buffer dcol, int cols, int j0, int jn, NativeValue dx) {
    int nb = dx.items;
    int pin = hin * win;
    int pout = hout * wout;
    float[] colH = ws.scratch(0, kk * cols);
    dcol.buffer.get(0, colH, 0, kk * cols);
    float[] plane = ws.scratch(1, pin);
    for (int ci = 0; ci < cin; ci++) {
      for (int j = 0; j < jn; j++) {
        Arrays.fill(plane, 0, pin, 0f);
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            int r = (ci * k + ky) * k + kx;
            int lo = firstColumn(kx, left);
            int hi = endColumn(kx, left);
            int at = r * cols + j * pout;
            for (int oy = 0; oy < hout; oy++) {
              int iy = oy * stride + ky - top;
              if (iy < 0 || iy >= hin) {
                continue;
              }
              int row = at + oy * wout;
              int s = iy * win + kx - left;
              for (int ox = lo; ox < hi; ox++) {
                plane[s + ox * stride] += colH[row + ox];
              }
            }
          }
        }
        dx.buffer().put(dx.offset + (ci * nb + j0 + j) * pin, plane, 0, pin);
      }
    }
  }
}
