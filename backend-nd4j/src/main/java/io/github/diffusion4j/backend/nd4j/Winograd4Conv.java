package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.settings.SystemSwitch;
import java.util.Arrays;

/**
 * A 3x3 stride-1 convolution that keeps the size (padding 1 on every side), or the input gradient of one, by
 * Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016): each 4x4 tile of output positions is {@code A^T [U . V] A}, where {@code V = B^T d B} is the transform of
 * the tile's 6x6 input patch {@code d}, {@code U = G g G^T} that of the 3x3 kernel {@code g}, and {@code .} the
 * element-wise product over the 36 points, summed over the input channels: 36 products of {@code cout cin} per
 * tile of sixteen outputs against {@code 144 cout cin} directly, 4x fewer multiply-adds (F(2x2, 3x3), {@link
 * WinogradConv}, does 2.25x fewer). The points are those of the authors' {@code wincnn} for 0, +-1, +-2:
 *
 * <pre>
 *   B^T = | 4  0 -5  0  1  0 |    G = |  1/4     0     0  |    A^T = | 1  1  1  1  1  0 |
 *         | 0 -4 -4  1  1  0 |        | -1/6  -1/6  -1/6  |          | 0  1 -1  2 -2  0 |
 *         | 0  4 -4 -1  1  0 |        | -1/6   1/6  -1/6  |          | 0  1  1  4  4  0 |
 *         | 0 -2 -1  2  1  0 |        |  1/24  1/12  1/6  |          | 0  1 -1  8 -8  1 |
 *         | 0  2 -1 -2  1  0 |        |  1/24 -1/12  1/6  |
 *         | 0  4  0 -5  0  1 |        |  0     0     1    |
 * </pre>
 *
 * <p>Layout: each zero-padded input plane is split by its rows' and columns' remainders modulo 4 into 16 phase
 * planes of {@code th + 1} rows of {@code we = tw + 1} floats ({@code th, tw} the tiles down and across), so
 * that patch element {@code (i, j)} of the tile in slot {@code s = ty we + tx} is at {@code s + (i / 4) we + j / 4}
 * of phase plane {@code (i % 4, j % 4)}: the transforms run in vectors over consecutive slots (the slot past each
 * row of tiles, {@code tx = tw}, is computed and dropped). Images go in groups whose slots fill whole runs of the
 * direct convolution's loop ({@link DirectConv.Simd}) as well as they can ({@link #group}); that loop computes the
 * products: {@code M[p] = U[p] V[p]} is its sum over pairs with the input channels as the pairs, {@code V[p]} as
 * the planes and the slots as the positions, from a zero bias. The output transform adds the bias and writes each
 * plane whole.
 *
 * <p>Accuracy: the transforms multiply by up to 8 (the weight's by fractions, computed in double and rounded once),
 * so the float32 roundings fall on terms larger than the outputs: against the products of columns, a layer's outputs
 * differ by up to 4e-6 of its largest (32>32 at 32x32, He-scaled weights, unit inputs), 7e-6 (64>64 at 32x32) and
 * 1.2e-5 (256>256 at 16x16), where F(2x2, 3x3) differs by 6e-7 to 8e-7: the price of 4x fewer multiply-adds, as
 * in other libraries' F(4x4, 3x3). The layer-kind tests hold it to their 1e-5 of the largest output on their
 * layers, and {@link #PROPERTY} turns it off. Every output is a fixed sequence of operations whatever the
 * threads ({@link #forward}), so the results are the same bits on any number of threads; they differ from the other
 * forms' in the last bits.
 */
final class Winograd4Conv {
  /** The points of a tile's transform (6x6). */
  static final int POINTS = 36;

  /** The transforms in vectors ({@code Winograd4ConvSimd}), or null where the Vector API is not available. */
  static final Simd SIMD = VectorApi.load(Simd.class, Winograd4Conv.class.getName() + "Simd");

  /** The tile transforms in vectors: the same bits as {@link #inputTiles} and {@link #outputTiles}. */
  interface Simd {
    /**
     * The slots per vector.
     *
     * @return the lanes of the transforms' vectors
     */
    int lanes();

    /**
     * {@link Winograd4Conv#inputTiles} of slots {@code [0, n)} rounded up to whole vectors.
     *
     * @param q the 16 phase planes, {@code phase} floats apart
     * @param phase floats per phase plane
     * @param we floats per row of a phase plane (tile slots per row)
     * @param n the slots
     * @param v the transformed tiles: point {@code p} of slot {@code s} to {@code v[at + p pointStride + s]}
     * @param at where slot 0 of point 0 goes
     * @param pointStride floats from one point to the next
     * @param t scratch of {@code 36 lanes()} floats
     */
    void inputTiles(float[] q, int phase, int we, int n, float[] v, int at, int pointStride, float[] t);

    /**
     * {@link Winograd4Conv#outputTiles} of slots {@code [0, n)} rounded up to whole vectors.
     *
     * @param m the products: point {@code p} of slot {@code s} at {@code m[at + p pointStride + s]}
     * @param at where slot 0 of point 0 is
     * @param pointStride floats from one point to the next
     * @param n the slots
     * @param bias added to every output
     * @param out output {@code (a, b)} of slot {@code s} to {@code out[(4 a + b) outStride + s]}
     * @param outStride floats from one output of the tile to the next
     * @param t scratch of {@code 24 lanes()} floats
     */
    void outputTiles(float[] m, int at, int pointStride, int n, float bias, float[] out, int outStride, float[] t);
  }

  /** The system property that turns this form off ({@code false}). */
  static final String PROPERTY = "diffusion4j.nd4j.winograd4";

  /**
   * Whether the form is on: the system property {@value #PROPERTY}, {@code true} unless set.
   *
   * @return whether it is on
   * @throws IllegalArgumentException if the property is set to something other than {@code true} or {@code false}
   */
  static boolean enabled() {
    return SystemSwitch.read(PROPERTY, true);
  }

  /** The fewest input and output channels of a layer this form takes where it is asked to where it pays. */
  static final int CHANNELS = 16;

  /**
   * Whether this form beats the others on a layer: {@link #CHANNELS} channels in and out, and planes of 16x16 and
   * more, or 8x8 planes of a layer the direct loop would take. Measured on a Zen 4, one thread
   * (docs/benchmarks.md): the default U-Net's 3x3 layers (batch 64) 230 ms forward against 330 by the direct loop
   * and Winograd's F(2x2, 3x3), 770 against 985 in training; 64>64 at 8x8 2.8 against 4.0 ms (the direct loop's
   * 8x8 rows waste a fifth of its work). On 8x8 planes of the DDPM model's 256 channels (batch 16), where F(2x2,
   * 3x3) runs, 16.1 against 12.7 ms: the transform of 65,536 kernels to 36 points each outweighs the products of
   * a small batch; on 4x4 planes (one tile an image, in two slots) 15.1 against 4.4.
   */
  static boolean pays(DirectConv.Simd loop, int in, int out, int hin, int win) {
    long imageSlots = (long) ((hin + 3) / 4) * ((win + 3) / 4 + 1);
    if (in < CHANNELS || out < CHANNELS || hin < 8 || win < 8 || POINTS * (in + out) * imageSlots > LARGEST) {
      return false;
    }
    boolean direct = out <= loop.mostOutputChannels() && !loop.yieldsToWinograd(in, out);
    return (hin >= 16 && win >= 16) || direct;
  }

  /**
   * The most floats of one image's {@code V} and {@code M} together for this form to pay: 64 MiB (a 128>128 layer at
   * 128x128 has 39 MiB; at 256x256, 153 MiB a lane, it keeps the other forms).
   */
  private static final long LARGEST = 1 << 24;

  /** The most slots of a group of images, unless one image has more. */
  private static final int GROUP_SLOTS = 320;

  /**
   * The most floats of a group's {@code V} and {@code M} together, unless one image has more: 16 MiB, half the L3
   * cache here (64>64 at 32x32 goes in groups of four images, 5.3 MiB; 256>256 in ones, 5.9 MiB). With a quarter of
   * that, the DDPM model's 512>256 layers at 16x16 went in ones, a fifth of their slots valid, and ran 2x slower.
   */
  private static final long BUDGET = 1 << 22;

  /**
   * Images per group: the fewest whose slots waste the least of what the products' loop computes ({@link
   * DirectConv.Simd#computed}), up to {@link #GROUP_SLOTS} slots. On a Zen 4, 64>64 at 32x32 (72 slots an image)
   * took 31.8 ms in groups of four images (288 slots, three whole runs) against 32.8 in ones (80 computed).
   */
  private static int group(DirectConv.Simd loop, int imageSlots, int channels) {
    int best = 1;
    double kept = 0;
    for (int g = 1; g == 1 || (g * imageSlots <= GROUP_SLOTS
        && (long) POINTS * channels * loop.computed(g * imageSlots) <= BUDGET); g++) {
      double k = (double) (g * imageSlots) / loop.computed(g * imageSlots);
      if (k > kept + 1e-9) {
        kept = k;
        best = g;
      }
    }
    return best;
  }

  private final DirectConv.Simd loop;
  private final Simd simd;
  private final Parameters params;
  private final int weight;
  private final int bias;
  private final boolean transposed;
  private final int cin;
  private final int cout;
  private final int h;
  private final int w;
  private final int th;
  private final int tw;
  private final int we;
  /** Floats per phase plane: its rows, then room for a vector loop's reach past the last slot. */
  private final int phase;
  /** Slots per image ({@code th we}). */
  private final int imageSlots;
  /** Slots per image rounded up to whole vectors: the output transform's rows. */
  private final int outStride;
  /** Images per group. */
  private final int group;
  /** Floats per row of {@code V} and {@code M} (one channel of one point for a group). */
  private final int stride;
  private final int blocks;
  /** Where each input position goes in the phase planes. */
  private final int[] inputPlaces;
  /** Where each output position is in the output transform's rows. */
  private final int[] outputPlaces;
  /** Slots per tile of the products: whole runs of the loop. */
  private final int tileSlots;
  /** Where the products' loop reads each input channel of each point in {@code V}. */
  private final int[][] offsets;

  private Winograd4Conv(DirectConv.Simd loop, int tileFloats, Simd simd, Parameters params, Layer.Conv2d layer,
      boolean transposed, int hin, int win) {
    this.loop = loop;
    this.simd = simd;
    this.params = params;
    this.weight = params.offset(layer.name() + ".weight");
    this.bias = layer.bias() && !transposed ? params.offset(layer.name() + ".bias") : -1;
    this.transposed = transposed;
    this.cin = transposed ? layer.out() : layer.in();
    this.cout = transposed ? layer.in() : layer.out();
    this.h = hin;
    this.w = win;
    this.th = (hin + 3) / 4;
    this.tw = (win + 3) / 4;
    this.we = tw + 1;
    int lanes = simd.lanes();
    this.imageSlots = th * we;
    this.outStride = (imageSlots + lanes - 1) / lanes * lanes;
    this.phase = Math.max((th + 1) * we, outStride + we + 1);
    this.group = group(loop, imageSlots, cin + cout);
    // a group's last image's vectors reach outStride slots past its first
    this.stride = Math.max(loop.computed(group * imageSlots), (group - 1) * imageSlots + outStride);
    this.blocks = (cout + DirectConv.CO - 1) / DirectConv.CO;
    this.inputPlaces = new int[hin * win];
    this.outputPlaces = new int[hin * win];
    for (int iy = 0; iy < hin; iy++) {
      for (int ix = 0; ix < win; ix++) {
        // padded row r = iy + 1 and column c = ix + 1 go to phase plane (r % 4, c % 4) at (r / 4, c / 4); output
        // (oy, ox) is output (oy % 4, ox % 4) of slot (oy / 4) we + ox / 4
        int r = iy + 1;
        int c = ix + 1;
        inputPlaces[iy * win + ix] = ((r & 3) * 4 + (c & 3)) * phase + (r >> 2) * we + (c >> 2);
        outputPlaces[iy * win + ix] = ((iy & 3) * 4 + (ix & 3)) * outStride + (iy >> 2) * we + (ix >> 2);
      }
    }
    this.tileSlots = Math.max(loop.run(), tileFloats / cin / loop.run() * loop.run());
    this.offsets = new int[POINTS][cin];
    for (int p = 0; p < POINTS; p++) {
      for (int ci = 0; ci < cin; ci++) {
        offsets[p][ci] = (p * cin + ci) * stride;
      }
    }
  }

  /**
   * The forward pass of {@code layer} by this form, or null where it does not apply: not asked for, no vector
   * loops, not a 3x3 stride-1 convolution padded by 1 on every side, or (unless {@code use.everywhere()}) where it
   * does not pay ({@link #pays}).
   *
   * @param use which forms run ({@link DirectConv.Use#winograd4}), with the products' loop
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @return the form, or null
   */
  static Winograd4Conv of(DirectConv.Use use, Parameters params, Layer.Conv2d layer, int hin, int win) {
    return applies(use, layer, hin, win)
        ? new Winograd4Conv(use.simd(), use.tileFloats(), SIMD, params, layer, false, hin, win) : null;
  }

  /**
   * The input gradient of {@code layer} by this form (the convolution of the output gradient with the weight
   * transposed and flipped, padded the same way, without a bias), or null where {@link #of} is.
   *
   * @param use which forms run, with the products' loop
   * @param params the parameters
   * @param layer the layer
   * @param hin the input's height
   * @param win the input's width
   * @return the form of the input gradient, or null
   */
  static Winograd4Conv inputGradient(DirectConv.Use use, Parameters params, Layer.Conv2d layer, int hin, int win) {
    return applies(use, layer, hin, win)
        ? new Winograd4Conv(use.simd(), use.tileFloats(), SIMD, params, layer, true, hin, win) : null;
  }

  private static boolean applies(DirectConv.Use use, Layer.Conv2d layer, int hin, int win) {
    Layer.Padding pad = layer.padding();
    boolean shape = layer.kernel() == 3 && layer.stride() == 1 && pad.top() == 1 && pad.left() == 1
        && pad.bottom() == 1 && pad.right() == 1;
    return use.winograd4() && use.simd() != null && SIMD != null && shape
        && (use.everywhere() || pays(use.simd(), layer.in(), layer.out(), hin, win));
  }

  /**
   * {@code y = conv(x) + b} for a batch (or, for the input gradient, {@code dx} from {@code dy}). Where the groups
   * of images share out evenly over the lanes, each lane takes whole groups; otherwise (fewer groups than lanes: a
   * small batch, or small planes in large groups) the groups go one at a time, each of their three phases split
   * over the lanes: the input transform by input channels, the products by points, the output transform by output
   * channels. Either way every output is computed by the same operations.
   *
   * @param ps the pass
   * @param x the input, channel-major planes
   * @param y the output, channel-major planes
   */
  void forward(NativePass ps, NativeValue x, NativeValue y) {
    int nb = x.items;
    float[] u = ps.ws().scratch(U_SCRATCH, POINTS * blocks * DirectConv.CO * cin + DirectConv.CO);
    weights(u, ps.ws().scratch(RAW_SCRATCH, cout * cin * 9));
    float[] b = new float[cout];
    if (bias >= 0) {
      params.weights(bias, b, cout);
    }
    int groups = (nb + group - 1) / group;
    if (groups % ps.lanes(Integer.MAX_VALUE, 1) == 0) {
      ps.split(groups, 1, (lane, g0, g1) -> {
        float[] v = lane.scratch(V_SCRATCH, vFloats());
        float[] m = lane.scratch(M_SCRATCH, mFloats());
        for (int g = g0; g < g1; g++) {
          int n0 = g * group;
          int count = Math.min(group, nb - n0);
          inputTransform(lane, x, n0, count, 0, cin, v);
          products(u, v, m, count, 0, POINTS);
          outputTransform(lane, m, b, y, n0, count, 0, cout);
        }
      });
      return;
    }
    // shared by the lanes, which leave their own arrays of these indices alone here
    float[] v = ps.ws().scratch(V_SCRATCH, vFloats());
    float[] m = ps.ws().scratch(M_SCRATCH, mFloats());
    for (int g = 0; g < groups; g++) {
      int n0 = g * group;
      int count = Math.min(group, nb - n0);
      ps.split(cin, 1, (lane, c0, c1) -> inputTransform(lane, x, n0, count, c0, c1, v));
      ps.split(POINTS, 1, (lane, p0, p1) -> products(u, v, m, count, p0, p1));
      ps.split(cout, 1, (lane, c0, c1) -> outputTransform(lane, m, b, y, n0, count, c0, c1));
    }
  }

  /** Floats of {@code V}: {@code [36][cin][stride]}. */
  private int vFloats() {
    return POINTS * cin * stride;
  }

  /** Floats of {@code M}, {@code [36][blocks CO][stride]}, and a vector's reach past its last row. */
  private int mFloats() {
    return POINTS * blocks * DirectConv.CO * stride + simd.lanes();
  }

  /** {@code V} of input channels {@code [c0, c1)} of images {@code [n0, n0 + count)} (a group). */
  private void inputTransform(Workspace.Lane lane, NativeValue x, int n0, int count, int c0, int c1, float[] v) {
    float[] in = lane.scratch(IN_SCRATCH, h * w);
    float[] q = lane.scratch(PHASE_SCRATCH, 16 * phase);
    Arrays.fill(q, 0, 16 * phase, 0f); // the padding: never written by split
    float[] t = lane.scratch(T_SCRATCH, POINTS * simd.lanes());
    for (int ci = c0; ci < c1; ci++) {
      // in order of the images: the last vector of one image's slots runs into the next one's, which overwrites it
      for (int j = 0; j < count; j++) {
        split(x, ci, n0 + j, in, q);
        simd.inputTiles(q, phase, we, imageSlots, v, ci * stride + j * imageSlots, cin * stride, t);
      }
    }
  }

  /**
   * {@code M[p] = U[p] V[p]} for points {@code [p0, p1)}, every block of output channels, a group's slots: in tiles of
   * slots whose {@code V} fits {@link DirectConv.Use#tileFloats} floats, each for every block before the next, so a
   * large image's {@code V[p]} comes from memory once per point, not once per block (as {@link DirectConv}'s tiles).
   */
  private void products(float[] u, float[] v, float[] m, int count, int p0, int p1) {
    int perPoint = blocks * DirectConv.CO * cin;
    int slots = count * imageSlots;
    for (int p = p0; p < p1; p++) {
      for (int s0 = 0; s0 < slots; s0 += tileSlots) {
        int s1 = Math.min(slots, s0 + tileSlots);
        for (int k = 0; k < blocks; k++) {
          loop.convolve(v, offsets[p], u, p * perPoint + k * DirectConv.CO * cin, POINTS * perPoint, s0, s1, m,
              (p * blocks + k) * DirectConv.CO * stride, stride);
        }
      }
    }
  }

  /** The outputs of channels {@code [c0, c1)} of images {@code [n0, n0 + count)} from {@code M}, into {@code y}. */
  private void outputTransform(Workspace.Lane lane, float[] m, float[] b, NativeValue y, int n0, int count, int c0,
      int c1) {
    float[] t = lane.scratch(T_SCRATCH, POINTS * simd.lanes());
    float[] quads = lane.scratch(QUADS_SCRATCH, 16 * outStride);
    float[] plane = lane.scratch(PLANE_SCRATCH, h * w);
    int pointStride = blocks * DirectConv.CO * stride;
    for (int co = c0; co < c1; co++) {
      for (int j = 0; j < count; j++) {
        simd.outputTiles(m, co * stride + j * imageSlots, pointStride, imageSlots, b[co], quads, outStride, t);
        write(quads, plane, y, co, n0 + j);
      }
    }
  }

  /** Lane scratch: an input plane, the phase planes, {@code V}, {@code M}, the transforms' vectors, outputs. */
  private static final int IN_SCRATCH = 0;
  private static final int PHASE_SCRATCH = 1;
  private static final int V_SCRATCH = 2;
  private static final int M_SCRATCH = 3;
  private static final int T_SCRATCH = 4;
  private static final int QUADS_SCRATCH = 5;
  private static final int PLANE_SCRATCH = 6;
  /** The pass's scratch (the first lane's arrays) for the weights and their transform, used before the lanes. */
  private static final int RAW_SCRATCH = 6;
  private static final int U_SCRATCH = 7;

  /** Image {@code n}'s channel {@code c} into the 16 phase planes of {@code q} ({@link #inputPlaces}). */
  private void split(NativeValue x, int c, int n, float[] in, float[] q) {
    int plane = h * w;
    x.buffer().get((int) (x.offset + ((long) c * x.items + n) * plane), in, 0, plane);
    int[] places = inputPlaces;
    for (int i = 0; i < plane; i++) {
      q[places[i]] = in[i];
    }
  }

  /** The tiles' outputs of one image and channel into its plane ({@link #outputPlaces}), then into {@code y}. */
  private void write(float[] quads, float[] plane, NativeValue y, int co, int n) {
    int size = h * w;
    int[] places = outputPlaces;
    for (int i = 0; i < size; i++) {
      plane[i] = quads[places[i]];
    }
    y.buffer().put((int) (y.offset + ((long) co * y.items + n) * size), plane, 0, size);
  }

  /**
   * {@code U = G g G^T} of every kernel into {@code u}, {@code [36][blocks][cin][CO]} (output channels past
   * {@code cout} zero), then {@link DirectConv#CO} zeros: the products' bias. For the input gradient the kernel of
   * {@code (co, ci)} is the layer's {@code [ci][co]} flipped. Computed in double, rounded once.
   */
  private void weights(float[] u, float[] raw) {
    params.weights(weight, raw, cout * cin * 9);
    int perPoint = blocks * DirectConv.CO * cin;
    Arrays.fill(u, (blocks - 1) * DirectConv.CO * cin, POINTS * perPoint + DirectConv.CO, 0f);
    // a run of input channels of a block at a time into t, [36][run][CO], then each point's run into U: writing
    // each kernel's 36 points straight into U (36 streams perPoint apart, a power of two) thrashed the caches' sets
    float[] t = new float[POINTS * WEIGHT_RUN * DirectConv.CO];
    double[] gg = new double[18];
    for (int k = 0; k < blocks; k++) {
      for (int ci0 = 0; ci0 < cin; ci0 += WEIGHT_RUN) {
        int run = Math.min(WEIGHT_RUN, cin - ci0);
        Arrays.fill(t, 0f);
        for (int ci = ci0; ci < ci0 + run; ci++) {
          for (int c = 0; c < DirectConv.CO && k * DirectConv.CO + c < cout; c++) {
            int co = k * DirectConv.CO + c;
            int src = transposed ? DirectConv.flippedLastTap(co, ci, cout, 9) : (co * cin + ci) * 9;
            int step = transposed ? -1 : 1;
            // G g (6x3) by columns, then each of its rows times G^T (6x6)
            for (int col = 0; col < 3; col++) {
              kernelColumn(raw[src + col * step], raw[src + (3 + col) * step], raw[src + (6 + col) * step], gg, col);
            }
            int at = (ci - ci0) * DirectConv.CO + c;
            int pointStep = WEIGHT_RUN * DirectConv.CO;
            for (int r = 0; r < 6; r++) {
              double a = gg[r * 3];
              double b = gg[r * 3 + 1];
              double cc = gg[r * 3 + 2];
              int o = r * 6 * pointStep + at;
              double ac = a + cc;
              double q = a * (1.0 / 24) + cc * (1.0 / 6);
              t[o] = (float) (a * 0.25);
              t[o + pointStep] = (float) (-(ac + b) * (1.0 / 6));
              t[o + 2 * pointStep] = (float) (-(ac - b) * (1.0 / 6));
              t[o + 3 * pointStep] = (float) (q + b * (1.0 / 12));
              t[o + 4 * pointStep] = (float) (q - b * (1.0 / 12));
              t[o + 5 * pointStep] = (float) cc;
            }
          }
        }
        int dst = (k * cin + ci0) * DirectConv.CO;
        for (int p = 0; p < POINTS; p++) {
          System.arraycopy(t, p * WEIGHT_RUN * DirectConv.CO, u, p * perPoint + dst, run * DirectConv.CO);
        }
      }
    }
  }

  /** Input channels per run of {@link #weights}. */
  private static final int WEIGHT_RUN = 16;

  /** {@code G [a, b, c]^T} to {@code out[col + 3 i]}, {@code i = 0..5}. */
  private static void kernelColumn(double a, double b, double c, double[] out, int col) {
    double ac = a + c;
    double q = a * (1.0 / 24) + c * (1.0 / 6);
    out[col] = a * 0.25;
    out[col + 3] = -(ac + b) * (1.0 / 6);
    out[col + 6] = -(ac - b) * (1.0 / 6);
    out[col + 9] = q + b * (1.0 / 12);
    out[col + 12] = q - b * (1.0 / 12);
    out[col + 15] = c;
  }

  /**
   * The input transform of slots {@code [from, n)}, the plain loop: {@code V = B^T d B} of each slot's 6x6 patch
   * (element {@code (i, j)} of phase plane {@code (i % 4, j % 4)} at {@code s + (i / 4) we + j / 4}), point
   * {@code p = 6 r + c} to {@code v[at + p pointStride + s]}. The columns first, then the rows, each by
   * {@link #inputRow}'s operations.
   */
  static void inputTiles(float[] q, int phase, int we, int from, int n, float[] v, int at, int pointStride) {
    float[] d = new float[6];
    float[] r = new float[6];
    float[] cols = new float[36];
    for (int s = from; s < n; s++) {
      for (int j = 0; j < 6; j++) {
        for (int i = 0; i < 6; i++) {
          d[i] = q[((i & 3) * 4 + (j & 3)) * phase + s + (i >> 2) * we + (j >> 2)];
        }
        inputRow(d, r);
        for (int k = 0; k < 6; k++) {
          cols[k * 6 + j] = r[k];
        }
      }
      for (int k = 0; k < 6; k++) {
        System.arraycopy(cols, k * 6, d, 0, 6);
        inputRow(d, r);
        for (int l = 0; l < 6; l++) {
          v[at + (k * 6 + l) * pointStride + s] = r[l];
        }
      }
    }
  }

  /** {@code B^T d} of six values, in the order the vector loop computes it. */
  static void inputRow(float[] d, float[] r) {
    float a = d[4] - d[2];
    float b = (d[3] - d[1]) * 2f;
    float c = d[3] + d[4];
    float e = (d[1] + d[2]) * 4f;
    float f = d[4] - d[3];
    float g = (d[1] - d[2]) * 4f;
    r[0] = (d[0] * 4f + d[4]) - d[2] * 5f;
    r[1] = c - e;
    r[2] = f + g;
    r[3] = a + b;
    r[4] = a - b;
    r[5] = (d[1] * 4f + d[5]) - d[3] * 5f;
  }

  /**
   * The output transform of slots {@code [from, n)}, the plain loop: {@code A^T M A + bias}, output {@code (a, b)}
   * to {@code out[(4 a + b) outStride + s]}; the columns first (plus zero), then the rows (plus the bias), each by
   * {@link #outputRow}.
   */
  static void outputTiles(float[] m, int at, int pointStride, int from, int n, float bias, float[] out,
      int outStride) {
    float[] d = new float[6];
    float[] r = new float[4];
    float[] cols = new float[24];
    for (int s = from; s < n; s++) {
      for (int j = 0; j < 6; j++) {
        for (int i = 0; i < 6; i++) {
          d[i] = m[at + (i * 6 + j) * pointStride + s];
        }
        outputRow(d, 0f, r);
        for (int a = 0; a < 4; a++) {
          cols[a * 6 + j] = r[a];
        }
      }
      for (int a = 0; a < 4; a++) {
        System.arraycopy(cols, a * 6, d, 0, 6);
        outputRow(d, bias, r);
        for (int b = 0; b < 4; b++) {
          out[(a * 4 + b) * outStride + s] = r[b];
        }
      }
    }
  }

  /** {@code A^T m + bias} of six values, in the order the vector loop computes it. */
  static void outputRow(float[] m, float bias, float[] r) {
    float s12 = m[1] + m[2];
    float d12 = m[1] - m[2];
    float s34 = m[3] + m[4];
    float d34 = m[3] - m[4];
    r[0] = ((m[0] + s12) + s34) + bias;
    r[1] = (d12 + d34 * 2f) + bias;
    r[2] = (s12 + s34 * 4f) + bias;
    r[3] = ((d12 + d34 * 8f) + m[5]) + bias;
  }
}
