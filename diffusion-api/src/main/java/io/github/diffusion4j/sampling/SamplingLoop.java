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
 * The reverse-process loop every {@link Sampler} shares: per plan position, in its own
 * {@link TensorScope}, call the model, then the sampler's step, then the listener; keep only the step's
 * result and release the step before it. Noise follows the layout documented on
 * {@link SamplingRequest}.
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
    Shape shape = request.batchShape();
    float[] data = new float[shape.size()];
    Noise.seeded(request.seed())
        .split(index + 1L)
        .fillPerItem(data, request.count(), shape.itemSize(), request.firstSample());
    return tensors.fromArray(data, shape);
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
    Tensor x = initialNoise(tensors, request);
    Tensor given = request.initialNoise().orElse(null);
    StepResult previous = null;
    try (TensorScope outer = tensors.openScope()) {
      for (int i = 0; i < plan.size(); i++) {
        StepResult result;
        try (TensorScope step = tensors.openScope()) {
          Arrays.fill(t, plan.get(i));
          Tensor output = model.predict(x, t);
          final int index = i;
          StepContext context =
              new StepContext(plan, i, x, output, () -> stepNoise(tensors, request, index), previous);
          result = sampler.step(context);
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
    }
    return x;
  }

  private static void release(Tensor t, Tensor given, StepResult keep) {
    if (t != null && t != given && t != keep.prev() && t != keep.predictedX0()) {
      t.close();
    }
  }
}
