package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigDocs;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.runtime.Diffusion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion config}: the default configuration with every key explained, or checks a file. */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = {"Prints the configuration with every key explained (the defaults, or a bundled config with "
        + "--bundled), or validates a file with --check: every check train makes before it starts (backend and "
        + "sampler names, data files, sizes and memory), without training."})
final class ConfigCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--check", paramLabel = "FILE", description = "Validate this YAML file and report the first problem.")
  Path check;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "With --check: override a key, as train does.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--bundled", paramLabel = "NAME",
      description = "Print a bundled configuration: ${COMPLETION-CANDIDATES}.", completionCandidates = Bundled.class)
  String bundled;

  @Option(names = "--markdown", description = "Print the key reference as a Markdown table.")
  boolean markdown;

  @Override
  public Integer call() {
    if (check != null) {
      // every check train makes before it creates anything: names, data files, sizes, memory
      try (Diffusion d = Diffusion.open(ConfigLoader.read(check, overrides))) {
        d.check();
        DiffusionConfig c = d.config();
        spec.commandLine().getOut().println(check + ": OK (backend " + c.backend() + ", model "
            + c.model().kind().configName() + " for " + d.imageShape().toCompactString() + " images, "
            + c.training().epochs() + " epochs, sampler " + c.sampling().sampler() + ")");
      }
      return DiffusionCli.OK;
    }
    if (!overrides.isEmpty()) {
      throw new BadInputException("--set: only with --check FILE");
    }
    if (bundled != null) {
      if (!ConfigLoader.bundledNames().contains(bundled)) {
        throw new BadInputException("--bundled " + bundled + ": unknown; bundled configs: "
            + String.join(", ", ConfigLoader.bundledNames()));
      }
      spec.commandLine().getOut().print(ConfigLoader.bundledYaml(bundled));
      return DiffusionCli.OK;
    }
    spec.commandLine().getOut().print(markdown ? ConfigDocs.markdownTable() : ConfigDocs.describe());
    return DiffusionCli.OK;
  }

  /** The bundled config names, for help and completion. */
  static final class Bundled implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return ConfigLoader.bundledNames().iterator();
    }
  }
}
