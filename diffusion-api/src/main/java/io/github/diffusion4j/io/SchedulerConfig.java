package io.github.diffusion4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint's {@code scheduler_config.json}: the noise schedule and sampler settings under the keys
 * of diffusers' {@code DDPMScheduler} / {@code DDIMScheduler}, so that a diffusers config can be read
 * and ours read by diffusers.
 *
 * <p>Reading is tolerant the way diffusers is: a missing key takes diffusers' default, and keys this
 * class does not use ({@code _diffusers_version}, {@code trained_betas: null}, other schedulers' keys
 * such as {@code skip_prk_steps}) are ignored ({@link #unknownKeys} lists those neither scheduler takes, which a
 * diffusers folder's load warns of). A value of the wrong type, an unknown enum value, or
 * explicit {@code trained_betas} is an error naming the key. Writing follows diffusers'
 * {@code to_json_string}: keys sorted, two-space indent, a final newline.
 *
 * <p>The noise schedule is one value, {@link ScheduleSpec} (the keys {@code num_train_timesteps},
 * {@code beta_start}, {@code beta_end}, {@code beta_schedule} and {@code rescale_betas_zero_snr}); this file
 * format and the YAML section {@code schedule:} both parse into it, and its constructor checks it.
 *
 * @param className {@code _class_name}, e.g. {@code "DDPMScheduler"}
 * @param schedule the noise schedule ({@code num_train_timesteps}, {@code beta_start}, {@code beta_end},
 *     {@code beta_schedule}, {@code rescale_betas_zero_snr})
 * @param predictionType {@code prediction_type}
 * @param varianceType {@code variance_type} (DDPM's reverse-step variance)
 * @param clipSample {@code clip_sample}
 * @param clipSampleRange {@code clip_sample_range}
 * @param setAlphaToOne {@code set_alpha_to_one} (DDIM's final alpha-bar)
 * @param stepsOffset {@code steps_offset}, at least 0
 * @param timestepSpacing {@code timestep_spacing}
 * @param thresholding {@code thresholding}
 * @param dynamicThresholdingRatio {@code dynamic_thresholding_ratio}
 * @param sampleMaxValue {@code sample_max_value}
 */
public record SchedulerConfig(
    String className,
    ScheduleSpec schedule,
    PredictionType predictionType,
    VarianceType varianceType,
    boolean clipSample,
    double clipSampleRange,
    boolean setAlphaToOne,
    int stepsOffset,
    TimestepSpacing timestepSpacing,
    boolean thresholding,
    double dynamicThresholdingRatio,
    double sampleMaxValue) {

  private static final Logger LOG = LoggerFactory.getLogger(SchedulerConfig.class);

  /**
   * The most {@code num_train_timesteps} a file may declare: the schedule's arrays are allocated with that length
   * (diffusers' schedulers use 1000; a file declaring 10^9 asked for gigabytes before anything else was checked).
   */
  public static final int MAX_NUM_TRAIN_TIMESTEPS = 1_000_000;

  /** diffusers' default {@code _class_name} for what diffusion4j trains. */
  public static final String DDPM_SCHEDULER = "DDPMScheduler";

  /**
   * diffusers' defaults ({@code DDPMScheduler}; {@code set_alpha_to_one} from {@code DDIMScheduler}):
   * what a key that is absent from a file means.
   */
  public static final SchedulerConfig DIFFUSERS_DEFAULTS =
      new SchedulerConfig(
          DDPM_SCHEDULER, new ScheduleSpec(1000, 0.0001, 0.02, BetaSchedule.LINEAR, false),
          PredictionType.EPSILON, VarianceType.FIXED_SMALL, true, 1.0, true, 0, TimestepSpacing.LEADING, false,
          0.995, 1.0);

  /**
   * The keys {@code DDPMScheduler} and {@code DDIMScheduler} take: those read here, and {@code trained_betas} (null, or
   * refused).
   */
  private static final Set<String> KEYS = Set.of("num_train_timesteps", "beta_start", "beta_end", "beta_schedule",
      "rescale_betas_zero_snr", "prediction_type", "variance_type", "clip_sample", "clip_sample_range",
      "set_alpha_to_one", "steps_offset", "timestep_spacing", "thresholding", "dynamic_thresholding_ratio",
      "sample_max_value", "trained_betas");

  /**
   * Checks the values; the messages use the JSON keys.
   *
   * @param className {@code _class_name}, e.g. {@code "DDPMScheduler"}
   * @param schedule the noise schedule (checked by its own constructor)
   * @param predictionType {@code prediction_type}
   * @param varianceType {@code variance_type} (DDPM's reverse-step variance)
   * @param clipSample {@code clip_sample}
   * @param clipSampleRange {@code clip_sample_range}
   * @param setAlphaToOne {@code set_alpha_to_one} (DDIM's final alpha-bar)
   * @param stepsOffset {@code steps_offset}, at least 0
   * @param timestepSpacing {@code timestep_spacing}
   * @param thresholding {@code thresholding}
   * @param dynamicThresholdingRatio {@code dynamic_thresholding_ratio}
   * @param sampleMaxValue {@code sample_max_value}
   * @throws IllegalArgumentException if a value is out of range or missing
   */
  public SchedulerConfig {
    if (className == null || className.isBlank()) {
      throw new IllegalArgumentException("_class_name must be a non-empty string");
    }
    if (schedule == null || predictionType == null || varianceType == null || timestepSpacing == null) {
      throw new IllegalArgumentException(
          "beta_schedule, prediction_type, variance_type and timestep_spacing are required");
    }
    if (stepsOffset < 0) {
      throw new IllegalArgumentException("steps_offset must be at least 0, got " + stepsOffset);
    }
    new SampleClipping(
        clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue);
  }

  /**
   * The configuration of a model trained with {@code schedule} and {@code predictionType}, sampled
   * with the given settings; {@code _class_name} is {@value #DDPM_SCHEDULER} and
   * {@code set_alpha_to_one} is true (change them with the {@code with} methods).
   *
   * @param schedule the noise schedule
   * @param predictionType what the model predicts
   * @param varianceType DDPM's reverse-step variance
   * @param clipping the treatment of the predicted {@code x0}
   * @param timestepSpacing how inference steps are laid out
   * @param stepsOffset the offset added to {@code leading} timesteps
   * @return the configuration
   */
  public static SchedulerConfig of(
      ScheduleSpec schedule,
      PredictionType predictionType,
      VarianceType varianceType,
      SampleClipping clipping,
      TimestepSpacing timestepSpacing,
      int stepsOffset) {
    return new SchedulerConfig(
        DDPM_SCHEDULER, schedule, predictionType, varianceType, clipping.clipSample(),
        clipping.clipSampleRange(), true, stepsOffset, timestepSpacing, clipping.thresholding(), clipping.dynamicThresholdingRatio(), clipping.sampleMaxValue());
  }

  /**
   * This configuration with another {@code _class_name}.
   *
   * @param name e.g. {@code "DDIMScheduler"}
   * @return the new configuration
   */
  public SchedulerConfig withClassName(String name) {
    return new SchedulerConfig(
        name, schedule, predictionType, varianceType, clipSample, clipSampleRange, setAlphaToOne, stepsOffset,
        timestepSpacing, thresholding, dynamicThresholdingRatio, sampleMaxValue);
  }

  /**
   * This configuration with another {@code set_alpha_to_one}.
   *
   * @param value the new value
   * @return the new configuration
   */
  public SchedulerConfig withSetAlphaToOne(boolean value) {
    return new SchedulerConfig(
        className, schedule, predictionType, varianceType, clipSample, clipSampleRange, value, stepsOffset,
        timestepSpacing, thresholding, dynamicThresholdingRatio, sampleMaxValue);
  }

  /**
   * The treatment of the predicted {@code x0}.
   *
   * @return the clipping setting
   */
  public SampleClipping sampleClipping() {
    return new SampleClipping(
        clipSample, clipSampleRange, thresholding, dynamicThresholdingRatio, sampleMaxValue);
  }

  // ------------------------------------------------------------------------------------------ JSON

  /**
   * Reads a {@code scheduler_config.json}.
   *
   * @param file the file
   * @return the configuration
   * @throws CheckpointException naming the file and key if it is missing, not JSON, or has a bad value
   */
  public static SchedulerConfig read(Path file) {
    return fromJson(FileSupport.readUtf8(file), file.toString());
  }

  /**
   * Parses the JSON of a scheduler configuration.
   *
   * @param json the text
   * @param source a name for messages (the file)
   * @return the configuration
   * @throws CheckpointException naming {@code source} and the key if a value is bad
   */
  public static SchedulerConfig fromJson(String json, String source) {
    JsonNode root = StrictJson.parseObject(json, source, "");
    Reader r = new Reader(root, source);
    SchedulerConfig d = DIFFUSERS_DEFAULTS;
    ScheduleSpec ds = d.schedule;
    JsonNode trained = root.get("trained_betas");
    if (trained != null && !trained.isNull()) {
      throw CheckpointException.of(
          source, "key 'trained_betas': explicit betas are not supported; use beta_schedule");
    }
    SchedulerConfig config;
    try {
      config =
          new SchedulerConfig(
              r.string("_class_name", d.className),
              new ScheduleSpec(
                  r.integer("num_train_timesteps", ds.numTrainTimesteps(), MAX_NUM_TRAIN_TIMESTEPS),
                  r.number("beta_start", ds.betaStart()),
                  r.number("beta_end", ds.betaEnd()),
                  r.choice("beta_schedule", ds.betaSchedule(), BetaSchedule::fromConfigName,
                      BetaSchedule.configNames()),
                  r.bool("rescale_betas_zero_snr", ds.rescaleBetasZeroSnr())),
              r.choice("prediction_type", d.predictionType, PredictionType::fromConfigName,
                  PredictionType.configNames()),
              r.choice("variance_type", d.varianceType, VarianceType::fromConfigName,
                  VarianceType.configNames()),
              r.bool("clip_sample", d.clipSample),
              r.number("clip_sample_range", d.clipSampleRange),
              r.bool("set_alpha_to_one", d.setAlphaToOne),
              r.integer("steps_offset", d.stepsOffset),
              r.choice("timestep_spacing", d.timestepSpacing, TimestepSpacing::fromConfigName,
                  TimestepSpacing.configNames()),
              r.bool("thresholding", d.thresholding),
              r.number("dynamic_thresholding_ratio", d.dynamicThresholdingRatio),
              r.number("sample_max_value", d.sampleMaxValue));
    } catch (IllegalArgumentException e) {
      throw CheckpointException.of(source, e.getMessage());
    }
    @SuppressWarnings("unchecked")
    Set<String> ignored = unknownKeys(StrictJson.mapper().convertValue(root, java.util.LinkedHashMap.class));
    if (!ignored.isEmpty()) {
      LOG.debug("{}: ignoring keys diffusion4j does not use: {}", source, ignored);
    }
    return config;
  }

  /**
   * The keys of a {@code scheduler_config.json} that neither {@code DDPMScheduler} nor {@code DDIMScheduler} takes
   * (another scheduler's, such as PNDM's {@code skip_prk_steps}, or a misspelt one), which reading ignores; keys
   * starting with {@code _} are metadata and not listed.
   *
   * @param values the file's keys and values
   * @return those keys, sorted
   */
  public static Set<String> unknownKeys(Map<String, ?> values) {
    return io.github.diffusion4j.model.UNet2DConfig.keysNotIn(values, KEYS);
  }

  /**
   * The JSON form, as diffusers writes it (sorted keys, two-space indent, final newline).
   *
   * @return the text
   */
  public String toJson() {
    Map<String, Object> v = new TreeMap<>();
    v.put("_class_name", className);
    v.put("num_train_timesteps", schedule.numTrainTimesteps());
    v.put("beta_start", schedule.betaStart());
    v.put("beta_end", schedule.betaEnd());
    v.put("beta_schedule", schedule.betaSchedule().configName());
    v.put("prediction_type", predictionType.configName());
    v.put("variance_type", varianceType.configName());
    v.put("clip_sample", clipSample);
    v.put("clip_sample_range", clipSampleRange);
    v.put("set_alpha_to_one", setAlphaToOne);
    v.put("steps_offset", stepsOffset);
    v.put("timestep_spacing", timestepSpacing.configName());
    v.put("rescale_betas_zero_snr", schedule.rescaleBetasZeroSnr());
    v.put("thresholding", thresholding);
    v.put("dynamic_thresholding_ratio", dynamicThresholdingRatio);
    v.put("sample_max_value", sampleMaxValue);
    return StrictJson.pretty(v) + "\n";
  }

  /**
   * Writes the JSON form atomically.
   *
   * @param file the file
   * @throws CheckpointException if writing fails
   */
  public void write(Path file) {
    try {
      AtomicFiles.writeString(file, toJson());
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot write: " + FileProblems.describe(e), e);
    }
  }

  /** Typed access to the keys of one JSON object, with diffusers' defaults for absent keys. */
  private static final class Reader {
    private final JsonNode root;
    private final String source;

    Reader(JsonNode root, String source) {
      this.root = root;
      this.source = source;
    }

    private JsonNode get(String key) {
      return root.get(key);
    }

    private CheckpointException wrong(String key, String expected, JsonNode v) {
      return StrictJson.wrongType(source, key, expected, v);
    }

    String string(String key, String dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isTextual()) {
        throw wrong(key, "a string", v);
      }
      return v.textValue();
    }

    int integer(String key, int dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isIntegralNumber() || !v.canConvertToInt()) {
        throw wrong(key, "an integer", v);
      }
      return v.intValue();
    }

    int integer(String key, int dflt, int max) {
      int v = integer(key, dflt);
      if (v > max) {
        throw CheckpointException.of(source, "key '" + key + "': must be at most " + max + ", got " + v);
      }
      return v;
    }

    double number(String key, double dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isNumber()) {
        throw wrong(key, "a number", v);
      }
      return v.doubleValue();
    }

    boolean bool(String key, boolean dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw wrong(key, "true or false", v);
      }
      return v.booleanValue();
    }

    <E> E choice(String key, E dflt, Function<String, Optional<E>> lookup, List<String> names) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isTextual()) {
        throw wrong(key, "one of " + names, v);
      }
      return lookup
          .apply(v.textValue())
          .orElseThrow(
              () ->
                  CheckpointException.of(
                      source,
                      "key '" + key + "': unknown value '" + StrictJson.abbreviate(v.textValue())
                          + "'; allowed are " + names));
    }
  }
}
