package io.github.diffusion4j.benchmarks;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * The model evaluation of one sampling step of the tutorial's workload: {@link TrainableModel#predict} of the MLP
 * (hidden {@code hidden}) on 1000 images of 3x5x5 at one timestep. Beside {@link SamplerStepBenchmark} (the step
 * without the model) this is the rest of a sampling step: the linear layers' 1,000-row products (on djl the
 * oneDNN route of {@code InnerProduct}, docs/djl-layers.md), the bias and ReLU, the timestep's column.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(jvmArgsAppend = {"-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector"})
public class MlpPredictBenchmark {
  private static final int IMAGES = 1000;
  private static final Shape IMAGE = Shape.of(3, 5, 5);

  /** The backend: {@code nd4j} or {@code djl}. */
  @Param({"nd4j", "djl"})
  public String backend;

  /** The hidden width: the bench's 128 or the default setup's 512. */
  @Param({"128", "512"})
  public int hidden;

  private Backend engine;
  private TensorFactory tensors;
  private TrainableModel model;
  private Tensor sample;
  private int[] timesteps;

  /** Creates the benchmark state; JMH calls it. */
  public MlpPredictBenchmark() {}

  /** Opens the backend, creates the model and makes the batch. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = BenchmarkBackends.open(backend);
    tensors = engine.tensors();
    model = engine.createModel(new MlpSpec(IMAGE, 100, hidden), OptimizerSpec.adam(1e-3), 0);
    Shape batch = Shape.batchOf(IMAGES, IMAGE);
    sample = tensors.fromArray(Noise.seeded(1).normals(batch.size()), batch);
    timesteps = new int[IMAGES];
    Arrays.fill(timesteps, 50);
  }

  /** Closes the model, the batch and the backend. */
  @TearDown(Level.Trial)
  public void tearDown() {
    sample.close();
    model.close();
    engine.close();
  }

  /**
   * One prediction of the whole batch.
   *
   * @param bh receives the result
   */
  @Benchmark
  public void predict(Blackhole bh) {
    Tensor out = model.predict(sample, timesteps);
    bh.consume(out);
    out.close();
  }
}
