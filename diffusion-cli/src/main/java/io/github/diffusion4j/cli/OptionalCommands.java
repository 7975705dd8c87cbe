package io.github.diffusion4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The commands that the launcher {@code ./diffusion} runs from other modules: {@code spark} (diffusion-spark, with
 * Apache Spark on the class path) and {@code bench} (the module benchmarks). This jar has neither, so its help and
 * its completion script ({@code generate-completion}) know them by a description of their commands and options
 * kept beside this class ({@code optional-commands/NAME.tsv}), from which a stand-in command is built. The
 * description is written from the real commands' picocli classes by a test of their module with
 * {@code OptionalCommandDescriptions} (test tooling in this module's test-jar, not in this jar), which fails while
 * it differs: those classes stay the one source of the options. A description has a line per command
 * ({@code command}, its path, the first line of its description) and per option ({@code option}, the command's
 * path, the option's names, its value's label, {@code flag}, {@code file} or {@code value}, and the values it
 * completes to), separated by tabs. Run here (the jar without the module), a stand-in says what the command
 * needs.
 */
final class OptionalCommands {
  /** The optional commands, by name, and what each needs when it is asked for without its module (unordered). */
  static final Map<String, String> NEEDS = Map.of(
      "spark", "the optional module diffusion-spark with Apache Spark on the class path; ./diffusion spark builds and "
          + "runs it (docs/spark.md)",
      "bench", "the module benchmarks, a program of its own; ./diffusion bench builds and runs it "
          + "(docs/benchmarks.md)");

  private OptionalCommands() {}

  /** What a stand-in runs: the one-line error that the command needs its module. */
  static final class StandIn implements Runnable {
    private final String name;

    StandIn(String name) {
      this.name = name;
    }

    @Override
    public void run() {
      throw new BadInputException("'" + name + "' needs " + NEEDS.get(name));
    }
  }

  /**
   * Whether a subcommand is a stand-in (its module is not on the class path).
   *
   * @param cl the subcommand
   * @return true for a stand-in
   */
  static boolean isStandIn(CommandLine cl) {
    return cl.getCommandSpec().userObject() instanceof StandIn;
  }

  /**
   * Adds a stand-in for each optional command the root does not have (spark, then bench).
   *
   * @param root the root command
   */
  static void addStandIns(CommandLine root) {
    for (String name : List.of("spark", "bench")) {
      if (!root.getSubcommands().containsKey(name)) {
        java.util.Set<String> inherited = new java.util.HashSet<>();
        root.getCommandSpec().options().stream().filter(o -> o.inherited() || o.scopeType()
            == CommandLine.ScopeType.INHERIT).forEach(o -> inherited.addAll(List.of(o.names())));
        root.addSubcommand(name, standIn(name, inherited));
      }
    }
  }

  /**
   * The stand-in for {@code name}, from its description, without the options named in {@code inherited} (which the
   * root gives every subcommand: {@code --verbose}, which bench declares as well).
   */
  static CommandLine standIn(String name, java.util.Set<String> inherited) {
    String text;
    try (InputStream in = OptionalCommands.class.getResourceAsStream("optional-commands/" + name + ".tsv")) {
      if (in == null) {
        throw new IllegalStateException("no description of the optional command '" + name + "' in the jar");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, CommandLine> commands = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f[0].equals("command")) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(new StandIn(name));
        spec.usageMessage().description(f[2]);
        CommandLine cl = new CommandLine(spec);
        String path = f[1];
        int space = path.lastIndexOf(' ');
        if (space >= 0) {
          commands.get(path.substring(0, space)).addSubcommand(path.substring(space + 1), cl);
        }
        commands.put(path, cl);
      } else {
        if (Arrays.stream(f[2].split(",")).anyMatch(inherited::contains)) {
          continue;
        }
        OptionSpec.Builder o = OptionSpec.builder(f[2].split(","));
        if (!f[3].isEmpty()) {
          o.paramLabel(f[3]);
        }
        switch (f[4]) {
          case "flag" -> o.type(boolean.class).arity("0");
          case "file" -> o.type(Path.class);
          default -> o.type(String.class);
        }
        if (!f[5].isEmpty()) {
          o.completionCandidates(Arrays.asList(f[5].split(",")));
        }
        commands.get(f[1]).getCommandSpec().addOption(o.build());
      }
    }
    return commands.get(name);
  }
}
