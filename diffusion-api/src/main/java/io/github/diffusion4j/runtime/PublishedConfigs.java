package io.github.diffusion4j.runtime;

import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.tensor.Shape;
import java.math.BigDecimal;
import java.util.List;

/**
 * The configuration of a model that was not trained here (a diffusers folder, the DDPM authors' checkpoint): the
 * architecture as given, the schedule and sampler settings of its {@code scheduler_config.json}, DDIM with 50
 * steps (diffusers' {@code DDIMPipeline} default), and a one-image placeholder for the data and training keys,
 * which sampling does not use.
 */
final class PublishedConfigs {
  /** The default number of DDIM steps, as diffusers' {@code DDIMPipeline}. */
  static final int DDIM_STEPS = 50;

  private PublishedConfigs() {}

  /**
   * The YAML of such a configuration, with placeholder data.
   *
   * @param imageShape the image shape, or null when unknown (then {@code data.image_shape} must be given)
   * @param modelYaml the {@code model:} section's lines, each indented by two spaces
   * @param s the scheduler configuration
   * @return the YAML text
   */
  static String yaml(Shape imageShape, List<String> modelYaml, SchedulerConfig s) {
    return yaml(imageShape, modelYaml, s, true);
  }

  /**
   * The YAML of such a configuration.
   *
   * @param imageShape the image shape, or null when unknown (then {@code data.image_shape} must be given)
   * @param modelYaml the {@code model:} section's lines, each indented by two spaces
   * @param s the scheduler configuration
   * @param placeholderData whether the data is one generated image (else only the image shape is written, for data
   *     the caller's overrides give, e.g. to score samples against real images)
   * @return the YAML text
   */
  static String yaml(Shape imageShape, List<String> modelYaml, SchedulerConfig s, boolean placeholderData) {
    StringBuilder b = new StringBuilder();
    b.append("data:\n");
    if (placeholderData) {
      b.append("  kind: gradients\n  train_size: 1\n  eval_size: 0\n");
    }
    if (imageShape != null) {
      b.append("  image_shape: [").append(imageShape.dim(0)).append(", ").append(imageShape.dim(1)).append(", ")
          .append(imageShape.dim(2)).append("]\n");
    }
    b.append("model:\n");
    modelYaml.forEach(line -> b.append("  ").append(line).append('\n'));
    b.append("schedule:\n")
        .append("  num_train_timesteps: ").append(s.schedule().numTrainTimesteps()).append('\n')
        .append("  beta_start: ").append(number(s.schedule().betaStart())).append('\n')
        .append("  beta_end: ").append(number(s.schedule().betaEnd())).append('\n')
        .append("  beta_schedule: ").append(s.schedule().betaSchedule().configName()).append('\n')
        .append("  prediction_type: ").append(s.predictionType().configName()).append('\n')
        .append("  rescale_betas_zero_snr: ").append(s.schedule().rescaleBetasZeroSnr()).append('\n');
    b.append("training:\n  batch_size: 1\n  epochs: 1\n  images_to_log: 1\n");
    b.append("sampling:\n")
        .append("  sampler: ddim\n")
        .append("  num_inference_steps: ").append(Math.min(DDIM_STEPS, s.schedule().numTrainTimesteps())).append('\n')
        .append("  timestep_spacing: ").append(s.timestepSpacing().configName()).append('\n')
        .append("  steps_offset: ").append(s.stepsOffset()).append('\n')
        .append("  variance_type: ").append(s.varianceType().configName()).append('\n')
        .append("  clip_sample: ").append(s.clipSample()).append('\n')
        .append("  clip_sample_range: ").append(number(s.clipSampleRange())).append('\n')
        .append("  thresholding: ").append(s.thresholding()).append('\n')
        .append("  dynamic_thresholding_ratio: ").append(number(s.dynamicThresholdingRatio())).append('\n')
        .append("  sample_max_value: ").append(number(s.sampleMaxValue())).append('\n')
        .append("  set_alpha_to_one: ").append(s.setAlphaToOne()).append('\n');
    return b.toString();
  }

  /**
   * Plain values (strings, numbers, booleans, null, lists, maps) as one line of YAML flow style, strings
   * double-quoted.
   *
   * @param v the value
   * @return the text
   */
  static String flow(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String str) {
      StringBuilder b = new StringBuilder("\"");
      for (char c : str.toCharArray()) {
        if (c == '"' || c == '\\') {
          b.append('\\').append(c);
        } else if (c < 0x20) {
          b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
        } else {
          b.append(c);
        }
      }
      return b.append('"').toString();
    }
    if (v instanceof Double || v instanceof Float) {
      return number(((Number) v).doubleValue());
    }
    if (v instanceof List<?> l) {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) {
        b.append(i > 0 ? ", " : "").append(flow(l.get(i)));
      }
      return b.append(']').toString();
    }
    if (v instanceof java.util.Map<?, ?> m) {
      StringBuilder b = new StringBuilder("{");
      int i = 0;
      for (java.util.Map.Entry<?, ?> e : m.entrySet()) {
        b.append(i++ > 0 ? ", " : "").append(flow(String.valueOf(e.getKey()))).append(": ").append(flow(e.getValue()));
      }
      return b.append('}').toString();
    }
    return String.valueOf(v);
  }

  /** A number YAML reads back as the same double ({@code 0.0001}, not {@code 1.0E-4}). */
  static String number(double d) {
    String plain = BigDecimal.valueOf(d).toPlainString();
    return plain.contains(".") ? plain : plain + ".0";
  }
}
