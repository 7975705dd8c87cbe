package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchedulerConfigTest {
  private static final String SRC = "scheduler_config.json";

  @TempDir Path dir;

  static SchedulerConfig tutorial() {
    return SchedulerConfig.of(
        new ScheduleSpec(200, 1e-4, 0.02, BetaSchedule.LINEAR, false),
        PredictionType.EPSILON,
        VarianceType.TUTORIAL,
        SampleClipping.clip(1.0),
        TimestepSpacing.TRAILING,
        0);
  }

  static void rejects(String json, String fragment) {
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> SchedulerConfig.fromJson(json, SRC));
    assertTrue(e.getMessage().startsWith(SRC + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void roundTripsThroughJsonAndFile() {
    SchedulerConfig c =
        tutorial().withClassName("DDIMScheduler").withSetAlphaToOne(false);
    assertEquals(c, SchedulerConfig.fromJson(c.toJson(), SRC));
    Path f = dir.resolve(SRC);
    c.write(f);
    assertEquals(c, SchedulerConfig.read(f));
    SchedulerConfig thresholded =
        SchedulerConfig.of(
            ScheduleSpec.cosine(1000), PredictionType.V_PREDICTION, VarianceType.FIXED_LARGE,
            new SampleClipping(false, 2.0, true, 0.9, 1.5), TimestepSpacing.LINSPACE, 3);
    assertEquals(thresholded, SchedulerConfig.fromJson(thresholded.toJson(), SRC));
  }

  @Test
  void writesAsDiffusersDoes() {
    // json.dumps(config, indent=2, sort_keys=True) + "\n"
    String expected =
        "{\n"
            + "  \"_class_name\": \"DDPMScheduler\",\n"
            + "  \"beta_end\": 0.02,\n"
            + "  \"beta_schedule\": \"linear\",\n"
            + "  \"beta_start\": 0.0001,\n"
            + "  \"clip_sample\": true,\n"
            + "  \"clip_sample_range\": 1.0,\n"
            + "  \"dynamic_thresholding_ratio\": 0.995,\n"
            + "  \"num_train_timesteps\": 200,\n"
            + "  \"prediction_type\": \"epsilon\",\n"
            + "  \"rescale_betas_zero_snr\": false,\n"
            + "  \"sample_max_value\": 1.0,\n"
            + "  \"set_alpha_to_one\": true,\n"
            + "  \"steps_offset\": 0,\n"
            + "  \"thresholding\": false,\n"
            + "  \"timestep_spacing\": \"trailing\",\n"
            + "  \"variance_type\": \"tutorial\"\n"
            + "}\n";
    assertEquals(expected, tutorial().toJson());
  }

  @Test
  void readsADiffusersDdpmConfigWithDefaultsForMissingKeys() {
    // the form of google/ddpm-cifar10-32's scheduler_config.json
    String json =
        "{\n  \"_class_name\": \"DDPMScheduler\",\n  \"_diffusers_version\": \"0.1.1\",\n"
            + "  \"beta_end\": 0.02,\n  \"beta_schedule\": \"linear\",\n  \"beta_start\": 0.0001,\n"
            + "  \"clip_sample\": true,\n  \"num_train_timesteps\": 1000,\n  \"trained_betas\": null,\n"
            + "  \"variance_type\": \"fixed_small\"\n}\n";
    SchedulerConfig c = SchedulerConfig.fromJson(json, SRC);
    assertEquals(SchedulerConfig.DIFFUSERS_DEFAULTS, c);
    assertEquals(ScheduleSpec.linear(1000), c.schedule());
    assertEquals(SampleClipping.clip(1.0), c.sampleClipping());
  }

  @Test
  void readsOtherSchedulersConfigsIgnoringTheirOwnKeys() {
    // the form of a Stable Diffusion PNDMScheduler config
    String json =
        "{\"_class_name\": \"PNDMScheduler\", \"_diffusers_version\": \"0.6.0\", \"beta_end\": 0.012,"
            + " \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"num_train_timesteps\": 1000,"
            + " \"set_alpha_to_one\": false, \"skip_prk_steps\": true, \"steps_offset\": 1,"
            + " \"trained_betas\": null, \"clip_sample\": false, \"prediction_type\": \"v_prediction\","
            + " \"timestep_spacing\": \"leading\"}";
    SchedulerConfig c = SchedulerConfig.fromJson(json, SRC);
    assertEquals("PNDMScheduler", c.className());
    assertEquals(BetaSchedule.SCALED_LINEAR, c.schedule().betaSchedule());
    assertEquals(0.00085, c.schedule().betaStart());
    assertEquals(1, c.stepsOffset());
    assertFalse(c.setAlphaToOne());
    assertFalse(c.clipSample());
    assertEquals(PredictionType.V_PREDICTION, c.predictionType());
  }

  @Test
  void rejectsValuesOfTheWrongType() {
    rejects("{\"num_train_timesteps\": \"1000\"}", "key 'num_train_timesteps': expected an integer, got a string (\"1000\")");
    rejects("{\"num_train_timesteps\": 1000.5}", "key 'num_train_timesteps': expected an integer");
    // the schedule's arrays have this length: 10^9 ran out of memory before anything said what was wrong
    rejects("{\"num_train_timesteps\": 1000000000}", "key 'num_train_timesteps': must be at most 1000000, got 1000000000");
    rejects("{\"beta_start\": \"0.1\"}", "key 'beta_start': expected a number");
    rejects("{\"clip_sample\": 1}", "key 'clip_sample': expected true or false, got a number (1)");
    rejects("{\"beta_schedule\": null}", "key 'beta_schedule': expected one of [linear");
    rejects("{\"_class_name\": 3}", "key '_class_name': expected a string");
  }

  @Test
  void rejectsUnknownEnumValues() {
    rejects(
        "{\"beta_schedule\": \"quadratic\"}",
        "key 'beta_schedule': unknown value 'quadratic'; allowed are [linear, scaled_linear, squaredcos_cap_v2, sigmoid]");
    rejects("{\"variance_type\": \"learned_range\"}", "key 'variance_type': unknown value 'learned_range'");
    rejects("{\"prediction_type\": \"noise\"}", "key 'prediction_type'");
    rejects("{\"timestep_spacing\": \"even\"}", "key 'timestep_spacing'");
  }

  @Test
  void rejectsExplicitBetasOutOfRangeValuesAndMalformedJson() {
    rejects("{\"trained_betas\": [0.1, 0.2]}", "key 'trained_betas': explicit betas are not supported");
    rejects("{\"beta_start\": 0.5, \"beta_end\": 0.1}", "beta_end (0.1) must be greater than beta_start (0.5)");
    rejects("{\"steps_offset\": -1}", "steps_offset must be at least 0");
    rejects("{\"beta_end\": 0.02, \"beta_end\": 0.03}", "Duplicate");
    rejects("[1]", "not a JSON object");
    rejects("{", "not valid JSON");
  }

  @Test
  void readingAMissingFileNamesIt() {
    Path f = dir.resolve("nope.json");
    CheckpointException e = assertThrows(CheckpointException.class, () -> SchedulerConfig.read(f));
    assertEquals(f + ": no such file", e.getMessage());
  }

  @Test
  void writingLeavesNoTemporary() throws Exception {
    Path f = dir.resolve(SRC);
    tutorial().write(f);
    tutorial().withClassName("DDIMScheduler").write(f);
    assertEquals("DDIMScheduler", SchedulerConfig.read(f).className());
    try (var s = Files.list(dir)) {
      assertEquals(1, s.count());
    }
  }
}
