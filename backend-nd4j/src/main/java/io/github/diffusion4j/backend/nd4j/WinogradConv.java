package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.Workspace.Buffer;
import io.github.diffusion4j.backend.nd4j.Workspace.Slot;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.settings.SystemSwitch;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A 3x3 stride-1 convolution ({@link Conv2dKernel}) by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016): each 2x2 tile of output positions is
 * {@code A^T [U . V] A}, where {@code V = B^T d B} is the transform of the tile's 4x4 input
 * patch {@code d}, {@code U = G g G^T} that of the 3x3 kernel {@code g}, and {@code .} the element-wise product
 * over the 16 points, summed over the input channels. With the points as the outer index, that sum is 16 matrix
 * products {@code M[p] = U[p] V[p]} ({@code [cout, cin]} by {@code [cin, tiles]}): 16 products of {@code 2 cout
 * cin} per tile of four outputs against {@code 36 cout cin} for four outputs directly, 2.25x fewer multiply-adds
 * than im2col's products, and the transformed input is 4x the input where im2col's columns are 9x. Where the
 * Vector API is available the forward pass runs those products in Java ({@link Simd#products}) on the transformed
 * input laid out in panels of two vectors of tile slots on the heap, written there by the input transform
 * ({@link Simd#inputPanels}): no staging in native memory, and on the Zen 3 this was measured on, timed inside the
 * U-Net's forward pass, 62-69 GFLOP/s where OpenBLAS ran the same chunks at 57-60 (and OpenBLAS is slower still
 * with the 32 rows of the layers this lets Winograd take from the direct loop). Elsewhere, and for the weight
 * gradient (whose products sum over the tiles), OpenBLAS runs them on native staging buffers. The input gradient
 * of a size-keeping layer is the same computation with the weight transposed and flipped ({@link #inputGradient}),
 * and the weight gradient {@code G^T [sum over tiles of Z[p] V[p]^T] G} with {@code Z = A dY A^T}
 * ({@link #weightGradient}).
 *
 * <pre>
 *   B^T = | 1  0 -1  0 |    G = | 1    0    0  |    A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
 *         | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *         | 0  1  0 -1 |        | 0    0    1  |
 * </pre>
 *
 * <p>Accuracy: the transforms add and halve (exact in float32 but for the roundings of the sums), and each output
 * is a sum over {@code 16 cin} products in another order than the direct one; the layer-kind tests hold it to the
 * same tolerance as the products of columns against the reference.
 *
 * <p>Images are processed in chunks whose transformed input and products fit a budget of floats each
 * ({@link #BUDGET} by default). With
 * several chunks each lane takes whole chunks (its own staging); with one, the transforms are split over the
 * channels and the products over the points. Every product is a whole one on one thread (one OpenBLAS call, or
 * one Java loop summing over the input channels in order) whatever the split, and every transform a fixed sequence
 * per tile, so the results are the same bits on any number of threads.
 */
final class WinogradConv {
  /** The points of a tile's transform (4x4). */
  static final int POINTS = 16;

  /** Pairs of channels per block of the weight transforms (their 16 points in 16 runs of this many floats). */
  private static final int BLOCK = 64;

  /**
   * Output channels per block of {@code U} in {@link Simd#products}: six, by a panel of two vectors of tile slots, is
   * twelve accumulators, which keep both of a core's multiply-add pipes busy where eight (blocks of four) left gaps
   * (78-87 against 56-67 GFLOP/s on AVX2 in a harness over the U-Nets' shapes; three vectors by four channels, twelve
   * accumulators too but fifteen live vectors, spilled: 40). A layer whose output channels are not a multiple of six
   * computes zero channels in its last block (four of 36 for 32 channels, two of 66 for 64).
   */
  static final int BLOCK_OUT = 6;

  /** Floats of transformed input, and of products, per chunk of images (1 MiB each). */
  static final int BUDGET = 1 << 18;

  /** The system property that turns the Winograd form off ({@code false}: products of columns instead). */
  static final String PROPERTY = "diffusion4j.nd4j.winograd";

  /**
   * Whether the Winograd form is on: the system property {@value #PROPERTY}, {@code true} unless set.
   *
   * @return whether it is on
   * @throws IllegalArgumentException if the property is set to something other than {@code true} or {@code false}
   */
  static boolean enabled() {
    return SystemSwitch.read(PROPERTY, true);
  }

  /** The tile transforms in vectors ({@code WinogradConvSimd}), or null where the Vector API is not available. */
  static final Simd SIMD = VectorApi.load(Simd.class, WinogradConv.class.getName() + "Simd");

  /** The tile transforms in vectors: the same bits as the plain loops. */
  interface Simd {
    /**
     * {@link WinogradConv#inputTiles} of slots {@code [0, n)}.
     *
     * @param q the four parity planes
     * @param quarter floats per parity plane
     * @param we floats per row of a parity plane (tile slots per row)
     * @param n the slots
     * @param rows the transformed tiles, {@code [16][cols]}
     * @param at where slot 0 goes in each row
     * @param cols floats per row of {@code rows}
     */
    void inputTiles(float[] q, int quarter, int we, int n, float[] rows, int at, int cols);

    /**
     * {@link WinogradConv#outputTiles} of every slot.
     *
     * @param m the products, point {@code p} of slot {@code i} at {@code m[at + p pointStride + i]}
     * @param at where point 0 of slot 0 is
     * @param pointStride floats from one point to the next
     * @param cols the slots
     * @param bias added to every output
     * @param quads the outputs, {@code [4][cols]}
     */
    void outputTiles(float[] m, int at, int pointStride, int cols, float bias, float[] quads);

    /**
     * The width of a panel of {@link #products}: the tile slots of two vectors.
     *
     * @return the slots per panel
     */
    int panel();

    /**
     * {@link WinogradConv#inputTiles} of one image and channel straight into the panels of {@link #products}: the
     * transform of slot {@code i} to {@code v[((p panels + s / W) channels + channel) W + s % W]}, {@code s = at + i},
     * {@code W} the {@link #panel} width, for {@code i} in {@code [0, n)} rounded up to whole vectors (the slots past
     * {@code n} from what the parity planes hold past the image; {@code q} must have a vector's worth of floats past
     * its four planes).
     *
     * @param q the four parity planes
     * @param quarter floats per parity plane
     * @param we floats per row of a parity plane (tile slots per row)
     * @param n the image's slots
     * @param v the panels, {@code [16][panels][channels][W]}
     * @param at the image's first slot, a multiple of the vector length ({@code W / 2})
     * @param channel the channel
     * @param channels the channels
     * @param panels the panels per point
     */
    void inputPanels(float[] q, int quarter, int we, int n, float[] v, int at, int channel, int channels, int panels);

    /**
     * {@code M[p] = U[p] V[p]} for points {@code [p0, p1)}: {@code m[((p blocks + cb) B + r) panels W + s] = sum over
     * ci of u[((p blocks + cb) cin + ci) B + r] v[((p panels + s / W) cin + ci) W + s % W]} with {@code B =}
     * {@link #BLOCK_OUT}, the sum over the input channels in order, for every slot of every panel.
     *
     * @param u the transformed weight, {@code [16][blocks][cin][B]} (output channels in blocks of {@code B})
     * @param v the panels of the transformed input, {@code [16][panels][cin][W]}
     * @param m the products, {@code [16][B blocks][panels W]}
     * @param blocks the blocks of {@code B} output channels
     * @param cin the input channels
     * @param panels the panels per point
     * @param p0 the first point
     * @param p1 past the last point
     */
    void products(float[] u, float[] v, float[] m, int blocks, int cin, int panels, int p0, int p1);

    /**
     * {@link WinogradConv#gradientTiles} of slots {@code [0, n)}.
     *
     * @param q the four parity planes of the output gradient
     * @param quarter floats per parity plane
     * @param n the slots
     * @param rows the transformed tiles, {@code [16][cols]}
     * @param at where slot 0 goes in each row
     * @param cols floats per row of {@code rows}
     */
    void gradientTiles(float[] q, int quarter, int n, float[] rows, int at, int cols);
  }

  /** The vector loops, or null: the plain loops and products by OpenBLAS. */
  private final Simd simd;
  private final int budget;
  /** Whether this is the input gradient of the layer: the weight read transposed and flipped. */
  private final boolean transposed;
  /** The step between a kernel's taps as {@link #kernel} reads them: 1, or -1 for the flipped kernel. */
  private final int tapStep;
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
  /** Tile rows and columns per image. */
  private final int th;
  private final int tw;
  /**
   * Tile slots per row: {@code tw + 1}. The transforms run over slots {@code ty we + tx}, the last of each row a
   * slot that no output reads (it lets one loop run over a whole image's tiles, see {@link #inputTransform}); the
   * products compute it too, {@code 1 / we} of their work.
   */
  private final int we;
  /** Tile slots per image: {@code th we}. */
  private final int slots;

  /**
   * The Winograd form of a convolution, or null where it does not apply (a kernel other than 3x3, a stride above 1).
   *
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @param budget the floats of transformed input, and of products, per chunk of images ({@link #BUDGET})
   * @param vectors whether to use the vector loops ({@link #SIMD}) where the Vector API is available
   * @return the Winograd form, or null
   */
  static WinogradConv of(Parameters params, Layer.Conv2d layer, int hin, int win, int budget, boolean vectors) {
    if (layer.kernel() != 3 || layer.stride() != 1) {
      return null;
    }
    return new WinogradConv(params, layer, false, layer.in(), layer.out(), layer.padding(), hin, win, budget,
        vectors ? SIMD : null);
  }

  /**
   * Whether {@link #inputGradient} applies to a layer: a 3x3 stride-1 convolution that keeps the size (two rows and
   * two columns of padding in all).
   *
   * @param layer the layer
   * @return whether its input gradient has this form
   */
  static boolean hasInputGradient(Layer.Conv2d layer) {
    Layer.Padding pad = layer.padding();
    return layer.kernel() == 3 && layer.stride() == 1 && pad.top() + pad.bottom() == 2 && pad.left() + pad.right() == 2;
  }

  /**
   * The input gradient of a size-keeping 3x3 convolution (stride 1, {@code top + bottom = left + right = 2}) by
   * Winograd's F(2x2, 3x3): {@code dx} is the convolution of {@code dy} with the weight transposed and flipped,
   * {@code W'[ci][co][ky][kx] = W[co][ci][2-ky][2-kx]}, padded the mirrored way ({@code bottom} and {@code right}
   * first), without a bias; run with {@link #forward}. Null where that does not apply.
   *
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @param budget the floats per chunk of images ({@link #BUDGET})
   * @param vectors whether to use the vector loops ({@link #SIMD}) where the Vector API is available
   * @return the Winograd form of the input gradient, or null
   */
  static WinogradConv inputGradient(Parameters params, Layer.Conv2d layer, int hin, int win, int budget,
      boolean vectors) {
    if (!hasInputGradient(layer)) {
      return null;
    }
    Layer.Padding pad = layer.padding();
    return new WinogradConv(params, layer, true, layer.out(), layer.in(),
        new Layer.Padding(pad.bottom(), pad.right(), pad.top(), pad.left()), hin, win, budget, vectors ? SIMD : null);
  }

  /**
   * Whether this form does fewer multiply-adds than the products of columns ({@link Conv2dKernel} takes the
   * products where it does not): {@code 16} per tile slot of an image
   * against {@code 9} per output position. Without vectors it does from 2x2 outputs on ({@code 16 th (tw + 1)}
   * against {@code 9 hout wout}: 0.89 of it at 2x2, 0.67 at 4x4). With them each image's slots are rounded up to
   * whole vectors ({@link #imageSlots}), which on small planes costs more than Winograd saves: a 4x4 plane has six
   * slots, a whole 512-bit vector of 16 computed, 1.8x the products' work; on the Zen 5 this was measured on (one
   * thread, the DDPM authors' CIFAR-10 model's 256-channel 4x4 layers at batch 16) the products of columns took
   * 2.9 ms where this form took 4.5 (and the direct loop 8.2). With 256-bit vectors the 4x4 plane's slots are
   * rounded to eight (0.89 of the products' work) and the form is kept, as it was measured on the Zen 3.
   */
  boolean pays() {
    int computed = simd == null ? slots : imageSlots();
    return (long) POINTS * computed < 9L * hout * wout;
  }

  /**
   * The forward pass of {@code layer}, or with {@code transposed} its input gradient.
   *
   * @param cin the channels read: the layer's input channels, or for its input gradient its output channels
   * @param cout the channels written
   * @param pad the padding of what is read
   */
  private WinogradConv(Parameters params, Layer.Conv2d layer, boolean transposed, int cin, int cout,
      Layer.Padding pad, int hin, int win, int budget, Simd simd) {
    this.simd = simd;
    this.budget = budget;
    this.params = params;
    this.transposed = transposed;
    this.tapStep = transposed ? -1 : 1;
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() && !transposed ? params.offset(layer.name() + ".bias") : -1;
    this.cin = cin;
    this.cout = cout;
    this.top = pad.top();
    this.left = pad.left();
    this.hin = hin;
    this.win = win;
    this.hout = hin + pad.top() + pad.bottom() - 2;
    this.wout = win + pad.left() + pad.right() - 2;
    this.th = (hout + 1) / 2;
    this.tw = (wout + 1) / 2;
    this.we = tw + 1;
    this.slots = th * we;
  }

  /** Images per chunk: as many as keep the transformed input and the products within the budget. */
  int chunk(int nb) {
    long perImage = (long) POINTS * Math.max(cin, cout) * slots;
    return (int) Math.max(1, Math.min(nb, budget / perImage));
  }

  /**
   * {@code y = conv(x) + b} for a batch.
   *
   * @param ps the pass
   * @param x the input, channel-major planes
   * @param y the output, channel-major planes
   */
  void forward(NativePass ps, NativeValue x, NativeValue y) {
    if (simd != null) {
      forwardInVectors(ps, x, y);
      return;
    }
    Workspace ws = ps.ws();
    int nb = x.items;
    int per = chunk(nb);
    int count = (nb + per - 1) / per;
    long vSize = (long) POINTS * cin * per * slots;
    long mSize = (long) POINTS * cout * per * slots;
    Buffer u = transformedWeights(ps);
    float[] b = bias >= 0 ? params.weights(bias, cout) : new float[cout];
    if (count == 1) {
      Buffer v = ws.slot(Slot.COLUMNS, vSize);
      Buffer m = ws.slot(Slot.COLUMN_GRADIENT, mSize);
      int cols = nb * slots;
      ps.split(cin, NativePass.grain((long) POINTS * cols), (lane, c0, c1) ->
          inputTransform(lane, x, c0, c1, 0, nb, v, 0));
      ps.pieces(POINTS, POINTS, (lane, p0, p1) -> products(u, v, 0, m, 0, cols, p0, p1));
      ps.split(cout, NativePass.grain((long) POINTS * cols), (lane, c0, c1) ->
          outputTransform(lane, staged(lane, m, 0, cols), slots, c0, c1, 0, nb, b, y));
      return;
    }
    // each chunk a group of its own; a staging size of 1 makes the step's base its lane's index
    int lanes = ps.lanes(count, 1);
    Buffer v = ws.slot(Slot.COLUMNS, vSize * lanes);
    Buffer m = ws.slot(Slot.COLUMN_GRADIENT, mSize * lanes);
    Conv2dKernel.chunkGroups(ps, nb, per, count, 1, (lane, index, group, first, j0, jn) -> {
      inputTransform(lane, x, 0, cin, j0, jn, v, vSize * index);
      products(u, v, vSize * index, m, mSize * index, jn * slots, 0, POINTS);
      outputTransform(lane, staged(lane, m, mSize * index, jn * slots), slots, 0, cout, j0, jn, b, y);
    });
  }

  /**
   * {@link #forward} with the products in Java ({@link Simd#products}) on heap panels: no staging in native memory.
   * The transformed weight, input and products live in heap scratch: the weight and, with
   * one chunk, the input and products in the caller's (lane 0's), shared by the lanes; with several chunks each lane
   * takes whole chunks in its own.
   */
  private void forwardInVectors(NativePass ps, NativeValue x, NativeValue y) {
    Workspace ws = ps.ws();
    int nb = x.items;
    int per = chunk(nb);
    int count = (nb + per - 1) / per;
    int blocks = (cout + BLOCK_OUT - 1) / BLOCK_OUT;
    float[] u = heapWeights(ps, blocks);
    float[] b = bias >= 0 ? params.weights(bias, cout) : new float[cout];
    int imageSlots = imageSlots();
    if (count == 1) {
      int panels = panels(nb * imageSlots);
      float[] v = ws.scratch(V_SCRATCH, POINTS * cin * panels * simd.panel());
      float[] m = ws.scratch(M_SCRATCH, POINTS * blocks * BLOCK_OUT * panels * simd.panel());
      ps.split(cin, NativePass.grain((long) POINTS * nb * slots), (lane, c0, c1) ->
          inputPanels(lane, x, c0, c1, 0, nb, v, panels));
      ps.pieces(POINTS, POINTS, (lane, p0, p1) -> simd.products(u, v, m, blocks, cin, panels, p0, p1));
      ps.split(cout, NativePass.grain((long) POINTS * nb * slots), (lane, c0, c1) ->
          outputTransform(lane, products(m, blocks, panels), imageSlots, c0, c1, 0, nb, b, y));
      return;
    }
    Conv2dKernel.chunkGroups(ps, nb, per, count, 0, (lane, index, group, first, j0, jn) -> {
      int panels = panels(jn * imageSlots);
      float[] v = lane.scratch(V_SCRATCH, POINTS * cin * panels * simd.panel());
      float[] m = lane.scratch(M_SCRATCH, POINTS * blocks * BLOCK_OUT * panels * simd.panel());
      inputPanels(lane, x, 0, cin, j0, jn, v, panels);
      simd.products(u, v, m, blocks, cin, panels, 0, POINTS);
      outputTransform(lane, products(m, blocks, panels), imageSlots, 0, cout, j0, jn, b, y);
    });
  }

  /**
   * Tile slots per image in {@link #forwardInVectors}: {@link #slots} rounded up to whole vectors (half a panel),
   * so that each image's slots start a vector and {@link Simd#inputPanels} stores whole vectors.
   */
  private int imageSlots() {
    int vector = simd.panel() / 2;
    return (slots + vector - 1) / vector * vector;
  }

  /**
   * Whether the forward pass runs its products in vectors ({@link Simd#products}; with the Vector API), not by
   * OpenBLAS.
   *
   * @return whether it does
   */
  boolean vectorProducts() {
    return simd != null;
  }

  /** The heap scratch of {@link #forwardInVectors}: transformed input, products, transformed weight. */
  private static final int V_SCRATCH = 4;
  private static final int M_SCRATCH = 5;
  private static final int U_SCRATCH = 6;

  /** Panels for {@code cols} slots. */
  private int panels(int cols) {
    return (cols + simd.panel() - 1) / simd.panel();
  }

  /** The products of {@link Simd#products} as {@link #outputTransform} reads them. */
  private Products products(float[] m, int blocks, int panels) {
    int stride = panels * simd.panel();
    int pointStride = blocks * BLOCK_OUT * stride;
    return (co, cols, bias, quads) -> simd.outputTiles(m, co * stride, pointStride, cols, bias, quads);
  }

  /**
   * Products staged in native memory ({@link #products}, the path without the vector loops), copied to a lane's heap
   * scratch one channel at a time.
   */
  private Products staged(Workspace.Lane lane, Buffer m, long base, int cols) {
    float[] rows = lane.scratch(2, POINTS * cols);
    FloatBuffer src = m.buffer;
    return (co, n, bias, quads) -> {
      for (int p = 0; p < POINTS; p++) {
        src.get((int) (base + ((long) p * cout + co) * cols), rows, p * cols, cols);
      }
      outputTiles(rows, 0, cols, cols, 0, bias, quads);
    };
  }

  /** The inverse transforms of one output channel's tile slots, into {@code quads} ({@link #outputTiles}). */
  @FunctionalInterface
  private interface Products {
    void tiles(int co, int cols, float bias, float[] quads);
  }

  /**
   * Adds the weight gradient to the parameters' gradient: with {@code Z = A dY A^T} the transform of each tile's
   * 2x2 output gradient (zero past the output's edges and on the rows' spare slots), {@code dU[p] = sum over the
   * tiles of Z[p] V[p]^T} ({@code [cout, tiles]} by {@code [tiles, cin]}: 16 products with the tiles as their long
   * sum), then {@code dW += G^T dU G} for each pair of channels. The chunks' sums are accumulated in at most
   * {@link Conv2dKernel#PARTIALS} partial sums over fixed groups of chunks and added in group order, as the
   * products of columns do, so the result is the same bits on any number of threads.
   *
   * @param ps the pass
   * @param x the layer's input, channel-major planes
   * @param dy the output gradient, channel-major planes
   */
  void weightGradient(NativePass ps, NativeValue x, NativeValue dy) {
    Workspace ws = ps.ws();
    int nb = x.items;
    int per = chunk(nb);
    int count = (nb + per - 1) / per;
    int groups = Math.min(count, Conv2dKernel.PARTIALS);
    long vSize = (long) POINTS * cin * per * slots;
    long zSize = (long) POINTS * cout * per * slots;
    int uSize = POINTS * cout * cin;
    Buffer du = ws.slot(Slot.WEIGHT_GRADIENT, (long) uSize * groups);
    if (count == 1) {
      Buffer v = ws.slot(Slot.COLUMNS, vSize);
      Buffer z = ws.slot(Slot.COLUMN_GRADIENT, zSize);
      int cols = nb * slots;
      ps.split(cin, NativePass.grain((long) POINTS * cols), (lane, c0, c1) ->
          inputTransform(lane, x, c0, c1, 0, nb, v, 0));
      ps.split(cout, NativePass.grain((long) POINTS * cols), (lane, c0, c1) ->
          gradientTransform(lane, dy, c0, c1, 0, nb, z, 0));
      ps.pieces(POINTS, POINTS, (lane, p0, p1) -> weightProducts(z, 0, v, 0, cols, du, 0, 0f, p0, p1));
    } else {
      int lanes = ps.lanes(groups, 1);
      Buffer v = ws.slot(Slot.COLUMNS, vSize * lanes);
      Buffer z = ws.slot(Slot.COLUMN_GRADIENT, zSize * lanes);
      // a staging size of 1 makes the step's base its lane's index
      Conv2dKernel.chunkGroups(ps, nb, per, groups, 1, (lane, index, group, first, j0, jn) -> {
        long vb = vSize * index;
        long zb = zSize * index;
        inputTransform(lane, x, 0, cin, j0, jn, v, vb);
        gradientTransform(lane, dy, 0, cout, j0, jn, z, zb);
        weightProducts(z, zb, v, vb, jn * slots, du, (long) group * uSize, first ? 0f : 1f, 0, POINTS);
      });
    }
    // dW[co][ci] += G^T dU G, the partial sums added in group order first, a range of output channels per lane
    ps.split(cout, NativePass.grain((long) cin * POINTS * (groups + 1)), (lane, co0, co1) -> {
      int run = (co1 - co0) * cin;
      float[] sum = lane.scratch(0, POINTS * run);
      float[] h = lane.scratch(1, run);
      for (int p = 0; p < POINTS; p++) {
        Conv2dKernel.sumGroups(du, uSize, groups, (p * cout + co0) * cin, run, sum, p * run, h);
      }
      float[] add = lane.scratch(2, 9 * run);
      float[] blk = lane.scratch(3, POINTS * BLOCK);
      float[] t = new float[12];
      // a block of pairs at a time, its 16 points copied together first (read straight from the sums, a
      // power-of-two stride apart, they evicted each other from the cache's sets)
      for (int k0 = 0; k0 < run; k0 += BLOCK) {
        int len = Math.min(BLOCK, run - k0);
        for (int p = 0; p < POINTS; p++) {
          System.arraycopy(sum, p * run + k0, blk, p * BLOCK, len);
        }
        for (int k = 0; k < len; k++) {
          // G^T D: rows D0 + (D1 + D2) / 2, (D1 - D2) / 2, (D1 + D2) / 2 + D3, column by column
          for (int c = 0; c < 4; c++) {
            float d0 = blk[c * BLOCK + k];
            float d1 = blk[(4 + c) * BLOCK + k];
            float d2 = blk[(8 + c) * BLOCK + k];
            float d3 = blk[(12 + c) * BLOCK + k];
            t[c] = d0 + 0.5f * (d1 + d2);
            t[4 + c] = 0.5f * (d1 - d2);
            t[8 + c] = 0.5f * (d1 + d2) + d3;
          }
          // then G along the columns, the same combinations
          int o = (k0 + k) * 9;
          for (int r = 0; r < 3; r++) {
            add[o + r * 3] = t[r * 4] + 0.5f * (t[r * 4 + 1] + t[r * 4 + 2]);
            add[o + r * 3 + 1] = 0.5f * (t[r * 4 + 1] - t[r * 4 + 2]);
            add[o + r * 3 + 2] = 0.5f * (t[r * 4 + 1] + t[r * 4 + 2]) + t[r * 4 + 3];
          }
        }
      }
      NativePass.addToGradient(lane, params, weight + co0 * cin * 9, add, 0, 9 * run);
    });
  }

  /** {@code dU[p] = beta dU[p] + Z[p] V[p]^T} for points {@code [p0, p1)}, over {@code cols} tile slots. */
  private void weightProducts(Buffer z, long zb, Buffer v, long vb, int cols, Buffer du, long ub, float beta,
      int p0, int p1) {
    for (int p = p0; p < p1; p++) {
      Blas.gemm(false, true, cout, cin, cols, Blas.at(z.pointer, zb + (long) p * cout * cols), cols,
          Blas.at(v.pointer, vb + (long) p * cin * cols), cols, beta,
          Blas.at(du.pointer, ub + (long) p * cout * cin), cin);
    }
  }

  /**
   * {@code Z[p][co][(j, tile)] = (A dY A^T)[p]} for output channels {@code [c0, c1)} of images {@code [j0, j0 +
   * jn)}, written {@code base} floats into {@code z}: each output-gradient plane split by the parity of its rows
   * and columns into four planes of {@code th} rows of {@code we} floats (zeros past the edges and in the spare
   * slots, so that those contribute nothing), then {@link #gradientTiles}.
   */
  private void gradientTransform(Workspace.Lane lane, NativeValue dy, int c0, int c1, int j0, int jn, Buffer z,
      long base) {
    int cols = jn * slots;
    float[] rows = lane.scratch(2, POINTS * cols);
    transform(lane, dy, hout, wout, 0, 0, slots, c0, c1, j0, jn, (q, quarter, c, j) -> {
      if (simd != null) {
        simd.gradientTiles(q, quarter, slots, rows, j * slots, cols);
      } else {
        gradientTiles(q, quarter, 0, slots, rows, j * slots, cols);
      }
    }, c -> stage(rows, cols, z, base, cout, c));
  }

  /** One channel's transformed tiles ({@code rows}, {@code [16][cols]}) into {@code [16][channels][cols]} at base. */
  private static void stage(float[] rows, int cols, Buffer dst, long base, int channels, int c) {
    for (int p = 0; p < POINTS; p++) {
      dst.buffer.put((int) (base + ((long) p * channels + c) * cols), rows, p * cols, cols);
    }
  }

  /**
   * The transforms of the output gradient's tile slots {@code [from, n)}: {@code rows[p cols + at + i] = (A dY
   * A^T)[p]}, the tile's 2x2 gradient read from the four parity planes in {@code q} at {@code i} (even rows' even
   * and odd columns, then odd rows'), each {@code quarter} floats.
   */
  static void gradientTiles(float[] q, int quarter, int from, int n, float[] rows, int at, int cols) {
    for (int i = from; i < n; i++) {
      float y00 = q[i];
      float y01 = q[quarter + i];
      float y10 = q[2 * quarter + i];
      float y11 = q[3 * quarter + i];
      // A dY: rows Y0, Y0 + Y1, Y0 - Y1, -Y1; then A^T along the columns: [u, v] -> [u, u + v, u - v, -v]
      float s0 = y00 + y10;
      float s1 = y01 + y11;
      float d0 = y00 - y10;
      float d1 = y01 - y11;
      int o = at + i;
      rows[o] = y00;
      rows[o + cols] = y00 + y01;
      rows[o + 2 * cols] = y00 - y01;
      rows[o + 3 * cols] = -y01;
      rows[o + 4 * cols] = s0;
      rows[o + 5 * cols] = s0 + s1;
      rows[o + 6 * cols] = s0 - s1;
      rows[o + 7 * cols] = -s1;
      rows[o + 8 * cols] = d0;
      rows[o + 9 * cols] = d0 + d1;
      rows[o + 10 * cols] = d0 - d1;
      rows[o + 11 * cols] = -d1;
      rows[o + 12 * cols] = -y10;
      rows[o + 13 * cols] = -(y10 + y11);
      rows[o + 14 * cols] = y11 - y10;
      rows[o + 15 * cols] = y11;
    }
  }

  /** {@code M[p] = U[p] V[p]} for points {@code [p0, p1)}, over {@code cols} tiles. */
  private void products(Buffer u, Buffer v, long vb, Buffer m, long mb, int cols, int p0, int p1) {
    for (int p = p0; p < p1; p++) {
      Blas.gemm(false, false, cout, cols, cin, Blas.at(u.pointer, (long) p * cout * cin), cin,
          Blas.at(v.pointer, vb + (long) p * cin * cols), cols, 0f, Blas.at(m.pointer, mb + (long) p * cout * cols),
          cols);
    }
  }

  /**
   * {@code U[p][co][ci] = (G g G^T)[p]} for every kernel {@code g = w[co][ci]}, in a native staging buffer.
   * Computed again on every pass (training changes the weights between passes): {@code 16 cout cin} floats.
   */
  private Buffer transformedWeights(NativePass ps) {
    int pairs = cout * cin;
    float[] g = kernels(ps);
    Buffer b = ps.ws().slot(Slot.FLIPPED_WEIGHT, (long) pairs * POINTS);
    // a block of pairs at a time, its 16 points into 16 runs of the buffer: writing the points of each pair
    // straight into U ([16][pairs], a power-of-two stride apart) made 16 streams that evict each other from the
    // cache's sets (a quarter of the DDPM model's training step at 256 channels)
    ps.split(pairs, NativePass.grain(POINTS + 9), (lane, q0, q1) -> {
      float[] u = lane.scratch(0, POINTS * BLOCK);
      for (int k0 = q0; k0 < q1; k0 += BLOCK) {
        int len = Math.min(BLOCK, q1 - k0);
        for (int k = 0; k < len; k++) {
          kernel(g, pairAt(k0 + k), tapStep, u, k);
        }
        for (int p = 0; p < POINTS; p++) {
          b.buffer.put(p * pairs + k0, u, p * BLOCK, len);
        }
      }
    });
    return b;
  }

  /** Input channels per block of {@link #heapWeights}: a block of {@link #BLOCK_OUT} output channels by these. */
  private static final int RUN = BLOCK / BLOCK_OUT;

  /**
   * {@code U} as {@link Simd#products} reads it, {@code [16][blocks][cin][BLOCK_OUT]} in the caller's heap scratch
   * (the output channels past {@code cout} in the last block zero), computed in blocks of {@link #BLOCK_OUT} output
   * channels by
   * {@link #RUN} input channels, each point of a block one contiguous run of {@code U}.
   */
  private float[] heapWeights(NativePass ps, int blocks) {
    float[] g = kernels(ps);
    float[] u = ps.ws().scratch(U_SCRATCH, POINTS * blocks * BLOCK_OUT * cin);
    int blockFloats = blocks * BLOCK_OUT * cin;
    int runs = (cin + RUN - 1) / RUN;
    ps.split(blocks * runs, NativePass.grain((long) (POINTS + 9) * BLOCK), (lane, i0, i1) -> {
      float[] t = lane.scratch(0, POINTS * BLOCK);
      for (int i = i0; i < i1; i++) {
        int cb = i / runs;
        int ci0 = (i - cb * runs) * RUN;
        int len = Math.min(RUN, cin - ci0);
        for (int c = 0; c < len; c++) {
          for (int r = 0; r < BLOCK_OUT; r++) {
            int co = cb * BLOCK_OUT + r;
            if (co < cout) {
              kernel(g, pairAt(co * cin + ci0 + c), tapStep, t, c * BLOCK_OUT + r);
            } else {
              for (int p = 0; p < POINTS; p++) {
                t[p * BLOCK + c * BLOCK_OUT + r] = 0f;
              }
            }
          }
        }
        int at = (cb * cin + ci0) * BLOCK_OUT;
        for (int p = 0; p < POINTS; p++) {
          System.arraycopy(t, p * BLOCK, u, p * blockFloats + at, len * BLOCK_OUT);
        }
      }
    });
    return u;
  }

  /**
   * The layer's weight, {@code [layer out][layer in][3][3]}, in the caller's heap scratch: the kernels of this
   * object's pairs at {@link #pairAt}. {@code U} is computed from them again on every pass (training changes the
   * weights between passes): {@code 16 cout cin} floats.
   */
  private float[] kernels(NativePass ps) {
    int pairs = cout * cin;
    float[] raw = ps.ws().scratch(1, pairs * 9);
    params.weights(weight, raw, pairs * 9);
    return raw;
  }

  /**
   * Where the first tap {@link #kernel} reads of pair {@code q = co cin + ci} (this object's terms) is in the layer's
   * weight: {@code 9 q}; for the input gradient, whose kernel is the flipped transpose, the last tap of the layer's
   * kernel {@code [ci][co]}, read backwards from there ({@link #tapStep}).
   */
  private int pairAt(int q) {
    if (!transposed) {
      return 9 * q;
    }
    int co = q / cin;
    int ci = q - co * cin;
    return DirectConv.flippedLastTap(co, ci, cout, 9);
  }

  /**
   * {@code U = G g G^T} of the kernel whose taps are {@code w[s + t d]}, {@code t = 0..8} ({@code d} -1: the layer's
   * kernel flipped): point {@code p} to {@code u[p BLOCK + k]}.
   */
  private static void kernel(float[] w, int s, int d, float[] u, int k) {
    // G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 of the kernel's rows; then G along the columns
    float g00 = w[s];
    float g01 = w[s + d];
    float g02 = w[s + 2 * d];
    float g10 = w[s + 3 * d];
    float g11 = w[s + 4 * d];
    float g12 = w[s + 5 * d];
    float g20 = w[s + 6 * d];
    float g21 = w[s + 7 * d];
    float g22 = w[s + 8 * d];
    float e0 = g00 + g20;
    float e1 = g01 + g21;
    float e2 = g02 + g22;
    row(u, k, 0, g00, g01, g02);
    row(u, k, 1, 0.5f * (e0 + g10), 0.5f * (e1 + g11), 0.5f * (e2 + g12));
    row(u, k, 2, 0.5f * (e0 - g10), 0.5f * (e1 - g11), 0.5f * (e2 - g12));
    row(u, k, 3, g20, g21, g22);
  }

  /** Row {@code r} of {@code G g} times {@code G^T} into the block: {@code [a, (a + b + c) / 2, (a - b + c) / 2, c]} */
  private static void row(float[] u, int k, int r, float a, float b, float c) {
    u[(r * 4) * BLOCK + k] = a;
    u[(r * 4 + 1) * BLOCK + k] = 0.5f * (a + c + b);
    u[(r * 4 + 2) * BLOCK + k] = 0.5f * (a + c - b);
    u[(r * 4 + 3) * BLOCK + k] = c;
  }

  /**
   * {@code V[p][ci][(j, tile)] = (B^T d B)[p]} for input channels {@code [c0, c1)} of images {@code [j0, j0 +
   * jn)}, written {@code base} floats into {@code v}. Each padded plane is first split by the parity of its rows and
   * columns into four planes of {@code th + 1} rows of {@code we} floats (zeros where the padding is), so that the
   * 4x4 patch of every tile reads each of them at {@code i}, {@code i + 1}, {@code i + we} and {@code i + we + 1}
   * for the tile's slot {@code i = ty we + tx}: one loop over the slots (see {@link #slots}).
   */
  private void inputTransform(Workspace.Lane lane, NativeValue x, int c0, int c1, int j0, int jn, Buffer v,
      long base) {
    int cols = jn * slots;
    float[] rows = lane.scratch(2, POINTS * cols);
    transform(lane, x, hin, win, top, left, inputQuarter(), c0, c1, j0, jn, (q, quarter, c, j) -> {
      if (simd != null) {
        simd.inputTiles(q, quarter, we, slots, rows, j * slots, cols);
      } else {
        inputTiles(q, quarter, we, 0, slots, rows, j * slots, cols);
      }
    }, c -> stage(rows, cols, v, base, cin, c));
  }

  /**
   * {@link #inputTransform} into the heap panels of {@link Simd#products}, {@code [16][panels][cin][W]}: image
   * {@code j}'s slots from {@code j} {@link #imageSlots}; the slots past each image's {@link #slots} are computed
   * from whatever the parity planes hold there, and no output reads them.
   */
  private void inputPanels(Workspace.Lane lane, NativeValue x, int c0, int c1, int j0, int jn, float[] v, int panels) {
    int imageSlots = imageSlots();
    transform(lane, x, hin, win, top, left, inputQuarter(), c0, c1, j0, jn,
        (q, quarter, c, j) -> simd.inputPanels(q, quarter, we, slots, v, j * imageSlots, c, cin, panels), null);
  }

  /** Floats per parity plane of the input: {@code th + 1} rows of {@code we}, and one for the last tile's reach. */
  private int inputQuarter() {
    return (th + 1) * we + 1;
  }

  /** The transform of one image's tile slots from its four parity planes ({@link #transform}). */
  @FunctionalInterface
  private interface Tiles {
    void run(float[] q, int quarter, int channel, int image);
  }

  /**
   * Channels {@code [c0, c1)} of images {@code [j0, j0 + jn)} of {@code value} ({@code channels} planes of {@code h}
   * by {@code w}), each plane placed at row {@code top} and column {@code left} of a zero plane and split by the
   * parity of its rows and columns into four planes of {@code quarter} floats, rows {@code we} apart, handed to
   * {@code tiles} (image {@code j} counted from {@code j0}); {@code channelDone}, if not null, after each channel's
   * images. The four planes are followed by a vector's worth of zeros, so that a vector loop may run past the
   * last slot.
   */
  private void transform(Workspace.Lane lane, NativeValue value, int h, int w, int top, int left, int quarter,
      int c0, int c1, int j0, int jn, Tiles tiles, java.util.function.IntConsumer channelDone) {
    int nb = value.items;
    int plane = h * w;
    float[] in = lane.scratch(0, plane);
    float[] q = lane.scratch(1, 4 * quarter + OVERRUN);
    Arrays.fill(q, 0, 4 * quarter + OVERRUN, 0f);
    FloatBuffer src = value.buffer();
    int first = left & 1;
    for (int c = c0; c < c1; c++) {
      for (int j = 0; j < jn; j++) {
        src.get(value.offset + (c * nb + j0 + j) * plane, in, 0, plane);
        for (int iy = 0; iy < h; iy++) {
          int qy = iy + top;
          int row = ((qy & 1) * 2) * quarter + (qy >> 1) * we;
          // the columns that land on even padded columns, then those on odd ones
          int src0 = iy * w;
          for (int ix = first, to = row + ((ix + left) >> 1); ix < w; ix += 2, to++) {
            q[to] = in[src0 + ix];
          }
          for (int ix = 1 - first, to = row + quarter + ((ix + left) >> 1); ix < w; ix += 2, to++) {
            q[to] = in[src0 + ix];
          }
        }
        tiles.run(q, quarter, c, j);
      }
      if (channelDone != null) {
        channelDone.accept(c);
      }
    }
  }

  /** Floats past the parity planes that a vector loop over whole vectors of slots may read (two 512-bit vectors). */
  private static final int OVERRUN = 32;

  /**
   * The transforms of {@code n} tile slots: {@code rows[p cols + at + i] = (B^T d B)[p]}, the patch {@code d} of
   * slot {@code i} read from the four parity planes in {@code q} (even rows' even and odd columns, then odd rows'),
   * each {@code quarter} floats, rows {@code we} apart.
   */
  static void inputTiles(float[] q, int quarter, int we, int from, int n, float[] rows, int at, int cols) {
    int ee = 0;
    int eo = quarter;
    int oe = 2 * quarter;
    int oo = 3 * quarter;
    for (int i = from; i < n; i++) {
      // d[r][c]: row r (0, 1 from the even-row planes at i; 2, 3 at i + we), column c likewise
      float d00 = q[ee + i];
      float d01 = q[eo + i];
      float d02 = q[ee + i + 1];
      float d03 = q[eo + i + 1];
      float d10 = q[oe + i];
      float d11 = q[oo + i];
      float d12 = q[oe + i + 1];
      float d13 = q[oo + i + 1];
      float d20 = q[ee + i + we];
      float d21 = q[eo + i + we];
      float d22 = q[ee + i + we + 1];
      float d23 = q[eo + i + we + 1];
      float d30 = q[oe + i + we];
      float d31 = q[oo + i + we];
      float d32 = q[oe + i + we + 1];
      float d33 = q[oo + i + we + 1];
      // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
      float t00 = d00 - d20;
      float t01 = d01 - d21;
      float t02 = d02 - d22;
      float t03 = d03 - d23;
      float t10 = d10 + d20;
      float t11 = d11 + d21;
      float t12 = d12 + d22;
      float t13 = d13 + d23;
      float t20 = d20 - d10;
      float t21 = d21 - d11;
      float t22 = d22 - d12;
      float t23 = d23 - d13;
      float t30 = d10 - d30;
      float t31 = d11 - d31;
      float t32 = d12 - d32;
      float t33 = d13 - d33;
      // then B along the columns, the same combinations
      int o = at + i;
      rows[o] = t00 - t02;
      rows[o + cols] = t01 + t02;
      rows[o + 2 * cols] = t02 - t01;
      rows[o + 3 * cols] = t01 - t03;
      rows[o + 4 * cols] = t10 - t12;
      rows[o + 5 * cols] = t11 + t12;
      rows[o + 6 * cols] = t12 - t11;
      rows[o + 7 * cols] = t11 - t13;
      rows[o + 8 * cols] = t20 - t22;
      rows[o + 9 * cols] = t21 + t22;
      rows[o + 10 * cols] = t22 - t21;
      rows[o + 11 * cols] = t21 - t23;
      rows[o + 12 * cols] = t30 - t32;
      rows[o + 13 * cols] = t31 + t32;
      rows[o + 14 * cols] = t32 - t31;
      rows[o + 15 * cols] = t31 - t33;
    }
  }

  /**
   * {@code y[co][j] = A^T M A + b[co]} for output channels {@code [c0, c1)} of images {@code [j0, j0 + jn)}, image
   * {@code j}'s products at slots from {@code j imageSlots} of what {@code m} reads.
   */
  private void outputTransform(Workspace.Lane lane, Products m, int imageSlots, int c0, int c1, int j0, int jn,
      float[] b, NativeValue y) {
    int nb = y.items;
    int pout = hout * wout;
    int cols = jn * imageSlots;
    float[] quads = lane.scratch(3, 4 * cols);
    float[] out = lane.scratch(0, jn * pout);
    FloatBuffer dst = y.buffer();
    for (int co = c0; co < c1; co++) {
      m.tiles(co, cols, b[co], quads);
      for (int j = 0; j < jn; j++) {
        int plane = j * pout;
        for (int ty = 0; ty < th; ty++) {
          int oy = 2 * ty;
          int s = j * imageSlots + ty * we;
          int r0 = plane + oy * wout;
          interleave(quads, s, cols + s, out, r0);
          if (oy + 1 < hout) {
            interleave(quads, 2 * cols + s, 3 * cols + s, out, r0 + wout);
          }
        }
      }
      for (int j = 0; j < jn; j++) {
        dst.put(y.offset + (co * nb + j0 + j) * pout, out, j * pout, pout);
      }
    }
  }

  /** One output row: {@code out[at + 2 tx] = quads[even + tx]}, {@code out[at + 2 tx + 1] = quads[odd + tx]}. */
  private void interleave(float[] quads, int even, int odd, float[] out, int at) {
    int pairs = wout / 2;
    for (int tx = 0; tx < pairs; tx++) {
      out[at + 2 * tx] = quads[even + tx];
      out[at + 2 * tx + 1] = quads[odd + tx];
    }
    if (pairs < tw) {
      out[at + 2 * pairs] = quads[even + pairs];
    }
  }

  /**
   * The inverse transforms of {@code cols} tile slots: {@code quads[(2 a + b) cols + i] = (A^T M A)[a][b] + bias}
   * for the points {@code M[p] = rows[p cols + i]}.
   */
  static void outputTiles(float[] m, int at, int ps, int cols, int from, float bias, float[] quads) {
    for (int i = from; i < cols; i++) {
      int o = at + i;
      // A^T M: rows m0 + m1 + m2 and m1 - m2 - m3 of the 4x4 points
      float a0 = m[o] + m[o + 4 * ps] + m[o + 8 * ps];
      float a1 = m[o + ps] + m[o + 5 * ps] + m[o + 9 * ps];
      float a2 = m[o + 2 * ps] + m[o + 6 * ps] + m[o + 10 * ps];
      float a3 = m[o + 3 * ps] + m[o + 7 * ps] + m[o + 11 * ps];
      float s0 = m[o + 4 * ps] - m[o + 8 * ps] - m[o + 12 * ps];
      float s1 = m[o + 5 * ps] - m[o + 9 * ps] - m[o + 13 * ps];
      float s2 = m[o + 6 * ps] - m[o + 10 * ps] - m[o + 14 * ps];
      float s3 = m[o + 7 * ps] - m[o + 11 * ps] - m[o + 15 * ps];
      // then A along the columns
      quads[i] = a0 + a1 + a2 + bias;
      quads[cols + i] = a1 - a2 - a3 + bias;
      quads[2 * cols + i] = s0 + s1 + s2 + bias;
      quads[3 * cols + i] = s1 - s2 - s3 + bias;
    }
  }
}
