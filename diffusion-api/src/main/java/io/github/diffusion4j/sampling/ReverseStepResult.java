package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Tensor;

/**
 * What one reverse (denoising) step of a {@link Sampler} returns; a training step returns a
 * {@link io.github.diffusion4j.model.TrainingStepResult}.
 *
 * @param prev the sample at the next timestep of the plan ({@code x_{t-1}}, or the final image after the
 *     last step)
 * @param predictedX0 the clean sample the model's output implied at this step (after clipping, if
 *     enabled); null where the step's context said no one reads it ({@link StepContext#predictedX0Wanted()})
 */
public record ReverseStepResult(Tensor prev, Tensor predictedX0) {}
