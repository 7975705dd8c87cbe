package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.Workspace.Buffer;
import io.github.diffusion4j.nn.Layer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The weight gradient of a size-keeping stride-1 convolution ({@link Conv2dKernel}) computed directly, without
 * columns: {@code dW[co][ci][ky][kx] = sum_{n, y, x} dy[co][n][y][x] x[ci][n][y + ky - top][x + kx - left]}.
 * A chunk of images (about {@link #POSITIONS} positions) is laid out on one grid of rows {@code wp = gap + W} wide
 * ({@code gap = max(left, right)} zeros before each row, which also serve as the previous row's right border, and
 * {@code max(top, bottom)} zero rows before each image): the input as zero-padded planes (channel-major, row
 * copies), the output gradient channels-last (a transpose). A tap is then one offset in the grid:
 * {@code dW[co][(ci, t)] = sum_q dyGrid[q][co] xPlanes[ci][q + shift(t)]}, summed over the positions from the
 * chunk's first valid one to its last (the borders carry zero output gradients). {@link Simd} runs that as an
 * outer product per position, vectors over the output channels. Against the products of columns this skips
 * building the columns ({@code k^2} times the input or the output gradient) and OpenBLAS's packing of them. With
 * it, the input gradient of layers of up to {@link DirectConv#GRADIENT_CHANNELS_WITHOUT_COLUMNS} input channels
 * runs directly too, so those layers build no columns at all: on a Zen 5 the default U-Net's 3x3 layers trained in
 * 698 against 921 ms (docs/benchmarks.md).
 *
 * <p>Sums: every accumulator adds the images of a fixed group ({@link Conv2dKernel#PARTIALS} groups of images,
 * whatever the lanes) in order, position by position; the groups' partial sums are added in group order
 * ({@link Conv2dKernel}). The results are the same bits whatever the threads, and differ from the columns' products
 * in the last bits (another order of the same sum).
 */
final class DirectWeightGradient {
  /** The Vector API inner loop (512-bit vectors only), or null where it is not available ({@link VectorApi}). */
  static final Simd SIMD = VectorApi.load(Simd.class, DirectWeightGradient.class.getName() + "Simd");

  /**
   * The most floats of a lane's staging for one layer: a chunk's padded input planes, its output gradient's planes
   * and grid, and the accumulators (4 MB; the default U-Net's largest, 128 > 64 channels at 16x16, takes about 1 MB).
   * Larger layers keep the columns.
   */
  static final int BUDGET = 1 << 20;

  /** Pairs are padded to a multiple of this, so that every group of pairs of the inner loop is whole. */
  static final int PAIR_GROUP = 12;

  /** The inner loop. */
  interface Simd {
    /**
     * Adds one chunk's products to the accumulators: {@code acc[p cout + co] += sum_{q0 <= q < q1} dy[q cout + co]
     * x[q + offsets[p]]}, each accumulator over {@code q} in order, one fused multiply-add per position.
     *
     * @param x the input's padded planes, channel-major
     * @param offsets per (input channel, tap) pair {@code p}, where it reads relative to {@code q}
     * @param pairs the pairs, a multiple of {@link #PAIR_GROUP}
     * @param dy the output gradient's grid, channels-last ({@code cout} floats per position)
     * @param cout the output channels, a multiple of 32
     * @param q0 the first position
     * @param q1 one past the last position
     * @param acc the accumulators, {@code [pairs][cout]}
     */
    void accumulate(float[] x, int[] offsets, int pairs, float[] dy, int cout, int q0, int q1, float[] acc);
  }

  private final Simd simd;
  private final int cin;
  private final int cout;
  private final int hin;
  private final int win;
  private final int gapY;
  private final int gapX;
  private final int wp;
  /** Positions of one image's block of the grid: its zero rows, then its rows. */
  private final int block;
  /** Images per chunk: blocks of about {@link #POSITIONS} positions. */
  private final int per;
  /** Positions of a chunk's grid: its blocks, the zero rows after them and the last row's right border. */
  private final int grid;
  /** Floats from one input channel's padded planes to the next: the grid and a cache line ({@link #planeStride}). */
  private final int xStride;
  /**
   * Floats from one output channel's planes to the next in the heap copy of a chunk's output gradient: the planes
   * and a cache line more, so that the transpose's reads across the channels do not all fall in one set of the L1
   * cache (planes of 4 KB did).
   */
  private final int planeStride;
  /** The (input channel, tap) pairs, {@code cin k^2}, and that rounded up to {@link #PAIR_GROUP}. */
  private final int pairs;
  private final int padded;
  private final int[] offsets;

  /** The positions a chunk of images aims at: fewer make the accumulators' loads and stores count. */
  static final int POSITIONS = 1024;

  /** The fewest input channels: with fewer, the transposes cost more than the columns' products. */
  static final int MIN_INPUT_CHANNELS = 8;

  /**
   * The direct weight gradient of {@code layer}, or null where it does not apply: no inner loop, not a
   * size-keeping stride-1 convolution larger than 1x1, fewer than {@link #MIN_INPUT_CHANNELS} input channels, output
   * channels not a multiple of 32, or a layer whose staging exceeds {@link #BUDGET}.
   *
   * @param simd the inner loop, or null
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @return the direct weight gradient, or null
   */
  static DirectWeightGradient of(Simd simd, Layer.Conv2d layer, int hin, int win) {
    Layer.Padding pad = layer.padding();
    int k = layer.kernel();
    boolean same = pad.top() + pad.bottom() == k - 1 && pad.left() + pad.right() == k - 1;
    if (simd == null || layer.stride() != 1 || k == 1 || !same || layer.out() % 32 != 0
        || layer.in() < MIN_INPUT_CHANNELS) {
      return null;
    }
    DirectWeightGradient d = new DirectWeightGradient(simd, layer, hin, win);
    long staging = (long) d.xStride * d.cin + (long) d.grid * d.cout + (long) d.padded * d.cout
        + (long) d.planeStride * d.cout;
    return staging <= BUDGET ? d : null;
  }

  private DirectWeightGradient(Simd simd, Layer.Conv2d layer, int hin, int win) {
    this.simd = simd;
    this.cin = layer.in();
    this.cout = layer.out();
    this.hin = hin;
    this.win = win;
    Layer.Padding pad = layer.padding();
    int k = layer.kernel();
    this.gapY = Math.max(pad.top(), pad.bottom());
    this.gapX = Math.max(pad.left(), pad.right());
    this.wp = gapX + win;
    this.block = (gapY + hin) * wp;
    this.per = Math.max(1, POSITIONS / block);
    this.grid = per * block + gapY * wp + gapX;
    this.xStride = grid + 16;
    this.planeStride = per * hin * win + 16;
    this.pairs = cin * k * k;
    this.padded = (pairs + PAIR_GROUP - 1) / PAIR_GROUP * PAIR_GROUP;
    this.offsets = new int[padded];
    for (int ci = 0; ci < cin; ci++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++) {
          offsets[(ci * k + ky) * k + kx] = ci * xStride + (ky - pad.top()) * wp + kx - pad.left();
        }
      }
    }
    // the padding pairs read the first pair's values; their sums are dropped
    Arrays.fill(offsets, pairs, padded, offsets[0]);
  }

  /**
   * The weight gradient's partial sums, transposed ({@code [cin k^2][cout]}), of {@code groups} fixed groups of
   * images, written to {@code partials} at {@code group * cin k^2 cout}: one lane per group at a time, a group's
   * images in chunks of {@link #per} in order.
   *
   * @param ps the pass
   * @param x the layer's input, channel-major planes
   * @param dy the gradient of its output, channel-major planes
   * @param partials where the partial sums go
   * @param groups the groups of images, at most the images
   */
  void partials(NativePass ps, NativeValue x, NativeValue dy, Buffer partials, int groups) {
    int nb = x.items;
    int size = pairs * cout;
    ps.split(groups, 1, (lane, g0, g1) -> {
      float[] xg = lane.scratch(0, xStride * cin);
      float[] dg = lane.scratch(1, grid * cout);
      float[] planes = lane.scratch(2, planeStride * cout);
      float[] acc = lane.scratch(3, padded * cout);
      // the borders stay zero: each chunk writes only its images' valid positions, and a short last chunk's
      // positions past its images are not summed
      Arrays.fill(xg, 0, xStride * cin, 0f);
      Arrays.fill(dg, 0, grid * cout, 0f);
      for (int g = g0; g < g1; g++) {
        Arrays.fill(acc, 0, padded * cout, 0f);
        int end = KernelPool.bound(nb, groups, g + 1);
        for (int n = KernelPool.bound(nb, groups, g); n < end; n += per) {
          int jn = Math.min(per, end - n);
          padPlanes(x, n, jn, xg);
          toGrid(dy, n, jn, planes, dg);
          int first = gapY * wp + gapX;
          int last = (jn - 1) * block + (gapY + hin - 1) * wp + gapX + win;
          simd.accumulate(xg, offsets, padded, dg, cout, first, last, acc);
        }
        partials.buffer.put(g * size, acc, 0, size);
      }
    });
  }

  /** Images {@code [n, n + jn)} of the input into the valid positions of each channel's padded planes. */
  private void padPlanes(NativeValue v, int n, int jn, float[] xg) {
    FloatBuffer b = v.buffer();
    int pin = hin * win;
    long stride = (long) v.items * pin;
    for (int ci = 0; ci < cin; ci++) {
      for (int j = 0; j < jn; j++) {
        int src = (int) (v.offset + ci * stride + (long) (n + j) * pin);
        int dst = ci * xStride + j * block + gapY * wp + gapX;
        for (int y = 0; y < hin; y++) {
          b.get(src + y * win, xg, dst + y * wp, win);
        }
      }
    }
  }

  /** Images {@code [n, n + jn)} of the output gradient into the valid positions of a channels-last grid. */
  private void toGrid(NativeValue v, int n, int jn, float[] planes, float[] dg) {
    FloatBuffer b = v.buffer();
    int pin = hin * win;
    long stride = (long) v.items * pin;
    for (int co = 0; co < cout; co++) {
      b.get((int) (v.offset + co * stride + (long) n * pin), planes, co * planeStride, jn * pin);
    }
    for (int j = 0; j < jn; j++) {
      for (int y = 0; y < hin; y++) {
        for (int xi = 0; xi < win; xi++) {
          int src = (j * hin + y) * win + xi;
          int dst = (j * block + (gapY + y) * wp + gapX + xi) * cout;
          for (int co = 0; co < cout; co++) {
            dg[dst + co] = planes[co * planeStride + src];
          }
        }
      }
    }
  }
}
