package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link QuickStart} in its tiny configuration (its own JVM: one native backend per process). */
class QuickStartTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    QuickStart.main(new String[] {dir.toString(), "--tiny"});
    for (String f : List.of("quickstart.png", "run/checkpoints")) {
      assertTrue(Files.exists(dir.resolve(f)), f);
    }
    QuickStart.main(new String[] {dir.toString(), "--tiny"}); // again into the same folder: it starts over
    assertTrue(Files.exists(dir.resolve("run/checkpoints")));
  }
}
