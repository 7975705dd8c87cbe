package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.InMemoryDataset;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.ResidentSize;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Long loops keep a flat resident size: the tutorial's training loop and DDPM sampling loop, each
 * {@code djl.soak.steps} steps (2,000 by default, so CI stays fast), must grow the process's resident
 * set (VmRSS, measured after a warm-up) by less than {@link #BOUND_MB}, and leave no native array behind.
 *
 * <p>The bound: without scoping this loop grew by ~490 MB per 1,000 steps (DESIGN.md section 6), and one
 * leaked batch-sized intermediate ([128, 75] float32, 38 KB) per step would add 77 MB over 2,000 steps; the
 * allocator and the JIT may still settle by a few MB after the warm-up. Smaller leaks are caught exactly by
 * the count of live native arrays, which must not change at all.
 *
 * <p>The full soak, 100,000 steps each (about two minutes on the CI machine):
 *
 * <pre>
 * ./mvnw -B -pl backend-djl -am verify -Dtest=DjlSoakTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Ddjl.soak.steps=100000
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlSoakTest {
  private static final long BOUND_MB = 40;
  private static final Shape IMAGE = Shape.of(3, 5, 5);
  private static final MlpSpec SPEC = new MlpSpec(IMAGE, 100, 128);

  private final int steps = Integer.getInteger("djl.soak.steps", 2000);
  private DjlBackend backend;
  private TensorFactory t;

  @BeforeAll
  void open() {
    backend = DjlBackends.create();
    t = backend.tensors();
  }

  @AfterAll
  void close() {
    backend.close();
  }

  /** How many collections the JVM has run so far. */
  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  /**
   * Runs the loop, then measures it after a warm-up. The warm-up repeats until the JVM has collected
   * twice, so the young generation's pages are resident before the first reading (otherwise the heap's
   * first touch of its eden, tens of MB, reads as growth), and the JIT has compiled the loop.
   */
  private void check(String what, int count, Runnable loop, Runnable warmUp) {
    long gcs = collections();
    for (int i = 0; i < 200 && (i < 1 || collections() < gcs + 2); i++) {
      warmUp.run();
    }
    System.gc();
    int arrays = backend.root().getManagedArrays().size();
    long before = ResidentSize.kb();
    long start = System.nanoTime();
    loop.run();
    double seconds = (System.nanoTime() - start) / 1e9;
    System.gc();
    long after = ResidentSize.kb();
    double growthMb = (after - before) / 1024.0;
    System.out.printf(
        Locale.ROOT,
        "soak %s: %d steps in %.1f s, VmRSS %.1f MB -> %.1f MB (%+.1f MB)%n",
        what, count, seconds, before / 1024.0, after / 1024.0, growthMb);
    assertEquals(arrays, backend.root().getManagedArrays().size(), what + ": live native arrays");
    assertTrue(growthMb < BOUND_MB, what + ": VmRSS grew by " + growthMb + " MB over " + count + " steps");
  }

  @Test
  void trainingLoopKeepsAFlatResidentSize() {
    int batch = 128;
    int k = IMAGE.size();
    Shape shape = Shape.batchOf(batch, IMAGE);
    InMemoryDataset data = GradientImages.dataset(10_000, IMAGE, Noise.seeded(1));
    ForwardProcess forward = new ForwardProcess(Schedule.of(ScheduleSpec.linear(100)));
    float[] x0 = new float[batch * k];
    float[] eps = new float[batch * k];
    float[] xt = new float[batch * k];
    int[] ts = new int[batch];
    Noise root = Noise.seeded(2);
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 3)) {
      long[] step = {0};
      Runnable one =
          () -> {
            long s = step[0]++;
            Noise n = root.split(s);
            RandomGenerator g = n.split(-1).generator();
            for (int i = 0; i < batch; i++) {
              data.copyImage(g.nextInt(data.size()), x0, i * k);
              ts[i] = g.nextInt(100);
            }
            n.fillPerItem(eps, batch, k, 0);
            forward.noise(x0, ts, eps, xt);
            try (TensorScope scope = t.openScope()) {
              m.step(t.fromArray(xt, shape), ts, t.fromArray(eps, shape));
              if (s % 10 == 0) {
                m.updateEma(0.999);
              }
            }
          };
      check("training", steps, () -> repeat(one, steps), () -> repeat(one, 200));
    }
  }

  @Test
  void samplingLoopKeepsAFlatResidentSize() {
    int count = 128;
    Schedule schedule = Schedule.of(ScheduleSpec.linear(100));
    DdpmSampler ddpm =
        new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.clip(1), t);
    int runs = Math.max(1, steps / 100);
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 4)) {
      long[] seed = {0};
      Runnable one =
          () -> {
            try (TensorScope scope = t.openScope()) {
              ddpm.sample(m, t, SamplingRequest.of(count, IMAGE, seed[0]++, Timesteps.full(100)));
            }
          };
      check("sampling (100-step DDPM runs of 128 images)", steps, () -> repeat(one, runs), one);
    }
  }

  /**
   * The U-Net's autograd training step (with dropout masks), EMA and prediction: a graph or gradient kept
   * from one step to the next would hold every activation of the batch (about 2 MB here) and grow the
   * resident set by hundreds of MB over {@code steps / 10} steps.
   */
  @Test
  void unetTrainingKeepsAFlatResidentSize() {
    UNetSpec spec = new UNetSpec(Shape.of(1, 8, 8), 100, 8, List.of(1, 2), 1, true, 4, 0.1);
    Shape shape = Shape.batchOf(16, spec.imageShape());
    int count = Math.max(20, steps / 10);
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
      long[] step = {0};
      Runnable one =
          () -> {
            long s = step[0]++;
            try (TensorScope scope = t.openScope()) {
              var x = t.normal(shape, Noise.seeded(6).split(s));
              var eps = t.normal(shape, Noise.seeded(7).split(s));
              int[] ts = new int[16];
              RandomGenerator g = Noise.seeded(8).split(s).generator();
              for (int i = 0; i < ts.length; i++) {
                ts[i] = g.nextInt(100);
              }
              m.step(x, ts, eps);
              m.updateEma(0.99);
              m.predict(x, ts);
            }
          };
      check("unet training", count, () -> repeat(one, count), () -> repeat(one, 20));
    }
  }

  private static void repeat(Runnable r, int n) {
    for (int i = 0; i < n; i++) {
      r.run();
    }
  }
}
