/**
 * Models: {@link io.github.diffusion4j.model.NoisePredictor} (what a sampler calls),
 * {@link io.github.diffusion4j.model.PredictionType} (what the model's output means, and the conversions
 * between epsilon, x0 and v), and the training side that backends implement:
 * {@link io.github.diffusion4j.model.TrainableModel} built from a {@link io.github.diffusion4j.model.ModelSpec}
 * and an {@link io.github.diffusion4j.model.OptimizerSpec}, with weights moved in and out as a
 * {@link io.github.diffusion4j.model.StateDict} that uses PyTorch's names and layouts.
 */
package io.github.diffusion4j.model;
