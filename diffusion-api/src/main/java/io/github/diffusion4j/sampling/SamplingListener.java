package io.github.diffusion4j.sampling;

import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Tensor;

/**
 * Sees a sampling run start and every step of it (progress bars, trajectory frames). Tensors passed in are
 * valid only during the call; copy what you keep with {@link Tensor#toFloatArray()}, and do not change or
 * close them. A run sampled in several batches calls {@link #onStart} and then {@link #onStep} for each
 * batch in turn. With a backend of several threads the loop walks a batch in slices on as many threads and
 * calls the listener on the calling thread, once per step, with the whole batch: the slices joined, read
 * only when the listener reads them (an operation on such a tensor computes on a joined copy, released when
 * the call returns; call it on the tensor passed in, not with it as another tensor's operand).
 */
@FunctionalInterface
public interface SamplingListener {

  /** A listener that does nothing (and reads no predicted {@code x_0}). */
  SamplingListener NONE = new SamplingListener() {
    @Override
    public void onStep(int index, Timesteps plan, ReverseStepResult result) {}

    @Override
    public boolean readsPredictedX0() {
      return false;
    }
  };

  /**
   * Called once per run of the loop, before the first step, with the latents the loop starts from:
   * {@code x_T}, the request's own initial noise or the noise drawn for it (see {@link SamplingRequest}).
   * Does nothing unless overridden.
   *
   * @param plan the plan the run walks
   * @param initial {@code x_T}, shape {@code [count, C, H, W]}, in the model's range ({@code [-1, 1]} for
   *     images, though noise is unbounded)
   */
  default void onStart(Timesteps plan, Tensor initial) {}

  /**
   * Called after each step.
   *
   * @param index the position in the plan
   * @param plan the plan
   * @param result the step's result
   */
  void onStep(int index, Timesteps plan, ReverseStepResult result);

  /**
   * Whether {@link #onStep} reads {@link ReverseStepResult#predictedX0()}. A listener that shows only the
   * samples (a progress bar, frames of {@code prev}) returns false, and the built-in samplers then skip
   * computing it (one pass over the batch a step); {@link ReverseStepResult#predictedX0()} is then null.
   *
   * @return true unless overridden
   */
  default boolean readsPredictedX0() {
    return true;
  }
}
