package io.github.diffusion4j.benchmarks;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.NoiseVersion;
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

/**
 * The portable sampling noise of one step of the tutorial's workload: 1000 images of 3x5x5, 75,000 standard
 * normals, drawn as sampling draws them ({@link Noise#fillPerItem}: item {@code i} gets the first 75 normals
 * of {@code split(i)}), for noise version 1 (the ziggurat) and 2 (Box-Muller, docs/noise.md).
 *
 * <p>{@code scalar} forks a JVM with the Vector API switched off ({@code -Ddiffusion4j.noise.vector=false});
 * {@code vector} forks one with {@code --add-modules jdk.incubator.vector}, where version 2 runs its SIMD
 * implementation if the CPU has AVX2 or AVX-512 (version 1 has no vectorised form: its two figures should
 * agree). {@code contiguous} fills the 75,000 values as one stream ({@link Noise#fillNormal}), the fastest
 * case, without the per-item splits.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NoiseBenchmark {
  /** The number of images of the tutorial's sampling batch. */
  static final int ITEMS = 1000;
  /** The values per 3x5x5 image. */
  static final int ITEM_SIZE = 75;

  /** The noise version: 1 (ziggurat) or 2 (Box-Muller). */
  @Param({"1", "2"})
  public int version;

  private Noise noise;
  private float[] out;
  private long step;

  /** Creates the benchmark state; JMH calls it. */
  public NoiseBenchmark() {}

  /** Creates the stream and the destination. */
  @Setup(Level.Trial)
  public void setUp() {
    noise = Noise.seeded(42).withVersion(NoiseVersion.of(version));
    out = new float[ITEMS * ITEM_SIZE];
  }

  /**
   * One step's noise, per item, without the Vector API.
   *
   * @return the filled array (so the work is not eliminated)
   */
  @Benchmark
  @Fork(jvmArgsAppend = "-Ddiffusion4j.noise.vector=false")
  public float[] perItemScalar() {
    return fillStep();
  }

  /**
   * One step's noise, per item, with the Vector API module present.
   *
   * @return the filled array
   */
  @Benchmark
  @Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
  public float[] perItemVector() {
    requireVectorModule();
    return fillStep();
  }

  /**
   * The same number of values as one stream, without the Vector API.
   *
   * @return the filled array
   */
  @Benchmark
  @Fork(jvmArgsAppend = "-Ddiffusion4j.noise.vector=false")
  public float[] contiguousScalar() {
    noise.split(++step).fillNormal(out, 0, out.length);
    return out;
  }

  /**
   * The same number of values as one stream, with the Vector API module present.
   *
   * @return the filled array
   */
  @Benchmark
  @Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
  public float[] contiguousVector() {
    requireVectorModule();
    noise.split(++step).fillNormal(out, 0, out.length);
    return out;
  }

  private float[] fillStep() {
    // a new step stream each call, as the sampling loop splits the run's stream per step
    noise.split(++step).fillPerItem(out, ITEMS, ITEM_SIZE, 0);
    return out;
  }

  private static void requireVectorModule() {
    if (VECTOR_MODULE) {
      return;
    }
    throw new IllegalStateException("the jdk.incubator.vector module is missing: run the fork with"
        + " --add-modules jdk.incubator.vector, or the figure would be the scalar loop's");
  }

  private static final boolean VECTOR_MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
}
