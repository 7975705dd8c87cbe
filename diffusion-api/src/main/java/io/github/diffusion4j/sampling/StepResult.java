package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Tensor;

/**
 * What one reverse step returns.
 *
 * @param prev the sample at the next timestep of the plan ({@code x_{t-1}}, or the final image after the
 *     last step)
 * @param predictedX0 the clean sample the model's output implied at this step (after clipping, if
 *     enabled)
 */
public record StepResult(Tensor prev, Tensor predictedX0) {}
