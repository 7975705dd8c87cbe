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

  /**
   * Every key with a value that differs from its default and from the other keys' of its type, in the form
   * diffusers' {@code save_config} writes (a DDIMScheduler with {@code variance_type} added, which diffusion4j
   * also writes): a reader and a writer that both swapped two keys, or two names of an enum, still round-trip
   * each other, so the expected values here are written out by hand.
   */
  private static final String ALL_KEYS =
      "{\n"
          + "  \"_class_name\": \"DDIMScheduler\",\n"
          + "  \"beta_end\": 0.012,\n"
          + "  \"beta_schedule\": \"squaredcos_cap_v2\",\n"
          + "  \"beta_start\": 0.00085,\n"
          + "  \"clip_sample\": false,\n"
          + "  \"clip_sample_range\": 1.5,\n"
          + "  \"dynamic_thresholding_ratio\": 0.9,\n"
          + "  \"num_train_timesteps\": 500,\n"
          + "  \"prediction_type\": \"sample\",\n"
          + "  \"rescale_betas_zero_snr\": true,\n"
          + "  \"sample_max_value\": 2.0,\n"
          + "  \"set_alpha_to_one\": true,\n"
          + "  \"steps_offset\": 1,\n"
          + "  \"thresholding\": true,\n"
          + "  \"timestep_spacing\": \"linspace\",\n"
          + "  \"variance_type\": \"fixed_large\"\n"
          + "}\n";

  @Test
  void readsAndWritesEveryKeyUnderItsOwnName() {
    SchedulerConfig c =
        SchedulerConfig.fromJson(
            ALL_KEYS.replace("{\n", "{\n  \"_diffusers_version\": \"0.27.2\",\n  \"trained_betas\": null,\n"), SRC);
    assertEquals("DDIMScheduler", c.className());
    assertEquals(500, c.schedule().numTrainTimesteps());
    assertEquals(0.00085, c.schedule().betaStart());
    assertEquals(0.012, c.schedule().betaEnd());
    assertEquals(BetaSchedule.SQUAREDCOS_CAP_V2, c.schedule().betaSchedule());
    assertTrue(c.schedule().rescaleBetasZeroSnr());
    assertEquals(PredictionType.SAMPLE, c.predictionType());
    assertEquals(VarianceType.FIXED_LARGE, c.varianceType());
    assertFalse(c.clipSample());
    assertEquals(1.5, c.clipSampleRange());
    assertTrue(c.setAlphaToOne());
    assertEquals(1, c.stepsOffset());
    assertEquals(TimestepSpacing.LINSPACE, c.timestepSpacing());
    assertTrue(c.thresholding());
    assertEquals(0.9, c.dynamicThresholdingRatio());
    assertEquals(2.0, c.sampleMaxValue());
    assertEquals(ALL_KEYS, c.toJson());
  }

  @Test
  void eachEnumValueHasDiffusersName() {
    // the strings diffusers' schedulers accept, each read and written under its own name
    String[][] cases = {
      {"beta_schedule", "linear", "LINEAR"},
      {"beta_schedule", "scaled_linear", "SCALED_LINEAR"},
      {"beta_schedule", "squaredcos_cap_v2", "SQUAREDCOS_CAP_V2"},
      {"beta_schedule", "sigmoid", "SIGMOID"},
      {"prediction_type", "epsilon", "EPSILON"},
      {"prediction_type", "sample", "SAMPLE"},
      {"prediction_type", "v_prediction", "V_PREDICTION"},
      {"timestep_spacing", "leading", "LEADING"},
      {"timestep_spacing", "trailing", "TRAILING"},
      {"timestep_spacing", "linspace", "LINSPACE"},
      {"variance_type", "fixed_small", "FIXED_SMALL"},
      {"variance_type", "fixed_large", "FIXED_LARGE"},
      {"variance_type", "tutorial", "TUTORIAL"},
    };
    for (String[] k : cases) {
      SchedulerConfig c = SchedulerConfig.fromJson("{\"" + k[0] + "\": \"" + k[1] + "\"}", SRC);
      Enum<?> read =
          switch (k[0]) {
            case "beta_schedule" -> c.schedule().betaSchedule();
            case "prediction_type" -> c.predictionType();
            case "timestep_spacing" -> c.timestepSpacing();
            default -> c.varianceType();
          };
      assertEquals(k[2], read.name(), k[0] + ": " + k[1]);
      assertTrue(c.toJson().contains("\n  \"" + k[0] + "\": \"" + k[1] + "\""), k[0] + ": " + k[1]);
    }
  }

  @Test
  void aMissingKeyTakesDiffusersDefault() {
    // the defaults of DDPMScheduler.__init__ (set_alpha_to_one: DDIMScheduler's), written out, not taken from
    // DIFFUSERS_DEFAULTS, which this checks too
    SchedulerConfig c = SchedulerConfig.fromJson("{}", SRC);
    assertEquals(SchedulerConfig.DIFFUSERS_DEFAULTS, c);
    assertEquals("DDPMScheduler", c.className());
    assertEquals(new ScheduleSpec(1000, 0.0001, 0.02, BetaSchedule.LINEAR, false), c.schedule());
    assertEquals(PredictionType.EPSILON, c.predictionType());
    assertEquals(VarianceType.FIXED_SMALL, c.varianceType());
    assertTrue(c.clipSample());
    assertEquals(1.0, c.clipSampleRange());
    assertTrue(c.setAlphaToOne());
    assertEquals(0, c.stepsOffset());
    assertEquals(TimestepSpacing.LEADING, c.timestepSpacing());
    assertFalse(c.thresholding());
    assertEquals(0.995, c.dynamicThresholdingRatio());
    assertEquals(1.0, c.sampleMaxValue());
  }

  @Test
  void theLargestAllowedNumTrainTimestepsIsAccepted() {
    assertEquals(
        SchedulerConfig.MAX_NUM_TRAIN_TIMESTEPS,
        SchedulerConfig.fromJson("{\"num_train_timesteps\": 1000000}", SRC).schedule().numTrainTimesteps());
  }

  @Test
  void aLargeWholeNumberIsWrittenAsPythonWritesAFloat() {
    // json.dumps(1e7) == "10000000.0": a float stays a float for diffusers
    SchedulerConfig c =
        SchedulerConfig.of(
            ScheduleSpec.linear(1000), PredictionType.EPSILON, VarianceType.FIXED_SMALL,
            new SampleClipping(true, 1e7, false, 0.995, 1e7), TimestepSpacing.LEADING, 0);
    assertTrue(c.toJson().contains("  \"clip_sample_range\": 10000000.0,\n"), c.toJson());
    assertTrue(c.toJson().contains("  \"sample_max_value\": 10000000.0,\n"), c.toJson());
  }

  @Test
  void numbersOutsidePythonsPlainRangeAreWrittenInItsExponentForm() {
    // json.dumps(1e-05) == "1e-05", json.dumps(1e16) == "1e+16", json.dumps(1e15) == "1000000000000000.0"
    SchedulerConfig c =
        SchedulerConfig.of(
            new ScheduleSpec(1000, 1e-5, 0.02, BetaSchedule.LINEAR, false), PredictionType.EPSILON,
            VarianceType.FIXED_SMALL, new SampleClipping(true, 1e16, false, 0.995, 1e15), TimestepSpacing.LEADING, 0);
    String json = c.toJson();
    assertTrue(json.contains("  \"beta_start\": 1e-05,\n"), json);
    assertTrue(json.contains("  \"clip_sample_range\": 1e+16,\n"), json);
    assertTrue(json.contains("  \"sample_max_value\": 1000000000000000.0,\n"), json);
    assertEquals(c, SchedulerConfig.fromJson(json, SRC));
  }

  @Test
  void aBoundTooLargeForADoubleIsRefused() {
    // 1e400 reads as infinity, which no JSON writer can write back
    rejects("{\"clip_sample_range\": 1e400}", "clip_sample_range must be positive and finite, got Infinity");
    rejects("{\"sample_max_value\": 1e400}", "sample_max_value must be at least 1 and finite, got Infinity");
  }

  /** The keys neither DDPMScheduler nor DDIMScheduler takes, which a diffusers folder's load warns of. */
  @Test
  void unknownKeysAreThoseNeitherSchedulerTakes() throws Exception {
    java.util.Map<String, Object> values = new java.util.LinkedHashMap<>();
    values.put("_class_name", "DDIMScheduler");
    values.put("_diffusers_version", "0.1.1");
    values.put("trained_betas", null);
    values.put("variance_type", "fixed_small"); // DDPM's, in a DDIM config saved from a DDPM one
    values.put("set_alpha_to_one", true); // DDIM's
    values.put("skip_prk_steps", true); // PNDM's
    values.put("beta_ends", 0.02); // misspelt
    assertEquals(java.util.Set.of("skip_prk_steps", "beta_ends"), SchedulerConfig.unknownKeys(values));
    assertEquals(java.util.Set.of(), SchedulerConfig.unknownKeys(
        new com.fasterxml.jackson.databind.ObjectMapper().readValue(SchedulerConfig.DIFFUSERS_DEFAULTS.toJson(),
            java.util.Map.class)), "every key it writes");
  }
}
