package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.testkit.DocSnippets;
import io.github.diffusion4j.testkit.DocSnippets.Snippet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ```java} block of the README and docs/*.md compiles against the current api, test kit and DJL
 * (compiled, never run), so the code shown to users cannot drift. docs/spark.md's blocks need Spark and are
 * compiled by diffusion-spark's {@code SparkDocSnippetsTest}.
 */
class DocSnippetsTest {
  /** Given to the blocks without imports of their own; a block that needs another type adds it here. */
  static final List<String> IMPORTS = List.of(
      "import java.nio.file.Path;",
      "import java.util.List;",
      "import java.util.Map;",
      "import io.github.diffusion4j.data.ImageFit;",
      "import io.github.diffusion4j.data.ImageInfo;",
      "import io.github.diffusion4j.data.Normalization;",
      "import io.github.diffusion4j.eval.BoundListener;",
      "import io.github.diffusion4j.eval.BoundOptions;",
      "import io.github.diffusion4j.eval.BoundReport;",
      "import io.github.diffusion4j.eval.QualityMetrics;",
      "import io.github.diffusion4j.eval.VariationalBound;",
      "import io.github.diffusion4j.config.ConfigWriter;",
      "import io.github.diffusion4j.io.Checkpoint;",
      "import io.github.diffusion4j.io.CheckpointContent;",
      "import io.github.diffusion4j.io.ImageGrid;",
      "import io.github.diffusion4j.io.Provenance;",
      "import io.github.diffusion4j.io.SampleReader;",
      "import io.github.diffusion4j.io.SampleWriter;",
      "import io.github.diffusion4j.model.OptimizerSpec;",
      "import io.github.diffusion4j.model.NoisePredictor;",
      "import io.github.diffusion4j.model.PredictionType;",
      "import io.github.diffusion4j.model.TrainableModel;",
      "import io.github.diffusion4j.runtime.Diffusion;",
      "import io.github.diffusion4j.runtime.ProviderDiscovery;",
      "import io.github.diffusion4j.runtime.RunFolder;",
      "import io.github.diffusion4j.runtime.TrainedModel;",
      "import io.github.diffusion4j.runtime.TrainingRun;",
      "import io.github.diffusion4j.sampling.ReverseStepResult;",
      "import io.github.diffusion4j.sampling.BuiltInSamplers;",
      "import io.github.diffusion4j.sampling.Sampler;",
      "import io.github.diffusion4j.sampling.SamplerSpec;",
      "import io.github.diffusion4j.sampling.SamplingListener;",
      "import io.github.diffusion4j.sampling.SamplingRequest;",
      "import io.github.diffusion4j.sampling.StepContext;",
      "import io.github.diffusion4j.sampling.VarianceType;",
      "import io.github.diffusion4j.schedule.Schedule;",
      "import io.github.diffusion4j.schedule.ScheduleSpec;",
      "import io.github.diffusion4j.schedule.Timesteps;",
      "import io.github.diffusion4j.spi.Backend;",
      "import io.github.diffusion4j.spi.BackendOptions;",
      "import io.github.diffusion4j.tensor.Shape;",
      "import io.github.diffusion4j.tensor.Tensor;",
      "import io.github.diffusion4j.tensor.TensorFactory;",
      "import io.github.diffusion4j.tensor.TensorScope;",
      "import io.github.diffusion4j.training.TrainingListener;",
      "import io.github.diffusion4j.training.TrainingProgress;",
      "import io.github.diffusion4j.testkit.ArchitectureRules;",
      "import io.github.diffusion4j.testkit.LayerContractTests;",
      "import io.github.diffusion4j.testkit.TensorContractTest;",
      "import org.junit.jupiter.api.Nested;",
      "import ai.djl.ndarray.NDList;",
      "import ai.djl.ndarray.NDManager;",
      "import ai.djl.repository.zoo.Criteria;",
      "import ai.djl.repository.zoo.ZooModel;",
      "import com.tngtech.archunit.core.importer.ImportOption;",
      "import com.tngtech.archunit.junit.AnalyzeClasses;",
      "import com.tngtech.archunit.junit.ArchTest;",
      "import com.tngtech.archunit.lang.ArchRule;");

  /** What the README names as the reader's own. */
  static final Map<String, String> STAND_INS = Map.of("MyBackend", """
      class MyBackend implements io.github.diffusion4j.spi.Backend {
        public String name() { return "mine"; }
        public String describe() { return "mine"; }
        public io.github.diffusion4j.tensor.TensorFactory tensors() { throw new UnsupportedOperationException(); }
        public io.github.diffusion4j.nn.LayerBackend layers() { throw new UnsupportedOperationException(); }
        public void close() {}
      }""", "MySampler", """
      class MySampler implements io.github.diffusion4j.sampling.Sampler {
        MySampler(io.github.diffusion4j.sampling.SamplerSpec spec) {}
        public String name() { return "mine"; }
        public io.github.diffusion4j.sampling.ReverseStepResult step(io.github.diffusion4j.sampling.StepContext c) {
          throw new UnsupportedOperationException();
        }
      }""", "MySpec", """
      record MySpec(io.github.diffusion4j.tensor.Shape imageShape, int numTrainTimesteps)
          implements io.github.diffusion4j.model.ModelSpec {
        public String kind() { return "mine"; }
        public Map<String, int[]> parameterShapes() { return Map.of(); }
        public io.github.diffusion4j.model.StateDict initialWeights(long seed) {
          throw new UnsupportedOperationException();
        }
        public io.github.diffusion4j.nn.Network network() { throw new UnsupportedOperationException(); }
      }""");

  /** Compiled by diffusion-spark's test, which has Spark on its class path. */
  static final String SPARK_DOC = "spark.md";

  @Test
  void javaBlocksOfTheReadmeAndTheDocsCompile() {
    List<Path> files = new ArrayList<>();
    files.add(Path.of("..", "README.md"));
    for (Path p : DocSnippets.markdownFiles(Path.of("..", "docs"))) {
      if (!p.getFileName().toString().equals(SPARK_DOC)) {
        files.add(p);
      }
    }
    List<Snippet> snippets = new ArrayList<>();
    files.forEach(f -> snippets.addAll(DocSnippets.extract(f)));
    assertTrue(snippets.stream().filter(s -> !s.fragment()).count() >= 5,
        "the README's and docs' java blocks are found: " + snippets);
    List<String> errors = DocSnippets.compile(snippets, IMPORTS, STAND_INS);
    assertEquals("", String.join("\n", errors), "java blocks in the docs that do not compile");
  }
}
