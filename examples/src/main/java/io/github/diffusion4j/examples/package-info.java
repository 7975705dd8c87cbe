/**
 * Small runnable programs that show the api, written against {@code diffusion-api} only (an ArchUnit rule
 * checks it); the backends are runtime dependencies. Also the DPM-Solver++(2M) sampler, registered through
 * the public {@link io.github.diffusion4j.sampling.SamplerProvider} path exactly as a user's own would be.
 */
package io.github.diffusion4j.examples;
