package io.github.diffusion4j.testkit;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.Map;

/**
 * The reference MLP: the tutorial's {@code Linear(k+1, h) -> ReLU -> Linear(h, k)} on the heap, sums in
 * double, weights stored as float32 like a real backend, hand-written gradients and PyTorch's Adam.
 */
final class ReferenceMlp implements TrainableModel {
  private final ReferenceBackend backend;
  private final MlpSpec spec;
  private final OptimizerSpec opt;
  private final int k;
  private final int h;
  // parameters in state-dict order: w1 [h][k+1], b1 [h], w2 [k][h], b2 [k]
  private final float[][] params;
  private final float[][] m;
  private final float[][] v;
  private float[][] ema;
  private long steps;

  ReferenceMlp(ReferenceBackend backend, MlpSpec spec, OptimizerSpec opt) {
    this.backend = backend;
    this.spec = spec;
    this.opt = opt;
    this.k = spec.pixels();
    this.h = spec.hidden();
    int[] sizes = {h * (k + 1), h, k * h, k};
    params = new float[4][];
    m = new float[4][];
    v = new float[4][];
    for (int i = 0; i < 4; i++) {
      params[i] = new float[sizes[i]];
      m[i] = new float[sizes[i]];
      v[i] = new float[sizes[i]];
    }
  }

  private static final String[] NAMES = {MlpSpec.W1, MlpSpec.B1, MlpSpec.W2, MlpSpec.B2};

  @Override
  public ModelSpec spec() {
    return spec;
  }

  /** Forward pass for one item; fills hidden pre-activations and returns the output. */
  private double[] forward(float[] x, int off, double tScaled, double[] pre) {
    float[] w1 = params[0], b1 = params[1], w2 = params[2], b2 = params[3];
    for (int j = 0; j < h; j++) {
      int row = j * (k + 1);
      double s = b1[j] + w1[row] * tScaled;
      for (int i = 0; i < k; i++) {
        s += (double) w1[row + 1 + i] * x[off + i];
      }
      pre[j] = s;
    }
    double[] out = new double[k];
    for (int i = 0; i < k; i++) {
      double s = b2[i];
      int row = i * h;
      for (int j = 0; j < h; j++) {
        if (pre[j] > 0) {
          s += (double) w2[row + j] * pre[j];
        }
      }
      out[i] = s;
    }
    return out;
  }

  private void checkInput(Tensor noisy, int[] timesteps) {
    Shape s = noisy.shape();
    if (s.rank() != 4 || !s.item().equals(spec.imageShape())) {
      throw new IllegalArgumentException("expected [N, " + spec.imageShape() + "], got " + s);
    }
    if (timesteps.length != s.batch()) {
      throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + s.batch());
    }
  }

  @Override
  public Tensor predict(Tensor noisy, int[] timesteps) {
    checkInput(noisy, timesteps);
    float[] x = ReferenceBackend.values(noisy);
    int n = timesteps.length;
    float[] out = new float[n * k];
    double[] pre = new double[h];
    for (int b = 0; b < n; b++) {
      double[] o = forward(x, b * k, (double) timesteps[b] / spec.numTrainTimesteps(), pre);
      for (int i = 0; i < k; i++) {
        out[b * k + i] = (float) o[i];
      }
    }
    return backend.fromArray(out, noisy.shape());
  }

  /** Loss and gradients (double) for a batch; returns the loss, fills grads and the prediction. */
  private double lossAndGradients(Tensor noisy, int[] timesteps, Tensor target, double[][] grads, float[] pred) {
    checkInput(noisy, timesteps);
    float[] x = ReferenceBackend.values(noisy);
    float[] y = ReferenceBackend.values(target);
    float[] w2 = params[2];
    int n = timesteps.length;
    double scale = 2.0 / ((double) n * k);
    double loss = 0;
    double[] pre = new double[h];
    double[] dOut = new double[k];
    double[] dPre = new double[h];
    for (int b = 0; b < n; b++) {
      double tScaled = (double) timesteps[b] / spec.numTrainTimesteps();
      double[] o = forward(x, b * k, tScaled, pre);
      for (int i = 0; i < k; i++) {
        pred[b * k + i] = (float) o[i];
        double d = o[i] - y[b * k + i];
        loss += d * d;
        dOut[i] = scale * d;
      }
      java.util.Arrays.fill(dPre, 0);
      for (int i = 0; i < k; i++) {
        grads[3][i] += dOut[i];
        for (int j = 0; j < h; j++) {
          double a = pre[j] > 0 ? pre[j] : 0;
          grads[2][i * h + j] += dOut[i] * a;
          dPre[j] += dOut[i] * w2[i * h + j];
        }
      }
      for (int j = 0; j < h; j++) {
        if (pre[j] <= 0) {
          continue;
        }
        double g = dPre[j];
        grads[1][j] += g;
        int row = j * (k + 1);
        grads[0][row] += g * tScaled;
        for (int i = 0; i < k; i++) {
          grads[0][row + 1 + i] += g * x[b * k + i];
        }
      }
    }
    return loss / ((double) n * k);
  }

  private double[][] zeroGrads() {
    double[][] g = new double[4][];
    for (int i = 0; i < 4; i++) {
      g[i] = new double[params[i].length];
    }
    return g;
  }

  @Override
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    double[][] g = zeroGrads();
    lossAndGradients(noisy, timesteps, target, g, new float[noisy.shape().size()]);
    StateDict.Builder b = StateDict.builder();
    Map<String, int[]> shapes = spec.parameterShapes();
    for (int i = 0; i < 4; i++) {
      float[] f = new float[g[i].length];
      for (int j = 0; j < f.length; j++) {
        f[j] = (float) g[i][j];
      }
      b.put(NAMES[i], shapes.get(NAMES[i]), f);
    }
    return b.build();
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target) {
    return step(noisy, timesteps, target, opt.learningRate());
  }

  @Override
  public java.util.Optional<OptimizerSpec> optimizer() {
    return java.util.Optional.of(opt);
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target, double learningRate) {
    double[][] g = zeroGrads();
    float[] pred = new float[noisy.shape().size()];
    double loss = lossAndGradients(noisy, timesteps, target, g, pred);
    if (opt.maxGradNorm() > 0) {
      double sq = 0;
      for (double[] gi : g) {
        for (double x : gi) {
          sq += x * x;
        }
      }
      double coef = opt.maxGradNorm() / (Math.sqrt(sq) + 1e-6);
      if (coef < 1) {
        for (double[] gi : g) {
          for (int j = 0; j < gi.length; j++) {
            gi[j] *= coef;
          }
        }
      }
    }
    steps++;
    double bc1 = 1 - Math.pow(opt.beta1(), steps);
    double bc2 = 1 - Math.pow(opt.beta2(), steps);
    for (int i = 0; i < 4; i++) {
      float[] p = params[i];
      for (int j = 0; j < p.length; j++) {
        double grad = g[i][j] + opt.weightDecay() * p[j];
        double mj = opt.beta1() * m[i][j] + (1 - opt.beta1()) * grad;
        double vj = opt.beta2() * v[i][j] + (1 - opt.beta2()) * grad * grad;
        m[i][j] = (float) mj;
        v[i][j] = (float) vj;
        double denom = Math.sqrt(vj) / Math.sqrt(bc2) + opt.epsilon();
        p[j] = (float) (p[j] - learningRate / bc1 * mj / denom);
      }
    }
    return new TrainingStepResult(loss, backend.fromArray(pred, noisy.shape()));
  }

  @Override
  public long stepCount() {
    return steps;
  }

  private StateDict dict(float[][] arrays, String suffix) {
    StateDict.Builder b = StateDict.builder();
    Map<String, int[]> shapes = spec.parameterShapes();
    for (int i = 0; i < 4; i++) {
      b.put(NAMES[i] + suffix, shapes.get(NAMES[i]), arrays[i]);
    }
    return b.build();
  }

  private void load(StateDict d, float[][] into, String suffix) {
    for (int i = 0; i < 4; i++) {
      FloatArray a = d.get(NAMES[i] + suffix);
      a.copyTo(into[i], 0);
    }
  }

  @Override
  public StateDict stateDict() {
    return dict(params, "");
  }

  @Override
  public void loadStateDict(StateDict weights) {
    weights.requireLayout(spec.parameterShapes(), "MLP weights");
    load(weights, params, "");
  }

  @Override
  public StateDict optimizerState() {
    StateDict.Builder b = StateDict.builder();
    dict(m, ".exp_avg").entries().forEach(b::put);
    dict(v, ".exp_avg_sq").entries().forEach(b::put);
    b.put("step", FloatArray.scalar(steps));
    return b.build();
  }

  @Override
  public void loadOptimizerState(StateDict state) {
    load(state, m, ".exp_avg");
    load(state, v, ".exp_avg_sq");
    steps = (long) state.get("step").get(0);
  }

  @Override
  public void updateEma(double decay) {
    if (ema == null) {
      ema = new float[4][];
      for (int i = 0; i < 4; i++) {
        ema[i] = params[i].clone();
      }
    }
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < ema[i].length; j++) {
        ema[i][j] = (float) (decay * ema[i][j] + (1 - decay) * params[i][j]);
      }
    }
  }

  @Override
  public StateDict emaStateDict() {
    return dict(ema == null ? params : ema, "");
  }

  @Override
  public void loadEmaStateDict(StateDict d) {
    d.requireLayout(spec.parameterShapes(), "EMA weights");
    if (ema == null) {
      ema = new float[4][];
      for (int i = 0; i < 4; i++) {
        ema[i] = new float[params[i].length];
      }
    }
    load(d, ema, "");
  }

  @Override
  public void close() {}
}
