package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * What defines a sampler, and what a {@link SamplerProvider} builds one from: the trained model's schedule
 * and prediction type, the backend, the common sampling settings (diffusers' names), and the sampler's own
 * options ({@link SamplerOptions}). The user configures these as {@code sampling:} ({@code SamplingConfig});
 * one run of a sampler is a {@link SamplingRequest}.
 *
 * @param schedule the training schedule
 * @param predictionType what the model outputs
 * @param tensors the backend's tensor factory
 * @param eta DDIM's stochasticity, at least 0
 * @param varianceType DDPM's reverse variance
 * @param setAlphaToOne whether alpha-bar past the last step is 1
 * @param clipping what to do to the predicted x0
 * @param options the sampler's own keys
 */
public record SamplerSpec(
    Schedule schedule,
    PredictionType predictionType,
    TensorFactory tensors,
    double eta,
    VarianceType varianceType,
    boolean setAlphaToOne,
    SampleClipping clipping,
    SamplerOptions options) {

  /**
   * Validates the values.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param tensors the backend's tensor factory
   * @param eta DDIM's stochasticity, at least 0
   * @param varianceType DDPM's reverse variance
   * @param setAlphaToOne whether alpha-bar past the last step is 1
   * @param clipping what to do to the predicted x0
   * @param options the sampler's own keys
   */
  public SamplerSpec {
    if (schedule == null || predictionType == null || tensors == null || varianceType == null
        || clipping == null || options == null) {
      throw new IllegalArgumentException("sampler settings must not contain nulls");
    }
    if (!(eta >= 0) || Double.isInfinite(eta)) {
      throw new IllegalArgumentException("eta must be finite and at least 0, got " + eta);
    }
  }

  /**
   * The settings of diffusers' defaults for a schedule and backend: epsilon prediction, eta 0,
   * {@code fixed_small}, {@code set_alpha_to_one}, no clipping, no options.
   *
   * @param schedule the schedule
   * @param tensors the backend's tensors
   * @return the settings
   */
  public static SamplerSpec defaults(Schedule schedule, TensorFactory tensors) {
    return new SamplerSpec(schedule, PredictionType.EPSILON, tensors, 0.0, VarianceType.FIXED_SMALL, true,
        SampleClipping.NONE, SamplerOptions.EMPTY);
  }
}
