package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code diffusion bench} reads: the children's and the reference's JSON, and the reference script. */
class BenchCommandTest {

  @Test
  void parsesTheNumbersOfAJsonObjectInOrder() {
    Map<String, Double> m = BenchCommand.parse(
        "{\"train_steps_per_s\": 2084.5, \"ddpm_s\": 1.02e-1, \"backend\": \"nd4j\", \"ddim_s\": -0.5, \"n\": 3}");
    assertEquals(List.of("train_steps_per_s", "ddpm_s", "ddim_s", "n"), List.copyOf(m.keySet()));
    assertEquals(2084.5, m.get("train_steps_per_s"));
    assertEquals(0.102, m.get("ddpm_s"));
    assertEquals(-0.5, m.get("ddim_s"));
    assertEquals(3.0, m.get("n"));
  }

  @Test
  void malformedJsonIsAnErrorNotAnEmptyResult() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> BenchCommand.parse("{\"ddpm_s\": 0.1"));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> BenchCommand.parse("[1, 2]"));
  }

  @Test
  void theReferenceScriptIsFoundInTheRepository() {
    Path script = BenchCommand.inRepository(BenchCommand.REFERENCE_SCRIPT);
    assertNotNull(script, "the tests run inside the repository, which holds " + BenchCommand.REFERENCE_SCRIPT);
    assertTrue(Files.isRegularFile(script));
    Path root = script.getParent().getParent().getParent();
    assertTrue(Files.isRegularFile(root.resolve("mvnw")) && Files.isRegularFile(root.resolve("pom.xml")), root.toString());
    assertTrue(Path.of("").toAbsolutePath().startsWith(root), "found above the working directory");
    assertNull(BenchCommand.inRepository("benchmarks/reference/no_such_script.py"));
  }
}
