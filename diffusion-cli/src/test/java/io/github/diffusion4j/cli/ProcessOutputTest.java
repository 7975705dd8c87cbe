package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real process writes everything before it exits (output printed without a line end was once lost). */
class ProcessOutputTest {
  @TempDir
  Path dir;

  @Test
  void printedConfigurationReachesStandardOutput() throws Exception {
    Path log = dir.resolve("config.log");
    assertEquals(0, ChildCli.run(dir, log, "config", "--bundled", "tutorial"));
    String out = ChildCli.read(log);
    assertTrue(out.contains("num_train_timesteps: 100"), out);
    assertTrue(out.strip().endsWith("use_ema: false"), "the last line arrives too: " + out);
  }
}
