/**
 * The training loop (Ho et al. 2020, Algorithm 1): {@link io.github.diffusion4j.training.Trainer} walks
 * epochs of shuffled batches, draws timesteps and noise from the portable generator, forms
 * {@code x_t} in closed form, asks the model for one optimiser step, keeps an optional moving average of
 * the weights ({@link io.github.diffusion4j.training.EmaSchedule}), evaluates each epoch, and reports what
 * the DDPM tutorial logged to {@link io.github.diffusion4j.training.TrainingListener}s. Seeded runs are
 * reproducible step for step and can resume from any step.
 */
package io.github.diffusion4j.training;
