package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The DDPM U-Net of {@link UNetSpec} on PyTorch, trained through libtorch's autograd.
 *
 * <p><b>Weights.</b> As for the MLP, all weights live in one flat float32 vector in state-dict order
 * ({@link FlatParameters}); each entry is a view into it that is an autograd leaf ({@code requires_grad}),
 * shaped for its use (convolution weights {@code [out, in, k, k]}, GroupNorm weights {@code [C, 1, 1]}).
 * After the backward pass the leaves' gradients are concatenated into one flat gradient, so Adam (with
 * clipping and weight decay) is the same single fused call as the MLP's, and the leaves' gradients are then
 * zeroed.
 *
 * <p><b>Autograd without a {@code GradientCollector}.</b> DJL's {@code PtGradientCollector} allows one
 * collector per process (a static flag), although libtorch's grad mode, the only state it sets, is
 * thread-local. This class sets that grad mode itself ({@code JniUtils.setGradMode}) around its own forward
 * and backward pass, on the calling thread only, and restores it afterwards: so two models may train at
 * once on two threads, and a {@link #predict} on another thread never records a graph (it turns grad mode
 * off on its thread; libtorch's default for a new thread is on).
 *
 * <p><b>Operations.</b> GroupNorm is {@code layer_norm} over each group (the input viewed as
 * {@code [N, G, C/G * H * W]}, with constant unit scale) followed by the per-channel affine; SiLU is
 * {@code x * sigmoid(x)}; upsampling is {@code interpolate(nearest)}; attention is two batched matrix
 * products around a softmax. Dropout (training only) multiplies by {@link UNetSpec#dropoutMask}, drawn
 * from the portable generator, so a run is reproducible on every backend.
 *
 * <p>{@link #predict} only reads the weights and keeps its intermediates in a per-call DJL scope, so any
 * number of threads may call it at once.
 */
final class DjlUNet extends DjlModel {
  private final UNetSpec spec;
  private final OptimizerSpec opt;
  private final long seed;
  private final List<PtNDArray> leaves = new ArrayList<>();
  private final Map<String, PtNDArray> weights = new HashMap<>();
  private final Map<String, Integer> blockIndex = new HashMap<>();
  private final List<List<UNetSpec.ResBlock>> down = new ArrayList<>();
  private final List<List<UNetSpec.ResBlock>> up = new ArrayList<>();
  /** GroupNorm's constant unit scale and zero shift by normalised size (C/G * H * W). */
  private final Map<Long, PtNDArray[]> normConstants = new ConcurrentHashMap<>();

  DjlUNet(DjlBackend backend, UNetSpec spec, OptimizerSpec opt, long seed) {
    super(backend, spec, spec.parameterShapes());
    this.spec = spec;
    this.opt = opt;
    this.seed = seed;
    int i = 0;
    for (Map.Entry<String, int[]> e : state.layout().entrySet()) {
      int[] s = e.getValue();
      long[] dims =
          UNetSpec.isNorm(e.getKey()) ? new long[] {s[0], 1, 1} : java.util.Arrays.stream(s).asLongStream().toArray();
      PtNDArray leaf = state.view(i++, dims);
      JniUtils.attachGradient(leaf, true);
      leaves.add(leaf);
      weights.put(e.getKey(), leaf);
    }
    List<UNetSpec.ResBlock> blocks = spec.resBlocks();
    for (int b = 0; b < blocks.size(); b++) {
      blockIndex.put(blocks.get(b).prefix(), b);
    }
    for (int level = 0; level < spec.levels(); level++) {
      down.add(spec.downBlocks(level));
      up.add(spec.upBlocks(level));
    }
  }

  // ---------------------------------------------------------------- layers

  private PtNDArray w(String name) {
    return weights.get(name);
  }

  private PtNDArray conv(PtNDArray x, String layer, int stride, int padding) {
    int[] pad = {padding, padding, padding, padding};
    return Convolution.apply(backend.root(), x, w(layer + ".weight"), w(layer + ".bias"), stride, pad);
  }

  private PtNDArray linear(PtNDArray x, String layer) {
    return JniUtils.linear(x, w(layer + ".weight"), w(layer + ".bias"));
  }

  private static PtNDArray silu(PtNDArray x) {
    return JniUtils.mul(x, JniUtils.sigmoid(x));
  }

  private PtNDArray groupNorm(PtNDArray x, String layer) {
    long[] s = x.getShape().getShape();
    long rest = s[1] / spec.groups() * s[2] * s[3];
    PtNDArray grouped = JniUtils.reshape(x, new long[] {s[0], spec.groups(), rest});
    PtNDArray[] unit = normConstants.computeIfAbsent(rest, this::unitAffine);
    PtNDArray normed =
        JniUtils.layerNorm(
            grouped, new ai.djl.ndarray.types.Shape(rest), unit[0], unit[1], UNetSpec.GROUP_NORM_EPS);
    PtNDArray scaled = JniUtils.mul(JniUtils.reshape(normed, s), w(layer + ".weight"));
    return JniUtils.add(scaled, w(layer + ".bias"));
  }

  /** Ones and zeros of one size on the model's manager, kept out of any caller's scope. */
  private PtNDArray[] unitAffine(long size) {
    PtNDArray ones = Nd.fromArray(state.manager(), filled(size, 1f), size);
    PtNDArray zeros = Nd.zeros(state.manager(), size);
    NDScope.unregister(ones, zeros);
    return new PtNDArray[] {ones, zeros};
  }

  private static float[] filled(long size, float v) {
    float[] a = new float[Math.toIntExact(size)];
    java.util.Arrays.fill(a, v);
    return a;
  }

  /** The residual block; {@code step > 0} applies its dropout mask for that optimiser step. */
  private PtNDArray resBlock(PtNDArray x, PtNDArray tembAct, UNetSpec.ResBlock b, long step) {
    String p = b.prefix() + ".";
    PtNDArray h = conv(silu(groupNorm(x, p + "norm1")), p + "conv1", 1, 1);
    long n = x.getShape().get(0);
    PtNDArray t = JniUtils.reshape(linear(tembAct, p + "temb_proj"), new long[] {n, b.outChannels(), 1, 1});
    h = silu(groupNorm(JniUtils.add(h, t), p + "norm2"));
    if (step > 0 && spec.dropout() > 0) {
      long[] s = h.getShape().getShape();
      float[] mask = spec.dropoutMask(seed, step, blockIndex.get(b.prefix()), Math.toIntExact(h.size()));
      h = JniUtils.mul(h, Nd.fromArray(backend.root(), mask, s));
    }
    h = conv(h, p + "conv2", 1, 1);
    PtNDArray skip = b.hasShortcut() ? conv(x, p + "nin_shortcut", 1, 0) : x;
    return JniUtils.add(skip, h);
  }

  private PtNDArray attention(PtNDArray x) {
    long[] s = x.getShape().getShape();
    long n = s[0];
    long c = s[1];
    long hw = s[2] * s[3];
    PtNDArray qkv = conv(groupNorm(x, "mid.attn_1.norm"), "mid.attn_1.qkv", 1, 0);
    NDList parts = JniUtils.split(JniUtils.reshape(qkv, new long[] {n, 3, c, hw}), 1, 1);
    long[] chw = {n, c, hw};
    PtNDArray q = JniUtils.reshape((PtNDArray) parts.get(0), chw);
    PtNDArray k = JniUtils.reshape((PtNDArray) parts.get(1), chw);
    PtNDArray v = JniUtils.reshape((PtNDArray) parts.get(2), chw);
    PtNDArray logits = JniUtils.bmm(JniUtils.transpose(q, 1, 2), k); // [n, query, key]
    logits = JniUtils.mul(logits, Nd.scalar(backend.root(), 1.0 / Math.sqrt(c)));
    PtNDArray weightsOfKeys = JniUtils.softmax(logits, 2, DataType.FLOAT32);
    PtNDArray h = JniUtils.bmm(v, JniUtils.transpose(weightsOfKeys, 1, 2)); // [n, c, query]
    h = conv(JniUtils.reshape(h, s), "mid.attn_1.proj_out", 1, 0);
    return JniUtils.add(x, h);
  }

  /**
   * The network; every array it creates is attached to the backend's root manager and registered with the
   * caller's DJL scope.
   *
   * @param x {@code [N, C, H, W]}
   * @param timesteps the timesteps
   * @param step the optimiser step whose dropout masks apply, or 0 for none (evaluation)
   * @return {@code [N, C, H, W]}
   */
  private PtNDArray forward(PtNDArray x, int[] timesteps, long step) {
    int n = timesteps.length;
    PtNDArray emb = Nd.fromArray(backend.root(), spec.timestepEmbedding(timesteps), n, spec.baseChannels());
    PtNDArray temb = linear(silu(linear(emb, "temb.dense.0")), "temb.dense.1");
    PtNDArray tembAct = silu(temb);

    Deque<PtNDArray> hs = new ArrayDeque<>();
    PtNDArray h = conv(x, "conv_in", 1, 1);
    hs.push(h);
    int levels = spec.levels();
    for (int level = 0; level < levels; level++) {
      for (UNetSpec.ResBlock b : down.get(level)) {
        h = resBlock(h, tembAct, b, step);
        hs.push(h);
      }
      if (level < levels - 1) {
        h = conv(h, "down." + level + ".downsample.conv", 2, 1);
        hs.push(h);
      }
    }
    h = resBlock(h, tembAct, spec.midBlock(1), step);
    if (spec.attention()) {
      h = attention(h);
    }
    h = resBlock(h, tembAct, spec.midBlock(2), step);
    for (int level = levels - 1; level >= 0; level--) {
      for (UNetSpec.ResBlock b : up.get(level)) {
        h = resBlock(JniUtils.cat(new PtNDArray[] {h, hs.pop()}, 1), tembAct, b, step);
      }
      if (level > 0) {
        long[] s = h.getShape().getShape();
        h = JniUtils.interpolate(h, new long[] {2 * s[2], 2 * s[3]}, 0, false); // 0: nearest
        h = conv(h, "up." + level + ".upsample.conv", 1, 1);
      }
    }
    return conv(silu(groupNorm(h, "norm_out")), "conv_out", 1, 1);
  }

  /** The forward pass and the loss's backward pass, recording the graph on this thread only. */
  private record Pass(PtNDArray output, double loss) {}

  private Pass forwardBackward(DjlTensor x, int[] timesteps, DjlTensor target, long step) {
    boolean before = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
    try {
      PtNDArray out = forward(x.nd(), timesteps, step);
      PtNDArray d = JniUtils.sub(out, target.nd());
      PtNDArray loss = JniUtils.mean(JniUtils.mul(d, d));
      JniUtils.backward(loss, Nd.scalar(backend.root(), 1.0), false, false);
      return new Pass(out, Nd.readScalar(loss));
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  /** The leaves' gradients as one flat vector in state-dict order (registered with the caller's scope). */
  private PtNDArray flatGradient() {
    PtNDArray[] parts = new PtNDArray[leaves.size()];
    long[] flat = {-1};
    for (int i = 0; i < parts.length; i++) {
      PtNDArray g = JniUtils.getGradient(leaves.get(i));
      parts[i] = g == null ? Nd.zeros(backend.root(), leaves.get(i).size()) : JniUtils.reshape(g, flat);
    }
    return JniUtils.cat(parts, 0);
  }

  private void zeroGradients() {
    for (PtNDArray leaf : leaves) {
      JniUtils.zeroGrad(leaf);
    }
  }

  // ---------------------------------------------------------------- NoisePredictor / TrainableModel

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public Tensor predict(Tensor noisy, int[] timesteps) {
    DjlTensor x = input(noisy, timesteps);
    PtNDArray out;
    boolean before = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try (NDScope scope = new NDScope()) {
      out = forward(x.nd(), timesteps, 0);
      NDScope.unregister(out);
    } finally {
      JniUtils.setGradMode(before);
    }
    return backend.wrap(out, noisy.shape());
  }

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public StepOutput step(Tensor noisy, int[] timesteps, Tensor target) {
    DjlTensor x = input(noisy, timesteps);
    DjlTensor y = DjlTensor.of(backend, target, noisy.shape(), "target");
    releaseLastPrediction();
    double loss;
    PtNDArray prediction;
    try (NDScope scope = new NDScope()) {
      Pass pass;
      try {
        pass = forwardBackward(x, timesteps, y, state.steps() + 1);
        state.adamStep(flatGradient(), 1.0, opt);
      } finally {
        zeroGradients();
      }
      loss = pass.loss();
      prediction = JniUtils.detachGradient(pass.output());
      NDScope.unregister(prediction);
    }
    return stepOutput(loss, prediction, noisy.shape());
  }

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    DjlTensor x = input(noisy, timesteps);
    DjlTensor y = DjlTensor.of(backend, target, noisy.shape(), "target");
    float[] g;
    try (NDScope scope = new NDScope()) {
      try {
        forwardBackward(x, timesteps, y, 0);
        g = Nd.read(flatGradient(), state.size());
      } finally {
        zeroGradients();
      }
    }
    return state.split(g, "");
  }
}
