package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Checks that earlier tests left open: each fails on a one-line defect of the configuration package that the
 * other tests let through (found by injecting the defects one at a time).
 */
class ConfigGapsTest {

  /** Loads YAML text named {@code run.yaml}, expecting an error (located at the key, as every value error). */
  private static String error(String yaml) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.loadString(yaml, "run.yaml")).getMessage();
  }

  private static ModelConfig unet(List<Integer> channelMult) {
    return new ModelConfig(ModelConfig.Kind.UNET, 128, 32, channelMult, 1, true, 8, 0.0, List.of(16),
        ConfigSection.empty("model.unet2d"));
  }

  @Test
  void anImageShapeOfFourDimensionsIsRefusedNotCutToThree() {
    // the shape check once read only the first three items of a longer list
    assertEquals("run.yaml:2:3: data.image_shape: expected [C, H, W] (a list of 3 positive integers), "
        + "got a list of 4", error("data:\n  image_shape: [1, 5, 5, 7]\n"));
  }

  @Test
  void anEmptyChannelMultIsRefusedFromYamlAndFromJava() {
    assertEquals("run.yaml:3:3: model.channel_mult: must not be empty",
        error("model:\n  kind: unet\n  channel_mult: []\n"));
    ConfigException e = assertThrows(ConfigException.class, () -> unet(List.of()));
    assertEquals("model.channel_mult: must not be empty", e.getMessage());
  }

  @Test
  void everyChannelMultiplierIsCheckedTheLastOneToo() {
    ConfigException e = assertThrows(ConfigException.class, () -> unet(List.of(1, 2, 0)));
    assertEquals("model.channel_mult[2]: must be at least 1, got 0", e.getMessage());
    String m = error("model:\n  kind: unet\n  channel_mult: [1, 0]\n");
    assertTrue(m.startsWith("run.yaml:3:") && m.endsWith("model.channel_mult[1]: must be at least 1, got 0"), m);
  }

  @Test
  void aSeedBeyondSixtyFourBitsIsRefusedNotWrapped() {
    assertEquals("run.yaml:1:1: seed: must fit in 64 bits (between -9223372036854775808 and "
        + "9223372036854775807), got 9223372036854775808", error("seed: 9223372036854775808\n"));
    assertEquals(Long.MIN_VALUE, ConfigLoader.loadString("seed: -9223372036854775808\n", "run.yaml").seed());
    assertEquals(Long.MAX_VALUE, ConfigLoader.loadString("seed: 9223372036854775807\n", "run.yaml").seed());
  }

  @Test
  void changesListKeysThatAreGoneAndKeysThatAreNew() {
    assertEquals(List.of("backend: nd4j -> (none)"), ConfigWriter.changes("seed: 1\nbackend: nd4j\n", "seed: 1\n"));
    assertEquals(List.of("seed: 1 -> 2", "backend: (none) -> nd4j"),
        ConfigWriter.changes("seed: 1\n", "seed: 2\nbackend: nd4j\n"));
  }

  @Test
  void anErrorAtADefaultKeyUnderASectionMadeByAnOverrideIsLocatedInTheFile() {
    LoadedConfig c = ConfigLoader.readString("seed: 1\n", "run.yaml", List.of("training.epochs=5"));
    // batch_size has its default: the file is at fault, not the override that made the training section
    assertEquals("run.yaml: training.batch_size: too large", c.error("training.batch_size", "too large").getMessage());
    assertEquals("--set training.epochs=5: training.epochs: too many",
        c.error("training.epochs", "too many").getMessage());
  }

  @Test
  void anOverrideKeyPathEndingInADotIsRefused() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("training.epochs.=5")));
    assertTrue(e.getMessage().startsWith("--set training.epochs.=5: ")
        && e.getMessage().endsWith("got key path 'training.epochs.'"), e.getMessage());
  }

  @Test
  void aStepsOffsetIsIneffectiveWithExplicitTimestepsEvenOnALeadingPlan() {
    LoadedConfig c = ConfigLoader.readString("sampling:\n  timestep_spacing: leading\n  steps_offset: 1\n"
        + "  timesteps: [9, 5, 1]\n", "run.yaml", List.of());
    assertEquals(List.of("run.yaml:3:17: sampling.steps_offset: has no effect: only a leading plan adds it "
        + "(sampling.timestep_spacing: leading, without explicit sampling.timesteps)"), c.ineffectiveSettings());
  }

  @Test
  void changesListAnEmptySectionThatIsGone() {
    assertEquals(List.of("seed: (none) -> 1", "sampling.options: {} -> (none)"),
        ConfigWriter.changes("sampling:\n  options: {}\n", "seed: 1\n"));
  }

  @Test
  void aWordWithEveryLetterWrongHasNoSuggestion() {
    assertEquals(Optional.empty(), Suggestions.closest("ab", List.of("xy")));
  }

  @Test
  void suggestionsTreatDashesAsUnderscores() {
    assertEquals(Optional.of("a_b_c_d"), Suggestions.closest("a-b-c-d", List.of("zzz", "a_b_c_d")));
  }

  @Test
  void aNegativeIntegerWithLeadingZerosIsRefusedNotReadAsOctal() {
    String m = error("seed: -010\n");
    assertTrue(m.startsWith("run.yaml:1:1: seed: write -010 without leading zeros"), m);
  }

  @Test
  void anEscapedQuoteInsideADoubleQuotedOverrideDoesNotEndIt() {
    assertEquals(-1, Overrides.commentStart("\"runs \\\" #2\""));
    assertEquals(7, Overrides.commentStart("\"runs\" #2"));
  }
}
