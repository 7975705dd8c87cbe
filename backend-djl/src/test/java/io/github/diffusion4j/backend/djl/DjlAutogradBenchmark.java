package io.github.diffusion4j.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.Arrays;
import java.util.Locale;

/**
 * The measurement behind {@link DjlMlp}'s design: the same training step with DJL autograd
 * ({@code GradientCollector} on one flat parameter leaf, views taken inside the graph, DJL's fused Adam)
 * against the hand-written gradients {@link DjlMlp} uses, alternating in one JVM on the same batches, and
 * prints the largest weight difference between the two afterwards. With {@code -Dbench.trainSteps=50
 * -Dbench.reps=1} (100 steps each) they agree to ~1e-7; over thousands of steps Adam's normalisation
 * amplifies float32 rounding differences in weights whose gradients are near zero, so the difference
 * grows. Not a test (surefire skips {@code *Benchmark}); run it like {@link DjlBenchmark} with this class
 * name.
 *
 * <p>Measured on the 2-core CI machine, one thread: hand-written 2,516 steps/s, autograd 1,801 steps/s.
 * Autograd also allows one {@code GradientCollector} per process at a time (a DJL restriction), so two
 * models could not train concurrently.
 */
public final class DjlAutogradBenchmark {
  private static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
  private static final int BATCH = 128;

  private DjlAutogradBenchmark() {}

  /** The tutorial's MLP trained through autograd: the alternative to {@link DjlMlp}'s backward pass. */
  private static final class AutogradMlp {
    private final DjlBackend backend;
    private final int k = SPEC.pixels();
    private final int h = SPEC.hidden();
    private final long[] offsets = {0, h * (k + 1L), h * (k + 1L) + h, h * (k + 1L) + h + (long) k * h,
        SPEC.parameterCount()};
    private final PtNDArray params;
    private final PtNDArray expAvg;
    private final PtNDArray expAvgSq;
    private long steps;

    AutogradMlp(DjlBackend backend, StateDict weights) {
      this.backend = backend;
      PtNDManager m = (PtNDManager) backend.root().newSubManager();
      int n = SPEC.parameterCount();
      float[] flat = new float[n];
      int off = 0;
      for (var e : weights.entries().values()) {
        e.copyTo(flat, off);
        off += e.size();
      }
      params = Nd.fromArray(m, flat, n);
      params.setRequiresGradient(true);
      expAvg = Nd.zeros(m, n);
      expAvgSq = Nd.zeros(m, n);
    }

    private PtNDArray slice(int i, long... dims) {
      PtNDArray v = (PtNDArray) params.get(new NDIndex().addSliceDim(offsets[i], offsets[i + 1]));
      return dims.length == 0 ? v : JniUtils.reshape(v, dims);
    }

    double step(DjlTensor x, int[] ts, DjlTensor y) {
      OptimizerSpec opt = OptimizerSpec.adam(1e-3);
      int n = ts.length;
      try (NDScope scope = new NDScope();
          GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
          t[i] = (float) (ts[i] / 100.0);
        }
        PtNDArray input =
            JniUtils.cat(
                new PtNDArray[] {
                  Nd.fromArray(backend.root(), t, n, 1), JniUtils.reshape(x.nd(), new long[] {n, k})
                },
                1);
        PtNDArray hidden = JniUtils.relu(JniUtils.linear(input, slice(0, h, k + 1), slice(1)));
        PtNDArray out = JniUtils.linear(hidden, slice(2, k, h), slice(3));
        PtNDArray d = JniUtils.sub(out, JniUtils.reshape(y.nd(), new long[] {n, k}));
        PtNDArray loss = JniUtils.mul(d, d).mean();
        gc.backward(loss);
        steps++;
        double bc1 = 1 - Math.pow(opt.beta1(), steps);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(opt.beta2(), steps));
        JniUtils.adamUpdate(params, JniUtils.getGradient(params), expAvg, expAvgSq,
            (float) opt.learningRate(), (float) (opt.learningRate() * bc2Sqrt / bc1), 0f, 1f, -1f,
            (float) opt.beta1(), (float) opt.beta2(), (float) (opt.epsilon() * bc2Sqrt), false);
        JniUtils.zeroGrad(params);
        return Nd.readScalar(loss);
      }
    }

    float[] weights() {
      return Nd.read(params, SPEC.parameterCount());
    }
  }

  /**
   * Alternates blocks of hand-written and autograd steps and prints steps/s for each.
   *
   * @param args unused; {@code bench.trainSteps} (2000) steps per block, {@code bench.reps} (5) blocks
   */
  public static void main(String[] args) {
    int steps = Integer.getInteger("bench.trainSteps", 2000);
    int reps = Integer.getInteger("bench.reps", 5);
    try (DjlBackend backend = (DjlBackend) new DjlBackendProvider().create(new BackendOptions(1));
        TrainableModel manual = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 0)) {
      AutogradMlp autograd = new AutogradMlp(backend, SPEC.initialWeights(0));
      Shape shape = Shape.batchOf(BATCH, SPEC.imageShape());
      int n = 32;
      DjlTensor[] x = new DjlTensor[n];
      DjlTensor[] y = new DjlTensor[n];
      int[][] ts = new int[n][BATCH];
      for (int i = 0; i < n; i++) {
        x[i] = (DjlTensor) backend.normal(shape, Noise.seeded(1).split(i));
        y[i] = (DjlTensor) backend.normal(shape, Noise.seeded(2).split(i));
        var g = Noise.seeded(3).split(i).generator();
        for (int j = 0; j < BATCH; j++) {
          ts[i][j] = g.nextInt(100);
        }
      }
      double[] manualS = new double[reps];
      double[] autogradS = new double[reps];
      for (int r = -1; r < reps; r++) { // r = -1 warms both up
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
          try (TensorScope scope = backend.openScope()) {
            manual.step(x[s % n], ts[s % n], y[s % n]);
          }
        }
        long t1 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
          autograd.step(x[s % n], ts[s % n], y[s % n]);
        }
        long t2 = System.nanoTime();
        if (r >= 0) {
          manualS[r] = (t1 - t0) / 1e9;
          autogradS[r] = (t2 - t1) / 1e9;
        }
      }
      Arrays.sort(manualS);
      Arrays.sort(autogradS);
      float[] a = autograd.weights();
      float[] b = new float[a.length];
      int off = 0;
      for (var e : manual.stateDict().entries().values()) {
        e.copyTo(b, off);
        off += e.size();
      }
      double diff = 0;
      for (int i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      System.out.printf(Locale.ROOT, "hand-written gradients: %.0f steps/s%n", steps / manualS[reps / 2]);
      System.out.printf(Locale.ROOT, "autograd:               %.0f steps/s%n", steps / autogradS[reps / 2]);
      System.out.printf(Locale.ROOT, "max weight difference after %d steps each: %.2e%n", (reps + 1) * steps, diff);
      for (Tensor t : x) {
        t.close();
      }
      for (Tensor t : y) {
        t.close();
      }
    }
  }
}
