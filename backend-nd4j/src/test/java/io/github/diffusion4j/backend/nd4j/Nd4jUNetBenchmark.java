package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.UNetReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times the default U-Net ({@link UNetSpec#defaults}: 1x32x32, base 32, mult [1, 2, 2], one block per level,
 * attention in the middle; 1.06 M parameters) at batch 64 on the nd4j backend: training steps (forward,
 * MSE, backward, Adam) and forward passes alone (what a sampler calls), with one and with two native
 * threads alternating in blocks in one JVM, so both see the same machine load. Then, unless
 * {@code bench.torch=false}, the reference module in PyTorch from Python ({@code docs/unet_reference.py
 * bench}) with the same thread counts, for ratios measured in the same run. Not a test (surefire skips
 * {@code *Benchmark}).
 *
 * <p>Run from the repository root:
 *
 * <pre>
 * ./mvnw -B -q -pl backend-nd4j -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * java -Xmx2g -cp backend-nd4j/target/test-classes:backend-nd4j/target/classes:$(cat \
 *     backend-nd4j/target/test.classpath) io.github.diffusion4j.backend.nd4j.Nd4jUNetBenchmark
 * </pre>
 *
 * <p>System properties: {@code bench.steps} (5) training steps and forward passes per block,
 * {@code bench.reps} (3) blocks per thread count (the median is reported), {@code bench.batch} (64),
 * {@code bench.size} (32), {@code bench.threads} (1,2), {@code bench.torch} (true).
 */
public final class Nd4jUNetBenchmark {
  private Nd4jUNetBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args unused
   * @throws Exception if the reference script fails
   */
  public static void main(String[] args) throws Exception {
    int steps = Integer.getInteger("bench.steps", 5);
    int reps = Integer.getInteger("bench.reps", 3);
    int batch = Integer.getInteger("bench.batch", 64);
    int size = Integer.getInteger("bench.size", 32);
    int[] threads =
        Arrays.stream(System.getProperty("bench.threads", "1,2").split(",")).mapToInt(Integer::parseInt).toArray();
    UNetSpec spec = UNetSpec.defaults(Shape.of(1, size, size), 1000);
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    double[][] train = new double[threads.length][reps];
    double[][] forward = new double[threads.length][reps];
    try (Backend backend = new Nd4jBackendProvider().create(new BackendOptions(threads[0]));
        TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-4), 0);
        TensorScope data = backend.tensors().openScope()) {
      m.loadStateDict(UNetReference.testWeights(spec, 1));
      Tensor x = backend.tensors().normal(shape, Noise.seeded(1));
      Tensor y = backend.tensors().normal(shape, Noise.seeded(2));
      int[] ts = Batches.timesteps(batch, 1000, 3);
      for (int r = -1; r < reps; r++) { // r = -1 warms up
        for (int k = 0; k < threads.length; k++) {
          NativeRuntime.load(threads[k]);
          long t0 = System.nanoTime();
          for (int s = 0; s < steps; s++) {
            try (TensorScope scope = backend.tensors().openScope()) {
              m.step(x, ts, y);
            }
          }
          long t1 = System.nanoTime();
          for (int s = 0; s < steps; s++) {
            try (TensorScope scope = backend.tensors().openScope()) {
              m.predict(x, ts);
            }
          }
          long t2 = System.nanoTime();
          if (r >= 0) {
            train[k][r] = steps / ((t1 - t0) / 1e9);
            forward[k][r] = (t2 - t1) / 1e9 / steps;
          }
        }
      }
    }
    for (int k = 0; k < threads.length; k++) {
      Arrays.sort(train[k]);
      Arrays.sort(forward[k]);
      System.out.printf(Locale.ROOT, "nd4j  threads %d batch %d, %dx%d: %.3f steps/s, %.3f s per forward pass "
              + "(median of %d blocks of %d; step range %.3f..%.3f)%n", threads[k], batch, size, size,
          train[k][reps / 2], forward[k][reps / 2], reps, steps, train[k][0], train[k][reps - 1]);
    }
    if (size == 32 && Boolean.parseBoolean(System.getProperty("bench.torch", "true"))
        && UNetReference.unavailable() == null) {
      for (int t : threads) {
        Process p = new ProcessBuilder("/usr/bin/python3", UNetReference.script().toString(), "bench",
            Integer.toString(steps), Integer.toString(t)).redirectErrorStream(true).start();
        System.out.print(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        if (p.waitFor() != 0) {
          throw new IOException("the reference script's bench failed");
        }
      }
    }
  }
}
