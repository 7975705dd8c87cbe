package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.Arrays;

/**
 * The reverse-process loop every {@link Sampler} shares: it shows the listener {@code x_T}
 * ({@link SamplingListener#onStart}), then per plan position, in its own
 * {@link TensorScope}, call the model, then the sampler's step, then the listener; keep only the step's
 * result and release the step before it. Noise follows the layout documented on
 * {@link SamplingRequest}.
 *
 * <p>When the backend was given more than one thread ({@link TensorFactory#threads()}), a thread of the
 * loop's own draws each step's noise while the model runs (the noise of a step is a pure function of the
 * request and the step, so the samples are the same bits as with one thread); it starts on the first step
 * and on every step after one that drew noise, so a sampler that never draws noise (DDIM with
 * {@code eta = 0}) costs one unused draw at most.
 */
public final class SamplingLoop {
  private SamplingLoop() {}

  /**
   * The initial latents of a request: {@code x_T}, drawn from the request's noise layout unless given.
   *
   * @param tensors the factory
   * @param request the request
   * @return the latents (the request's own tensor if it has one)
   */
  public static Tensor initialNoise(TensorFactory tensors, SamplingRequest request) {
    return request.initialNoise().orElseGet(() -> stepNoise(tensors, request, -1));
  }

  /**
   * The noise of plan position {@code index} ({@code -1} for {@code x_T}).
   *
   * @param tensors the factory
   * @param request the request
   * @param index the plan position, or -1
   * @return standard-normal noise of the batch shape
   */
  public static Tensor stepNoise(TensorFactory tensors, SamplingRequest request, int index) {
    return tensors.fromArray(noiseValues(request, index), request.batchShape());
  }

  /** The values of {@link #stepNoise}, on the heap. */
  static float[] noiseValues(SamplingRequest request, int index) {
    return noiseValues(request, index, new float[request.batchShape().size()]);
  }

  /**
   * The values of {@link #stepNoise} written into {@code data} (the loop's one buffer, reused every step:
   * a new array per step would be zeroed by the JVM first, a pass over the batch for nothing).
   */
  static float[] noiseValues(SamplingRequest request, int index, float[] data) {
    Shape shape = request.batchShape();
    Noise.seeded(request.seed())
        .withVersion(request.noise())
        .split(index + 1L)
        .fillPerItem(data, request.count(), shape.itemSize(), request.firstSample());
    return data;
  }

  /**
   * Runs a sampler over a request's plan.
   *
   * @param sampler the sampler
   * @param model the model
   * @param tensors the factory
   * @param request the request
   * @param listener the listener
   * @return the final samples, owned by the caller's current scope
   */
  public static Tensor run(
      Sampler sampler,
      NoisePredictor model,
      TensorFactory tensors,
      SamplingRequest request,
      SamplingListener listener) {
    Timesteps plan = request.plan();
    int[] t = new int[request.count()];
    // x_T and then each step's noise are drawn into this buffer and uploaded from it (fromArray copies) before
    // the next draw: one array per run, not one per draw (every array is fresh heap the JVM must touch and zero)
    float[] noise = new float[request.batchShape().size()];
    Tensor given = request.initialNoise().orElse(null);
    Tensor x = given != null ? given : tensors.fromArray(noiseValues(request, -1, noise), request.batchShape());
    listener.onStart(plan, x);
    ReverseStepResult previous = null;
    NoiseAhead noiseThread = tensors.threads() > 1 && plan.size() > 1 ? new NoiseAhead() : null;
    boolean drewNoise = true;
    try (TensorScope outer = tensors.openScope()) {
      for (int i = 0; i < plan.size(); i++) {
        ReverseStepResult result;
        final int index = i;
        boolean ahead = noiseThread != null && drewNoise;
        if (ahead) {
          noiseThread.submit(() -> noiseValues(request, index, noise));
        }
        try (TensorScope step = tensors.openScope()) {
          Arrays.fill(t, plan.get(i));
          Tensor output = model.predict(x, t);
          StepContext context = new StepContext(plan, i, x, output,
              () -> tensors.fromArray(ahead ? noiseThread.await() : noiseValues(request, index, noise),
                  request.batchShape()), previous);
          result = sampler.step(context);
          drewNoise = context.drewNoise();
          if (ahead && !drewNoise) {
            noiseThread.await(); // a draw the step did not use still writes the buffer: let it finish first
          }
          listener.onStep(i, plan, result);
          step.keep(result.prev());
          step.keep(result.predictedX0());
        }
        release(x, given, result);
        if (previous != null) {
          release(previous.predictedX0(), given, result);
          release(previous.prev(), given, result);
        }
        previous = result;
        x = result.prev();
      }
      if (previous != null && previous.predictedX0() != x) {
        release(previous.predictedX0(), given, previous);
      }
      outer.keep(x);
    } finally {
      if (noiseThread != null) {
        noiseThread.close(); // a draw in progress ends first, so no work of the run outlives it
      }
    }
    return x;
  }

  private static void release(Tensor t, Tensor given, ReverseStepResult keep) {
    if (t != null && t != given && t != keep.prev() && t != keep.predictedX0()) {
      t.close();
    }
  }
}
