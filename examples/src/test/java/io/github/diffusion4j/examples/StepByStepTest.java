package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link StepByStep} in its tiny configuration (its own JVM: one native backend per process). */
class StepByStepTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    StepByStep.main(new String[] {dir.toString(), "--tiny"});
    for (String f : List.of("forward.png", "denoising.png")) {
      assertTrue(Files.exists(dir.resolve(f)), f);
    }
  }
}
