package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Layer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The forward pass of a stride-1 convolution ({@link Conv2dKernel}, kernel larger than 1x1) computed directly,
 * without columns: each image's input planes are copied, zero-padded, into a heap array of rows of width
 * {@code wp = gap + W}, each row after {@code gap = max(left, right)} zeros, which serve as the row's left border
 * and the previous row's right border; then output position {@code (oy, ox)}, as index {@code p = oy wp + ox} of
 * the padded plane, is {@code b[co] + sum_{ci, ky, kx} w[co][ci][ky][kx] xp[ci][p + ky wp + kx + gap - left]}, a sum
 * over shifted copies of whole planes, which {@link Simd} runs in vectors over runs of {@code p}. The
 * {@code wp - wout} positions at the end of each row are computed and dropped (one for a 3x3 size-keeping layer,
 * where a border on each side would make two: a 32x32 plane computes 1,056 positions instead of 1,088); the valid
 * ones read only inside their plane. Against im2col products this skips building the columns ({@code k^2}
 * times the input) and OpenBLAS's packing of them, which took ~40% of the U-Net's forward pass.
 *
 * <p>Each output is one sum in a fixed order (input channel, then tap), computed by one lane, so the results
 * are the same bits whatever the threads; they differ from the im2col products' in the last bits (another
 * order of the same sum). The two inner loops (512-bit vectors, {@code DirectConvSimd}; 256-bit ones on AVX2
 * CPUs, {@code DirectConvSimd256}) compute the same bits: the same fused multiply-adds in the same order, lane by
 * lane (compared once on a Zen 3 with the 512-bit loop run as Java objects); the tests check each against the
 * reference kernels on every CPU, the other width's loop in a test JVM of its own (one vector width per JVM, see
 * {@link VectorApi}). Used where the Vector API is available ({@link #SIMD}) and the planes
 * are large enough ({@link #pays}). On a Zen 3 (AVX2, OpenBLAS's Haswell kernels) the 256-bit loop was 19-75%
 * faster than the products on the default U-Net's 32x32 planes of 32 output channels and fewer, as fast on its
 * 64-channel ones and slower on a 256x256 model's 128-512 channels, so there only layers of up to
 * {@link Simd#mostOutputChannels} output channels run directly: the U-Net's forward pass 10-11% faster than with
 * the products alone, a training step 4% at one thread (alternating in one process; docs/benchmarks.md). The
 * input gradient of a size-keeping convolution of up to {@link #GRADIENT_CHANNELS}
 * input channels runs directly too ({@link #inputGradient}: the convolution of {@code dy} with the weight
 * transposed and flipped). Its weight gradient comes from the products of columns, or with 512-bit vectors from
 * {@link DirectWeightGradient} (vectors over the output channels, an outer product per position), which then also
 * lets the input gradient of layers of up to {@link #GRADIENT_CHANNELS_WITHOUT_COLUMNS} input channels run here. An
 * earlier direct weight gradient with vectors over the positions (a correlation of {@code dy} with the padded input,
 * reduced across the lanes) passed the gradient checks but was no faster than the products (54-141 GFLOP/s; 61-111
 * again on a Zen 5, its unaligned shifted loads the limit).
 */
final class DirectConv {
  /** Output channels per block of the inner loop. */
  static final int CO = 4;

  /** The Vector API inner loop, or null where it is not available ({@link VectorApi}). */
  static final Simd SIMD = VectorApi.load(Simd.class, DirectConv.class.getName() + "Simd");

  /**
   * Which form each convolution's forward pass takes: directly, by Winograd's F(2x2, 3x3) ({@link WinogradConv}),
   * or as products of columns.
   *
   * @param simd the inner loop, or null: none (no direct convolutions)
   * @param everywhere whether every stride-1 convolution runs directly, or only those whose planes are large enough
   *     to pay ({@link #pays}); and without the direct form ({@code simd} null), whether the Winograd form takes
   *     every 3x3 stride-1 convolution or only those where it pays ({@link WinogradConv#pays}); tests use
   *     {@code true} to run either form on small shapes
   * @param tileFloats the input floats a tile of positions may read ({@link #TILE_FLOATS}; tests use a few
   *     hundred to cut small planes into several tiles)
   * @param winogradFloats 0: the 3x3 stride-1 convolutions that do not run directly take products of columns;
   *     otherwise they run by Winograd's F(2x2, 3x3), in chunks of images of about this many floats of transformed
   *     input ({@link WinogradConv#BUDGET}; tests use a few thousand to cut small batches into several chunks)
   * @param winogradVectors whether the Winograd form's forward pass runs its products in vectors where the Vector
   *     API is available ({@link WinogradConv#vectorProducts}), or always by OpenBLAS (tests, to run that path)
   * @param weightGradient the inner loop of the direct weight gradient ({@link DirectWeightGradient}) of the layers
   *     whose input gradient runs directly (or is not needed), or null: their weight gradient from columns
   * @param winograd4 whether the forward pass and the input gradient of the 3x3 layers that keep the size run by
   *     Winograd's F(4x4, 3x3) ({@link Winograd4Conv}, its products in {@code simd}'s loop), before every other form
   */
  record Use(Simd simd, boolean everywhere, int tileFloats, int winogradFloats, boolean winogradVectors,
      DirectWeightGradient.Simd weightGradient, boolean winograd4) {
    /**
     * No F(4x4, 3x3) form.
     *
     * @param simd the inner loop, or null
     * @param everywhere whether every stride-1 convolution runs directly
     * @param tileFloats the input floats a tile of positions may read
     * @param winogradFloats 0, or the floats per chunk of the Winograd form
     * @param winogradVectors whether the Winograd form's products run in vectors where they can
     * @param weightGradient the direct weight gradient's loop, or null
     */
    Use(Simd simd, boolean everywhere, int tileFloats, int winogradFloats, boolean winogradVectors,
        DirectWeightGradient.Simd weightGradient) {
      this(simd, everywhere, tileFloats, winogradFloats, winogradVectors, weightGradient, false);
    }

    /**
     * No direct weight gradient.
     *
     * @param simd the inner loop, or null
     * @param everywhere whether every stride-1 convolution runs directly
     * @param tileFloats the input floats a tile of positions may read
     * @param winogradFloats 0, or the floats per chunk of the Winograd form
     * @param winogradVectors whether the Winograd form's products run in vectors where they can
     */
    Use(Simd simd, boolean everywhere, int tileFloats, int winogradFloats, boolean winogradVectors) {
      this(simd, everywhere, tileFloats, winogradFloats, winogradVectors, null);
    }

    /**
     * Tiles of {@link #TILE_FLOATS}, no Winograd form.
     *
     * @param simd the inner loop, or null
     * @param everywhere whether every stride-1 convolution runs directly
     */
    Use(Simd simd, boolean everywhere) {
      this(simd, everywhere, TILE_FLOATS, 0);
    }

    /**
     * The Winograd form's products in vectors where the Vector API is available.
     *
     * @param simd the inner loop, or null
     * @param everywhere whether every stride-1 convolution runs directly
     * @param tileFloats the input floats a tile of positions may read
     * @param winogradFloats 0, or the floats per chunk of the Winograd form
     */
    Use(Simd simd, boolean everywhere, int tileFloats, int winogradFloats) {
      this(simd, everywhere, tileFloats, winogradFloats, true);
    }

    /**
     * The default: the Vector API's inner loop where it is available, where it pays; the Winograd form for the
     * other 3x3 stride-1 convolutions unless the system property {@value WinogradConv#PROPERTY} is {@code false}; the
     * direct weight gradient where its loop is available (512-bit vectors).
     *
     * @return the default choice
     * @throws IllegalArgumentException if that property is set to something other than {@code true} or {@code false}
     */
    static Use defaults() {
      return new Use(SIMD, false, TILE_FLOATS, WinogradConv.enabled() ? WinogradConv.BUDGET : 0, true,
          DirectWeightGradient.SIMD, Winograd4Conv.enabled());
    }

    /**
     * The forms in a few words, for {@code Backend.describe}.
     *
     * @return e.g. "Winograd F(4x4, 3x3) for 3x3 layers that keep the size where it pays, direct (DirectConvSimd256)
     *     where it pays, Winograd F(2x2, 3x3) for other 3x3 stride 1 (products in vectors; first where the direct loop
     *     yields), im2col products otherwise"
     */
    String describe() {
      StringBuilder b = new StringBuilder();
      if (winograd4 && simd != null && Winograd4Conv.SIMD != null) {
        b.append("Winograd F(4x4, 3x3) for 3x3 layers that keep the size")
            .append(everywhere ? ", " : " where it pays, ");
      }
      if (simd != null) {
        b.append("direct (").append(simd.getClass().getSimpleName())
            .append(everywhere ? ") for stride 1, " : ") where it pays, ");
      }
      if (winogradFloats > 0) {
        b.append("Winograd F(2x2, 3x3) for ").append(simd == null ? "" : "other ").append("3x3 stride 1");
        if (winogradVectors && WinogradConv.SIMD != null) {
          // whether the loop yields any layer at all: asked for the widest one
          boolean yields = simd != null && !everywhere && simd.yieldsToWinograd(Integer.MAX_VALUE, Integer.MAX_VALUE);
          b.append(yields ? " (products in vectors; first where the direct loop yields)" : " (products in vectors)");
        }
        b.append(", ");
      }
      if (weightGradient != null) {
        b.append("direct weight gradients (").append(weightGradient.getClass().getSimpleName()).append("), ");
      }
      return b.append("im2col products otherwise").toString();
    }
  }

  /** The inner loop. */
  interface Simd {
    /**
     * The positions of a whole run: {@link #convolve} computes runs of this many from {@code from}, so a tile
     * of positions that is a multiple of it has no rest.
     *
     * @return the floats of a run
     */
    int run();

    /**
     * The positions computed for a row of {@code positions}: at least {@code positions}, the rest after the
     * whole runs being computed whole. Output rows must be this long, and the input must be readable this far
     * past each tap's offset.
     *
     * @param positions the positions of a row
     * @return the positions computed
     */
    int computed(int positions);

    /**
     * For one block of {@value DirectConv#CO} output channels: {@code y[yAt + c rowStride + p] = w[biasAt + c] +
     * sum_j w[wAt + j CO + c] x[p + offsets[j]]} ({@code c < CO}) for {@code p} in {@code [from, to)}, and for
     * positions past {@code to} up to {@link #computed}.
     *
     * @param x the padded input planes
     * @param offsets where each (input channel, tap) pair reads in {@code x}, in the weights' order
     * @param w the packed weights, then the bias
     * @param wAt where the block's weights start in {@code w}, {@code [offsets.length][CO]}
     * @param biasAt where the block's bias starts in {@code w}
     * @param from the first position to compute, a multiple of {@link #run()}
     * @param to one past the last position to compute: a multiple of {@link #run()} past {@code from}, or the
     *     row's end
     * @param y the output rows, {@code rowStride} floats apart
     * @param yAt where the block's first output row starts in {@code y}
     * @param rowStride the distance between two output rows, at least {@link #computed} of the row's positions
     */
    void convolve(
        float[] x, int[] offsets, float[] w, int wAt, int biasAt, int from, int to, float[] y, int yAt, int rowStride);

    /**
     * The most output channels of a convolution on which this loop beats the products of columns (more rows
     * make the products faster, not this loop; {@link #of} and {@link #inputGradient} keep the products above it).
     *
     * @return the most output channels that run directly; {@link Integer#MAX_VALUE} for no limit
     */
    default int mostOutputChannels() {
      return Integer.MAX_VALUE;
    }

    /**
     * Whether a 3x3 stride-1 forward pass this loop would take runs by Winograd's F(2x2, 3x3) instead, where that
     * form's products run in vectors ({@link WinogradConv#vectorProducts}); its gradients stay as they were
     * (this loop for the input gradient, columns for the weight gradient).
     *
     * @param in the layer's input channels
     * @param out the layer's output channels
     * @return whether the Winograd form goes first; {@code false} by default
     */
    default boolean yieldsToWinograd(int in, int out) {
      return false;
    }
  }

  private final Simd simd;
  private final Parameters params;
  private final int weight;
  private final int bias;
  /** Whether this is the input gradient of the layer: the weight read transposed and flipped ({@link #pack}). */
  private final boolean transposed;
  private final int cin;
  private final int cout;
  private final int top;
  private final int left;
  private final int hin;
  private final int win;
  private final int hout;
  private final int wout;
  private final int wp;
  /** Zeros before each row of the padded planes: the larger of the left and right padding. */
  private final int gap;
  private final int taps2;
  /**
   * Where each (input channel, tap) pair reads in the padded planes, relative to the output position:
   * {@code ci planeStride + ky wp + kx + gap - left}.
   */
  private final int[] offsets;
  private final int blocks;
  /** Floats from one padded input plane to the next (the plane, then room for the last run's overreach). */
  private final int planeStride;
  /** Padded positions computed per output plane ({@code hout wp}). */
  private final int positions;
  /** Floats from one output row to the next: the positions the inner loop computes ({@link Simd#computed}). */
  private final int rowStride;
  /** Positions per tile (whole runs of the inner loop), see {@link #TILE_FLOATS}. */
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
   * The most input channels of a layer whose input gradient runs directly ({@link #inputGradient}): the
   * products of columns compute it as {@code W'} ({@code cin} rows) times the output gradient's columns, which
   * OpenBLAS ran at 107-146 GFLOP/s with 32-64 rows and 157-165 with 96-128 here, against 190-200 for the
   * direct form. With more rows the gain is smaller, and the DDPM model's training (every layer of 128 channels
   * or more) was no faster with it in alternating runs; there the columns, which the weight gradient needs
   * anyway, serve both products.
   */
  static final int GRADIENT_CHANNELS = 64;

  /**
   * The most input channels of a layer whose input gradient runs directly where its weight gradient does too
   * ({@link DirectWeightGradient}): then the columns would serve the input gradient alone, and the default U-Net's
   * decoder layers of 96 and 128 input channels trained in 22-36% less time without them on a Zen 5.
   */
  static final int GRADIENT_CHANNELS_WITHOUT_COLUMNS = 128;

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
    DirectConv d = new DirectConv(use, params, layer, false, layer.in(), layer.out(), pad, hin, win);
    return use.everywhere() || (d.pays() && layer.out() <= use.simd().mostOutputChannels()) ? d : null;
  }

  /**
   * The input gradient of a size-keeping convolution (stride 1, {@code top + bottom = left + right = k - 1})
   * computed directly: {@code dx} is the convolution of {@code dy} with the weight transposed and flipped,
   * {@code W'[ci][co][ky][kx] = W[co][ci][k-1-ky][k-1-kx]}, padded the mirrored way ({@code bottom} and
   * {@code right} first), without a bias. Null where the forward pass would not run directly ({@link #of}), the
   * convolution changes the size, or the layer has more input channels than {@link #GRADIENT_CHANNELS} (and than
   * the loop's {@link Simd#mostOutputChannels}), or with {@code withoutColumns} than {@link
   * #GRADIENT_CHANNELS_WITHOUT_COLUMNS}.
   *
   * @param use which convolutions run directly
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @param withoutColumns whether the layer's weight gradient runs directly ({@link DirectWeightGradient}), so that
   *     no columns would be built for it
   * @return the direct form of the input gradient, or null
   */
  static DirectConv inputGradient(
      Use use, Parameters params, Layer.Conv2d layer, int hin, int win, boolean withoutColumns) {
    Layer.Padding pad = layer.padding();
    int k = layer.kernel();
    boolean same = pad.top() + pad.bottom() == k - 1 && pad.left() + pad.right() == k - 1;
    if (use.simd() == null || layer.stride() != 1 || k == 1 || !same) {
      return null;
    }
    Layer.Padding mirrored = new Layer.Padding(pad.bottom(), pad.right(), pad.top(), pad.left());
    DirectConv d = new DirectConv(use, params, layer, true, layer.out(), layer.in(), mirrored, hin, win);
    int most = withoutColumns ? GRADIENT_CHANNELS_WITHOUT_COLUMNS
        : Math.min(GRADIENT_CHANNELS, use.simd().mostOutputChannels());
    return use.everywhere() || (d.pays() && layer.in() <= most) ? d : null;
  }

  /**
   * Whether the direct form beats the products: at least 64 positions computed per plane, two thirds of them
   * valid (the inner loop computes 160-200 GFLOP/s here, OpenBLAS's products of columns over the whole batch
   * 60-78, so the direct form pays down to about 40% valid; the margin covers the padding copies). Small planes
   * waste most of their work on the rows' padding and the computed rest of the row (4x4 images: 16 valid
   * positions of 80 computed); 8x8 images compute 80 positions for 64 valid ones.
   */
  private boolean pays() {
    return rowStride >= 64 && 3 * hout * wout >= 2 * rowStride;
  }

  /**
   * The forward pass of {@code layer}, or with {@code transposed} its input gradient.
   *
   * @param cin the channels read: the layer's input channels, or for its input gradient its output channels
   * @param cout the channels written
   * @param pad the padding of what is read
   */
  private DirectConv(Use use, Parameters params, Layer.Conv2d layer, boolean transposed, int cin, int cout,
      Layer.Padding pad, int hin, int win) {
    this.simd = use.simd();
    this.params = params;
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() && !transposed ? params.offset(layer.name() + ".bias") : -1;
    this.transposed = transposed;
    this.cin = cin;
    this.cout = cout;
    int k = layer.kernel();
    this.top = pad.top();
    this.left = pad.left();
    this.hin = hin;
    this.win = win;
    // one run of zeros between two rows serves as the right border of the one and the left border of the next
    this.gap = Math.max(left, pad.right());
    this.wp = gap + win;
    int hp = top + hin + pad.bottom();
    this.hout = hp - k + 1;
    this.wout = left + win + pad.right() - k + 1;
    this.taps2 = k * k;
    this.blocks = (cout + CO - 1) / CO;
    this.positions = hout * wp;
    this.rowStride = simd.computed(positions);
    // the last row's right border is the gap after the plane; the last run reads up to rowStride - 1 +
    // taps[last] = rowStride + (k - 1) (wp + 1) + gap - left - 1
    this.planeStride = Math.max(hp * wp + gap, rowStride + (k - 1) * (wp + 1) + gap - left);
    int run = simd.run();
    this.tile = Math.max(run, (use.tileFloats() / cin - (k - 1) * (wp + 1)) / run * run);
    this.offsets = new int[cin * taps2];
    for (int ci = 0; ci < cin; ci++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++) {
          offsets[(ci * k + ky) * k + kx] = ci * planeStride + ky * wp + kx + gap - left;
        }
      }
    }
  }

  /**
   * {@code y = conv(x) + b} for a batch, images (or, where they do not share out evenly, groups of each
   * image's output channels) shared over the lanes.
   *
   * @param ps the pass
   * @param x the input, channel-major planes
   * @param y the output, channel-major planes
   */
  void forward(NativePass ps, NativeValue x, NativeValue y) {
    int nb = x.items;
    float[] w = ps.ws().scratch(3, blocks * CO * (cin * taps2 + 1));
    pack(w, ps.ws().scratch(2, cout * cin * taps2));
    // whole images per lane where they share out evenly; otherwise each image's blocks in groups, so that the
    // lanes take equal work (13 images on two lanes: 6.5 each, not 7 and 6) and pad at most one image twice
    int lanes = ps.lanes(nb * blocks, 1);
    int groups = nb % lanes == 0 ? 1 : Math.min(blocks, nb > 1 ? lanes : 4);
    int per = CO * cin * taps2;
    ps.split(nb * groups, 1, (lane, u0, u1) -> {
      float[] xp = lane.scratch(0, cin * planeStride);
      float[] acc = lane.scratch(1, blocks * CO * rowStride);
      int padded = -1; // the image in xp: a lane that takes several groups of one image pads it once
      for (int u = u0; u < u1; u++) {
        int n = u / groups;
        int g = u % groups;
        int b0 = KernelPool.bound(blocks, groups, g);
        int b1 = KernelPool.bound(blocks, groups, g + 1);
        if (n != padded) {
          pad(x, n, xp);
          padded = n;
        }
        for (int p = 0; p < positions; p += tile) {
          int end = Math.min(positions, p + tile);
          for (int b = b0; b < b1; b++) {
            simd.convolve(xp, offsets, w, b * per, blocks * per + b * CO, p, end, acc, b * CO * rowStride, rowStride);
          }
        }
        write(acc, b0 * CO, Math.min(cout, b1 * CO), y, n);
      }
    });
  }

  /**
   * Where an input gradient's kernel of the pair {@code (co, ci)} starts in the layer's weight: the input gradient's
   * kernel is the layer's flipped transpose, so it is the last tap of the layer's kernel {@code [ci][co]}, read
   * backwards from there. (Here {@code co} counts the input gradient's outputs, the layer's input channels, and
   * {@code cout} is their number.)
   *
   * @param co the input gradient's output channel
   * @param ci its input channel (a layer's output channel)
   * @param cout the input gradient's output channels
   * @param taps the taps of a kernel, {@code k * k}
   * @return the index of the layer's weight that is the kernel's first tap
   */
  static int flippedLastTap(int co, int ci, int cout, int taps) {
    return (ci * cout + co) * taps + taps - 1;
  }

  /**
   * The weights {@code [cout][cin][k][k]} as blocks {@code [block][ci][tap][CO]}, zero past {@code cout},
   * then the bias (zeros without one). Packed again on every pass (training steps change the weights between
   * passes; about 2% of a convolution's time at 128 channels). The inner loop reading the layer's own layout
   * instead, four weight rows apart, saved the packing but ran up to 8% slower at 128 channels. For the input
   * gradient the layer's weight {@code [cin][cout][k][k]} (its own output channels first) is read transposed
   * and flipped: the tap {@code t} of the pair {@code (co, ci)} is the layer's {@code [ci][co][k^2 - 1 - t]}.
   */
  private void pack(float[] w, float[] raw) {
    int per = cin * taps2;
    params.weights(weight, raw, cout * per);
    for (int b = 0; b < blocks; b++) {
      for (int c = 0; c < CO; c++) {
        int co = b * CO + c;
        int dst = b * per * CO + c;
        if (co >= cout) {
          for (int i = 0; i < per; i++) {
            w[dst + i * CO] = 0f;
          }
        } else if (transposed) {
          for (int ci = 0; ci < cin; ci++) {
            int src = flippedLastTap(co, ci, cout, taps2);
            for (int t = 0; t < taps2; t++) {
              w[dst + (ci * taps2 + t) * CO] = raw[src - t];
            }
          }
        } else {
          for (int i = 0, src = co * per; i < per; i++) {
            w[dst + i * CO] = raw[src + i];
          }
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

  /**
   * Image {@code n}'s input planes into {@code xp}, zero-padded: each row read from native memory into its place
   * (a plane read whole into a scratch array and then copied row by row cost a second pass over the input).
   */
  private void pad(NativeValue x, int n, float[] xp) {
    FloatBuffer b = x.buffer();
    int pin = hin * win;
    long stride = (long) x.items * pin;
    for (int ci = 0; ci < cin; ci++) {
      int src = (int) (x.offset + ci * stride + (long) n * pin);
      int base = ci * planeStride;
      int row = base + top * wp;
      Arrays.fill(xp, base, row, 0f);
      for (int r = 0; r < hin; r++, row += wp, src += win) {
        Arrays.fill(xp, row, row + gap, 0f);
        b.get(src, xp, row + gap, win);
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
      int dst = (int) (y.offset + co * stride + (long) n * pout);
      if (wout == wp) {
        b.put(dst, acc, base, pout);
      } else {
        for (int oy = 0; oy < hout; oy++) { // each row's valid positions straight into place
          b.put(dst + oy * wout, acc, base + oy * wp, wout);
        }
      }
    }
  }
}
