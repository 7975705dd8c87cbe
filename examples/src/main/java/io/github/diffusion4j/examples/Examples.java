package io.github.diffusion4j.examples;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.LoadedConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the examples share: argument handling and the small configuration used when run with {@code --tiny}. */
final class Examples {
  private Examples() {}

  /** The output folder (the last argument that is not a flag, default {@code out/<name>}), created. */
  static Path outDir(String[] args, String name) throws java.io.IOException {
    Path dir = Path.of("out", name);
    for (String a : args) {
      if (!a.startsWith("--")) {
        dir = Path.of(a);
      }
    }
    Files.createDirectories(dir);
    return dir;
  }

  /** Whether {@code --tiny} was given: a few seconds of training, for tests and quick looks. */
  static boolean tiny(String[] args) {
    return List.of(args).contains("--tiny");
  }

  /** The value of {@code --name=value}, or a default. */
  static String option(String[] args, String name, String defaultValue) {
    for (String a : args) {
      if (a.startsWith("--" + name + "=")) {
        return a.substring(name.length() + 3);
      }
    }
    return defaultValue;
  }

  /**
   * The example's YAML (a resource of this module) with the run folder under {@code dir}, made small with
   * {@code --tiny}. The run folder an earlier run of the example left there ({@code dir/run}) is deleted, so the
   * example trains again from the start (a training run refuses a folder that holds checkpoints).
   */
  static LoadedConfig config(String resource, Path dir, boolean tiny, String... more) throws java.io.IOException {
    Path earlier = dir.resolve("run");
    if (Files.isDirectory(earlier.resolve("checkpoints")) || Files.isRegularFile(earlier.resolve("metrics.jsonl"))) {
      io.github.diffusion4j.io.AtomicFiles.deleteRecursively(earlier);
    }
    String yaml;
    try (var in = Examples.class.getResourceAsStream(resource)) {
      yaml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    List<String> overrides = new ArrayList<>(List.of("output.dir=" + dir.toAbsolutePath(), "output.name=run"));
    if (tiny) {
      overrides.addAll(List.of("data.train_size=4000", "data.eval_size=200", "model.hidden=128", "training.epochs=6",
          "training.batch_size=64", "training.learning_rate=0.002", "training.image_log_every=0"));
    }
    overrides.addAll(List.of(more));
    return ConfigLoader.readString(yaml, resource, overrides);
  }
}
