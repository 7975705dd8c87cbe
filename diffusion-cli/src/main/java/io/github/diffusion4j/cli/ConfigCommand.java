package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigDocs;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.DataConfig;
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

  @Option(names = "--check", paramLabel = "FILE", arity = "0..1", fallbackValue = "",
      description = "Validate this YAML file (or -c FILE's, or --bundled NAME's) and report the first problem.")
  Path check;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "With --check: the file to validate, as "
      + "train takes it.")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "With --check: override a key, as train does.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--bundled", paramLabel = "NAME",
      description = "Print a bundled configuration: ${COMPLETION-CANDIDATES}.", completionCandidates = Bundled.class)
  String bundled;

  @Option(names = "--markdown", description = "Print the key reference as a Markdown table.")
  boolean markdown;

  @Override
  public Integer call() {
    if (check != null && markdown) {
      throw new BadInputException("--markdown prints the key reference; it does not go with --check");
    }
    if (check != null) {
      boolean named = !check.toString().isEmpty();
      if (named && config != null) {
        throw new BadInputException("--check " + check + " and -c " + config + ": give the file once");
      }
      Path file = named ? check : config;
      // every check train makes before it creates anything: names, data files, sizes, memory
      try (Diffusion d = Diffusion.open(TrainCommand.load(file, bundled, overrides))) {
        d.check();
        TrainCommand.checkDrawable(d, "train --no-samples does not");
        DiffusionConfig c = d.config();
        spec.commandLine().getOut().println((file != null ? file : "bundled " + bundled) + ": OK (backend "
            + c.backend() + ", model "
            + c.model().kind().configName() + " for " + d.imageShape().toCompactString() + " images, "
            + c.training().epochs() + (c.training().epochs() == 1 ? " epoch" : " epochs") + ", sampler " + c.sampling().sampler() + ")");
        if (c.data().kind() == DataConfig.Kind.FOLDER) {
          // listing a folder is cheap; decoding 50,000 images is not, and is data check's work
          spec.commandLine().getOut().println("  the images were listed, not decoded: 'diffusion data check "
              + (file != null ? "-c " + ShellWords.quote(file) + (overrides.isEmpty() ? "" : " --set ...")
                  : c.data().root().map(ShellWords::quote).orElse("DIR"))
              + "' decodes every one, as training will");
        }
      }
      return DiffusionCli.OK;
    }
    if (!overrides.isEmpty() || config != null) {
      throw new BadInputException((config != null ? "-c" : "--set") + ": only with --check");
    }
    if (bundled != null && markdown) {
      throw new BadInputException("--markdown prints the key reference; it does not go with --bundled");
    }
    if (bundled != null) {
      TrainCommand.checkBundled(bundled);
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
