package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntToDoubleFunction;

/**
 * Times the default U-Net (1x32x32, base 32, mult [1, 2, 2], attention; 1.06 M parameters) at batch 64 on
 * this backend and prints one JSON line: {@code step_per_s} (training steps: forward, loss, backward, Adam),
 * {@code forward_s} (one forward pass of the batch, what a sampler calls), {@code ddim_s} (the batch sampled
 * with {@code bench.ddimSteps} DDIM steps, default 10). Each figure is the median of {@code bench.reps}
 * (default 3) repetitions of {@code bench.steps} (default 3) after a warm-up; {@code bench.batch} sets the
 * batch. One native thread. It uses only the public api and the provider, so the same source compiles
 * against any build of this module, before the layer rework and after: {@code scripts/nd4j-ab-bench.sh}
 * runs it (and, for the MLP, {@link Nd4jBenchmark}) on two builds alternately. Run alone:
 *
 * <pre>
 *   java -cp &lt;test class path&gt; io.github.diffusion4j.backend.nd4j.Nd4jImageBenchmark
 * </pre>
 */
public final class Nd4jImageBenchmark {
  private Nd4jImageBenchmark() {}

  /**
   * Entry point.
   *
   * @param args unused
   */
  public static void main(String[] args) {
    int reps = Integer.getInteger("bench.reps", 3);
    int batch = Integer.getInteger("bench.batch", 64);
    int steps = Integer.getInteger("bench.steps", 3);
    int ddimSteps = Integer.getInteger("bench.ddimSteps", 10);
    ModelSpec spec = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    Map<String, Double> out = new LinkedHashMap<>();
    try (Backend backend = new Nd4jBackendProvider().create(new BackendOptions(1));
        TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-4), 0);
        TensorScope data = backend.tensors().openScope()) {
      TensorFactory f = backend.tensors();
      Tensor x = f.fromArray(Noise.seeded(1).normals(shape.size()), shape);
      Tensor y = f.fromArray(Noise.seeded(2).normals(shape.size()), shape);
      int[] ts = new int[batch];
      for (int i = 0; i < batch; i++) {
        ts[i] = (i * 397) % 1000;
      }
      out.put("step_per_s", steps / median(reps, r -> {
        long s = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          try (TensorScope scope = f.openScope()) {
            m.step(x, ts, y);
          }
        }
        return seconds(s);
      }));
      out.put("forward_s", median(reps, r -> {
        long s = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          try (TensorScope scope = f.openScope()) {
            m.predict(x, ts);
          }
        }
        return seconds(s) / steps;
      }));
      Sampler ddim =
          new DdimSampler(Schedule.of(ScheduleSpec.linear(1000)), PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, f);
      Timesteps plan = Timesteps.trailing(1000, ddimSteps);
      out.put("ddim_s", median(reps, r -> {
        long s = System.nanoTime();
        try (TensorScope scope = f.openScope()) {
          ddim.sample(m, f, SamplingRequest.of(batch, spec.imageShape(), r, plan)).mean();
        }
        return seconds(s);
      }));
    }
    StringBuilder b = new StringBuilder("{\"workload\": \"image\"");
    out.forEach((k, v) -> b.append(String.format(Locale.ROOT, ", \"%s\": %.5g", k, v)));
    System.out.println(b.append('}'));
  }

  /** The median of {@code reps} runs after one more for warm-up. */
  private static double median(int reps, IntToDoubleFunction run) {
    run.applyAsDouble(-1);
    double[] t = new double[reps];
    for (int r = 0; r < reps; r++) {
      t[r] = run.applyAsDouble(r);
    }
    Arrays.sort(t);
    return t[reps / 2];
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
