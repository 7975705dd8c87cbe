package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Sampler goldens: the api's samplers driven by the backend's MLP give the reference backend's samples
 * for the same weights and seed. Every backend is held to 5e-5 of the reference after 100 DDPM steps, so
 * any two backends agree to 1e-4 (the cross-backend requirement) by the triangle inequality.
 *
 * <p>Why 5e-5: each step's model output differs from the double-precision reference by ~1e-6 (float32),
 * and a DDPM step multiplies the sample by {@code 1/sqrt(alpha_t) < 1.011}; summed over 100 steps that is
 * a few 1e-5 at worst.
 */
public abstract class SamplerContractTest extends BackendFixture {
  private static final MlpSpec SPEC = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
  private static final Schedule SCHEDULE = Schedule.of(ScheduleSpec.linear(100));
  private static final double TOL = 5e-5;

  /** The backend the one under test is compared with; closed after the suite ({@link #closeReference}). */
  private final ReferenceBackend reference = new ReferenceBackend();

  /** Closes the reference backend after the suite, as {@link BackendFixture} closes the backend under test. */
  @AfterAll
  void closeReference() {
    reference.close();
  }

  /** Weights that make the untrained MLP's output non-trivial: one seed's initialisation. */
  private static StateDict weights() {
    return SPEC.initialWeights(2024);
  }

  private float[] sample(Backend b, Sampler sampler, Timesteps plan, long seed) {
    try (TrainableModel m = b.createModel(SPEC, OptimizerSpec.adam(1e-3), 0);
        TensorScope s = b.tensors().openScope()) {
      m.loadStateDict(weights());
      return sampler.sample(m, b.tensors(), SamplingRequest.of(12, SPEC.imageShape(), seed, plan)).toFloatArray();
    }
  }

  private Sampler ddpm(Backend b) {
    return new DdpmSampler(SCHEDULE, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.NONE, b.tensors());
  }

  private Sampler ddim(Backend b, double eta) {
    return new DdimSampler(SCHEDULE, PredictionType.EPSILON, eta, true, SampleClipping.NONE, b.tensors());
  }

  @Test
  void ddpmHundredStepsMatchesTheReference() {
    Timesteps plan = Timesteps.full(100);
    float[] expected = sample(reference, ddpm(reference), plan, 5);
    float[] actual = sample(backend, ddpm(backend), plan, 5);
    double d = Batches.maxAbsDiff(expected, actual);
    assertTrue(d <= TOL, "max |backend - reference| after 100 DDPM steps = " + d);
  }

  @Test
  void ddimTwentyStepsMatchesTheReference() {
    Timesteps plan = Timesteps.trailing(100, 20);
    float[] expected = sample(reference, ddim(reference, 0.0), plan, 6);
    float[] actual = sample(backend, ddim(backend, 0.0), plan, 6);
    double d = Batches.maxAbsDiff(expected, actual);
    assertTrue(d <= TOL, "max |backend - reference| after 20 DDIM steps = " + d);
  }

  @Test
  void stochasticDdimMatchesTheReference() {
    Timesteps plan = Timesteps.leading(100, 25, 1);
    float[] expected = sample(reference, ddim(reference, 0.5), plan, 7);
    float[] actual = sample(backend, ddim(backend, 0.5), plan, 7);
    assertTrue(Batches.maxAbsDiff(expected, actual) <= TOL);
  }

  @Test
  void oneModelSampledFromEightThreadsGivesTheSequentialImages() throws Exception {
    Timesteps plan = Timesteps.full(100);
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 0)) {
      m.loadStateDict(weights());
      Sampler ddpm = ddpm(backend);
      java.util.List<float[]> sequential = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        try (TensorScope s = backend.tensors().openScope()) {
          sequential.add(ddpm.sample(m, backend.tensors(), SamplingRequest.of(3, SPEC.imageShape(), 100 + i, plan))
              .toFloatArray());
        }
      }
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
      try {
        java.util.List<java.util.concurrent.Future<float[]>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
          final long seed = 100 + i;
          futures.add(pool.submit(() -> {
            try (TensorScope s = backend.tensors().openScope()) {
              return ddpm.sample(m, backend.tensors(), SamplingRequest.of(3, SPEC.imageShape(), seed, plan))
                  .toFloatArray();
            }
          }));
        }
        for (int i = 0; i < 8; i++) {
          assertArrayEquals(sequential.get(i), futures.get(i).get(), "thread " + i);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /**
   * A service's per-request timeout: a sampling call cancelled from another thread ({@code Future.cancel(true)},
   * which interrupts the pool's thread) ends with a {@link java.util.concurrent.CancellationException} before its
   * next model call, and the same model, sampled again on the same pool thread, gives the images it gave before.
   * The model call in progress when the cancel comes waits for it, so the test does not depend on timing.
   */
  @Test
  void aSamplingCallCancelledFromAnotherThreadEndsAtItsNextStepAndTheModelSamplesOnUnchanged() throws Exception {
    Timesteps plan = Timesteps.full(100);
    try (TrainableModel m = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), 0)) {
      m.loadStateDict(weights());
      Sampler ddpm = ddpm(backend);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        float[] before = pool.submit(() -> sampleWith(m, ddpm, plan)).get();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        NoisePredictor watched = (x, t) -> {
          if (calls.incrementAndGet() == 1) {
            started.countDown();
            awaitKeepingTheInterrupt(cancelled);
          }
          return m.predict(x, t);
        };
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Future<?> f = pool.submit(() -> {
          try (TensorScope s = backend.tensors().openScope()) {
            ddpm.sample(watched, backend.tensors(), SamplingRequest.of(3, SPEC.imageShape(), 11, plan));
          } catch (Throwable e) {
            ended.set(e);
          } finally {
            done.countDown();
          }
        });
        started.await();
        f.cancel(true);
        cancelled.countDown();
        assertTrue(done.await(60, TimeUnit.SECONDS), "the cancelled call did not end");
        assertTrue(ended.get() instanceof java.util.concurrent.CancellationException,
            "a cancelled call ends with a CancellationException, got " + ended.get());
        assertTrue(calls.get() == 1, "the call went on for " + calls.get() + " model calls of 100 after its cancel");
        assertArrayEquals(before, pool.submit(() -> sampleWith(m, ddpm, plan)).get(),
            "the model, sampled again on the cancelled call's thread");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Samples three images of seed 11 with a model already made, in a scope of the calling thread. */
  private float[] sampleWith(TrainableModel m, Sampler sampler, Timesteps plan) {
    try (TensorScope s = backend.tensors().openScope()) {
      return sampler.sample(m, backend.tensors(), SamplingRequest.of(3, SPEC.imageShape(), 11, plan)).toFloatArray();
    }
  }

  /** Waits for the latch as work that heeds no interrupt would, then leaves the thread's interrupt as it came. */
  private static void awaitKeepingTheInterrupt(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void deterministicDdimRepeatsBitForBit() {
    Timesteps plan = Timesteps.trailing(100, 10);
    assertArrayEquals(sample(backend, ddim(backend, 0.0), plan, 8), sample(backend, ddim(backend, 0.0), plan, 8));
  }
}
