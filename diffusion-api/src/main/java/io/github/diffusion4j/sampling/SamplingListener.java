package io.github.diffusion4j.sampling;

import io.github.diffusion4j.schedule.Timesteps;

/**
 * Sees every step of a sampling run (progress bars, trajectory frames). Tensors passed in are valid only
 * during the call; copy what you keep with {@link io.github.diffusion4j.tensor.Tensor#toFloatArray()}.
 */
@FunctionalInterface
public interface SamplingListener {

  /** A listener that does nothing. */
  SamplingListener NONE = (index, plan, result) -> {};

  /**
   * Called after each step.
   *
   * @param index the position in the plan
   * @param plan the plan
   * @param result the step's result
   */
  void onStep(int index, Timesteps plan, StepResult result);
}
