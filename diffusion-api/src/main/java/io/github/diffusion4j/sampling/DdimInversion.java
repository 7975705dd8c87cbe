package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.Arrays;

/**
 * DDIM inversion: runs deterministic DDIM ({@code eta = 0}) backwards, from images {@code x0} up the plan
 * to latents {@code x_T}, so that DDIM sampling with the same plan from those latents gives the images
 * back (approximately: the model is evaluated at the next, noisier timestep, as in Song et al. 2021,
 * eq. 14's ODE discretised forwards, and diffusers' {@code DDIMInverseScheduler}).
 *
 * <p>Walking the plan in ascending order {@code s_0 < s_1 < ...}, with {@code a_cur} the alpha-bar of the
 * previous position (1 before the first) and {@code a_next = alphaBar(s_j)}:
 *
 * <pre>
 *   eps = model(x, s_j) as noise;  x0^ = (x - sqrt(1 - a_cur) eps) / sqrt(a_cur)
 *   x   = sqrt(a_next) x0^ + sqrt(1 - a_next) eps
 * </pre>
 *
 * <p>For epsilon models (every bundled and published DDPM model) on plans whose steps are {@code T / N} apart
 * ({@code leading} plans, {@code trailing} ones where N divides T) this is diffusers' {@code DDIMInverseScheduler} step
 * for step. On other plans diffusers takes {@code a_cur} at {@code s_j - T // N} (its DDIM step's rule, run
 * backwards: docs/diffusers.md), where this class takes the plan's previous position, so that DDIM sampling
 * undoes each step with the same two alpha-bars. Two differences for other prediction types: a {@code v_prediction} or {@code sample} output is converted to noise with
 * {@code a_next}, the alpha-bar of the timestep the model was asked about (as DDIM sampling converts it there);
 * diffusers converts with {@code a_cur}, which for {@code sample} divides by zero at the first step ({@code a_cur =
 * 1}). And {@code x0^} is never clipped (diffusers clips it where the scheduler's {@code clip_sample} is set).
 */
public final class DdimInversion {
  private final Schedule schedule;
  private final PredictionType predictionType;

  /**
   * Creates the inversion.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   */
  public DdimInversion(Schedule schedule, PredictionType predictionType) {
    this.schedule = java.util.Objects.requireNonNull(schedule, "schedule must not be null");
    this.predictionType = java.util.Objects.requireNonNull(predictionType, "predictionType must not be null");
  }

  /**
   * Maps images to latents.
   *
   * @param model the noise predictor
   * @param tensors the backend's factory
   * @param x0 the images {@code [N, C, H, W]} in the model's range ({@code [-1, 1]})
   * @param plan the plan sampling will use (walked here in reverse)
   * @return the latents {@code x_T}, in the caller's scope
   */
  public Tensor invert(NoisePredictor model, TensorFactory tensors, Tensor x0, Timesteps plan) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(tensors, "tensors must not be null");
    java.util.Objects.requireNonNull(x0, "x0 must not be null");
    java.util.Objects.requireNonNull(plan, "plan must not be null");
    schedule.checkPlan(plan);
    int[] ascending = plan.ascending();
    int[] t = new int[x0.shape().batch()];
    Tensor x = x0;
    double aCur = 1.0;
    try (TensorScope outer = tensors.openScope()) {
      for (int k = 0; k < ascending.length; k++) {
        int step = ascending[k];
        int position = k + 1;
        Tensor next;
        try (TensorScope s = tensors.openScope()) {
          Arrays.fill(t, step);
          Tensor out = NoisePredictor.checkOutput(model.predict(x, t), x, () -> "DDIM inversion, step " + position
              + " of " + ascending.length + " (timestep " + step + ")");
          double aNext = schedule.alphaBar(step);
          Tensor eps = predictionType.toEpsilon(out, x, aNext);
          Tensor x0Hat = x.combine(1.0 / Math.sqrt(aCur), eps, -Math.sqrt(1 - aCur) / Math.sqrt(aCur));
          next = s.keep(x0Hat.combine(Math.sqrt(aNext), eps, Math.sqrt(1 - aNext)));
          aCur = aNext;
        }
        if (x != x0) {
          x.close();
        }
        x = next;
      }
      outer.keep(x);
    }
    return x;
  }
}
