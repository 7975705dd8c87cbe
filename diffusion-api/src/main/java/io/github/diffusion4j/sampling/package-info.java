/**
 * Samplers, written once against {@link io.github.diffusion4j.tensor.Tensor} so that they run on every
 * backend: {@link io.github.diffusion4j.sampling.DdpmSampler} (Ho et al. 2020, Algorithm 2, in diffusers'
 * posterior form), {@link io.github.diffusion4j.sampling.DdimSampler} (Song et al. 2021, eq. 12), the
 * {@link io.github.diffusion4j.sampling.Sampler} interface for your own, and the
 * {@link io.github.diffusion4j.sampling.SamplingLoop} that walks a
 * {@link io.github.diffusion4j.schedule.Timesteps} plan with one tensor scope per step, optionally with a
 * {@link io.github.diffusion4j.sampling.StepConstraint} after each step
 * ({@link io.github.diffusion4j.sampling.Inpainting}, RePaint); {@link io.github.diffusion4j.sampling.ImageToImage} starts a plan's tail from noised images (SDEdit).
 */
package io.github.diffusion4j.sampling;
