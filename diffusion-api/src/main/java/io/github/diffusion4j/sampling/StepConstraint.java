package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * A rule the sampling loop applies to every step's sample, whatever the sampler: after the sampler's step at plan
 * position {@code index} made {@code x_{t-1}} (at the last position the final sample), the loop hands it to the
 * constraint and walks on from what the constraint returns; the listener sees the constrained sample. Inpainting
 * ({@link Inpainting}) is one: it puts the known region back, noised to the next timestep.
 *
 * <p>{@link SamplingLoop#run(Sampler, io.github.diffusion4j.model.NoisePredictor, TensorFactory, SamplingRequest,
 * SamplingListener, StepConstraint)} applies it; plain sampling ({@link Sampler#sample}) has none and does no work for one. When the
 * loop splits a batch over threads, each slice calls the constraint on its own thread with its own part of the
 * request ({@code batch}: {@link SamplingRequest#firstSample()} and {@link SamplingRequest#count()} say which
 * samples), so an implementation must be safe to call from several threads at once and must not depend on how
 * the samples are split.
 */
@FunctionalInterface
public interface StepConstraint {

  /**
   * Constrains one step's sample.
   *
   * @param tensors the backend's factory; a new tensor is made in its current scope (the step's)
   * @param batch the samples being walked: the run's request, or the slice of it one thread walks
   * @param index the plan position whose step made {@code sample}
   * @param visit the step's number in the walk: {@code index} itself, unless the walk resamples ({@link Resampling}),
   *     where a position is walked more than once and {@code visit} counts the walk's operations (a constraint that
   *     draws noise keys it by {@code visit}, so a position walked again draws afresh)
   * @param sample {@code x_{t-1}} of {@code batch}, {@code [count, C, H, W]} (not to be closed)
   * @return {@code sample} itself, or a new tensor of its shape to walk on from
   */
  Tensor apply(TensorFactory tensors, SamplingRequest batch, int index, int visit, Tensor sample);
}
