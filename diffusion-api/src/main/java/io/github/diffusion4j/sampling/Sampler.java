package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * A reverse-process sampler. Implement {@link #step}; the loop ({@link #sample}) walks the plan of a
 * {@link SamplingRequest}, calls the model, gives each step its portable noise, and keeps native memory
 * flat with one scope per step. Write it against {@link Tensor} and it runs on every backend.
 *
 * <p>Implementations must be immutable (or at least safe to share between threads): per-run state
 * travels in {@link StepContext#previous()}.
 */
public interface Sampler {

  /**
   * The name used in configuration ({@code sampling.sampler}): a sampler a {@link SamplerProvider} makes has its
   * provider's {@link SamplerProvider#name()} (another is an error naming the provider); errors of the sampling
   * loop name the sampler by it.
   *
   * @return e.g. {@code "ddim"}
   */
  String name();

  /**
   * One reverse step: from {@code x_t} and the model's output to the sample at the next timestep of
   * the plan.
   *
   * @param context the step's inputs
   * @return the next sample and the predicted clean sample
   */
  ReverseStepResult step(StepContext context);

  /**
   * Runs the whole reverse process.
   *
   * @param model the noise predictor
   * @param tensors the backend's tensor factory
   * @param request what to sample
   * @param listener sees every step
   * @return the final samples {@code [count, C, H, W]}, owned by the caller's current scope
   */
  default Tensor sample(
      NoisePredictor model, TensorFactory tensors, SamplingRequest request, SamplingListener listener) {
    return SamplingLoop.run(this, model, tensors, request, listener);
  }

  /**
   * Runs the whole reverse process without a listener.
   *
   * @param model the noise predictor
   * @param tensors the backend's tensor factory
   * @param request what to sample
   * @return the final samples
   */
  default Tensor sample(NoisePredictor model, TensorFactory tensors, SamplingRequest request) {
    return sample(model, tensors, request, SamplingListener.NONE);
  }
}
