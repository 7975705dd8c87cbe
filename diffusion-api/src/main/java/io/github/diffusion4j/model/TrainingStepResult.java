package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;

/**
 * What one training (optimiser) step of a {@link TrainableModel} returns; a sampler's reverse step returns an
 * {@code io.github.diffusion4j.sampling.ReverseStepResult}.
 *
 * @param loss the mean squared error of the prediction before the update
 * @param prediction the model output before the update: a tensor of the caller's innermost
 *     {@link io.github.diffusion4j.tensor.TensorScope}, released with that scope (or by closing it); copy it
 *     with {@link Tensor#toFloatArray()} to keep it beyond
 */
public record TrainingStepResult(double loss, Tensor prediction) {}
