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

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  static final Key<SamplingConfig, String> SAMPLER = Key.of("sampling.sampler", SamplingConfig::sampler,
      ValueType.identifier(), "ddim", "ddpm, ddim or the name of any registered SamplerProvider");
  static final Key<SamplingConfig, Integer> NUM_INFERENCE_STEPS = Key.of("sampling.num_inference_steps",
      SamplingConfig::numInferenceSteps, ValueType.atLeast(1), 20,
      "denoising steps; at most schedule.num_train_timesteps");
  static final Key<SamplingConfig, TimestepSpacing> TIMESTEP_SPACING = Key.of("sampling.timestep_spacing",
      SamplingConfig::timestepSpacing,
      ValueType.enumeration(TimestepSpacing.class, TimestepSpacing::configName), TimestepSpacing.TRAILING,
      "how the steps are laid over [0, T)");
  static final Key<SamplingConfig, Integer> STEPS_OFFSET = Key.of("sampling.steps_offset",
      SamplingConfig::stepsOffset, ValueType.atLeast(0), 0, "added to every step of a leading plan");
  static final Key<SamplingConfig, List<Integer>> TIMESTEPS = Key.of("sampling.timesteps",
      SamplingConfig::timesteps, ValueType.intList(0, false), List.of(),
      "explicit plan, strictly descending in [0, T); overrides num_inference_steps and "
          + "timestep_spacing when not empty");
  static final Key<SamplingConfig, Double> ETA = Key.of("sampling.eta", SamplingConfig::eta,
      ValueType.nonNegative(), 0.0, "DDIM noise: 0 = deterministic, 1 = DDPM-like");
  static final Key<SamplingConfig, VarianceType> VARIANCE_TYPE = Key.of("sampling.variance_type",
      SamplingConfig::varianceType, ValueType.enumeration(VarianceType.class, VarianceType::configName),
      VarianceType.FIXED_SMALL,
      "DDPM step variance: fixed_small (posterior), fixed_large (beta) or tutorial (beta^2)");
  static final Key<SamplingConfig, Boolean> CLIP_SAMPLE = Key.of("sampling.clip_sample",
      SamplingConfig::clipSample, ValueType.bool(), false,
      "clamp the predicted x0 to [-clip_sample_range, clip_sample_range]");
  static final Key<SamplingConfig, Double> CLIP_SAMPLE_RANGE = Key.of("sampling.clip_sample_range",
      SamplingConfig::clipSampleRange, ValueType.positive(), 1.0, "the clamp bound");
  static final Key<SamplingConfig, Boolean> THRESHOLDING = Key.of("sampling.thresholding",
      SamplingConfig::thresholding, ValueType.bool(), false,
      "dynamic thresholding of the predicted x0 (Saharia et al. 2022); overrides clip_sample");
  static final Key<SamplingConfig, Double> DYNAMIC_THRESHOLDING_RATIO = Key.of(
      "sampling.dynamic_thresholding_ratio", SamplingConfig::dynamicThresholdingRatio,
      ValueType.number(0, false, 1, true), 0.995, "quantile of |x0| used as the threshold");
  static final Key<SamplingConfig, Double> SAMPLE_MAX_VALUE = Key.of("sampling.sample_max_value",
      SamplingConfig::sampleMaxValue, ValueType.number(1, true, Double.POSITIVE_INFINITY, false), 1.0,
      "the largest threshold");
  static final Key<SamplingConfig, Boolean> SET_ALPHA_TO_ONE = Key.of("sampling.set_alpha_to_one",
      SamplingConfig::setAlphaToOne, ValueType.bool(), true,
      "DDIM: alpha-bar after the last step is 1 (else alpha-bar of step 0)");
  static final Key<SamplingConfig, Integer> COUNT = Key.of("sampling.count", SamplingConfig::count,
      ValueType.atLeast(1), 64, "images to generate");
  static final Key<SamplingConfig, Boolean> USE_EMA = Key.of("sampling.use_ema", SamplingConfig::useEma,
      ValueType.bool(), true, "sample with the EMA weights when the checkpoint has them");
  static final Key<SamplingConfig, Integer> NOISE_VERSION = Key.of("sampling.noise_version",
      SamplingConfig::noiseVersion, ValueType.oneOf(1, 2), 1,
      "how sampling noise becomes normals: 1 ziggurat (every release's samples), 2 float32 Box-Muller "
          + "(faster with the Vector API and DJL; beside ND4J's vector kernels Java 17 compiles one of the two badly "
          + "in some processes, the fill on AVX2, ND4J's kernels on AVX-512: keep 1 with ND4J; docs/noise.md)");
  static final Key<SamplingConfig, ConfigSection> OPTIONS = Key.of("sampling.options",
      SamplingConfig::options, ValueType.section(), ConfigSection.empty("sampling.options"),
      "sampler-specific options, read by a custom sampler's provider");

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
    SAMPLER.check(sampler);
    NUM_INFERENCE_STEPS.check(numInferenceSteps);
    TIMESTEP_SPACING.check(timestepSpacing);
    STEPS_OFFSET.check(stepsOffset);
    timesteps = TIMESTEPS.check(timesteps == null ? null : List.copyOf(timesteps));
    ETA.check(eta);
    VARIANCE_TYPE.check(varianceType);
    CLIP_SAMPLE_RANGE.check(clipSampleRange);
    DYNAMIC_THRESHOLDING_RATIO.check(dynamicThresholdingRatio);
    SAMPLE_MAX_VALUE.check(sampleMaxValue);
    COUNT.check(count);
    NOISE_VERSION.check(noiseVersion);
    OPTIONS.check(options);
    for (int i = 1; i < timesteps.size(); i++) {
      if (timesteps.get(i) >= timesteps.get(i - 1)) {
        throw new ConfigException(TIMESTEPS.path() + "[" + i + "]",
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
