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
 * {@code N P}), on which the bias was written first. Where the Vector API is available, the forward pass of
 * a stride-1 convolution on planes large enough runs without columns instead ({@link DirectConv}), and so does
 * the input gradient of a size-keeping one of up to {@link DirectConv#GRADIENT_CHANNELS} input channels
 * ({@link DirectConv#inputGradient}); the weight gradient then comes from the smaller set of columns, or where the
 * CPU has 512-bit vectors from no columns at all ({@link DirectWeightGradient}, which also lets the input gradient
 * of up to {@link DirectConv#GRADIENT_CHANNELS_WITHOUT_COLUMNS} input channels run directly). The forward
 * pass of the other 3x3 stride-1 convolutions runs by Winograd's F(2x2, 3x3) ({@link WinogradConv}: 2.25x fewer
 * multiply-adds in the products, a transformed input 4x the input instead of columns 9x), and for those that keep
 * the size both gradients do too (no columns at all). Where the Winograd form's products run in vectors and the
 * direct loop yields a layer to it ({@link DirectConv.Simd#yieldsToWinograd}: the 256-bit loop from 16 channels),
 * that layer's forward pass runs by Winograd too, its gradients as the direct form has them. Before all of these,
 * the forward pass and the input gradient of the size-keeping 3x3 layers where Winograd's F(4x4, 3x3) pays run by
 * it ({@link Winograd4Conv}, 4x fewer multiply-adds than directly), their weight gradient as the layer has it.
 *
 * <p>Backward: {@code db = rowsum(dy)} (a matrix-vector product into the gradient). For a convolution that
 * keeps the size (stride 1, {@code top + bottom = left + right = k - 1}), both other gradients come from the
 * columns of {@code dy} taken with the mirrored padding ({@code bottom}, {@code right} first): the input
 * gradient is the convolution of {@code dy} with the weight transposed and flipped ({@code W'[ci][co][ky][kx]
 * = W[co][ci][k-1-ky][k-1-kx]}), and the weight gradient is {@code x colD^T} read back flipped, so the
 * input's columns are not built again. Otherwise {@code dW += dy col^T} and {@code dx} is {@code W^T dy}
 * for a 1x1 convolution (the product straight into the gradient), {@code col2im(W^T dy)} for any other.
 * The weight gradients from columns are computed transposed, {@code colD x^T} and {@code col dy^T}: the
 * product's rows are then the columns' (288-1152 of them) instead of the channels (32-128), and OpenBLAS's
 * kernels ran these shapes 1.1-1.7x faster (32x288 by 1,024 positions: 89 against 151 GFLOP/s;
 * docs/benchmarks.md); the partial sums are read back transposed. Nothing is saved: the input stays alive.
 *
 * <p>Images are processed in chunks whose columns fit {@link #BUDGET} floats, so the staging buffers stay
 * small whatever the batch. For the size-keeping case a column row of one image is its plane shifted,
 * copied native to native (zeros where the shift leaves the plane or wraps to the next row); otherwise
 * columns are gathered a plane at a time through heap scratch.
 *
 * <p>Threads: OpenBLAS runs on one thread ({@link NativeRuntime}); the kernel's lanes share the work. With
 * several chunks, each lane takes whole chunks (its own columns, then its products); the weight gradient,
 * a sum over chunks, is accumulated in at most {@link #PARTIALS} partial sums over fixed groups of chunks
 * and then added in group order. With one chunk, the columns are built a channel range per lane and each
 * product is cut into fixed pieces of its columns or rows ({@link NativePass#pieces}). Every cut depends only on
 * the shapes, never on the number of lanes, so the results are bit-identical whatever the threads.
 */
final class Conv2dKernel implements Kernel {
  /** Floats of columns per chunk (1 MB, about half the L2 cache of one core here). */
  static final int BUDGET = 1 << 18;

  /**
   * The most partial sums a weight gradient is accumulated in, over fixed groups of chunks: as many lanes
   * as this share the backward pass of a batch of several chunks.
   */
  static final int PARTIALS = 4;

  /** The fewest rows of a piece of a weight gradient cut by rows. */
  private static final int ROWS = 16;

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
  /** The forward pass by Winograd's F(4x4, 3x3), or null; where set, it goes before every other form. */
  private final Winograd4Conv winograd4;
  /** The input gradient by Winograd's F(4x4, 3x3), or null; where set, it goes before every other form. */
  private final Winograd4Conv winograd4Gradient;
  /** The forward pass without columns, or null (products of columns). */
  private final DirectConv direct;
  /** The input gradient without columns, or null (products of columns). */
  private final DirectConv directGradient;
  /** The forward pass by Winograd's F(2x2, 3x3), or null (directly, or products of columns). */
  private final WinogradConv winograd;
  /**
   * Whether the weight gradient runs by Winograd's F(2x2, 3x3) ({@link WinogradConv#weightGradient}, through
   * {@link #winograd}), and with it the input gradient ({@link #winogradGradient}) unless F(4x4, 3x3) takes that: no
   * columns at all. False for the layers the direct form would take, also where their forward pass yields to
   * Winograd: the weight gradient of those layers was no faster by Winograd (alternating steps of one process), nor
   * was Winograd's input gradient through OpenBLAS's products of 32 rows (the whole training step 2-7% slower).
   */
  private final boolean winogradWeightGradient;
  /** The input gradient by Winograd's F(2x2, 3x3), or null (see {@link #winogradWeightGradient}). */
  private final WinogradConv winogradGradient;
  /**
   * The weight gradient without columns, or null (from columns). Used where the input gradient runs directly or
   * is not needed, so that no columns are built at all.
   */
  private final DirectWeightGradient weightGradient;

  /**
   * A kernel whose forward pass runs directly where {@code use} says so ({@link DirectConv}) and the loop does not
   * yield it to Winograd, else by Winograd's F(2x2, 3x3) for a 3x3 stride-1 convolution where {@code use} allows it
   * and it pays ({@link WinogradConv#pays}; always with {@code use.everywhere()}), else on products of columns.
   */
  Conv2dKernel(Parameters params, Layer.Conv2d layer, Shape in, Shape out, DirectConv.Use use) {
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
    this.winograd4 = Winograd4Conv.of(use, params, layer, hin, win);
    this.winograd4Gradient = Winograd4Conv.inputGradient(use, params, layer, hin, win);
    DirectConv d = DirectConv.of(use, params, layer, hin, win);
    WinogradConv w = use.winogradFloats() > 0
        ? WinogradConv.of(params, layer, hin, win, use.winogradFloats(), use.winogradVectors()) : null;
    if (w != null && !use.everywhere() && !w.pays()) {
      w = null;
    }
    // where the direct loop yields a layer's forward pass to Winograd, its gradients stay as the loop has them
    boolean yields = d != null && w != null && !use.everywhere() && w.vectorProducts()
        && use.simd().yieldsToWinograd(cin, cout);
    // F(4x4, 3x3) takes the forward pass and the input gradient of its layers: no direct form for those
    this.direct = yields || winograd4 != null ? null : d;
    this.winograd = d == null || yields ? w : null;
    this.winogradWeightGradient = d == null && w != null && WinogradConv.hasInputGradient(layer);
    this.winogradGradient = !winogradWeightGradient || winograd4Gradient != null ? null
        : WinogradConv.inputGradient(params, layer, hin, win, use.winogradFloats(), use.winogradVectors());
    this.weightGradient = winogradWeightGradient ? null
        : DirectWeightGradient.of(use.weightGradient(), layer, hin, win);
    this.directGradient = winograd4Gradient != null ? null
        : DirectConv.inputGradient(use, params, layer, hin, win, weightGradient != null);
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
    NativeValue y = ps.allocate(outShape, Layout.PLANES);
    if (winograd4 != null) {
      winograd4.forward(ps, x, y);
      return y;
    }
    if (direct != null) {
      direct.forward(ps, x, y);
      return y;
    }
    if (winograd != null) {
      winograd.forward(ps, x, y);
      return y;
    }
    int nb = x.items;
    int pin = hin * win;
    int pout = hout * wout;
    int min = nb * pin;
    int mout = nb * pout;
    float beta = 0f;
    if (bias >= 0) {
      fillChannels(ps, y, mout);
      beta = 1f;
    }
    FloatPointer w = params.weightsAt(weight);
    float b = beta;
    if (pointwise) {
      ps.pieces(mout, NativePass.pieceCount(mout), (lane, c0, c1) ->
          Blas.gemm(false, false, cout, c1 - c0, cin, w, cin, x.at(c0), min, b, y.at(c0), mout));
      return y;
    }
    int per = chunk(nb, false);
    int count = (nb + per - 1) / per;
    long size = (long) kk * per * pout;
    if (count == 1) {
      Buffer col = ps.ws().slot(Slot.COLUMNS, size);
      columns(ps, x, cin, 0, nb, col, top, left);
      ps.pieces(mout, NativePass.pieceCount(mout), (lane, c0, c1) ->
          Blas.gemm(false, false, cout, c1 - c0, kk, w, kk, Blas.at(col.pointer, c0), mout, b, y.at(c0), mout));
      return y;
    }
    Buffer col = ps.ws().slot(Slot.COLUMNS, size * ps.lanes(count, 1));
    chunkGroups(ps, nb, per, count, size, (lane, base, group, first, j0, jn) -> {
      int cols = jn * pout;
      columns(lane, x, 0, cin, j0, jn, col, base, top, left);
      Blas.gemm(false, false, cout, cols, kk, w, kk, Blas.at(col.pointer, base), cols, b, y.at((long) j0 * pout),
          mout);
    });
    return y;
  }

  /** Writes each channel's bias over its {@code m} floats. */
  private void fillChannels(NativePass ps, NativeValue y, int m) {
    float[] bs = params.weights(bias, cout);
    FloatBuffer b = y.buffer();
    ps.split(cout, NativePass.grain(m), (lane, c0, c1) -> {
      float[] h = lane.chunk(0);
      for (int co = c0; co < c1; co++) {
        Arrays.fill(h, 0, Math.min(m, Workspace.CHUNK), bs[co]);
        int base = y.offset + co * m;
        for (int o = 0; o < m; o += Workspace.CHUNK) {
          b.put(base + o, h, 0, Math.min(Workspace.CHUNK, m - o));
        }
      }
    });
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
      // dW += dy x^T a range of dW's rows per piece (each a whole sum over the batch); dx a range of columns
      FloatPointer g = params.gradientAt(weight);
      ps.pieces(cout, NativePass.pieceCount(cout, ROWS), (lane, r0, r1) -> Blas.gemm(false, true, r1 - r0, cin, mout,
          dy.at((long) r0 * mout), mout, x.pointer(), min, 1f, Blas.at(g, (long) r0 * cin), cin));
      if (dx != null) {
        FloatPointer w = params.weightsAt(weight);
        ps.pieces(mout, NativePass.pieceCount(mout), (lane, c0, c1) ->
            Blas.gemm(true, false, cin, c1 - c0, cout, w, cin, dy.at(c0), mout, 0f, dx.at(c0), min));
      }
      return new Value[] {dx};
    }
    NativeValue dxFromColumns = dx;
    if (dx != null && winograd4Gradient != null) {
      winograd4Gradient.forward(ps, dy, dx);
      dxFromColumns = null;
    } else if (dx != null && directGradient != null) {
      directGradient.forward(ps, dy, dx);
      dxFromColumns = null;
    }
    if (weightGradient != null && dxFromColumns == null) {
      int groups = Math.min(nb, PARTIALS);
      Buffer wg = ps.ws().slot(Slot.WEIGHT_GRADIENT, (long) kk * cout * groups);
      weightGradient.partials(ps, x, dy, wg, groups);
      addTransposedPartials(ps, wg, groups);
      return new Value[] {dx};
    }
    if (winogradWeightGradient) {
      winograd.weightGradient(ps, x, dy);
      if (dxFromColumns != null) {
        winogradGradient.forward(ps, dy, dx);
      }
      return new Value[] {dx};
    }
    if (same && (dxFromColumns != null || cout <= cin)) {
      backwardFromOutputColumns(ps, x, dy, dxFromColumns);
    } else {
      backwardFromInputColumns(ps, x, dy, dxFromColumns);
    }
    return new Value[] {dx};
  }

  /**
   * The backward pass of a size-keeping convolution from the columns of {@code dy} (taken with the
   * mirrored padding): {@code dx = W' colD} and {@code dW[co][ci][k-1-ky][k-1-kx] = (colD x^T)[(co, ky, kx)][ci]},
   * since
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
    int count = (nb + per - 1) / per;
    long size = (long) kf * per * p;
    int wsize = cin * kf;
    Buffer wf = dx == null ? null : flippedWeight(ps);
    int groups = Math.min(count, PARTIALS);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) wsize * groups);
    if (count == 1) {
      Buffer dcol = ws.slot(Slot.COLUMN_GRADIENT, size);
      columns(ps, dy, cout, 0, nb, dcol, bottom, right);
      ps.pieces(kf, NativePass.pieceCount(kf, ROWS), (lane, r0, r1) -> Blas.gemm(false, true, r1 - r0, cin, m,
          Blas.at(dcol.pointer, (long) r0 * m), m, x.pointer(), m, 0f, Blas.at(wg.pointer, (long) r0 * cin), cin));
      if (dx != null) {
        ps.pieces(m, NativePass.pieceCount(m), (lane, c0, c1) -> Blas.gemm(false, false, cin, c1 - c0, kf,
            wf.pointer, kf, Blas.at(dcol.pointer, c0), m, 0f, dx.at(c0), m));
      }
    } else {
      Buffer dcol = ws.slot(Slot.COLUMN_GRADIENT, size * ps.lanes(groups, 1));
      chunkGroups(ps, nb, per, groups, size, (lane, base, group, first, j0, jn) -> {
        int cols = jn * p;
        FloatPointer own = Blas.at(dcol.pointer, base);
        columns(lane, dy, 0, cout, j0, jn, dcol, base, bottom, right);
        Blas.gemm(false, true, kf, cin, cols, own, cols, x.at((long) j0 * p), m, first ? 0f : 1f,
            Blas.at(wg.pointer, (long) group * wsize), cin);
        if (dx != null) {
          Blas.gemm(false, false, cin, cols, kf, wf.pointer, kf, own, cols, 0f, dx.at((long) j0 * p), m);
        }
      });
    }
    // the partial sums ([kf][cin]) added in group order, read back transposed and flipped into W's layout
    // ([cout][cin][k][k]) and added to the gradient, a range of output channels per lane
    int kk2 = k * k;
    ps.split(cout, NativePass.grain((long) cin * kk2 * (groups + 2)), (lane, co0, co1) -> {
      int run = (co1 - co0) * kk2;
      float[] sum = lane.scratch(0, run * cin);
      sumGroups(wg, wsize, groups, co0 * kk2 * cin, run * cin, sum, 0, lane.scratch(1, run * cin));
      float[] add = lane.scratch(2, run * cin);
      for (int co = co0; co < co1; co++) {
        for (int ci = 0; ci < cin; ci++) {
          int dst = ((co - co0) * cin + ci) * kk2;
          int src = ((co - co0) * kk2 + kk2 - 1) * cin + ci;
          for (int t = 0; t < kk2; t++) {
            add[dst + t] = sum[src - t * cin];
          }
        }
      }
      NativePass.addToGradient(lane, params, weight + co0 * cin * kk2, add, 0, run * cin);
    });
  }

  /**
   * Adds {@code groups} partial weight gradients, each {@code dW^T} ({@code [kk][cout]}), summed in group
   * order, to the gradient of the weight ({@code [cout][kk]}): a range of output channels per lane.
   */
  private void addTransposedPartials(NativePass ps, Buffer partials, int groups) {
    int size = kk * cout;
    ps.split(cout, NativePass.grain((long) kk * (groups + 2)), (lane, co0, co1) -> {
      int n = co1 - co0;
      float[] sum = lane.scratch(0, kk * n);
      float[] h = lane.scratch(1, n);
      for (int r = 0; r < kk; r++) {
        sumGroups(partials, size, groups, r * cout + co0, n, sum, r * n, h);
      }
      float[] add = lane.scratch(2, kk * n);
      for (int c = 0; c < n; c++) {
        for (int r = 0; r < kk; r++) {
          add[c * kk + r] = sum[r * n + c];
        }
      }
      NativePass.addToGradient(lane, params, weight + co0 * kk, add, 0, kk * n);
    });
  }

  /**
   * {@code sum[to, to + len)}: floats {@code [at, at + len)} of {@code groups} partial sums of {@code size}
   * floats each, added in group order ({@code h} is scratch of at least {@code len}).
   */
  static void sumGroups(Buffer partials, int size, int groups, int at, int len, float[] sum, int to,
      float[] h) {
    partials.buffer.get(at, sum, to, len);
    for (int gi = 1; gi < groups; gi++) {
      partials.buffer.get(gi * size + at, h, 0, len);
      for (int i = 0; i < len; i++) {
        sum[to + i] += h[i];
      }
    }
  }

  /**
   * The backward pass from the input's columns: {@code dW += (col dy^T)^T}; {@code dx = col2im(W^T dy)}.
   */
  private void backwardFromInputColumns(NativePass ps, NativeValue x, NativeValue dy, NativeValue dx) {
    Workspace ws = ps.ws();
    int nb = x.items;
    int pout = hout * wout;
    int mout = nb * pout;
    int per = chunk(nb, true);
    int count = (nb + per - 1) / per;
    long size = (long) kk * per * pout;
    int wsize = cout * kk;
    int groups = Math.min(count, PARTIALS);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) wsize * groups);
    FloatPointer w = params.weightsAt(weight);
    if (count == 1) {
      Buffer col = ws.slot(Slot.COLUMNS, size);
      columns(ps, x, cin, 0, nb, col, top, left);
      ps.pieces(kk, NativePass.pieceCount(kk, ROWS), (lane, r0, r1) -> Blas.gemm(false, true, r1 - r0, cout, mout,
          Blas.at(col.pointer, (long) r0 * mout), mout, dy.pointer(), mout, 0f, Blas.at(wg.pointer, (long) r0 * cout),
          cout));
      if (dx != null) {
        Buffer dcol = ws.slot(Slot.COLUMN_GRADIENT, size);
        ps.pieces(mout, NativePass.pieceCount(mout), (lane, c0, c1) -> Blas.gemm(true, false, kk, c1 - c0, cout,
            w, kk, dy.at(c0), mout, 0f, Blas.at(dcol.pointer, c0), mout));
        col2im(ps, dcol, mout, dx);
      }
    } else {
      int lanes = ps.lanes(groups, 1);
      Buffer col = ws.slot(Slot.COLUMNS, size * lanes);
      Buffer dcol = dx == null ? null : ws.slot(Slot.COLUMN_GRADIENT, size * lanes);
      chunkGroups(ps, nb, per, groups, size, (lane, base, group, first, j0, jn) -> {
        int cols = jn * pout;
        FloatPointer rows = dy.at((long) j0 * pout);
        columns(lane, x, 0, cin, j0, jn, col, base, top, left);
        Blas.gemm(false, true, kk, cout, cols, Blas.at(col.pointer, base), cols, rows, mout, first ? 0f : 1f,
            Blas.at(wg.pointer, (long) group * wsize), cout);
        if (dcol != null) {
          Blas.gemm(true, false, kk, cols, cout, w, kk, rows, mout, 0f, Blas.at(dcol.pointer, base), cols);
          col2im(lane, dcol, base, cols, j0, jn, dx);
        }
      });
    }
    addTransposedPartials(ps, wg, groups);
  }

  /** The work of one chunk of images in {@link #chunkGroups}. */
  @FunctionalInterface
  interface ChunkStep {
    /**
     * Computes one chunk.
     *
     * @param lane the lane's scratch
     * @param base the first float of the lane's own part of the staging buffers
     * @param group the chunk's group: the index of the weight gradient's partial sum it adds to
     * @param first whether it is its group's first chunk (the partial sum starts there)
     * @param j0 the chunk's first image
     * @param jn its images
     */
    void run(Workspace.Lane lane, long base, int group, boolean first, int j0, int jn);
  }

  /**
   * Runs the {@code ceil(nb / per)} chunks of images in {@code groups} fixed contiguous groups over the lanes,
   * each group's chunks in order on one lane, each lane staging at {@code size * lane}.
   */
  static void chunkGroups(NativePass ps, int nb, int per, int groups, long size, ChunkStep step) {
    int count = (nb + per - 1) / per;
    ps.split(groups, 1, (lane, g0, g1) -> {
      long base = size * ps.laneIndex(lane);
      for (int g = g0; g < g1; g++) {
        int first = KernelPool.bound(count, groups, g);
        for (int c = first; c < KernelPool.bound(count, groups, g + 1); c++) {
          int j0 = c * per;
          step.run(lane, base, g, c == first, j0, Math.min(per, nb - j0));
        }
      }
    });
  }

  /** {@code W'[ci][(co, ky, kx)] = W[co][ci][k-1-ky][k-1-kx]} in a staging buffer. */
  private Buffer flippedWeight(NativePass ps) {
    Workspace ws = ps.ws();
    int kk2 = k * k;
    int size = cin * cout * kk2;
    float[] w = ws.scratch(1, size);
    params.weights(weight, w, size);
    float[] f = ws.scratch(0, size);
    flipTransposed(ps, w, f, cout, cin, kk2);
    Buffer b = ws.slot(Slot.FLIPPED_WEIGHT, size);
    b.buffer.put(0, f, 0, size);
    return b;
  }

  /**
   * A convolution's weight transposed and flipped, the weight of its input gradient: {@code f[ci][co][t] =
   * w[co][ci][kk2 - 1 - t]}, a range of output channels per lane.
   *
   * @param ps the pass
   * @param w the weight, {@code [cout][cin][kk2]}
   * @param f the result, {@code [cin][cout][kk2]}
   * @param cout the layer's output channels
   * @param cin the layer's input channels
   * @param kk2 the taps of the kernel
   */
  static void flipTransposed(NativePass ps, float[] w, float[] f, int cout, int cin, int kk2) {
    ps.split(cout, NativePass.grain((long) cin * kk2 * 2), (lane, co0, co1) -> {
      for (int co = co0; co < co1; co++) {
        for (int ci = 0; ci < cin; ci++) {
          int src = (co * cin + ci) * kk2;
          int dst = (ci * cout + co) * kk2;
          for (int t = 0; t < kk2; t++) {
            f[dst + kk2 - 1 - t] = w[src + t];
          }
        }
      }
    });
  }

  /**
   * Writes the columns of images {@code [j0, j0 + jn)} of a channel-major value of {@code c} channels (the
   * input, or for the backward pass the output gradient) into a staging buffer: {@code [(ci, ky, kx)][(j,
   * oy, ox)]}, the padding {@code (padTop, padLeft)} before the image.
   */
  private void columns(NativePass ps, NativeValue v, int c, int j0, int jn, Buffer dst, int padTop, int padLeft) {
    int perChannel = jn * k * k * hout * wout;
    ps.split(c, NativePass.grain(perChannel), (lane, c0, c1) ->
        columns(lane, v, c0, c1, j0, jn, dst, 0, padTop, padLeft));
  }

  /**
   * {@link #columns(NativePass, NativeValue, int, int, int, Buffer, int, int)} for channels {@code [c0, c1)},
   * on one lane, written {@code base} floats into {@code dst}.
   */
  private void columns(Workspace.Lane lane, NativeValue v, int c0, int c1, int j0, int jn, Buffer dst, long base,
      int padTop, int padLeft) {
    int nb = v.items;
    int pin = hin * win;
    int pout = hout * wout;
    int cols = jn * pout;
    FloatBuffer src = v.buffer();
    if (same) {
      // stride 1, same size: the column row of tap (ky, kx) and one image is the plane shifted by
      // dy = ky - padTop rows and dx = kx - padLeft columns, zero where that reads outside: one contiguous
      // native-to-native copy of the flat plane shifted by dy * win + dx, zeros where the flat shift leaves
      // the plane, and zeros over the |dx| columns that it wraps around to the neighbouring row
      float[] zeros = lane.scratch(3, pin);
      Arrays.fill(zeros, 0, pin, 0f);
      FloatBuffer out = dst.buffer;
      for (int ci = c0; ci < c1; ci++) {
        for (int j = 0; j < jn; j++) {
          int plane0 = v.offset + (ci * nb + j0 + j) * pin;
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              int at = (int) base + ((ci * k + ky) * k + kx) * cols + j * pout;
              int dx = kx - padLeft;
              int shift = (ky - padTop) * win + dx;
              int lo = Math.min(pin, Math.max(0, -shift));
              int hi = Math.max(lo, Math.min(pin, pin - shift));
              out.put(at, zeros, 0, lo);
              if (hi > lo) {
                out.put(at + lo, src, plane0 + lo + shift, hi - lo);
              }
              out.put(at + hi, zeros, 0, pin - hi);
              if (dx != 0) {
                int count = Math.min(win, Math.abs(dx));
                int first = dx > 0 ? win - count : 0;
                for (int y = 0; y < hin; y++) {
                  out.put(at + y * win + first, zeros, 0, count);
                }
              }
            }
          }
        }
      }
      return;
    }
    float[] plane = lane.scratch(2, pin);
    float[] tap = lane.scratch(3, pout);
    for (int ci = c0; ci < c1; ci++) {
      for (int j = 0; j < jn; j++) {
        src.get(v.offset + (ci * nb + j0 + j) * pin, plane, 0, pin);
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            gatherTap(plane, ky, kx, padTop, padLeft, tap);
            dst.buffer.put((int) base + ((ci * k + ky) * k + kx) * cols + j * pout, tap, 0, pout);
          }
        }
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
  private void col2im(NativePass ps, Buffer dcol, int cols, NativeValue dx) {
    float[] colH = ps.ws().scratch(0, kk * cols);
    dcol.buffer.get(0, colH, 0, kk * cols);
    ps.split(cin, NativePass.grain((long) k * k * cols), (lane, c0, c1) -> {
      float[] plane = lane.scratch(1, hin * win);
      col2im(colH, cols, c0, c1, 0, dx.items, dx, plane);
    });
  }

  /** {@link #col2im(NativePass, Buffer, int, NativeValue)} of images {@code [j0, j0 + jn)} on one lane. */
  private void col2im(Workspace.Lane lane, Buffer dcol, long base, int cols, int j0, int jn, NativeValue dx) {
    float[] colH = lane.scratch(0, kk * cols);
    dcol.buffer.get((int) base, colH, 0, kk * cols);
    col2im(colH, cols, 0, cin, j0, jn, dx, lane.scratch(1, hin * win));
  }

  /** The column gradients {@code colH} of images {@code [j0, j0 + jn)} added onto input channels {@code [c0, c1)}. */
  private void col2im(float[] colH, int cols, int c0, int c1, int j0, int jn, NativeValue dx, float[] plane) {
    int nb = dx.items;
    int pin = hin * win;
    int pout = hout * wout;
    for (int ci = c0; ci < c1; ci++) {
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
