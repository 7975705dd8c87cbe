package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's trainable state in flat float32 vectors of one layout: the weights, Adam's two moments, the
 * step count and the optional moving average, with state dicts in and out and the fused Adam update.
 * Shared by every model of this backend.
 *
 * <p>The layout is a state dict's: entry {@code i} occupies {@code [offset(i), offset(i + 1))}, row-major.
 * The layers use {@linkplain #view views} into the weight vector, so a state dict is one copy and the
 * optimiser is one fused native call ({@code adamUpdate}) for all weights. Adam follows
 * {@code torch.optim.Adam}: the fused update computes {@code w -= lr' m / (sqrt(v) + eps')}, and
 * {@code lr' = lr sqrt(bc2) / bc1}, {@code eps' = eps sqrt(bc2)} make that PyTorch's
 * {@code w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)}; L2 weight decay is added to the (clipped)
 * gradient inside the same call, as PyTorch does.
 *
 * <p>Not thread-safe: the model that owns it serialises training and state access.
 */
final class FlatParameters implements AutoCloseable {
  private static final String EXP_AVG = ".exp_avg";
  private static final String EXP_AVG_SQ = ".exp_avg_sq";
  private static final String STEP = "step";

  private final Map<String, int[]> layout;
  private final List<String> names;
  private final int[] offsets;
  private final int size;
  private final PtNDManager manager;
  private final PtNDArray params;
  private final PtNDArray expAvg;
  private final PtNDArray expAvgSq;
  private PtNDArray ema;
  private long steps;

  /**
   * Allocates zeroed vectors for a layout on a new sub-manager of {@code parent}.
   *
   * @param parent the manager the vectors' manager descends from
   * @param layout the shapes by name, in state-dict order
   */
  FlatParameters(PtNDManager parent, Map<String, int[]> layout) {
    this.layout = new LinkedHashMap<>(layout);
    this.names = List.copyOf(layout.keySet());
    this.offsets = new int[names.size() + 1];
    long total = 0;
    for (int i = 0; i < names.size(); i++) {
      offsets[i] = (int) total;
      total += Shape.of(layout.get(names.get(i))).size();
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("more than " + (Integer.MAX_VALUE - 8) + " parameters");
      }
    }
    this.size = (int) total;
    offsets[names.size()] = size;
    this.manager = (PtNDManager) parent.newSubManager();
    this.params = Nd.zeros(manager, size);
    this.expAvg = Nd.zeros(manager, size);
    this.expAvgSq = Nd.zeros(manager, size);
  }

  /** The number of parameters. */
  int size() {
    return size;
  }

  /** The entry names in order. */
  List<String> names() {
    return names;
  }

  /** The manager that owns the vectors (and the views). */
  PtNDManager manager() {
    return manager;
  }

  /** The flat weight vector. */
  PtNDArray params() {
    return params;
  }

  /**
   * A view of entry {@code i} inside the weight vector (shares its memory), with the given dimensions.
   *
   * @param i the entry's index
   * @param dims the view's dimensions, whose product is the entry's size
   * @return the view, owned by {@link #manager()}
   */
  PtNDArray view(int i, long... dims) {
    PtNDArray flat = (PtNDArray) params.get(new NDIndex().addSliceDim(offsets[i], offsets[i + 1]));
    if (dims.length == 1) {
      return flat;
    }
    PtNDArray shaped = JniUtils.reshape(flat, dims);
    flat.close();
    return shaped;
  }

  /** The layout (shapes by name). */
  Map<String, int[]> layout() {
    return layout;
  }

  /** How many optimiser steps have been taken (Adam's {@code t}). */
  long steps() {
    return steps;
  }

  // ---------------------------------------------------------------- the update

  /**
   * One Adam step with the gradient {@code rescale * gradient}: optional clipping of its global L2 norm
   * ({@code torch.nn.utils.clip_grad_norm_}, folded into the rescale factor), then the fused update.
   *
   * @param gradient a flat gradient in this layout
   * @param rescale the factor that makes {@code gradient} the true gradient
   * @param opt the optimiser's settings
   */
  void adamStep(PtNDArray gradient, double rescale, OptimizerSpec opt) {
    double scale = rescale;
    if (opt.maxGradNorm() > 0) {
      double norm;
      try (PtNDArray n = JniUtils.norm(gradient, 2, new int[] {0}, false)) {
        norm = Math.abs(rescale) * Nd.readScalar(n);
      }
      double coef = opt.maxGradNorm() / (norm + 1e-6);
      if (coef < 1) {
        scale *= coef;
      }
    }
    steps++;
    double bc1 = 1 - Math.pow(opt.beta1(), steps);
    double bc2Sqrt = Math.sqrt(1 - Math.pow(opt.beta2(), steps));
    JniUtils.adamUpdate(
        params,
        gradient,
        expAvg,
        expAvgSq,
        (float) opt.learningRate(),
        (float) (opt.learningRate() * bc2Sqrt / bc1),
        (float) opt.weightDecay(),
        (float) scale,
        -1f, // no elementwise clipping
        (float) opt.beta1(),
        (float) opt.beta2(),
        (float) (opt.epsilon() * bc2Sqrt),
        false);
  }

  // ---------------------------------------------------------------- state dicts

  /**
   * Splits a flat vector in this layout into named entries.
   *
   * @param flat the values
   * @param suffix appended to every name
   * @return the entries
   */
  StateDict split(float[] flat, String suffix) {
    StateDict.Builder b = StateDict.builder();
    for (int i = 0; i < names.size(); i++) {
      int[] shape = layout.get(names.get(i));
      float[] part = Arrays.copyOfRange(flat, offsets[i], offsets[i + 1]);
      b.put(names.get(i) + suffix, FloatArray.wrap(Shape.of(shape), part));
    }
    return b.build();
  }

  /** Concatenates named entries (already validated) into a flat vector in this layout. */
  private float[] join(StateDict d, String suffix) {
    float[] flat = new float[size];
    for (int i = 0; i < names.size(); i++) {
      d.get(names.get(i) + suffix).copyTo(flat, offsets[i]);
    }
    return flat;
  }

  /** A copy of the weights. */
  StateDict stateDict() {
    return split(Nd.read(params, size), "");
  }

  /**
   * Replaces the weights.
   *
   * @param weights exactly this layout's names and shapes, finite
   * @param what the model's name for messages, e.g. "mlp"
   */
  void loadStateDict(StateDict weights, String what) {
    weights.requireLayout(layout, what + " weights");
    Nd.write(params, join(weights, ""), 0, size);
  }

  private Map<String, int[]> optimizerLayout() {
    Map<String, int[]> m = new LinkedHashMap<>();
    for (String suffix : new String[] {EXP_AVG, EXP_AVG_SQ}) {
      for (String name : names) {
        m.put(name + suffix, layout.get(name));
      }
    }
    m.put(STEP, new int[] {1});
    return m;
  }

  /** Adam's moments and step count. */
  StateDict optimizerState() {
    StateDict.Builder b = StateDict.builder();
    split(Nd.read(expAvg, size), EXP_AVG).entries().forEach(b::put);
    split(Nd.read(expAvgSq, size), EXP_AVG_SQ).entries().forEach(b::put);
    b.put(STEP, FloatArray.scalar(steps));
    return b.build();
  }

  /** Restores what {@link #optimizerState()} wrote. */
  void loadOptimizerState(StateDict state) {
    state.requireLayout(optimizerLayout(), "Adam state");
    float step = state.get(STEP).get(0);
    if (step < 0 || step != Math.rint(step)) {
      throw new IllegalArgumentException(
          "Adam state: 'step' must be a whole number at least 0, got " + step);
    }
    Nd.write(expAvg, join(state, EXP_AVG), 0, size);
    Nd.write(expAvgSq, join(state, EXP_AVG_SQ), 0, size);
    steps = (long) step;
  }

  /** {@code ema = decay * ema + (1 - decay) * weights}, starting from the weights. */
  void updateEma(double decay) {
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
    }
    if (ema == null) {
      ema = JniUtils.clone(params);
    }
    try (PtNDArray keep = Nd.scalar(manager, decay);
        PtNDArray take = Nd.scalar(manager, 1 - decay);
        PtNDArray part = JniUtils.mul(params, take)) {
      JniUtils.muli(ema, keep);
      JniUtils.addi(ema, part);
    }
  }

  /** The moving average, or the weights if there is none yet. */
  StateDict emaStateDict() {
    return split(Nd.read(ema == null ? params : ema, size), "");
  }

  /** Replaces the moving average. */
  void loadEmaStateDict(StateDict weights) {
    weights.requireLayout(layout, "EMA weights");
    if (ema == null) {
      ema = Nd.empty(manager, size);
    }
    Nd.write(ema, join(weights, ""), 0, size);
  }

  @Override
  public void close() {
    manager.close();
  }
}
