package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.NetworkModel;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Each layer kind of this backend against the reference kernels, in small networks built for it (so every
 * kernel's forward pass, its parameter gradients and, through a layer before it, its input gradient are
 * compared), on shapes and settings the two architectures do not use: odd sizes, asymmetric padding,
 * strides, several heads, row-major and channel-major inputs to each kind, batches split into passes, and
 * both forms of the convolutions' forward pass (products of columns, and {@link DirectConv} on every
 * stride-1 shape on two lanes), whichever this CPU would choose.
 *
 * <p>Tolerances: outputs within 1e-5 of their largest magnitude (float32 sums of at most a few hundred
 * terms in another order than the reference's double sums); each gradient within 1e-4 of its largest
 * magnitude, or of a hundredth of the network's largest gradient where that is more (sums over the batch
 * and the positions, a few thousand terms; a far smaller gradient is a difference of larger terms).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Nd4jLayerKindsTest {
  private static final double OUT_TOL = 1e-5;
  private static final double GRAD_TOL = 1e-4;
  private static final int T = 1000;

  private Backend backend;
  private Backend split;
  private Backend products;
  private Backend direct;
  private Backend winograd;
  private Backend winogradBlas;
  private Backend winograd4;
  private DirectConv.Simd loop;
  private final ReferenceBackend ref = new ReferenceBackend();

  @BeforeAll
  void open() {
    backend = Nd4jTests.createBackend();
    // a backend whose passes hold a few kilobytes: every batch below runs in several passes
    split = new Nd4jBackend(NativeRuntime.load(1), 16 << 10, 1);
    // both forms of the convolutions' forward pass on any CPU (the direct one in the inner loop of this CPU's
    // vectors: 512 bits on AVX-512, 256 on AVX2; elsewhere the 512-bit loop, slowly; in the pom's second test
    // run the other width's loop, Nd4jTests.convolutionLoop), the direct one on every stride-1 shape, split
    // into passes, on two lanes
    products = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 1, new DirectConv.Use(null, false));
    // ... in tiles of 64 positions (a few hundred input floats a tile), so planes from 8x8 up take several
    loop = Nd4jTests.convolutionLoop();
    // (and the direct weight gradient of the layers of 32k output channels, in 512-bit vectors where the CPU has
    // them, elsewhere in its plain loop)
    direct = new Nd4jBackend(NativeRuntime.load(1), 16 << 10, 2,
        new DirectConv.Use(loop, true, 256, 0, true, Nd4jTests.weightGradientLoop()));
    // Winograd's F(2x2, 3x3) for every 3x3 stride-1 convolution (also where it does not pay), in chunks of one or
    // two images on two lanes (the transforms' plain loops where the Vector API is off)
    winograd = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 2,
        new DirectConv.Use(null, true, DirectConv.TILE_FLOATS, 2048));
    // ... and with the forward pass's products by OpenBLAS (the path where the Vector API is off)
    winogradBlas = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 2,
        new DirectConv.Use(null, true, DirectConv.TILE_FLOATS, 2048, false));
    // Winograd's F(4x4, 3x3) for the forward pass and the input gradient of every 3x3 layer that keeps the size
    // (any channels, any plane), the products in this CPU's loop, on two lanes
    winograd4 = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 2,
        new DirectConv.Use(loop, true, 256, 0, true, Nd4jTests.weightGradientLoop(), true));
  }

  @AfterAll
  void close() {
    backend.close();
    split.close();
    products.close();
    direct.close();
    winograd.close();
    winogradBlas.close();
    winograd4.close();
  }

  /** A network for a test: its layout and the method that builds it. */
  private record Spec(
      Shape imageShape, Map<String, int[]> layout, BiFunction<NetworkBuilder, Node, Node> body) implements ModelSpec {
    @Override
    public String kind() {
      return "test";
    }

    @Override
    public int numTrainTimesteps() {
      return T;
    }

    @Override
    public Map<String, int[]> parameterShapes() {
      return layout;
    }

    @Override
    public StateDict initialWeights(long seed) {
      RandomGenerator g = Noise.seeded(seed).generator();
      StateDict.Builder b = StateDict.builder();
      for (Map.Entry<String, int[]> e : layout.entrySet()) {
        Shape s = Shape.of(e.getValue());
        double bound = e.getValue().length == 1 ? 0.5 : 1.0 / Math.sqrt(s.size() / (double) e.getValue()[0]);
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) ((2 * g.nextDouble() - 1) * bound);
        }
        b.put(e.getKey(), FloatArray.wrap(s, v));
      }
      return b.build();
    }

    @Override
    public Network network() {
      NetworkBuilder b = new NetworkBuilder(layout);
      return b.build(body.apply(b, b.input(imageShape)));
    }
  }

  /** The layout being declared by a test. */
  private static final class Layout {
    final LinkedHashMap<String, int[]> m = new LinkedHashMap<>();

    Layout conv(String name, int in, int out, int k) {
      m.put(name + ".weight", new int[] {out, in, k, k});
      m.put(name + ".bias", new int[] {out});
      return this;
    }

    Layout linear(String name, int in, int out) {
      m.put(name + ".weight", new int[] {out, in});
      m.put(name + ".bias", new int[] {out});
      return this;
    }

    Layout norm(String name, int c) {
      m.put(name + ".weight", new int[] {c});
      m.put(name + ".bias", new int[] {c});
      return this;
    }
  }

  private static double maxAbs(float[] v) {
    double m = 0;
    for (float x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  private static double relative(float[] want, float[] got) {
    return Batches.maxAbsDiff(want, got) / Math.max(1e-30, maxAbs(want));
  }

  /** Output, every gradient, and a training step (with dropout masks, if any) against the reference. */
  private void check(String what, Spec spec, int batch) {
    for (Backend b : new Backend[] {backend, split, products, direct, winograd, winogradBlas, winograd4}) {
      Shape shape = Shape.batchOf(batch, spec.imageShape());
      float[] x = Batches.normal(shape, 1);
      float[] y = Batches.normal(shape, 2);
      int[] ts = Batches.timesteps(batch, T, 3);
      TensorFactory f = b.tensors();
      OptimizerSpec adam = OptimizerSpec.adam(1e-3);
      try (NetworkModel m = NetworkModel.create(spec, b.layers(), f, adam, 5);
          NetworkModel r = NetworkModel.create(spec, ref.layers(), ref, adam, 5);
          TensorScope s = f.openScope();
          TensorScope s2 = ref.openScope()) {
        String where = what + (b == split ? " (split into passes)" : b == products ? " (products of columns)"
            : b == direct ? " (direct convolutions, " + loop.getClass().getSimpleName() + ")"
            : b == winograd ? " (Winograd convolutions)"
            : b == winogradBlas ? " (Winograd convolutions, products by OpenBLAS)"
            : b == winograd4 ? " (Winograd F(4x4, 3x3))" : "");
        Tensor xt = f.fromArray(x, shape);
        Tensor yt = f.fromArray(y, shape);
        Tensor xr = ref.fromArray(x, shape);
        Tensor yr = ref.fromArray(y, shape);
        double d = relative(r.predict(xr, ts).toFloatArray(), m.predict(xt, ts).toFloatArray());
        assertTrue(d < OUT_TOL, where + ": output differs by " + d);
        int[] one = new int[batch]; // a sampling step: one timestep for the whole batch
        Arrays.fill(one, ts[batch / 2]);
        d = relative(r.predict(xr, one).toFloatArray(), m.predict(xt, one).toFloatArray());
        assertTrue(d < OUT_TOL, where + ": output at one timestep for the batch differs by " + d);
        StateDict want = r.gradients(xr, ts, yr);
        StateDict got = m.gradients(xt, ts, yt);
        double largest = 0;
        for (String name : want.names()) {
          largest = Math.max(largest, maxAbs(want.get(name).toArray()));
        }
        for (String name : want.names()) {
          // a gradient far smaller than the network's is the difference of larger terms (or zero in exact
          // arithmetic, as a bias right before a group norm of one channel per group): its rounding is
          // compared with a hundredth of the network's largest gradient
          float[] w = want.get(name).toArray();
          double scale = Math.max(maxAbs(w), 1e-2 * largest);
          double gd = Batches.maxAbsDiff(w, got.get(name).toArray()) / scale;
          assertTrue(gd < GRAD_TOL, where + ": gradient of " + name + " differs by " + gd);
        }
        TrainingStepResult a = r.step(xr, ts, yr);
        TrainingStepResult c = m.step(xt, ts, yt);
        assertEquals(a.loss(), c.loss(), 1e-5 * a.loss(), where + ": loss of a training step");
        d = relative(a.prediction().toFloatArray(), c.prediction().toFloatArray());
        assertTrue(d < OUT_TOL, where + ": training prediction differs by " + d);
      }
    }
  }

  private static Layer.Padding pad(int p) {
    return Layer.Padding.of(p);
  }

  @Test
  void convolutionsOfEveryShape() {
    // 3x3 same, 1x1, 3x3 valid then padded back, a stride-2 with right/bottom padding, 2x2 stride 2
    Layout l = new Layout().conv("a", 3, 5, 3).conv("b", 5, 4, 1).conv("c", 4, 6, 3).conv("d", 6, 3, 3)
        .conv("down", 3, 4, 3).conv("down2", 4, 2, 2).linear("fc", 2, 3 * 7 * 6);
    Spec spec = new Spec(Shape.of(3, 7, 6), l.m, (b, x) -> {
      Node h = b.conv("a", x, 5, 3, 1, pad(1));
      h = b.conv("b", h, 4, 1, 1, pad(0));
      h = b.conv("c", h, 6, 3, 1, pad(0)); // 5x4
      h = b.conv("d", h, 3, 3, 1, new Layer.Padding(2, 0, 0, 2)); // keeps 5x4, asymmetric along both axes
      Node down = b.conv("down", h, 4, 3, 2, new Layer.Padding(0, 0, 1, 1)); // 2x2, right and bottom padding
      Node down2 = b.conv("down2", down, 2, 2, 2, pad(0)); // 1x1
      Node v = b.linear("fc", b.reshape(down2, Shape.of(down2.itemShape().size())), 3 * 7 * 6);
      return b.reshape(v, Shape.of(3, 7, 6));
    });
    check("convolutions", spec, 3);
  }

  @Test
  void directWeightGradientsOfWideLayers() {
    // layers of 32 and 64 output channels (the direct weight gradient's blocks), with a 5x5 kernel padded
    // asymmetrically; 4x5 planes in chunks of many images, and a batch of several chunks per group of images
    Layout l = new Layout().conv("a", 3, 8, 3).conv("b", 8, 32, 3).conv("c", 32, 64, 5).conv("d", 64, 3, 3);
    Spec spec = new Spec(Shape.of(3, 4, 5), l.m, (b, x) -> {
      Node h = b.silu(b.conv("a", x, 8, 3, 1, pad(1)));
      h = b.silu(b.conv("b", h, 32, 3, 1, pad(1)));
      h = b.silu(b.conv("c", h, 64, 5, 1, new Layer.Padding(2, 1, 2, 3)));
      return b.conv("d", h, 3, 3, 1, pad(1));
    });
    check("direct weight gradients", spec, 90);
  }

  @Test
  void convolutionsOfPlanesInSeveralTiles() {
    // 20x18 planes: 400 and 440 padded positions, in tiles of 64 on the direct backend (the last one short)
    Layout l = new Layout().conv("a", 3, 6, 3).conv("b", 6, 3, 5);
    Spec spec = new Spec(Shape.of(3, 20, 18), l.m, (b, x) -> {
      Node h = b.silu(b.conv("a", x, 6, 3, 1, pad(1)));
      return b.conv("b", h, 3, 5, 1, new Layer.Padding(2, 1, 2, 3));
    });
    check("convolutions in tiles", spec, 2);
  }

  @Test
  void convolutionsOfLargePlanesInGroups() {
    // 32x32 planes: Winograd F(4x4, 3x3) takes four images a group (288 tile slots), its products in tiles of 96
    // slots on the backends with small tiles; the direct loop's tiles of 64 positions
    Layout l = new Layout().conv("a", 4, 6, 3).conv("b", 6, 4, 3);
    Spec spec = new Spec(Shape.of(4, 32, 32), l.m, (b, x) -> {
      Node h = b.silu(b.conv("a", x, 6, 3, 1, pad(1)));
      return b.conv("b", h, 4, 3, 1, pad(1));
    });
    check("convolutions of 32x32 planes", spec, 5);
  }

  @Test
  void stridedConvolutionGradientsOfPlanesLargerThanAChunk() {
    // a stride-2 downsampling, as a U-Net's on 128x128 images, on 66x66 planes: its input gradient comes from columns
    // on every backend here (no other form takes a stride of 2), added back onto each plane of 4,356 values, more
    // than a heap chunk of 4,096 (Workspace.CHUNK), in scratch that holds the plane before (two channels, two
    // images): a zeroing of only the first 4,096 leaves the rest of the plane before in the gradient
    Layout l = new Layout().conv("pre", 2, 2, 1).conv("down", 2, 2, 3);
    Spec spec = new Spec(Shape.of(2, 66, 66), l.m, (b, x) -> {
      Node h = b.conv("pre", x, 2, 1, 1, pad(0));
      return b.upsample(b.conv("down", h, 2, 3, 2, new Layer.Padding(0, 0, 1, 1)), 2);
    });
    check("strided convolution of 66x66 planes", spec, 2);
  }

  @Test
  void groupNormOnImagesAndVectorsWithActivations() {
    Layout l = new Layout().conv("a", 4, 6, 3).norm("gn", 6).conv("b", 6, 4, 3).norm("gn2", 4).norm("gn3", 4)
        .linear("fc", 1, 6).norm("vn", 6).linear("fc2", 6, 4 * 5 * 3);
    Spec spec = new Spec(Shape.of(4, 5, 3), l.m, (b, x) -> {
      Node h = b.silu(b.groupNorm("gn", b.conv("a", x, 6, 3, 1, pad(1)), 3, 1e-5)); // SiLU fused into the norm
      h = b.relu(b.conv("b", h, 4, 3, 1, pad(1)));
      Node n2 = b.groupNorm("gn2", h, 2, 1e-5);
      Node u = b.add(b.silu(n2), n2); // the norm has two readers: nothing fused
      Node w = b.relu(b.groupNorm("gn3", u, 2, 1e-5)); // ReLU fused
      Node t = b.silu(b.groupNorm("vn", b.linear("fc", b.timestepScale(T), 6), 2, 1e-6)); // on vectors
      Node v = b.reshape(b.linear("fc2", t, 4 * 5 * 3), Shape.of(4, 5, 3));
      return b.add(w, v, 0.5);
    });
    check("group norm", spec, 4);
  }

  @Test
  void upsamplingAddBroadcastAndConcatenation() {
    Layout l = new Layout().conv("down", 3, 4, 3).conv("up", 4, 4, 3).linear("t", 8, 4).conv("skip", 3, 2, 1)
        .conv("out", 6, 3, 3).linear("u", 1, 2);
    Spec spec = new Spec(Shape.of(3, 6, 9), l.m, (b, x) -> {
      Node d = b.conv("down", x, 4, 3, 3, pad(0)); // 2x3
      Node u = b.silu(b.conv("up", b.upsample(d, 3), 4, 3, 1, pad(1))); // 6x9
      Node e = b.timestepEmbedding(new Layer.TimestepEmbedding(8, false, 1, 10000, Layer.Precision.DOUBLE));
      u = b.add(u, b.linear("t", e, 4));
      Node s = b.add(b.conv("skip", x, 2, 1, 1, pad(0)), b.linear("u", b.timestepScale(T), 2), 2.0);
      return b.conv("out", b.concat(u, s), 3, 3, 1, pad(1));
    });
    check("upsampling, add, concatenation", spec, 3);
  }

  @Test
  void attentionWithSeveralHeadsAndDropout() {
    Layout l = new Layout().conv("qkv", 2, 12, 1).conv("proj", 4, 2, 1).conv("c", 2, 2, 3);
    Spec spec = new Spec(Shape.of(2, 3, 5), l.m, (b, x) -> {
      Node qkv = b.conv("qkv", x, 12, 1, 1, pad(0));
      Node a = b.attention(b.sliceChannels(qkv, 0, 4), b.sliceChannels(qkv, 4, 8), b.sliceChannels(qkv, 8, 12), 2);
      Node h = b.add(x, b.conv("proj", a, 2, 1, 1, pad(0)));
      return b.conv("c", b.dropout(h, 0.3, 77, 0), 2, 3, 1, pad(1));
    });
    check("attention and dropout", spec, 3);
  }

  @Test
  void rowMajorConcatenationIntoALinearLayerAndOutOfIt() {
    // the tutorial MLP's shape of network, and the same concatenation read by a non-linear kind
    Layout l = new Layout().linear("l0", 1 + 12, 16).linear("l1", 16, 12).norm("n", 13);
    Spec spec = new Spec(Shape.of(3, 2, 2), l.m, (b, x) -> {
      Node in = b.concat(b.timestepScale(T), b.reshape(x, Shape.of(12)));
      Node h = b.relu(b.linear("l0", in, 16));
      Node n = b.groupNorm("n", in, 1, 1e-5);
      Node o = b.linear("l1", h, 12);
      return b.reshape(b.add(o, b.sliceChannels(n, 1, 13)), Shape.of(3, 2, 2));
    });
    check("row-major concatenation", spec, 5);
  }

}
