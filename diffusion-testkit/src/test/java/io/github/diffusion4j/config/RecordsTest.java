package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplerSpec;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.testkit.ReferenceBackend;
import io.github.diffusion4j.training.EmaSchedule;
import io.github.diffusion4j.training.TrainerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The records' converters to api values, and their validation when built in code. */
class RecordsTest {

  private static DiffusionConfig load(String yaml) {
    return ConfigLoader.loadString(yaml, "run.yaml");
  }

  @Test
  void scheduleToSpec() {
    ScheduleConfig s = load("schedule:\n  num_train_timesteps: 1000\n  beta_schedule: scaled_linear\n"
        + "  beta_start: 0.00085\n  beta_end: 0.012\n  prediction_type: v_prediction\n"
        + "  rescale_betas_zero_snr: true\n").schedule();
    assertEquals(new ScheduleSpec(1000, 0.00085, 0.012, BetaSchedule.SCALED_LINEAR, true), s.spec());
    assertEquals(PredictionType.V_PREDICTION, s.predictionType());
  }

  @Test
  void planFromSpacingOrExplicitList() {
    SamplingConfig leading = load("sampling:\n  num_inference_steps: 10\n  timestep_spacing: leading\n"
        + "  steps_offset: 1\n").sampling();
    assertEquals(Timesteps.create(100, 10, TimestepSpacing.LEADING, 1), leading.plan(100));
    assertEquals(91, leading.plan(100).get(0));
    SamplingConfig explicit = load("sampling:\n  timesteps: [99, 50, 7, 0]\n  num_inference_steps: 3\n").sampling();
    assertEquals(Timesteps.of(100, 99, 50, 7, 0), explicit.plan(100));
  }

  @Test
  void clippingAndOptimizer() {
    DiffusionConfig c = load("sampling:\n  thresholding: true\n  dynamic_thresholding_ratio: 0.9\n"
        + "  sample_max_value: 2.5\n  clip_sample: true\n  clip_sample_range: 3\n"
        + "training:\n  learning_rate: 0.002\n  adam_beta1: 0.8\n  adam_beta2: 0.99\n  adam_epsilon: 1e-6\n"
        + "  weight_decay: 0.01\n  max_grad_norm: 1\n");
    assertEquals(new SampleClipping(true, 3.0, true, 0.9, 2.5), c.sampling().clipping());
    assertEquals(new OptimizerSpec(0.002, 0.8, 0.99, 1e-6, 0.01, 1.0), c.training().optimizer());
    assertEquals(SampleClipping.NONE, ConfigLoader.defaults().sampling().clipping());
    assertEquals(OptimizerSpec.adam(1e-3), ConfigLoader.defaults().training().optimizer());
  }

  @Test
  void trainerOptionsAndEmaSchedule() {
    DiffusionConfig c = load("training:\n  epochs: 4\n  batch_size: 32\n  log_every: 10\n  image_log_every: 0\n"
        + "  images_to_log: 2\n  ema: {enabled: true, decay: 0.999, update_after_step: 5, use_warmup: true, "
        + "inv_gamma: 2, power: 0.75, min_decay: 0.5}\nseed: 9\n");
    assertEquals(new TrainerOptions(4, 32, 9, 10, 0, 2, Optional.of(new EmaSchedule(0.999, 5, true, 2.0, 0.75, 0.5))),
        c.training().trainerOptions(c.seed()));
    assertEquals(Optional.empty(), ConfigLoader.defaults().training().ema().schedule());
  }

  @Test
  void samplerSpec() {
    DiffusionConfig c = load("sampling:\n  eta: 0.5\n  variance_type: tutorial\n  set_alpha_to_one: false\n"
        + "  clip_sample: true\n  options: {order: 2}\n");
    Schedule schedule = Schedule.of(c.schedule().spec());
    TensorFactory tensors = new ReferenceBackend().tensors();
    SamplerSpec s = c.sampling().samplerSpec(schedule, PredictionType.SAMPLE, tensors);
    assertEquals(new SamplerSpec(schedule, PredictionType.SAMPLE, tensors, 0.5, VarianceType.TUTORIAL, false,
        SampleClipping.clip(1.0), c.sampling().options()), s);
    assertEquals(2, s.options().getInt("order", 1, 1, 3)); // the options reach the provider, typed
  }

  @Test
  void modelToSpec() {
    DiffusionConfig c = load("model:\n  hidden: 64\n");
    assertEquals(new MlpSpec(Shape.of(3, 5, 5), 100, 64),
        c.model().toSpec(c.data().resolveImageShape(null), c.schedule().spec().numTrainTimesteps()));
    ModelConfig unet = load("model:\n  kind: unet\n  channel_mult: [1, 2]\n").model();
    assertEquals(List.of(1, 2), unet.channelMult());
    assertEquals(new UNetSpec(Shape.of(1, 32, 32), 100, 32, List.of(1, 2), 1, true, 8, 0.0),
        unet.toSpec(Shape.of(1, 32, 32), 100));
    ConfigException e = assertThrows(ConfigException.class, () -> unet.toSpec(Shape.of(1, 28, 27), 100));
    assertEquals("model.channel_mult: 2 levels halve the image 1 times, so its height and width must be multiples "
        + "of 2, but the image shape is [1, 28, 27]; use fewer levels or pad the images", e.getMessage());
    // 33 levels said "multiples of 1073741824" (2^30), where the factor was capped
    ModelConfig deep = load("model:\n  kind: unet\n  channel_mult: ["
        + String.join(", ", java.util.Collections.nCopies(33, "1")) + "]\n").model();
    e = assertThrows(ConfigException.class, () -> deep.toSpec(Shape.of(1, 32, 32), 100));
    assertEquals("model.channel_mult: 33 levels halve the image 32 times, so its height and width must be multiples "
        + "of 4294967296, but the image shape is [1, 32, 32]; use fewer levels or pad the images", e.getMessage());
    ModelConfig odd = load("model:\n  kind: unet\n  base_channels: 6\n  groups: 3\n").model();
    assertEquals(new UNetSpec(Shape.of(1, 8, 8), 10, 6, List.of(1, 2, 2), 1, true, 3, 0.0),
        odd.toSpec(Shape.of(1, 8, 8), 10));
    ModelConfig tooFew = load("model:\n  kind: unet\n  base_channels: 3\n  groups: 3\n").model();
    e = assertThrows(ConfigException.class, () -> tooFew.toSpec(Shape.of(1, 8, 8), 10));
    assertEquals("model.base_channels: must be even and at least 4 for unet (the timestep embedding has "
        + "base_channels / 2 frequencies), got 3", e.getMessage());
  }

  @Test
  void theYamlSectionAndDiffusersJsonParseIntoOneScheduleValue() {
    ScheduleConfig yaml = load("schedule:\n  num_train_timesteps: 1000\n  beta_schedule: scaled_linear\n"
        + "  beta_start: 0.00085\n  beta_end: 0.012\n  prediction_type: v_prediction\n"
        + "  rescale_betas_zero_snr: true\n").schedule();
    SchedulerConfig json = SchedulerConfig.fromJson("{\"num_train_timesteps\": 1000, \"beta_schedule\": "
        + "\"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012, \"prediction_type\": "
        + "\"v_prediction\", \"rescale_betas_zero_snr\": true}", "scheduler_config.json");
    assertEquals(yaml.spec(), json.schedule());
    SchedulerConfig other = SchedulerConfig.fromJson("{\"num_train_timesteps\": 1000, \"beta_schedule\": "
        + "\"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.0121, \"prediction_type\": "
        + "\"v_prediction\", \"rescale_betas_zero_snr\": true}", "scheduler_config.json");
    assertNotEquals(yaml.spec(), other.schedule());
    // the beta rule lives in ScheduleSpec; each format words its failure at its own key
    assertEquals("scheduler_config.json: beta_end (0.1) must be greater than beta_start (0.5)",
        assertThrows(CheckpointException.class, () -> SchedulerConfig.fromJson(
            "{\"beta_start\": 0.5, \"beta_end\": 0.1}", "scheduler_config.json")).getMessage());
  }

  @Test
  void recordsBuiltInCodeAreValidatedWithTheKeyPath() {
    ConfigException e = assertThrows(ConfigException.class, () -> new OutputConfig(null, "x"));
    assertEquals("output.dir: a value is required (path)", e.getMessage());
    assertNull(e.file());
    assertTrue(e instanceof IllegalArgumentException);
    assertEquals("schedule.beta_end: must be greater than beta_start (0.5), got 0.1", assertThrows(
        ConfigException.class,
        () -> ScheduleConfig.of(10, 0.5, 0.1, BetaSchedule.LINEAR, PredictionType.EPSILON, false)).getMessage());
    assertEquals("model.hidden: applies only when kind is mlp (kind here is unet); remove it or change kind",
        assertThrows(ConfigException.class,
            () -> new ModelConfig(ModelConfig.Kind.UNET, 64, 32, List.of(1), 1, true, 8, 0.0, List.of(16), ConfigSection.empty("model.unet2d"))).getMessage());
    assertEquals("data.image_shape: required when kind is gradients", assertThrows(ConfigException.class,
        () -> new DataConfig(DataConfig.Kind.GRADIENTS, java.util.Optional.empty(), 10, 0,
            java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
            java.util.Optional.empty(), 0, java.util.Optional.empty(), java.util.Optional.empty(),
            io.github.diffusion4j.data.ImageFit.Resize.CROP, false, io.github.diffusion4j.data.BadDataPolicy.STOP,
            java.util.Optional.empty(), false)).getMessage());
    assertEquals("data.image_shape: must be [C, H, W] (3 dimensions), got [5, 5]", assertThrows(
        ConfigException.class, () -> DataConfig.gradients(Shape.of(5, 5), 10, 0)).getMessage());
  }

  @Test
  void listsAreCopiedSoRecordsStayImmutable() {
    List<Integer> mult = new ArrayList<>(List.of(1, 2));
    ModelConfig m = new ModelConfig(ModelConfig.Kind.UNET, 128, 32, mult, 1, true, 8, 0.0, List.of(16), ConfigSection.empty("model.unet2d"));
    mult.add(4);
    assertEquals(List.of(1, 2), m.channelMult());
    assertThrows(UnsupportedOperationException.class, () -> m.channelMult().add(3));
  }

  @Test
  void kindConfigNames() {
    assertEquals("idx", DataConfig.Kind.IDX.configName());
    assertEquals("unet", ModelConfig.Kind.UNET.configName());
  }
}
