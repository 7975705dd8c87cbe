package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tutorial's MLP on PyTorch: {@code Linear(k + 1, h) -> ReLU -> Linear(h, k)} with the scaled
 * timestep as the first input column.
 *
 * <p>All weights live in one flat float32 vector in state-dict order ({@code model.0.weight},
 * {@code model.0.bias}, {@code model.2.weight}, {@code model.2.bias}, each row-major), and the layers use
 * views into it; Adam's two moments and the moving average are flat vectors of the same layout. So a state
 * dict is one copy, and the optimiser is one fused native call ({@code adamUpdate}) for all weights.
 *
 * <p>Gradients are written by hand (no autograd graph): with {@code d = out - target}, {@code a} the ReLU
 * output and {@code in = [t / T, x]},
 *
 * <pre>
 *   dW2 = d^T a,   db2 = sum_rows d,   dA = d W2 * [a > 0],   dW1 = dA^T in,   db1 = sum_rows dA
 * </pre>
 *
 * all times {@code 2 / (N k)} (the derivative of the mean squared error), which, with clipping's factor,
 * is the {@code rescale_grad} argument of the fused update rather than a separate pass. Adam follows
 * {@code torch.optim.Adam}: the fused update computes {@code w -= lr' m / (sqrt(v) + eps')}, and
 * {@code lr' = lr sqrt(bc2) / bc1}, {@code eps' = eps sqrt(bc2)} make that PyTorch's
 * {@code w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)}; L2 weight decay is added to the (clipped)
 * gradient inside the same call, as PyTorch does.
 *
 * <p>{@link #predict} only reads the weights and keeps its intermediates in a per-call DJL scope, so any
 * number of threads may call it at once.
 */
final class DjlMlp implements TrainableModel {
  private static final String[] NAMES = {MlpSpec.W1, MlpSpec.B1, MlpSpec.W2, MlpSpec.B2};
  private static final String EXP_AVG = ".exp_avg";
  private static final String EXP_AVG_SQ = ".exp_avg_sq";
  private static final String STEP = "step";

  private final DjlBackend backend;
  private final MlpSpec spec;
  private final OptimizerSpec opt;
  private final int k;
  private final int h;
  private final int size;
  private final int[] offsets;
  private final Map<String, int[]> layout;
  private final PtNDManager manager;
  private final PtNDArray params;
  private final PtNDArray w1;
  private final PtNDArray b1;
  private final PtNDArray w2;
  private final PtNDArray b2;
  private final PtNDArray expAvg;
  private final PtNDArray expAvgSq;
  private PtNDArray ema;
  private DjlTensor lastPrediction;
  private long steps;
  private volatile boolean closed;

  DjlMlp(DjlBackend backend, MlpSpec spec, OptimizerSpec opt) {
    this.backend = backend;
    this.spec = spec;
    this.opt = opt;
    this.k = spec.pixels();
    this.h = spec.hidden();
    this.size = spec.parameterCount();
    this.layout = spec.parameterShapes();
    this.offsets = new int[] {0, h * (k + 1), h * (k + 1) + h, h * (k + 1) + h + k * h};
    this.manager = (PtNDManager) backend.root().newSubManager();
    this.params = Nd.zeros(manager, size);
    this.w1 = view(0, h, k + 1);
    this.b1 = view(1, h);
    this.w2 = view(2, k, h);
    this.b2 = view(3, k);
    this.expAvg = Nd.zeros(manager, size);
    this.expAvgSq = Nd.zeros(manager, size);
  }

  /** A view of parameter {@code i} inside the flat vector (shares its memory). */
  private PtNDArray view(int i, long... dims) {
    int end = i + 1 < offsets.length ? offsets[i + 1] : size;
    PtNDArray flat = (PtNDArray) params.get(new NDIndex().addSliceDim(offsets[i], end));
    if (dims.length == 1) {
      return flat;
    }
    PtNDArray shaped = JniUtils.reshape(flat, dims);
    flat.close();
    return shaped;
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  // ---------------------------------------------------------------- forward and backward

  /** What the backward pass needs from the forward pass. */
  private record Forward(PtNDArray input, PtNDArray hidden, PtNDArray output) {}

  /**
   * The forward pass on {@code [N, k]} rows; every array it creates is attached to the backend's root
   * manager and registered with the caller's DJL scope.
   */
  private Forward forward(PtNDArray x, int[] timesteps) {
    int n = timesteps.length;
    float[] t = new float[n];
    double steps = spec.numTrainTimesteps();
    for (int i = 0; i < n; i++) {
      t[i] = (float) (timesteps[i] / steps);
    }
    PtNDArray column = Nd.fromArray(backend.root(), t, n, 1);
    PtNDArray rows = JniUtils.reshape(x, new long[] {n, k});
    PtNDArray input = JniUtils.cat(new PtNDArray[] {column, rows}, 1);
    PtNDArray hidden = JniUtils.relu(JniUtils.linear(input, w1, b1));
    return new Forward(input, hidden, JniUtils.linear(hidden, w2, b2));
  }

  /** The unscaled flat gradient (state-dict layout) and the sum of squared errors. */
  private record Backward(Forward forward, PtNDArray gradient, double squaredError) {}

  private Backward backward(DjlTensor noisy, int[] timesteps, DjlTensor target) {
    int n = timesteps.length;
    Forward f = forward(noisy.nd(), timesteps);
    PtNDArray d = JniUtils.sub(f.output(), JniUtils.reshape(target.nd(), new long[] {n, k}));
    double norm = Nd.readScalar(JniUtils.norm(d, 2, new int[] {0, 1}, false));
    PtNDArray gW2 = JniUtils.matmul(JniUtils.transpose(d, 0, 1), f.hidden());
    PtNDArray gB2 = JniUtils.sum(d, new long[] {0}, false);
    PtNDArray dA = JniUtils.matmul(d, w2);
    JniUtils.muli(dA, JniUtils.sign(f.hidden())); // ReLU': 1 where the output is positive, else 0
    PtNDArray gW1 = JniUtils.matmul(JniUtils.transpose(dA, 0, 1), f.input());
    PtNDArray gB1 = JniUtils.sum(dA, new long[] {0}, false);
    long[] flat = {-1};
    PtNDArray g =
        JniUtils.cat(
            new PtNDArray[] {JniUtils.reshape(gW1, flat), gB1, JniUtils.reshape(gW2, flat), gB2}, 0);
    return new Backward(f, g, norm * norm);
  }

  // ---------------------------------------------------------------- NoisePredictor / TrainableModel

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public Tensor predict(Tensor noisy, int[] timesteps) {
    DjlTensor x = input(noisy, timesteps);
    PtNDArray out;
    try (NDScope scope = new NDScope()) {
      out = JniUtils.reshape(forward(x.nd(), timesteps).output(), Nd.dims(noisy.shape()));
      NDScope.unregister(out);
    }
    return backend.wrap(out, noisy.shape());
  }

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public StepOutput step(Tensor noisy, int[] timesteps, Tensor target) {
    DjlTensor x = input(noisy, timesteps);
    DjlTensor y = DjlTensor.of(backend, target, noisy.shape(), "target");
    if (lastPrediction != null) {
      lastPrediction.close();
      lastPrediction = null;
    }
    int n = timesteps.length;
    double elements = (double) n * k;
    double loss;
    PtNDArray prediction;
    try (NDScope scope = new NDScope()) {
      Backward b = backward(x, timesteps, y);
      double rescale = 2.0 / elements; // d mean((out - y)^2) / d out
      if (opt.maxGradNorm() > 0) { // torch.nn.utils.clip_grad_norm_
        double norm = rescale * Nd.readScalar(JniUtils.norm(b.gradient(), 2, new int[] {0}, false));
        double coef = opt.maxGradNorm() / (norm + 1e-6);
        if (coef < 1) {
          rescale *= coef;
        }
      }
      steps++;
      double bc1 = 1 - Math.pow(opt.beta1(), steps);
      double bc2Sqrt = Math.sqrt(1 - Math.pow(opt.beta2(), steps));
      JniUtils.adamUpdate(
          params,
          b.gradient(),
          expAvg,
          expAvgSq,
          (float) opt.learningRate(),
          (float) (opt.learningRate() * bc2Sqrt / bc1),
          (float) opt.weightDecay(),
          (float) rescale,
          -1f, // no elementwise clipping
          (float) opt.beta1(),
          (float) opt.beta2(),
          (float) (opt.epsilon() * bc2Sqrt),
          false);
      loss = b.squaredError() / elements;
      prediction = JniUtils.reshape(b.forward().output(), Nd.dims(noisy.shape()));
      NDScope.unregister(prediction);
    }
    lastPrediction = new DjlTensor(backend, prediction, noisy.shape());
    return new StepOutput(loss, lastPrediction);
  }

  @Override
  @SuppressWarnings("try") // the DJL scope is used for what it closes
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    DjlTensor x = input(noisy, timesteps);
    DjlTensor y = DjlTensor.of(backend, target, noisy.shape(), "target");
    float[] g;
    try (NDScope scope = new NDScope()) {
      g = Nd.read(backward(x, timesteps, y).gradient(), size);
    }
    float scale = (float) (2.0 / ((double) timesteps.length * k));
    for (int i = 0; i < g.length; i++) {
      g[i] *= scale;
    }
    return split(g, "");
  }

  private DjlTensor input(Tensor noisy, int[] timesteps) {
    checkOpen();
    Shape s = noisy.shape();
    if (s.rank() != 4 || !s.item().equals(spec.imageShape())) {
      throw new IllegalArgumentException(
          "mlp: input has shape " + s + ", expected [N, " + join(spec.imageShape()) + "]");
    }
    if (timesteps.length != s.batch()) {
      throw new IllegalArgumentException(
          "mlp: " + timesteps.length + " timesteps for a batch of " + s.batch());
    }
    int tMax = spec.numTrainTimesteps();
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] < 0 || timesteps[i] >= tMax) {
        throw new IllegalArgumentException(
            "mlp: timestep " + timesteps[i] + " at index " + i + " is outside [0, " + tMax + ")");
      }
    }
    return DjlTensor.of(backend, noisy, s, "input");
  }

  private static String join(Shape s) {
    String t = s.toString();
    return t.substring(1, t.length() - 1);
  }

  @Override
  public long stepCount() {
    return steps;
  }

  // ---------------------------------------------------------------- state

  /** Splits a flat vector in state-dict layout into named entries. */
  private StateDict split(float[] flat, String suffix) {
    StateDict.Builder b = StateDict.builder();
    for (int i = 0; i < NAMES.length; i++) {
      int[] shape = layout.get(NAMES[i]);
      int end = i + 1 < offsets.length ? offsets[i + 1] : size;
      float[] part = java.util.Arrays.copyOfRange(flat, offsets[i], end);
      b.put(NAMES[i] + suffix, FloatArray.wrap(Shape.of(shape), part));
    }
    return b.build();
  }

  /** Concatenates named entries (already validated) into a flat vector in state-dict layout. */
  private float[] join(StateDict d, String suffix) {
    float[] flat = new float[size];
    for (int i = 0; i < NAMES.length; i++) {
      d.get(NAMES[i] + suffix).copyTo(flat, offsets[i]);
    }
    return flat;
  }

  @Override
  public StateDict stateDict() {
    checkOpen();
    return split(Nd.read(params, size), "");
  }

  @Override
  public void loadStateDict(StateDict weights) {
    checkOpen();
    weights.requireLayout(layout, "mlp weights");
    Nd.write(params, join(weights, ""), 0, size);
  }

  private Map<String, int[]> optimizerLayout() {
    Map<String, int[]> m = new LinkedHashMap<>();
    for (String suffix : new String[] {EXP_AVG, EXP_AVG_SQ}) {
      for (String name : NAMES) {
        m.put(name + suffix, layout.get(name));
      }
    }
    m.put(STEP, new int[] {1});
    return m;
  }

  @Override
  public StateDict optimizerState() {
    checkOpen();
    StateDict.Builder b = StateDict.builder();
    split(Nd.read(expAvg, size), EXP_AVG).entries().forEach(b::put);
    split(Nd.read(expAvgSq, size), EXP_AVG_SQ).entries().forEach(b::put);
    b.put(STEP, FloatArray.scalar(steps));
    return b.build();
  }

  @Override
  public void loadOptimizerState(StateDict state) {
    checkOpen();
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

  @Override
  public void updateEma(double decay) {
    checkOpen();
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

  @Override
  public StateDict emaStateDict() {
    checkOpen();
    return split(Nd.read(ema == null ? params : ema, size), "");
  }

  @Override
  public void loadEmaStateDict(StateDict weights) {
    checkOpen();
    weights.requireLayout(layout, "EMA weights");
    if (ema == null) {
      ema = Nd.empty(manager, size);
    }
    Nd.write(ema, join(weights, ""), 0, size);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("mlp: the model is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (lastPrediction != null) {
      lastPrediction.close();
    }
    manager.close();
    backend.closed(this);
  }
}
