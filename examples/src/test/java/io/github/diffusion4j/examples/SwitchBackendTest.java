package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link SwitchBackend} in its tiny configuration (its own JVM: one native backend per process). */
class SwitchBackendTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    SwitchBackend.main(new String[] {dir.toString(), "--tiny"});
    for (String f : List.of("nd4j.npy", "djl.npy")) {
      assertTrue(Files.exists(dir.resolve(f)), f);
    }
  }
}
