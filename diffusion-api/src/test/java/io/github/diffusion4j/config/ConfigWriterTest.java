package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigWriterTest {

  private static DiffusionConfig roundTrip(DiffusionConfig c) {
    String yaml = ConfigWriter.toYaml(c);
    DiffusionConfig back = ConfigLoader.loadString(yaml, "written.yaml");
    assertEquals(c, back, yaml);
    assertEquals(yaml, ConfigWriter.toYaml(back));
    return back;
  }

  @Test
  void defaultsAndBundledConfigsRoundTrip() {
    roundTrip(ConfigLoader.defaults());
    for (String name : ConfigLoader.bundledNames()) {
      roundTrip(ConfigLoader.bundled(name));
    }
  }

  @Test
  void everyKeyIsWrittenForTheDefaults() {
    String yaml = ConfigWriter.toYaml(ConfigLoader.defaults());
    for (Key<?, ?> k : Schema.keys()) {
      boolean notForTheDefaultKinds = !k.appliesTo("gradients") && !k.appliesTo("mlp");
      String line = k.name() + ":";
      if (java.util.Optional.empty().equals(k.defaultFor(k.firstKind()))) {
        assertFalse(yaml.contains(line), k.path() + " is empty by default: written only when set");
      } else if (notForTheDefaultKinds) {
        assertFalse(yaml.contains("  " + line), k.path() + " does not apply and is left out");
      } else {
        assertTrue(yaml.contains(line), k.path());
      }
    }
  }

  @Test
  void unusualValuesRoundTrip() {
    DiffusionConfig c = ConfigLoader.loadString(String.join("\n",
        "backend: djl",
        "seed: -9223372036854775808",
        "threads: 2",
        "model:",
        "  kind: unet",
        "  base_channels: 48",
        "  channel_mult: [1, 2, 3, 4]",
        "  groups: 16",
        "  dropout: 0.1",
        "  attention: false",
        "schedule:",
        "  beta_start: 0.00085",
        "  beta_end: 0.012",
        "  beta_schedule: scaled_linear",
        "  prediction_type: v_prediction",
        "  rescale_betas_zero_snr: true",
        "training:",
        "  learning_rate: 3.0e-7",
        "  adam_epsilon: 1.0e+2",
        "  weight_decay: 123456789.125",
        "  ema: {enabled: true, decay: 0.1, min_decay: 0.1, power: 0.75}",
        "sampling:",
        "  sampler: my_sampler",
        "  timesteps: [99, 66, 33, 0]",
        "  eta: 0.3333333333333333",
        "  options:",
        "    order: 3",
        "    name: 'yes'",
        "    odd: \"a: b # c\\n\\\"quoted\\\"\"",
        "    ratio: 1.0e-12",
        "    big: 123456789012345678901234567890",
        "    nothing: null",
        "    list: [1, two, 3.5, true]",
        "    nested: {x: {y: [1]}}",
        "output:",
        "  dir: /tmp/some dir/runs",
        "  name: run-1.a_b",
        ""), "in.yaml");
    DiffusionConfig back = roundTrip(c);
    assertEquals("yes", back.sampling().options().getString("name", null));
    assertEquals("a: b # c\n\"quoted\"", back.sampling().options().getString("odd", null));
    assertEquals(Path.of("/tmp/some dir/runs"), back.output().dir());
  }

  @Test
  void tinyAndHugeDoublesRoundTripExactly() {
    for (double lr : new double[] {1e-300, 4.9e-324, 1.7976931348623157e308, 0.1 + 0.2, 1.0 / 3.0, 1e7, 1e22}) {
      DiffusionConfig c = ConfigLoader.defaults();
      TrainingConfig t = c.training();
      TrainingConfig t2 = new TrainingConfig(t.epochs(), t.batchSize(), lr, t.adamBeta1(), t.adamBeta2(),
          t.adamEpsilon(), t.weightDecay(), t.maxGradNorm(), t.ema(), t.logEvery(), t.imageLogEvery(),
          t.imagesToLog(), t.checkpointEvery(), t.keepCheckpoints(), t.initFrom());
      DiffusionConfig back = roundTrip(new DiffusionConfig(c.backend(), c.seed(), c.threads(), c.data(),
          c.model(), c.schedule(), t2, c.sampling(), c.output()));
      assertEquals(lr, back.training().learningRate());
    }
  }

  @Test
  void stringsThatLookLikeOtherTypesAreQuoted() {
    Map<String, Object> options = new LinkedHashMap<>();
    for (String s : List.of("true", "No", "on", "~", "null", "12", "1e5", "0x1F", ".inf", "-", "", " lead",
        "#x", "a:b", "[x]", "{y}", "*z", "&w", "!t", "%p", "@q", "`r", "'s'", "\"d\"", "tab\there", "\u00e9t\u00e9")) {
      options.put("k" + options.size(), s);
    }
    DiffusionConfig d = ConfigLoader.defaults();
    SamplingConfig s = d.sampling();
    SamplingConfig s2 = new SamplingConfig(s.sampler(), s.numInferenceSteps(), s.timestepSpacing(),
        s.stepsOffset(), s.timesteps(), s.eta(), s.varianceType(), s.clipSample(), s.clipSampleRange(),
        s.thresholding(), s.dynamicThresholdingRatio(), s.sampleMaxValue(), s.setAlphaToOne(), s.count(),
        s.useEma(), s.noiseVersion(), ConfigSection.of("sampling.options", options));
    DiffusionConfig back = roundTrip(new DiffusionConfig(d.backend(), d.seed(), d.threads(), d.data(),
        d.model(), d.schedule(), d.training(), s2, d.output()));
    assertEquals(options, back.sampling().options().toMap());
  }

  @Test
  void charactersOutsideYamlsPrintableSetAreEscaped() {
    // C1 controls and U+FFFE are valid in a quoted YAML value (as escapes) and in a Linux file name, but were written
    // raw, and the run's config.yaml then failed to load: "special characters are not allowed"
    for (String escape : List.of("\\x80", "\\x9F", "\\x85", "\\x7F", "\\uFFFE", "\\uFFFF")) {
      DiffusionConfig c = ConfigLoader.loadString("data:\n  kind: folder\n  root: \"/data/a" + escape + "b\"\n"
          + "  image_shape: [3, 8, 8]\nsampling:\n  options: {k: \"x" + escape + "y\"}\n", "run.yaml");
      assertEquals(c, roundTrip(c), escape);
    }
  }

  @Test
  void idxConfigRoundTripsWithAbsolutePaths() {
    DiffusionConfig c = ConfigLoader.loadString(
        "data:\n  kind: idx\n  train_images: rel/train\n  train_labels: rel/labels\n  eval_images: rel/eval\n",
        "in.yaml");
    assertTrue(c.data().trainImages().orElseThrow().isAbsolute());
    DiffusionConfig back = roundTrip(c);
    assertEquals(c.data(), back.data());
    String yaml = ConfigWriter.toYaml(c);
    assertFalse(yaml.contains("image_shape"), "an idx shape that was not given is not written:\n" + yaml);
    assertFalse(yaml.contains("eval_labels"), yaml);
  }
}
