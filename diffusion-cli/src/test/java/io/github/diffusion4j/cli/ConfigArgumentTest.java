package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.assertBad;
import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configuration file given without {@code -c} ({@code diffusion train my.yaml}, as most tools take it) is refused
 * with the option named, not only as picocli's "Unmatched argument at index 1".
 */
class ConfigArgumentTest {
  @TempDir
  Path dir;

  /** {@code diffusion data check my.yaml}: the file is taken as the folder to check; the refusal names -c. */
  @Test
  void dataCheckOfAYamlFileNamesDashC() throws IOException {
    Path yaml = Files.writeString(dir.resolve("my.yaml"), "data:\n  kind: folder\n");
    assertBad(cli("data", "check", yaml.toString()), yaml + ": not a folder; for a configuration's data: diffusion data "
        + "check -c " + yaml);
    Path png = Files.writeString(dir.resolve("a.png"), "x");
    CliTest.Result r = cli("data", "check", png.toString());
    assertBad(r, png + ": not a folder");
    assertFalse(r.err().contains("-c"), r.err());
  }

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
    // nor where -c is given (a second file is only an unmatched argument)
    r = cli("train", "-c", "a.yaml", "b.yaml");
    assertBad(r, "Unmatched argument");
    assertFalse(r.err().contains("give the configuration with -c"), r.err());
    // a command without -c gets no such hint
    r = cli("sample", "my.yaml");
    assertBad(r, "Unmatched argument");
    assertFalse(r.err().contains("-c my.yaml"), r.err());
  }
}
