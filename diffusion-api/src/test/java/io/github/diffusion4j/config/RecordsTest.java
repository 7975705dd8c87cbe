package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
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
    assertEquals(new ScheduleSpec(1000, 0.00085, 0.012, BetaSchedule.SCALED_LINEAR, true), s.toSpec());
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
  void modelToSpec() {
    DiffusionConfig c = load("model:\n  hidden: 64\n");
    assertEquals(new MlpSpec(Shape.of(3, 5, 5), 100, 64),
        c.model().toSpec(c.data().resolveImageShape(null), c.schedule().numTrainTimesteps()));
    ModelConfig unet = load("model:\n  kind: unet\n  channel_mult: [1, 2]\n").model();
    assertEquals(List.of(1, 2), unet.channelMult());
    ConfigException e = assertThrows(ConfigException.class, () -> unet.toSpec(Shape.of(1, 32, 32), 100));
    assertEquals("model.kind: unet is not yet supported by this version of diffusion4j; use kind: mlp",
        e.getMessage());
  }

  @Test
  void recordsBuiltInCodeAreValidatedWithTheKeyPath() {
    ConfigException e = assertThrows(ConfigException.class, () -> new OutputConfig(null, "x"));
    assertEquals("output.dir: a value is required (path)", e.getMessage());
    assertNull(e.file());
    assertTrue(e instanceof IllegalArgumentException);
    assertEquals("schedule.beta_end: must be greater than beta_start (0.5), got 0.1", assertThrows(
        ConfigException.class,
        () -> new ScheduleConfig(10, 0.5, 0.1, BetaSchedule.LINEAR, PredictionType.EPSILON, false)).getMessage());
    assertEquals("model.hidden: applies only when kind is mlp (kind here is unet); remove it or change kind",
        assertThrows(ConfigException.class,
            () -> new ModelConfig(ModelConfig.Kind.UNET, 64, 32, List.of(1), 1, true, 8, 0.0)).getMessage());
    assertEquals("data.image_shape: required when kind is gradients", assertThrows(ConfigException.class,
        () -> new DataConfig(DataConfig.Kind.GRADIENTS, java.util.Optional.empty(), 10, 0,
            java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
            java.util.Optional.empty(), 0)).getMessage());
    assertEquals("data.image_shape: must be [C, H, W] (3 dimensions), got [5, 5]", assertThrows(
        ConfigException.class, () -> DataConfig.gradients(Shape.of(5, 5), 10, 0)).getMessage());
  }

  @Test
  void listsAreCopiedSoRecordsStayImmutable() {
    List<Integer> mult = new ArrayList<>(List.of(1, 2));
    ModelConfig m = new ModelConfig(ModelConfig.Kind.UNET, 128, 32, mult, 1, true, 8, 0.0);
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
