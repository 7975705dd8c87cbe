package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Messages and checks found by a walk of the configuration surface. */
class ConfigWalkTest {

  private static String error(String yaml) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadString(yaml, "run.yaml"));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertFalse(e.getMessage().contains("org.yaml"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void anIntegerAboveTheLargest32BitOneSaysSoRatherThanAtLeastOne() {
    assertEquals("run.yaml:2:3: training.epochs: must be at most 2147483647 (the largest 32-bit integer), got "
        + "99999999999999999999", error("training:\n  epochs: 99999999999999999999\n"));
    assertEquals("run.yaml:1:1: threads: must be between 1 and 1024, got 5000", error("threads: 5000\n"));
    assertEquals("run.yaml:2:3: training.epochs: must be at least 1, got -1", error("training:\n  epochs: -1\n"));
  }

  @Test
  void anIntegerLiteralBeyondTheDoublesRangeIsNotFinite() {
    String big = "1" + "0".repeat(400);
    assertEquals("run.yaml:2:3: training.learning_rate: must be a finite number, got " + big,
        error("training:\n  learning_rate: " + big + "\n"));
  }

  @Test
  void leadingZerosAreRefusedNotReadAsOctal() {
    assertEquals("run.yaml:1:1: seed: write 0042 without leading zeros (YAML reads a leading 0 as octal: 0042 "
        + "would be 34); e.g. 42", error("seed: 0042\n"));
    assertTrue(error("training:\n  epochs: 010\n").startsWith("run.yaml:2:3: training.epochs: write 010 without "
        + "leading zeros"));
    assertEquals("run.yaml:1:1: seed: expected an integer, got '089': write it without leading zeros",
        error("seed: 089\n"));
    // zero itself, hexadecimal and decimals stay as they were; a folder name keeps its zeros
    assertEquals(0L, ConfigLoader.loadString("seed: 0\n", "run.yaml").seed());
    assertEquals(16, ConfigLoader.loadString("training:\n  epochs: 0x10\n", "run.yaml").training().epochs());
    assertEquals(0.001, ConfigLoader.loadString("training:\n  learning_rate: 0.001\n", "run.yaml").training()
        .learningRate());
    assertEquals("0042", ConfigLoader.loadString("output:\n  name: 0042\n", "run.yaml").output().name());
  }

  @Test
  void aComplexKeyIsNamedWithoutSnakeYamlsClassNames() {
    assertEquals("run.yaml:1:4: YAML syntax error: a key must be a plain name, not a list or a mapping "
        + "('? [a, b]' or '{a: 1}: ...')", error("? [a, b]\n: 1\n"));
  }

  @Test
  void aSampleCountWhoseSamplesCannotBeOneTensorIsRefusedUpFront() {
    String m = error("sampling:\n  count: 2000000000\n");
    assertTrue(m.startsWith("run.yaml:2:3: sampling.count: 2000000000 images of 3x5x5 make the samples "
        + "150000000000 values, more than one Java array holds (2147483639); use at most 28633115"), m);
    assertEquals(28633115, ConfigLoader.loadString("sampling:\n  count: 28633115\n", "run.yaml").sampling().count());
    DiffusionConfig folder = ConfigLoader.loadString("sampling:\n  count: 1000000\n", "run.yaml");
    ConfigException e = assertThrows(ConfigException.class,
        () -> folder.checkDataSizes(Shape.of(3, 64, 64), 10, 0));
    assertEquals("sampling.count", e.path());
  }

  @Test
  void aRunFolderNameLongerThanTheFileSystemsTakeIsRefused() {
    assertEquals("run.yaml:2:3: output.name: must be at most 255 characters (the file systems' limit for a folder "
        + "name), got 300", error("output:\n  name: " + "a".repeat(300) + "\n"));
    assertEquals(255, ConfigLoader.loadString("output:\n  name: " + "a".repeat(255) + "\n", "run.yaml", List.of())
        .output().name().length());
  }

  @Test
  void aFilesSamplerOptionsStayWithItsSamplerWhenAnOverrideChoosesAnother() {
    String yaml = "sampling:\n  sampler: mine\n  options:\n    order: 3\n";
    assertEquals(3, ConfigLoader.loadString(yaml, "run.yaml").sampling().options().getInt("order", 0, 0, 9));
    DiffusionConfig ddim = ConfigLoader.loadString(yaml, "run.yaml", List.of("sampling.sampler=ddim"));
    assertEquals("ddim", ddim.sampling().sampler());
    assertTrue(ddim.sampling().options().isEmpty(), "the file's options were mine's, not ddim's");
    assertEquals(3, ConfigLoader.loadString(yaml, "run.yaml", List.of("sampling.sampler=mine"))
        .sampling().options().getInt("order", 0, 0, 9), "the same sampler keeps them");
    assertEquals(2, ConfigLoader.loadString(yaml, "run.yaml",
        List.of("sampling.sampler=other", "sampling.options={order: 2}")).sampling().options().getInt("order", 0, 0, 9),
        "given with it");
  }

  @Test
  void aStringOverrideSetsTheTextWhateverItHolds() {
    for (String text : List.of("runs", "d: x", "[runs]", "runs #2", "yes", "a\"b\\c", "tab\there", "a\u0085b",
        "a\u2028b", "\u00e9t\u00e9 \ud83d\ude00")) {
      assertEquals(text, ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of(ConfigLoader.stringOverride(
          "output.dir", text))).output().dir().getFileName().toString(), text);
    }
  }

  @Test
  void optionsOfTheDefaultSamplerStayWhenAnOverrideNamesItExplicitly() {
    String yaml = "sampling:\n  options:\n    order: 3\n"; // no sampler: ddim's options
    assertEquals(3, ConfigLoader.loadString(yaml, "run.yaml", List.of("sampling.sampler=ddim"))
        .sampling().options().getInt("order", 0, 0, 9), "the same sampler as the file's default keeps them");
    assertTrue(ConfigLoader.loadString(yaml, "run.yaml", List.of("sampling.sampler=ddpm"))
        .sampling().options().isEmpty(), "another sampler does not");
  }

  @Test
  void optionsGivenForAnotherSamplerKeyByKeyAreItsOwn() {
    // a checkpoint's config.yaml writes options: {} (or its sampler's); --sampler x --set sampling.options.k=v gives x
    // its option, where it used to be dropped with the file's
    for (String yaml : List.of("sampling:\n  options: {}\n", "sampling:\n  sampler: ddpm\n  options:\n    order: 3\n")) {
      ConfigSection o = ConfigLoader.loadString(yaml, "run.yaml", List.of("sampling.sampler=mine",
          "sampling.options.solver_type=heun")).sampling().options();
      assertEquals(Map.of("solver_type", "heun"), o.toMap(), yaml);
    }
    // in either order, and the file's own keys beside them stay dropped
    ConfigSection o = ConfigLoader.loadString("sampling:\n  options:\n    order: 3\n", "run.yaml",
        List.of("sampling.options.mode=fast", "sampling.sampler=mine")).sampling().options();
    assertEquals(Map.of("mode", "fast"), o.toMap());
  }

  @Test
  void settingsGivenWithoutEffectAreListedWhereTheyAreWritten() {
    String yaml = "sampling:\n  sampler: ddpm\n  eta: 0.5\n  clip_sample: false\n  clip_sample_range: 2.0\n"
        + "  steps_offset: 1\ntraining:\n  ema:\n    enabled: false\n    decay: 0.99\n";
    assertEquals(List.of(
        "run.yaml:6:17: sampling.steps_offset: has no effect: only a leading plan adds it (sampling.timestep_spacing: "
            + "leading, without explicit sampling.timesteps)",
        "run.yaml:5:22: sampling.clip_sample_range: has no effect: sampling.clip_sample is false",
        "run.yaml:10:12: training.ema.decay: has no effect: training.ema.enabled is false"),
        ConfigLoader.readString(yaml, "run.yaml", List.of()).ineffectiveSettings());
    // the same values where they have an effect, or left to their defaults: nothing
    assertEquals(List.of(), ConfigLoader.readString("sampling:\n  clip_sample: true\n  clip_sample_range: 2.0\n"
        + "  timestep_spacing: leading\n  steps_offset: 1\n", "run.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of("--set data.eval_size=5: data.eval_size: has no effect: a folder without data.eval_root has "
        + "no evaluation images"), ConfigLoader.readString("data:\n  kind: folder\n  root: x\n  image_shape: [3, 8, 8]\n",
        "run.yaml", List.of("data.eval_size=5")).ineffectiveSettings());
    String ddpm = "data:\n  image_shape: [3, 32, 32]\nmodel:\n  kind: ddpm\n  channel_mult: [1, 2, 2]\n"
        + "  attn_resolutions: [16, 5]\n";
    assertEquals(List.of("run.yaml:6:21: model.attn_resolutions: has no effect: no level has the image size 5 (the "
        + "levels' sizes are [32, 16, 8])"), ConfigLoader.readString(ddpm, "run.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of(), ConfigLoader.readString(ddpm.replace(", 5]", "]"), "run.yaml", List.of())
        .ineffectiveSettings());
  }

  /**
   * Thresholding replaces clipping where both are on, and its two parameters do nothing without it (as in
   * diffusers' schedulers, {@code SampleClipping.apply}): a setting of either side that the other leaves without
   * effect is warned about; the same settings where they act are not.
   */
  @Test
  void thresholdingAndClippingSettingsWithoutEffectAreNamed() {
    assertEquals(List.of(
        "run.yaml:2:31: sampling.dynamic_thresholding_ratio: has no effect: sampling.thresholding is false",
        "run.yaml:3:21: sampling.sample_max_value: has no effect: sampling.thresholding is false"),
        ConfigLoader.readString("sampling:\n  dynamic_thresholding_ratio: 0.9\n  sample_max_value: 2.0\n",
            "run.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of(
        "run.yaml:3:16: sampling.clip_sample: has no effect: sampling.thresholding is true and replaces it",
        "run.yaml:4:22: sampling.clip_sample_range: has no effect: sampling.thresholding is true and replaces "
            + "clipping"),
        ConfigLoader.readString("sampling:\n  thresholding: true\n  clip_sample: true\n  clip_sample_range: 2.0\n",
            "run.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of(), ConfigLoader.readString("sampling:\n  thresholding: true\n"
        + "  dynamic_thresholding_ratio: 0.9\n  sample_max_value: 2.0\n", "run.yaml", List.of())
        .ineffectiveSettings());
    assertEquals(List.of("--set sampling.sample_max_value=3: sampling.sample_max_value: has no effect: "
        + "sampling.thresholding is false"), ConfigLoader.readString("sampling:\n  clip_sample: true\n", "run.yaml",
        List.of("sampling.sample_max_value=3")).ineffectiveSettings());
  }

  /**
   * A run's or checkpoint's config.yaml lists every key, defaults included: checking it ({@code config --check
   * runs/x/config.yaml}, {@code train -c runs/x/config.yaml --resume}) warns about none of them, and neither does a
   * hand-written file that restates a default; a setting that is not the default still is warned about, in the file
   * or by an override.
   */
  @Test
  void defaultsWarnAboutNothingEvenWhereAFileRestatesThem() {
    String resolved = ConfigWriter.toYaml(ConfigLoader.loadString(
        "training:\n  ema:\n    enabled: false\nsampling:\n  clip_sample: false\n", "run.yaml"));
    assertTrue(resolved.contains("steps_offset: 0") && resolved.contains("clip_sample_range: 1.0")
        && resolved.contains("decay: 0.9999"), resolved);
    assertEquals(List.of(), ConfigLoader.readString(resolved, "config.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of("--set sampling.clip_sample_range=2: sampling.clip_sample_range: has no effect: "
        + "sampling.clip_sample is false"), ConfigLoader.readString(resolved, "config.yaml",
        List.of("sampling.clip_sample_range=2")).ineffectiveSettings());
    assertEquals(List.of(), ConfigLoader.readString("sampling:\n  clip_sample: false\n  clip_sample_range: 1.0\n",
        "run.yaml", List.of()).ineffectiveSettings());
    assertEquals(List.of("run.yaml:3:22: sampling.clip_sample_range: has no effect: sampling.clip_sample is false"),
        ConfigLoader.readString("sampling:\n  clip_sample: false\n  clip_sample_range: 2.0\n", "run.yaml",
            List.of()).ineffectiveSettings());
  }

  @Test
  void theBundledAndTheRepositorysConfigurationsSetNothingWithoutEffect() throws java.io.IOException {
    for (String name : ConfigLoader.bundledNames()) {
      assertEquals(List.of(), ConfigLoader.readBundled(name, List.of()).ineffectiveSettings(), name);
    }
    java.nio.file.Path configs = java.nio.file.Path.of("..", "configs");
    if (java.nio.file.Files.isDirectory(configs)) {
      try (var files = java.nio.file.Files.list(configs)) {
        for (java.nio.file.Path f : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
          assertEquals(List.of(), ConfigLoader.read(f, List.of()).ineffectiveSettings(), f.toString());
        }
      }
    }
  }

  @Test
  void nullArgumentsOfThePublicEntryPointsAreNamed() {
    assertEquals("an override is null; overrides are key.path=value strings", assertThrows(
        IllegalArgumentException.class, () -> ConfigLoader.loadString("seed: 1\n", "run.yaml",
            java.util.Arrays.asList((String) null))).getMessage());
    assertEquals("a shape needs its dimensions, got null",
        assertThrows(IllegalArgumentException.class, () -> Shape.of((int[]) null)).getMessage());
    assertEquals("a batch shape needs the item's shape, got null",
        assertThrows(IllegalArgumentException.class, () -> Shape.batchOf(2, null)).getMessage());
    assertEquals("a plan needs its timesteps, got null", assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.schedule.Timesteps.of(10, (int[]) null)).getMessage());
    assertEquals("name must not be null", assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.model.PredictionType.fromConfigName(null)).getMessage());
    assertEquals("name must not be null", assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.schedule.BetaSchedule.fromConfigName(null)).getMessage());
    assertEquals("name must not be null", assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.schedule.TimestepSpacing.fromConfigName(null)).getMessage());
    assertEquals("name must not be null", assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.sampling.VarianceType.fromConfigName(null)).getMessage());
  }

  /** A bad axis is refused naming it, the shape and the axes there are (it was a bare array index error, "3"). */
  @Test
  void aShapeRefusesAnAxisItDoesNotHaveNamingIt() {
    Shape s = Shape.of(3, 5, 5);
    assertEquals(5, s.dim(2));
    assertEquals("axis 3 of shape [3, 5, 5]: the axes are 0 to 2",
        assertThrows(IndexOutOfBoundsException.class, () -> s.dim(3)).getMessage());
    assertEquals("axis -1 of shape [3, 5, 5]: the axes are 0 to 2",
        assertThrows(IndexOutOfBoundsException.class, () -> s.dim(-1)).getMessage());
  }
}
