package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Buffer;
import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Slot;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A 2-D convolution ({@code torch.nn.Conv2d} with square kernel, stride and zero padding) on channel-major
 * activations {@code [C][N][H * W]}, as matrix products: with the input's columns
 * {@code col[(ci, ky, kx)][(n, oy, ox)] = x[ci][n][oy * stride + ky - pad][ox * stride + kx - pad]} (zero
 * outside the image), {@code out = W col + b}, where {@code W} is the weight {@code [Cout, Cin, k, k]} read
 * as a {@code [Cout][Cin k k]} matrix in place in the model's native weights.
 *
 * <p>The backward pass has {@code db = rowsum(dOut)}. For a convolution whose output has the input's size
 * (stride 1, {@code k = 2 pad + 1}) both other gradients come from the columns of {@code dOut}: the input
 * gradient is the same convolution of {@code dOut} with the weight transposed and flipped
 * ({@code W'[ci][co][ky][kx] = W[co][ci][k-1-ky][k-1-kx]}), a copy of columns instead of a scatter of
 * {@code W^T dOut}'s, and the weight gradient the product of the input's rows with those columns, so the
 * input's columns are not built again. Otherwise {@code dW = dOut col^T}, and {@code dx} is {@code W^T
 * dOut} for a 1x1 convolution and {@code col2im(W^T dOut)} for the stride-2 downsampling.
 *
 * <p>Images are processed in chunks whose columns fit {@link #BUDGET} floats, so the native buffers stay
 * small whatever the batch, and each chunk is one BLAS call for all its images. The columns are written
 * straight from the Java activations into native memory, a plane at a time (for stride 1, a column row of
 * one image is its input plane shifted, with the padding zeroed).
 *
 * <p>Immutable and shared by all threads: every buffer belongs to the {@link UNetWorkspace} passed in.
 */
final class Conv2d {
  /** Floats of columns per chunk (1 MB, about half the L2 cache of one core here). */
  static final int BUDGET = 1 << 18;

  final int cin;
  final int cout;
  final int k;
  final int stride;
  final int pad;
  final int hin;
  final int win;
  final int hout;
  final int wout;
  private final int wOff;
  private final int bOff;
  private final int kk;
  private final boolean pointwise;
  /** Stride 1 with an output the size of the input: columns are shifted planes. */
  private final boolean same;
  private final ModelState state;
  private final FloatPointer weight;
  /** A row of zeros, for the output rows that read only padding. */
  private final float[] zeros;

  /**
   * A convolution whose weight and bias are state entries.
   *
   * @param state the model's state
   * @param wOff the weight's offset ({@code [cout, cin, k, k]})
   * @param bOff the bias's offset
   * @param cin input channels
   * @param cout output channels
   * @param k kernel size
   * @param stride stride
   * @param pad zero padding on every side
   * @param hin input height
   * @param win input width
   */
  Conv2d(ModelState state, int wOff, int bOff, int cin, int cout, int k, int stride, int pad, int hin, int win) {
    this.state = state;
    this.wOff = wOff;
    this.bOff = bOff;
    this.cin = cin;
    this.cout = cout;
    this.k = k;
    this.stride = stride;
    this.pad = pad;
    this.hin = hin;
    this.win = win;
    this.hout = (hin + 2 * pad - k) / stride + 1;
    this.wout = (win + 2 * pad - k) / stride + 1;
    this.kk = cin * k * k;
    this.pointwise = k == 1 && stride == 1 && pad == 0;
    this.same = stride == 1 && k == 2 * pad + 1;
    this.weight = Blas.at(state.params(), wOff);
    this.zeros = new float[wout];
  }

  /** Positions of the output, {@code hout * wout}. */
  int outPositions() {
    return hout * wout;
  }

  private int chunk(int nb, boolean backward) {
    int rows = Math.max(kk, cout);
    if (backward && same && !pointwise) {
      rows = Math.max(rows, cout * k * k);
    }
    long perImage = (long) rows * hout * wout;
    return (int) Math.max(1, Math.min(nb, BUDGET / perImage));
  }

  /**
   * {@code out = conv(x)} for {@code nb} images.
   *
   * @param ws the workspace
   * @param x {@code [cin][nb][hin * win]}
   * @param nb images
   * @param out {@code [cout][nb][hout * wout]} (output)
   */
  void forward(UNetWorkspace ws, float[] x, int nb, float[] out) {
    int pout = hout * wout;
    int mout = nb * pout;
    int per = chunk(nb, false);
    Buffer col = ws.slot(Slot.COLUMNS, (long) kk * per * pout);
    Buffer rows = ws.slot(Slot.ROWS, (long) cout * per * pout);
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * pout;
      columns(ws, x, cin, nb, j0, jn, col);
      Blas.gemm(false, false, cout, cols, kk, weight, kk, col.pointer, cols, 0f, rows.pointer, cols);
      for (int co = 0; co < cout; co++) {
        rows.buffer.get(co * cols, out, co * mout + j0 * pout, cols);
      }
    }
    UNetKernels.addBias(out, cout, mout, state.weights, bOff);
  }

  /**
   * The backward pass: adds {@code dW} and {@code db} to the model's gradient and writes or adds
   * {@code dx}.
   *
   * @param ws the workspace
   * @param x the forward pass's input
   * @param dOut the gradient with respect to the output
   * @param nb images
   * @param dx the gradient with respect to {@code x}, or null if not needed
   * @param accumulate whether to add to {@code dx} (else overwrite it)
   */
  void backward(UNetWorkspace ws, float[] x, float[] dOut, int nb, float[] dx, boolean accumulate) {
    if (same && !pointwise && (dx != null || cout <= cin)) {
      backwardFromOutputColumns(ws, x, dOut, nb, dx, accumulate);
    } else {
      backwardFromInputColumns(ws, x, dOut, nb, dx, accumulate);
    }
    UNetKernels.addRowSums(dOut, cout, nb * hout * wout, state.gradient, bOff);
  }

  /**
   * The backward pass of a convolution that keeps the size (stride 1, {@code k = 2 pad + 1}) from the
   * columns of {@code dOut} alone: they give the input gradient as the convolution with the flipped
   * weight, {@code dx = W' colD}, and the weight gradient, since {@code dW[co][ci][ky][kx] = sum
   * dOut[co][p] x[ci][p + (ky - pad, kx - pad)] = sum x[ci][p] dOut[co][p - (ky - pad, kx - pad)]}, as
   * {@code dW'[ci][(co, k-1-ky, k-1-kx)] = (x colD^T)}: one set of columns (of {@code cout} channels)
   * instead of two (the input's again, of {@code cin} channels, and the output gradient's).
   */
  private void backwardFromOutputColumns(
      UNetWorkspace ws, float[] x, float[] dOut, int nb, float[] dx, boolean accumulate) {
    int p = hin * win;
    int m = nb * p;
    int kf = cout * k * k;
    int per = chunk(nb, true);
    Buffer rows = ws.slot(Slot.COLUMNS, (long) cin * per * p);
    Buffer dcol = ws.slot(Slot.COLUMN_GRADIENT, (long) kf * per * p);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) cin * kf);
    Buffer drows = dx == null ? null : ws.slot(Slot.INPUT_GRADIENT, (long) cin * per * p);
    Buffer wf = dx == null ? null : flippedWeight(ws);
    float[] rowH = dx != null && accumulate ? ws.take(per * p) : null;
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * p;
      rows(x, cin, nb, j0, jn, p, rows);
      columns(ws, dOut, cout, nb, j0, jn, dcol);
      Blas.gemm(false, true, cin, kf, cols, rows.pointer, cols, dcol.pointer, cols, j0 == 0 ? 0f : 1f,
          wg.pointer, kf);
      if (dx != null) {
        Blas.gemm(false, false, cin, cols, kf, wf.pointer, kf, dcol.pointer, cols, 0f, drows.pointer, cols);
        inputGradientRows(drows, nb, j0, jn, dx, accumulate, rowH);
      }
    }
    float[] g = ws.take(cin * kf);
    wg.buffer.get(0, g, 0, cin * kf);
    int kk2 = k * k;
    float[] grad = state.gradient;
    for (int co = 0; co < cout; co++) {
      for (int ci = 0; ci < cin; ci++) {
        int dst = wOff + (co * cin + ci) * kk2;
        int src = ci * kf + co * kk2 + kk2 - 1;
        for (int t = 0; t < kk2; t++) {
          grad[dst + t] += g[src - t];
        }
      }
    }
    ws.give(g);
    if (rowH != null) {
      ws.give(rowH);
    }
  }

  /**
   * Puts images {@code [j0, j0 + jn)} of a {@code [c][nb][p]} activation into a native {@code [c][jn * p]}
   * matrix.
   */
  private static void rows(float[] a, int c, int nb, int j0, int jn, int p, Buffer dst) {
    int cols = jn * p;
    for (int ci = 0; ci < c; ci++) {
      dst.buffer.put(ci * cols, a, (ci * nb + j0) * p, cols);
    }
  }

  /** Copies (or adds) the input gradient of images {@code [j0, j0 + jn)} from native rows into {@code dx}. */
  private void inputGradientRows(Buffer drows, int nb, int j0, int jn, float[] dx, boolean accumulate, float[] rowH) {
    int pin = hin * win;
    int len = jn * pin;
    for (int ci = 0; ci < cin; ci++) {
      int off = ci * nb * pin + j0 * pin;
      if (accumulate) {
        drows.buffer.get(ci * len, rowH, 0, len);
        UNetKernels.addTo(dx, off, rowH, 0, len);
      } else {
        drows.buffer.get(ci * len, dx, off, len);
      }
    }
  }

  /**
   * The backward pass from the input's columns: {@code dW = dOut col^T}; {@code dx = W^T dOut} for a 1x1
   * convolution, {@code col2im(W^T dOut)} for any other (the stride-2 downsampling).
   */
  private void backwardFromInputColumns(
      UNetWorkspace ws, float[] x, float[] dOut, int nb, float[] dx, boolean accumulate) {
    int pin = hin * win;
    int pout = hout * wout;
    int mout = nb * pout;
    int min = nb * pin;
    int per = chunk(nb, true);
    Buffer col = ws.slot(Slot.COLUMNS, (long) kk * per * pout);
    Buffer rows = ws.slot(Slot.ROWS, (long) cout * per * pout);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) cout * kk);
    boolean scatter = dx != null && !pointwise;
    Buffer dcol = scatter ? ws.slot(Slot.COLUMN_GRADIENT, (long) kk * per * pout) : null;
    Buffer drows = dx != null && pointwise ? ws.slot(Slot.INPUT_GRADIENT, (long) cin * per * pin) : null;
    float[] colH = scatter ? ws.take(kk * per * pout) : null;
    float[] rowH = dx != null && accumulate && !scatter ? ws.take(per * pin) : null;
    for (int j0 = 0; j0 < nb; j0 += per) {
      int jn = Math.min(per, nb - j0);
      int cols = jn * pout;
      rows(dOut, cout, nb, j0, jn, pout, rows);
      columns(ws, x, cin, nb, j0, jn, col);
      Blas.gemm(false, true, cout, kk, cols, rows.pointer, cols, col.pointer, cols, j0 == 0 ? 0f : 1f,
          wg.pointer, kk);
      if (dx == null) {
        continue;
      }
      if (pointwise) {
        Blas.gemm(true, false, cin, cols, cout, weight, cin, rows.pointer, cols, 0f, drows.pointer, cols);
        inputGradientRows(drows, nb, j0, jn, dx, accumulate, rowH);
        continue;
      }
      Blas.gemm(true, false, kk, cols, cout, weight, kk, rows.pointer, cols, 0f, dcol.pointer, cols);
      dcol.buffer.get(0, colH, 0, kk * cols);
      if (!accumulate) {
        for (int ci = 0; ci < cin; ci++) {
          int off = ci * min + j0 * pin;
          Arrays.fill(dx, off, off + jn * pin, 0f);
        }
      }
      col2im(colH, cols, nb, j0, jn, dx);
    }
    float[] g = ws.take(cout * kk);
    wg.buffer.get(0, g, 0, cout * kk);
    UNetKernels.addTo(state.gradient, wOff, g, 0, cout * kk);
    ws.give(g);
    if (colH != null) {
      ws.give(colH);
    }
    if (rowH != null) {
      ws.give(rowH);
    }
  }

  /** {@code W'[ci][(co, ky, kx)] = W[co][ci][k-1-ky][k-1-kx]} in a native buffer. */
  private Buffer flippedWeight(UNetWorkspace ws) {
    int kk2 = k * k;
    int size = cin * cout * kk2;
    float[] w = state.weights;
    float[] f = ws.take(size);
    for (int co = 0; co < cout; co++) {
      for (int ci = 0; ci < cin; ci++) {
        int src = wOff + (co * cin + ci) * kk2;
        int dst = (ci * cout + co) * kk2;
        for (int t = 0; t < kk2; t++) {
          f[dst + kk2 - 1 - t] = w[src + t];
        }
      }
    }
    Buffer b = ws.slot(Slot.FLIPPED_WEIGHT, size);
    b.buffer.put(0, f, 0, size);
    ws.give(f);
    return b;
  }

  /**
   * Writes the columns of images {@code [j0, j0 + jn)} of a {@code [c][nb][hin * win]} activation into a
   * native buffer: {@code [(ci, ky, kx)][(j, oy, ox)]} (for a 1x1 convolution, the rows themselves).
   */
  private void columns(UNetWorkspace ws, float[] x, int c, int nb, int j0, int jn, Buffer dst) {
    int pin = hin * win;
    int pout = hout * wout;
    int min = nb * pin;
    int cols = jn * pout;
    if (pointwise) {
      rows(x, c, nb, j0, jn, pin, dst);
      return;
    }
    if (!same) {
      for (int ci = 0; ci < c; ci++) {
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            int r = (ci * k + ky) * k + kx;
            for (int j = 0; j < jn; j++) {
              gatherPlane(ws, x, ci * min + (j0 + j) * pin, dst.buffer, r * cols + j * pout, ky, kx);
            }
          }
        }
      }
      return;
    }
    // stride 1, same size: the column row of tap (ky, kx) and one image is the input plane shifted by
    // dy = ky - pad rows and dx = kx - pad columns, zero where that reads outside: one contiguous copy
    // from a scratch copy of the plane between pad * (W + 1) zeros on either side (the rows above and
    // below), in which the |dx| columns that the shift wraps around to the neighbouring row are zero.
    int margin = pad * (win + 1);
    int stride = pin + 2 * margin;
    float[] padded = ws.planes(k * stride);
    Arrays.fill(padded, 0, k * stride, 0f);
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < jn; j++) {
        int src = ci * min + (j0 + j) * pin;
        for (int kx = 0; kx < k; kx++) {
          maskedCopy(x, src, padded, kx * stride + margin, kx - pad);
        }
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            int at = ((ci * k + ky) * k + kx) * cols + j * pout;
            dst.buffer.put(at, padded, kx * stride + margin + (ky - pad) * win + kx - pad, pin);
          }
        }
      }
    }
  }

  /**
   * Copies a plane and zeroes its {@code |dx|} columns that a shift by {@code dx} wraps onto: the first
   * columns for {@code dx > 0} (read past a row's end), the last ones for {@code dx < 0}.
   */
  private void maskedCopy(float[] x, int src, float[] dst, int at, int dx) {
    int w = win;
    System.arraycopy(x, src, dst, at, hin * w);
    if (dx == 0) {
      return;
    }
    int first = dx > 0 ? 0 : w + dx;
    int count = Math.abs(dx);
    for (int y = 0; y < hin; y++) {
      int row = at + y * w + first;
      for (int i = 0; i < count; i++) {
        dst[row + i] = 0f;
      }
    }
  }

  /** The first output column whose input column {@code ox * stride + kx - pad} is inside the image. */
  private int firstColumn(int kx) {
    return Math.min(wout, Math.max(0, (pad - kx + stride - 1) / stride));
  }

  /** One past the last output column whose input column is inside the image. */
  private int endColumn(int kx) {
    int last = win - 1 + pad - kx; // ox * stride <= last
    return last < 0 ? 0 : Math.min(wout, last / stride + 1);
  }

  /** Any stride and padding, through a row of scratch. */
  private void gatherPlane(UNetWorkspace ws, float[] x, int src, FloatBuffer dst, int at, int ky, int kx) {
    int lo = firstColumn(kx);
    int hi = Math.max(lo, endColumn(kx));
    float[] row = ws.planes(wout);
    for (int oy = 0; oy < hout; oy++) {
      int iy = oy * stride + ky - pad;
      if (iy < 0 || iy >= hin) {
        dst.put(at + oy * wout, zeros, 0, wout);
        continue;
      }
      int s = src + iy * win + kx - pad;
      Arrays.fill(row, 0, lo, 0f);
      for (int ox = lo; ox < hi; ox++) {
        row[ox] = x[s + ox * stride];
      }
      Arrays.fill(row, hi, wout, 0f);
      dst.put(at + oy * wout, row, 0, wout);
    }
  }

  /** Adds column gradients back onto the images they came from (the adjoint of the columns). */
  private void col2im(float[] col, int cols, int nb, int j0, int jn, float[] dx) {
    int pin = hin * win;
    int pout = hout * wout;
    int min = nb * pin;
    for (int ci = 0; ci < cin; ci++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++) {
          int r = (ci * k + ky) * k + kx;
          int lo = firstColumn(kx);
          int hi = endColumn(kx);
          for (int j = 0; j < jn; j++) {
            int src = ci * min + (j0 + j) * pin;
            int at = r * cols + j * pout;
            for (int oy = 0; oy < hout; oy++) {
              int iy = oy * stride + ky - pad;
              if (iy < 0 || iy >= hin) {
                continue;
              }
              int row = at + oy * wout;
              int s = src + iy * win + kx - pad;
              for (int ox = lo; ox < hi; ox++) {
                dx[s + ox * stride] += col[row + ox];
              }
            }
          }
        }
      }
    }
  }
}
