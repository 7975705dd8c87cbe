/**
 * The noise schedule and the inference plan, in double precision, with the names and semantics of
 * diffusers' {@code DDPMScheduler} and {@code DDIMScheduler}: {@link io.github.diffusion4j.schedule.Schedule}
 * (betas, alphas, alpha-bars, posterior variance), the beta curves of
 * {@link io.github.diffusion4j.schedule.BetaSchedule}, and {@link io.github.diffusion4j.schedule.Timesteps},
 * the immutable descending plan a sampler walks.
 *
 * <p>Depends on the JDK only.
 */
package io.github.diffusion4j.schedule;
