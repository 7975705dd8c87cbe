package io.github.diffusion4j.benchmarks;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingLoop;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.StepContext;
import io.github.diffusion4j.sampling.ReverseStepResult;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One sampler step of the tutorial's workload without the model: {@link Sampler#step}
 * on a batch of 1000 images of 3x5x5 (T = 100, linear betas, epsilon prediction, no clipping), with the
 * sample, the model's output and the noise already in the backend's tensors. This is what the sampling loop
 * adds to each model evaluation: the fused update ({@code Tensor.combine}) and the predicted {@code x0}.
 *
 * <ul>
 *   <li>{@code ddpm}: a middle step of DDPM-100 with noise ({@code x_prev = a x_t + b eps + sigma z}); the
 *       noise is a tensor made in the setup, so only the update is timed.
 *   <li>{@code ddpmDrawingNoise}: the same step drawing its noise as the sampling loop does on one thread
 *       ({@link SamplingLoop#stepNoise}: 75,000 normals of the default noise version, 1, and their upload).
 *   <li>{@code ddim}: a middle step of deterministic DDIM-20 ({@code eta = 0}, no noise).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(jvmArgsAppend = {"-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector"})
public class SamplerStepBenchmark {
  private static final int T = 100;
  private static final int IMAGES = 1000;
  private static final Shape IMAGE = Shape.of(3, 5, 5);

  /** The backend: {@code nd4j} or {@code djl}. */
  @Param({"nd4j", "djl"})
  public String backend;

  private Backend engine;
  private TensorFactory tensors;
  private Tensor sample;
  private Tensor output;
  private Tensor noise;
  private DdpmSampler ddpm;
  private DdimSampler ddim;
  private Timesteps ddpmPlan;
  private Timesteps ddimPlan;
  private SamplingRequest request;

  /** Creates the benchmark state; JMH calls it. */
  public SamplerStepBenchmark() {}

  /** Opens the backend and makes the step's inputs. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = BenchmarkBackends.open(backend);
    tensors = engine.tensors();
    Shape batch = Shape.batchOf(IMAGES, IMAGE);
    sample = tensors.fromArray(Noise.seeded(1).normals(batch.size()), batch);
    output = tensors.fromArray(Noise.seeded(2).normals(batch.size()), batch);
    noise = tensors.fromArray(Noise.seeded(3).normals(batch.size()), batch);
    Schedule schedule = Schedule.of(ScheduleSpec.linear(T));
    ddpm = new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, tensors);
    ddim = new DdimSampler(schedule, PredictionType.EPSILON, 0.0, false, SampleClipping.NONE, tensors);
    ddpmPlan = Timesteps.full(T);
    ddimPlan = Timesteps.leading(T, 20, 0);
    request = SamplingRequest.of(IMAGES, IMAGE, 42, ddpmPlan);
  }

  /** Closes the tensors and the backend. */
  @TearDown(Level.Trial)
  public void tearDown() {
    sample.close();
    output.close();
    noise.close();
    engine.close();
  }

  /**
   * A DDPM step with its noise given.
   *
   * @param bh receives the result
   */
  @Benchmark
  public void ddpm(Blackhole bh) {
    step(ddpm, ddpmPlan, () -> noise, false, bh);
  }

  /**
   * A DDPM step drawing its noise.
   *
   * @param bh receives the result
   */
  @Benchmark
  public void ddpmDrawingNoise(Blackhole bh) {
    int index = T / 2;
    step(ddpm, ddpmPlan, () -> SamplingLoop.stepNoise(tensors, request, index), true, bh);
  }

  /**
   * A deterministic DDIM step.
   *
   * @param bh receives the result
   */
  @Benchmark
  public void ddim(Blackhole bh) {
    step(ddim, ddimPlan, () -> noise, false, bh);
  }

  private void step(Sampler sampler, Timesteps plan, Supplier<Tensor> z, boolean ownsNoise, Blackhole bh) {
    StepContext c = new StepContext(plan, plan.size() / 2, sample, output, z, null);
    ReverseStepResult r = sampler.step(c);
    bh.consume(r.prev());
    bh.consume(r.predictedX0());
    close(r.prev());
    if (r.predictedX0() != r.prev()) {
      close(r.predictedX0());
    }
    if (ownsNoise && c.drewNoise()) {
      c.noise().close();
    }
  }

  private void close(Tensor t) {
    if (t != null && t != sample && t != output && t != noise) {
      t.close();
    }
  }
}
