package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.github.diffusion4j.testkit.DocSnippets;
import io.github.diffusion4j.testkit.DocSnippets.Snippet;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/spark.md's {@code ```java} blocks compile against this module and Spark (compiled, never run). */
class SparkDocSnippetsTest {
  static final List<String> IMPORTS = List.of(
      "import java.nio.file.Path;",
      "import io.github.diffusion4j.spark.EvalJob;",
      "import io.github.diffusion4j.spark.EvalResult;",
      "import io.github.diffusion4j.spark.SampleJob;",
      "import io.github.diffusion4j.spark.SampleManifest;",
      "import io.github.diffusion4j.spark.SparkContexts;",
      "import io.github.diffusion4j.spark.SparkDiffusion;",
      "import org.apache.spark.SparkConf;");

  @Test
  void javaBlocksOfTheSparkPageCompile() {
    List<Snippet> snippets = DocSnippets.extract(Path.of("..", "docs", "spark.md"));
    assertFalse(snippets.isEmpty(), "docs/spark.md's java blocks are found");
    assertEquals("", String.join("\n", DocSnippets.compile(snippets, IMPORTS, Map.of())),
        "java blocks in docs/spark.md that do not compile");
  }
}
