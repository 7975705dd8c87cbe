package io.github.diffusion4j.config;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplerSpec;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.TimestepSpacing;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.List;

/**
 * Generating images ({@code sampling:}), with diffusers' {@code DDPMScheduler}/{@code DDIMScheduler}
 * names.
 *
 * @param sampler {@code ddpm}, {@code ddim} or the name of a registered sampler provider, a lowercase
 *     identifier (checked against the registered providers when the runtime starts)
 * @param numInferenceSteps steps of the plan, at least 1 and at most {@code T}
 * @param timestepSpacing how the steps are laid over {@code [0, T)}
 * @param stepsOffset added to every step of a leading plan, at least 0
 * @param timesteps an explicit plan, strictly descending, each in {@code [0, T)}; when not empty it
 *     overrides {@code numInferenceSteps} and {@code timestepSpacing}
 * @param eta DDIM's noise scale, at least 0
 * @param varianceType DDPM's step variance
 * @param clipSample clamp the predicted x0
 * @param clipSampleRange the clamp bound, positive
 * @param thresholding dynamic thresholding of the predicted x0
 * @param dynamicThresholdingRatio the thresholding quantile, in (0, 1]
 * @param sampleMaxValue the largest threshold, at least 1
 * @param setAlphaToOne DDIM: alpha-bar after the last step is 1
 * @param count images to generate, at least 1
 * @param useEma sample with the EMA weights when the checkpoint has them
 * @param noiseVersion the {@link NoiseVersion} number of the sampling noise: 1 (the ziggurat, the default) or 2
 *     (a float32 Box-Muller, docs/noise.md)
 * @param options sampler-specific options, read by a custom sampler's provider
 */
public record SamplingConfig(
    String sampler,
    int numInferenceSteps,
    TimestepSpacing timestepSpacing,
    int stepsOffset,
    List<Integer> timesteps,
    double eta,
    VarianceType varianceType,
    boolean clipSample,
    double clipSampleRange,
    boolean thresholding,
    double dynamicThresholdingRatio,
    double sampleMaxValue,
    boolean setAlphaToOne,
    int count,
    boolean useEma,
    int noiseVersion,
    ConfigSection options) {

  /**
   * Validates the values.
   *
   * @param sampler {@code ddpm}, {@code ddim} or the name of a registered sampler provider, a lowercase
   *     identifier (checked against the registered providers when the runtime starts)
   * @param numInferenceSteps steps of the plan, at least 1 and at most {@code T}
   * @param timestepSpacing how the steps are laid over {@code [0, T)}
   * @param stepsOffset added to every step of a leading plan, at least 0
   * @param timesteps an explicit plan, strictly descending, each in {@code [0, T)}; when not empty it
   *     overrides {@code numInferenceSteps} and {@code timestepSpacing}
   * @param eta DDIM's noise scale, at least 0
   * @param varianceType DDPM's step variance
   * @param clipSample clamp the predicted x0
   * @param clipSampleRange the clamp bound, positive
   * @param thresholding dynamic thresholding of the predicted x0
   * @param dynamicThresholdingRatio the thresholding quantile, in (0, 1]
   * @param sampleMaxValue the largest threshold, at least 1
   * @param setAlphaToOne DDIM: alpha-bar after the last step is 1
   * @param count images to generate, at least 1
   * @param useEma sample with the EMA weights when the checkpoint has them
   * @param noiseVersion the {@link NoiseVersion} number of the sampling noise, 1 or 2
   * @param options sampler-specific options, read by a custom sampler's provider
   * @throws ConfigException naming the key at fault
   */
  public SamplingConfig {
    Schema.SAMPLER.check(sampler);
    Schema.NUM_INFERENCE_STEPS.check(numInferenceSteps);
    Schema.TIMESTEP_SPACING.check(timestepSpacing);
    Schema.STEPS_OFFSET.check(stepsOffset);
    timesteps = Schema.TIMESTEPS.check(timesteps == null ? null : List.copyOf(timesteps));
    Schema.ETA.check(eta);
    Schema.VARIANCE_TYPE.check(varianceType);
    Schema.CLIP_SAMPLE_RANGE.check(clipSampleRange);
    Schema.DYNAMIC_THRESHOLDING_RATIO.check(dynamicThresholdingRatio);
    Schema.SAMPLE_MAX_VALUE.check(sampleMaxValue);
    Schema.COUNT.check(count);
    Schema.NOISE_VERSION.check(noiseVersion);
    Schema.OPTIONS.check(options);
    for (int i = 1; i < timesteps.size(); i++) {
      if (timesteps.get(i) >= timesteps.get(i - 1)) {
        throw new ConfigException(Schema.TIMESTEPS.path() + "[" + i + "]",
            "must be less than the step before it (" + timesteps.get(i - 1) + "), got " + timesteps.get(i)
                + "; a plan is strictly descending, e.g. [99, 66, 33, 0]");
      }
    }
  }

  /**
   * The inference plan: the explicit {@code timesteps} when given, else {@code numInferenceSteps} laid
   * out by {@code timestepSpacing} and {@code stepsOffset}.
   *
   * @param numTrainTimesteps {@code T} ({@code schedule.num_train_timesteps})
   * @return the plan
   * @throws IllegalArgumentException if the plan does not fit in {@code [0, T)} (a loaded config has
   *     been checked against its own schedule)
   */
  public Timesteps plan(int numTrainTimesteps) {
    if (!timesteps.isEmpty()) {
      return Timesteps.of(numTrainTimesteps, timesteps.stream().mapToInt(Integer::intValue).toArray());
    }
    return Timesteps.create(numTrainTimesteps, numInferenceSteps, timestepSpacing, stepsOffset);
  }

  /**
   * The noise version of this configuration's sampling.
   *
   * @return the version
   */
  public NoiseVersion noise() {
    return NoiseVersion.of(noiseVersion);
  }

  /**
   * What to do to the predicted x0.
   *
   * @return the clipping setting
   */
  public SampleClipping clipping() {
    return new SampleClipping(clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio,
        sampleMaxValue);
  }

  /**
   * What a sampler provider builds its sampler from: these settings with the model's schedule, prediction
   * type and backend; {@link #options()} become the provider's {@code SamplerOptions}.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param tensors the backend's tensor factory
   * @return the spec
   */
  public SamplerSpec samplerSpec(Schedule schedule, PredictionType predictionType, TensorFactory tensors) {
    return new SamplerSpec(schedule, predictionType, tensors, eta, varianceType, setAlphaToOne, clipping(),
        options);
  }
}
