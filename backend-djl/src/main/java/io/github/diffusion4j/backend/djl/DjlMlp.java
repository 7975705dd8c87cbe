package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.tensor.Tensor;

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
 * is the {@code rescale_grad} argument of the fused update rather than a separate pass (see
 * {@link FlatParameters#adamStep}).
 *
 * <p>{@link #predict} only reads the weights and keeps its intermediates in a per-call DJL scope, so any
 * number of threads may call it at once.
 */
final class DjlMlp extends DjlModel {
  private final MlpSpec spec;
  private final OptimizerSpec opt;
  private final int k;
  private final int h;
  private final PtNDArray w1;
  private final PtNDArray b1;
  private final PtNDArray w2;
  private final PtNDArray b2;

  DjlMlp(DjlBackend backend, MlpSpec spec, OptimizerSpec opt) {
    super(backend, spec, spec.parameterShapes());
    this.spec = spec;
    this.opt = opt;
    this.k = spec.pixels();
    this.h = spec.hidden();
    this.w1 = state.view(0, h, k + 1);
    this.b1 = state.view(1, h);
    this.w2 = state.view(2, k, h);
    this.b2 = state.view(3, k);
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
    releaseLastPrediction();
    int n = timesteps.length;
    double elements = (double) n * k;
    double loss;
    PtNDArray prediction;
    try (NDScope scope = new NDScope()) {
      Backward b = backward(x, timesteps, y);
      state.adamStep(b.gradient(), 2.0 / elements, opt); // 2 / elements: d mean((out - y)^2) / d out
      loss = b.squaredError() / elements;
      prediction = JniUtils.reshape(b.forward().output(), Nd.dims(noisy.shape()));
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
      g = Nd.read(backward(x, timesteps, y).gradient(), state.size());
    }
    float scale = (float) (2.0 / ((double) timesteps.length * k));
    for (int i = 0; i < g.length; i++) {
      g[i] *= scale;
    }
    return state.split(g, "");
  }
}
