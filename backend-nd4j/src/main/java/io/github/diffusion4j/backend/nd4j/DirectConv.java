package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Layer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The forward pass of a stride-1 convolution ({@link Conv2dKernel}, kernel larger than 1x1) computed directly,
 * without columns: each image's input planes are copied, zero-padded, into a heap array of rows of width
 * {@code wp = left + W + right}; then output position {@code (oy, ox)}, as index {@code p = oy wp + ox} of
 * the padded plane, is {@code b[co] + sum_{ci, ky, kx} w[co][ci][ky][kx] xp[ci][p + ky wp + kx]}, a sum over
 * shifted copies of whole planes, which {@link Simd} runs in vectors over runs of {@code p}. The
 * {@code k - 1} positions at the end of each row ({@code ox >= wout}) are computed and dropped; the valid
 * ones read only inside their plane. Against im2col products this skips building the columns ({@code k^2}
 * times the input) and OpenBLAS's packing of them, which took ~40% of the U-Net's forward pass.
 *
 * <p>Each output is one sum in a fixed order (input channel, then tap), computed by one lane, so the results
 * are the same bits whatever the threads; they differ from the im2col products' in the last bits (another
 * order of the same sum). Used where the Vector API is available ({@link #SIMD}) and the planes are large
 * enough ({@link #pays}). The backward pass stays with the products: a direct one ({@code dx} as the
 * convolution of {@code dy} with the weight transposed and flipped, {@code dW} as a vectorised correlation of
 * {@code dy} with the padded input over chunks of images) was written and passed the gradient checks, but was
 * no faster (JMH {@code LayerBenchmark.train}, {@code conv3x3}: 6.8 ms against 6.1-6.3 ms), because the
 * products share one set of columns between the two gradients and their long sums keep OpenBLAS efficient.
 */
final class DirectConv {
  /** Output channels per block of the inner loop. */
  static final int CO = 4;

  /** The Vector API inner loop, or null where it is not available ({@link VectorApi}). */
  static final Simd SIMD = VectorApi.load(Simd.class, DirectConv.class.getName() + "Simd");

  /**
   * Which convolutions a backend runs directly.
   *
   * @param simd the inner loop, or null: none (products of columns throughout)
   * @param everywhere whether every stride-1 convolution does, or only those whose planes are large enough to
   *     pay ({@link #pays}); tests use {@code true} to run the direct form on small shapes
   * @param tileFloats the input floats a tile of positions may read ({@link #TILE_FLOATS}; tests use a few
   *     hundred to cut small planes into several tiles)
   */
  record Use(Simd simd, boolean everywhere, int tileFloats) {
    /** The default: the Vector API's inner loop where it is available, where it pays. */
    static final Use DEFAULT = new Use(SIMD, false);

    /**
     * Tiles of {@link #TILE_FLOATS}.
     *
     * @param simd the inner loop, or null
     * @param everywhere whether every stride-1 convolution runs directly
     */
    Use(Simd simd, boolean everywhere) {
      this(simd, everywhere, TILE_FLOATS);
    }
  }

  /** The inner loop. */
  interface Simd {
    /**
     * The floats of one vector: {@code y}'s rows are whole vectors, and a run reads up to a vector past
     * {@code positions}.
     *
     * @return the vector length in floats
     */
    int lanes();

    /**
     * For the blocks of {@value DirectConv#CO} output channels {@code [b0, b1)}: {@code y[co rowStride + p] =
     * w[biasAt + co] + sum_j w[(b J + j) CO + co % CO] x[p + offsets[j]]} ({@code J} the number of offsets)
     * for {@code p} in {@code [from, to)} rounded up to whole vectors.
     *
     * @param x the padded input planes
     * @param offsets where each (input channel, tap) pair reads in {@code x}, in the weights' order
     * @param w the packed weights, then the bias
     * @param biasAt where the bias starts in {@code w} (padded with zeros to whole blocks)
     * @param b0 the first block
     * @param b1 one past the last block
     * @param from the first position to compute, a multiple of {@link #lanes()}
     * @param to one past the last position to compute
     * @param y the output rows, {@code rowStride} floats apart
     * @param rowStride the distance between two output rows, at least the positions rounded up to vectors
     */
    void convolve(
        float[] x, int[] offsets, float[] w, int biasAt, int b0, int b1, int from, int to, float[] y, int rowStride);
  }

  private final Simd simd;
  private final Parameters params;
  private final int weight;
  private final int bias;
  private final int cin;
  private final int cout;
  private final int top;
  private final int left;
  private final int hin;
  private final int win;
  private final int hout;
  private final int wout;
  private final int wp;
  private final int taps2;
  /** Where each (input channel, tap) pair reads in the padded planes: {@code ci planeStride + ky wp + kx}. */
  private final int[] offsets;
  private final int blocks;
  /** Floats from one padded input plane to the next (the plane, then room for the last run's overreach). */
  private final int planeStride;
  /** Padded positions computed per output plane ({@code hout wp}). */
  private final int positions;
  /** Floats from one output row to the next: {@link #positions} rounded up to whole vectors. */
  private final int rowStride;
  /** Positions per tile (whole runs of four vectors), see {@link #TILE_FLOATS}. */
  private final int tile;

  /**
   * The input floats that one tile of positions may read, all input channels together: 2^17 (512 KiB, half a
   * Zen 5 core's L2 cache). Every block of output channels reads the whole padded input of its positions, so
   * the positions are computed in tiles, each for every block before the next tile: a tile's input stays in
   * the cache for all the blocks. Without tiles a 256x256 plane of 128 channels (8.5 MB padded) came from
   * memory once per block, and DDIM-2 of a 256x256 model took 17.1 s on ND4J against 9.5 s without direct
   * convolutions (docs/benchmarks.md). The default U-Net's planes (up to 64 channels at 32x32) are one tile.
   */
  static final int TILE_FLOATS = 1 << 17;

  /**
   * The direct form of a convolution, or null where it does not apply (no inner loop, stride above 1, or a
   * 1x1 convolution without padding, which is a plain product already) or does not pay.
   *
   * @param use which convolutions run directly
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @return the direct form, or null
   */
  static DirectConv of(Use use, Parameters params, Layer.Conv2d layer, int hin, int win) {
    Layer.Padding pad = layer.padding();
    boolean pointwise = layer.kernel() == 1 && pad.top() + pad.left() + pad.bottom() + pad.right() == 0;
    if (use.simd() == null || layer.stride() != 1 || pointwise) {
      return null;
    }
    DirectConv d = new DirectConv(use.simd(), use.tileFloats(), params, layer, hin, win);
    return use.everywhere() || d.pays() ? d : null;
  }

  /**
   * Whether the direct form beats the products: at least four vectors of positions per plane, three quarters
   * of them valid. Small planes waste most of their vectors on the rows' padding and the last vector's tail
   * (4x4 images: 16 valid positions of 32 computed, ~30 GFLOP/s here against 110-150 from 8x8 up), where
   * OpenBLAS's products of columns over the whole batch stay efficient.
   */
  private boolean pays() {
    return rowStride >= 4 * simd.lanes() && 4 * hout * wout >= 3 * rowStride;
  }

  private DirectConv(Simd simd, int tileFloats, Parameters params, Layer.Conv2d layer, int hin, int win) {
    this.simd = simd;
    this.params = params;
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() ? params.offset(layer.name() + ".bias") : -1;
    this.cin = layer.in();
    this.cout = layer.out();
    int k = layer.kernel();
    Layer.Padding pad = layer.padding();
    this.top = pad.top();
    this.left = pad.left();
    this.hin = hin;
    this.win = win;
    this.wp = left + win + pad.right();
    int hp = top + hin + pad.bottom();
    this.hout = hp - k + 1;
    this.wout = wp - k + 1;
    this.taps2 = k * k;
    this.blocks = (cout + CO - 1) / CO;
    int lanes = simd.lanes();
    this.positions = hout * wp;
    this.rowStride = (positions + lanes - 1) / lanes * lanes;
    // the last run reads up to rowStride - 1 + taps[last] = rowStride + (k - 1) (wp + 1) - 1
    this.planeStride = Math.max(hp * wp, rowStride + (k - 1) * (wp + 1));
    int run = 4 * lanes;
    this.tile = Math.max(run, (tileFloats / cin - (k - 1) * (wp + 1)) / run * run);
    this.offsets = new int[cin * taps2];
    for (int ci = 0; ci < cin; ci++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++) {
          offsets[(ci * k + ky) * k + kx] = ci * planeStride + ky * wp + kx;
        }
      }
    }
  }

  /**
   * {@code y = conv(x) + b} for a batch, images (or, for one image, groups of output channels) shared over
   * the lanes.
   *
   * @param ps the pass
   * @param x the input, channel-major planes
   * @param y the output, channel-major planes
   */
  void forward(NativePass ps, NativeValue x, NativeValue y) {
    int nb = x.items;
    float[] w = ps.ws().scratch(3, blocks * CO * (cin * taps2 + 1));
    pack(w, ps.ws().scratch(2, cout * cin * taps2));
    int groups = nb > 1 ? 1 : Math.min(blocks, 4);
    ps.split(nb * groups, 1, (lane, u0, u1) -> {
      float[] xp = lane.scratch(0, cin * planeStride);
      float[] acc = lane.scratch(1, Math.max(blocks * CO * rowStride, hin * win));
      int padded = -1; // the image in xp: a lane that takes several groups of one image pads it once
      for (int u = u0; u < u1; u++) {
        int n = u / groups;
        int g = u % groups;
        int b0 = KernelPool.bound(blocks, groups, g);
        int b1 = KernelPool.bound(blocks, groups, g + 1);
        if (n != padded) {
          pad(x, n, xp, acc);
          padded = n;
        }
        for (int p = 0; p < positions; p += tile) {
          simd.convolve(xp, offsets, w, blocks * CO * cin * taps2, b0, b1, p, Math.min(positions, p + tile), acc,
              rowStride);
        }
        write(acc, b0 * CO, Math.min(cout, b1 * CO), y, n);
      }
    });
  }

  /**
   * The weights {@code [cout][cin][k][k]} as blocks {@code [block][ci][tap][CO]}, zero past {@code cout},
   * then the bias (zeros without one). Packed again on every pass (training steps change the weights between
   * passes; about 2% of a convolution's time at 128 channels). The inner loop reading the layer's own layout
   * instead, four weight rows apart, saved the packing but ran up to 8% slower at 128 channels.
   */
  private void pack(float[] w, float[] raw) {
    int per = cin * taps2;
    params.weights(weight, raw, cout * per);
    for (int b = 0; b < blocks; b++) {
      for (int c = 0; c < CO; c++) {
        int co = b * CO + c;
        int dst = b * per * CO + c;
        for (int i = 0, src = co * per; i < per; i++) {
          w[dst + i * CO] = co < cout ? raw[src + i] : 0f;
        }
      }
    }
    int at = blocks * CO * per;
    Arrays.fill(w, at, at + blocks * CO, 0f);
    if (bias >= 0) {
      params.weights(bias, raw, cout);
      System.arraycopy(raw, 0, w, at, cout);
    }
  }

  /** Image {@code n}'s input planes into {@code xp}, zero-padded, through {@code tmp}. */
  private void pad(NativeValue x, int n, float[] xp, float[] tmp) {
    FloatBuffer b = x.buffer();
    int pin = hin * win;
    long stride = (long) x.items * pin;
    for (int ci = 0; ci < cin; ci++) {
      b.get((int) (x.offset + ci * stride + (long) n * pin), tmp, 0, pin);
      int base = ci * planeStride;
      int row = base + top * wp;
      Arrays.fill(xp, base, row, 0f);
      for (int r = 0; r < hin; r++, row += wp) {
        Arrays.fill(xp, row, row + left, 0f);
        System.arraycopy(tmp, r * win, xp, row + left, win);
        Arrays.fill(xp, row + left + win, row + wp, 0f);
      }
      Arrays.fill(xp, row, base + planeStride, 0f);
    }
  }

  /** Output channels {@code [c0, c1)} of image {@code n}: each row's valid positions, packed, into {@code y}. */
  private void write(float[] acc, int c0, int c1, NativeValue y, int n) {
    FloatBuffer b = y.buffer();
    int pout = hout * wout;
    long stride = (long) y.items * pout;
    for (int co = c0; co < c1; co++) {
      int base = co * rowStride;
      if (wout != wp) {
        for (int oy = 1; oy < hout; oy++) {
          System.arraycopy(acc, base + oy * wp, acc, base + oy * wout, wout);
        }
      }
      b.put((int) (y.offset + co * stride + (long) n * pout), acc, base, pout);
    }
  }
}
