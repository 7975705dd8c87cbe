/**
 * The entry point and the wiring: {@link io.github.diffusion4j.runtime.Diffusion} opens a YAML
 * configuration and builds the object graph with Guice (the only Guice user), choosing the backend and
 * the sampler by name among the providers {@link java.util.ServiceLoader} finds
 * ({@link io.github.diffusion4j.runtime.ProviderDiscovery}). {@link io.github.diffusion4j.runtime.TrainedModel}
 * loads checkpoints and diffusers folders and exports to diffusers; {@link io.github.diffusion4j.runtime.DdpmImport}
 * converts the DDPM/DDIM authors' checkpoints. A training run's {@code metrics.jsonl} is written with
 * Jackson (JSON only; YAML is read in {@code config}).
 */
package io.github.diffusion4j.runtime;
