package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;

/**
 * What one optimiser step returns.
 *
 * @param loss the mean squared error of the prediction before the update
 * @param prediction the model output before the update; owned by the model and valid only until its
 *     next {@code step} (copy it with {@link Tensor#toFloatArray()} to keep it)
 */
public record StepOutput(double loss, Tensor prediction) {}
