package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.assertBad;
import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/**
 * A configuration file given without {@code -c} ({@code diffusion train my.yaml}, as most tools take it) is refused
 * with the option named, not only as picocli's "Unmatched argument at index 1".
 */
class ConfigArgumentTest {
  @Test
  void aYamlFileWithoutDashCIsRefusedNamingDashC() {
    assertBad(cli("train", "my.yaml"), "give the configuration with -c: -c my.yaml");
    assertBad(cli("train", "runs/x/config.yml", "--no-samples"), "-c runs/x/config.yml");
  }

  @Test
  void otherUnmatchedArgumentsKeepTheirMessage() {
    CliTest.Result r = cli("train", "notes.txt");
    assertBad(r, "Unmatched argument");
    assertFalse(r.err().contains("-c notes.txt"), r.err());
    // a command without -c gets no such hint
    r = cli("sample", "my.yaml");
    assertBad(r, "Unmatched argument");
    assertFalse(r.err().contains("-c my.yaml"), r.err());
  }
}
