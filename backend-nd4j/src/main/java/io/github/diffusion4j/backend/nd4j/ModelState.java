package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model's trainable state in flat float32 vectors of one internal layout: the weights (on the heap for
 * the optimiser and in native memory for the network), the gradient, Adam's two moments, the step count
 * and the optional moving average, with state dicts in and out and PyTorch's Adam. Shared by every model
 * of this backend; a {@link Codec} maps the internal layout to the state dict's names and layouts.
 *
 * <p>Adam is one vectorised pass over Java arrays ({@link Kernels#adam}) followed by one copy of the
 * weights into native memory ({@link #syncWeights}). Not thread-safe: the owning model serialises
 * training and state access; {@link #params} may be read by any number of predicting threads between
 * updates.
 */
final class ModelState implements AutoCloseable {
  private static final String EXP_AVG = ".exp_avg";
  private static final String EXP_AVG_SQ = ".exp_avg_sq";
  private static final String STEP = "step";

  /** Maps a flat vector in the model's internal layout to and from state-dict entries. */
  interface Codec {
    /**
     * Splits a flat vector into named entries in PyTorch's layouts.
     *
     * @param flat the values in the internal layout (not kept)
     * @param suffix appended to every name
     * @return the entries, in state-dict order
     */
    StateDict toStateDict(float[] flat, String suffix);

    /**
     * Writes named entries (already checked against the layout) into a flat vector.
     *
     * @param d the entries
     * @param suffix appended to every name
     * @param flat the destination, in the internal layout
     */
    void fromStateDict(StateDict d, String suffix, float[] flat);
  }

  /**
   * The codec of a model whose internal layout is the state dict's: entry {@code i} occupies
   * {@code [offset(i), offset(i + 1))}, row-major, in state-dict order.
   *
   * @param layout the shapes by name, in state-dict order
   * @return the codec
   */
  static Codec inOrder(Map<String, int[]> layout) {
    List<String> names = new ArrayList<>(layout.keySet());
    int[] offsets = offsets(layout);
    return new Codec() {
      @Override
      public StateDict toStateDict(float[] flat, String suffix) {
        StateDict.Builder b = StateDict.builder();
        for (int i = 0; i < names.size(); i++) {
          float[] part = Arrays.copyOfRange(flat, offsets[i], offsets[i + 1]);
          b.put(names.get(i) + suffix, FloatArray.wrap(Shape.of(layout.get(names.get(i))), part));
        }
        return b.build();
      }

      @Override
      public void fromStateDict(StateDict d, String suffix, float[] flat) {
        for (int i = 0; i < names.size(); i++) {
          d.get(names.get(i) + suffix).copyTo(flat, offsets[i]);
        }
      }
    };
  }

  /**
   * The offsets of a layout's entries in state-dict order, with the total size last.
   *
   * @param layout the shapes by name
   * @return {@code layout.size() + 1} offsets
   * @throws IllegalArgumentException if the total does not fit an array
   */
  static int[] offsets(Map<String, int[]> layout) {
    int[] offsets = new int[layout.size() + 1];
    long total = 0;
    int i = 0;
    for (int[] shape : layout.values()) {
      offsets[i++] = (int) total;
      total += Shape.of(shape).size();
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("more than " + (Integer.MAX_VALUE - 8) + " parameters");
      }
    }
    offsets[i] = (int) total;
    return offsets;
  }

  private final Map<String, int[]> layout;
  private final Codec codec;
  private final String what;
  private final int size;
  /** The weights in native memory, a copy of {@link #weights} after every change. */
  private final INDArray params;
  private final FloatPointer paramsPointer;
  /** The weights, the source of truth. */
  final float[] weights;
  /** The gradient of the last backward pass, written by the model. */
  final float[] gradient;
  private final float[] expAvg;
  private final float[] expAvgSq;
  private float[] ema;
  private long steps;

  /**
   * Allocates zeroed state.
   *
   * @param layout the state dict's shapes by name, in order
   * @param size the internal layout's number of values
   * @param codec the mapping between the two
   * @param what the model's name for messages, e.g. "mlp"
   */
  ModelState(Map<String, int[]> layout, int size, Codec codec, String what) {
    this.layout = new LinkedHashMap<>(layout);
    this.codec = codec;
    this.what = what;
    this.size = size;
    this.weights = new float[size];
    this.gradient = new float[size];
    this.expAvg = new float[size];
    this.expAvgSq = new float[size];
    this.params = Nd4jBackend.allocate(size);
    this.paramsPointer = (FloatPointer) params.data().addressPointer();
    syncWeights();
  }

  /** The number of values. */
  int size() {
    return size;
  }

  /**
   * The native weights, for BLAS; valid until {@link #close}.
   *
   * @return a pointer to element 0 (do not move it)
   */
  FloatPointer params() {
    return paramsPointer;
  }

  /** Copies {@link #weights} into native memory. */
  void syncWeights() {
    params.data().asNioFloat().put(0, weights);
  }

  /** How many optimiser steps have been taken (Adam's {@code t}). */
  long steps() {
    return steps;
  }

  /**
   * One step of {@code torch.optim.Adam} on {@link #gradient}: optional clipping of its global L2 norm
   * ({@code torch.nn.utils.clip_grad_norm_}: scale by {@code max / (norm + 1e-6)} when that is below 1),
   * L2 weight decay added to the clipped gradient, bias-corrected moments; then the native copy.
   *
   * @param opt the optimiser's settings
   */
  void adamStep(OptimizerSpec opt) {
    double scale = 1.0;
    if (opt.maxGradNorm() > 0) {
      double coef = opt.maxGradNorm() / (Kernels.norm(gradient) + 1e-6);
      scale = Math.min(coef, 1.0);
    }
    steps++;
    double bc1 = 1.0 - Math.pow(opt.beta1(), steps);
    double bc2 = 1.0 - Math.pow(opt.beta2(), steps);
    Kernels.adam(
        weights,
        gradient,
        expAvg,
        expAvgSq,
        scale,
        opt.weightDecay(),
        opt.beta1(),
        opt.beta2(),
        opt.learningRate() / bc1,
        1.0 / Math.sqrt(bc2),
        opt.epsilon());
    syncWeights();
  }

  /** A copy of the gradient as a state dict. */
  StateDict gradientDict() {
    return codec.toStateDict(gradient, "");
  }

  /** A copy of the weights. */
  StateDict stateDict() {
    return codec.toStateDict(weights, "");
  }

  /**
   * Replaces the weights.
   *
   * @param w exactly this layout's names and shapes, finite
   */
  void loadStateDict(StateDict w) {
    w.requireLayout(layout, what + " weights");
    codec.fromStateDict(w, "", weights);
    syncWeights();
  }

  private Map<String, int[]> optimizerLayout() {
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    layout.forEach((name, shape) -> m.put(name + EXP_AVG, shape));
    layout.forEach((name, shape) -> m.put(name + EXP_AVG_SQ, shape));
    m.put(STEP, new int[] {1});
    return m;
  }

  /** Adam's moments and step count. */
  StateDict optimizerState() {
    StateDict.Builder b = StateDict.builder();
    codec.toStateDict(expAvg, EXP_AVG).entries().forEach(b::put);
    codec.toStateDict(expAvgSq, EXP_AVG_SQ).entries().forEach(b::put);
    b.put(STEP, FloatArray.scalar(steps));
    return b.build();
  }

  /** Restores what {@link #optimizerState()} wrote. */
  void loadOptimizerState(StateDict state) {
    state.requireLayout(optimizerLayout(), "optimizer state");
    float step = state.get(STEP).get(0);
    if (step < 0 || step != Math.rint(step)) {
      throw new IllegalArgumentException(
          "optimizer state: 'step' must be a whole number at least 0, got " + step);
    }
    float[] m = new float[size];
    float[] v = new float[size];
    codec.fromStateDict(state, EXP_AVG, m);
    codec.fromStateDict(state, EXP_AVG_SQ, v);
    for (int i = 0; i < size; i++) {
      if (v[i] < 0) {
        throw new IllegalArgumentException(
            "optimizer state: exp_avg_sq has a negative value (" + v[i] + "); it must be at least 0");
      }
    }
    System.arraycopy(m, 0, expAvg, 0, size);
    System.arraycopy(v, 0, expAvgSq, 0, size);
    steps = (long) step;
  }

  /** {@code ema = decay * ema + (1 - decay) * weights}, starting from the weights. */
  void updateEma(double decay) {
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
    }
    if (ema == null) {
      ema = weights.clone();
    }
    Kernels.ema(ema, weights, decay);
  }

  /** The moving average, or the weights if there is none yet. */
  StateDict emaStateDict() {
    return codec.toStateDict(ema == null ? weights : ema, "");
  }

  /** Replaces the moving average. */
  void loadEmaStateDict(StateDict d) {
    d.requireLayout(layout, "EMA weights");
    float[] e = new float[size];
    codec.fromStateDict(d, "", e);
    ema = e;
  }

  @Override
  public void close() {
    params.close();
  }
}
