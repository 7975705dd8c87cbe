package io.github.diffusion4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Test tooling: writes the descriptions of the optional commands ({@code spark}, {@code bench}) that
 * {@link OptionalCommands} builds its stand-ins from, and checks them, for the tests of the commands' modules
 * (diffusion-spark's {@code SparkCommandDescriptionTest}, the benchmarks' {@code CompareDescriptionTest}). It
 * writes into this module's sources, so it is no part of the product's jar: those modules get it from this
 * module's test-jar ({@code <type>test-jar</type>}, test scope), which holds this class only.
 */
public final class OptionalCommandDescriptions {
  /** The system property that makes {@link #staleDescription} rewrite the description instead of failing. */
  public static final String REGENERATE = "diffusion4j.regenerate";

  private OptionalCommandDescriptions() {}

  /**
   * The description of a command tree, as the stand-ins read it ({@link OptionalCommands} says its lines).
   *
   * @param name the command's name on the {@code diffusion} command line
   * @param real the real command
   * @return the text
   */
  static String describe(String name, CommandLine real) {
    StringBuilder out = new StringBuilder("# written from the picocli classes of '" + name + "' by a test of their "
        + "module (" + REGENERATE + "=true rewrites it); do not edit\n");
    describe(name, real, out);
    return out.toString();
  }

  private static void describe(String path, CommandLine cl, StringBuilder out) {
    CommandSpec spec = cl.getCommandSpec();
    String[] description = spec.usageMessage().description();
    out.append("command\t").append(path).append('\t').append(description.length == 0 ? "" : oneField(description[0]))
        .append('\n');
    for (OptionSpec o : spec.options()) {
      if (o.hidden()) {
        continue;
      }
      boolean flag = o.arity().max() == 0;
      Class<?> type = o.type();
      String kind = flag ? "flag" : type == Path.class || type == java.io.File.class ? "file" : "value";
      List<String> candidates = new ArrayList<>();
      if (!flag && o.completionCandidates() != null) {
        o.completionCandidates().forEach(candidates::add);
      }
      out.append("option\t").append(path).append('\t').append(String.join(",", o.names())).append('\t')
          .append(flag ? "" : oneField(o.paramLabel())).append('\t').append(kind).append('\t')
          .append(String.join(",", candidates)).append('\n');
    }
    for (Map.Entry<String, CommandLine> sub : cl.getSubcommands().entrySet()) {
      if (sub.getValue().getCommandSpec().parent() == spec && sub.getKey().equals(sub.getValue().getCommandName())) {
        describe(path + " " + sub.getKey(), sub.getValue(), out);
      }
    }
  }

  private static String oneField(String s) {
    return s.replaceAll("[\t\r\n]+", " ").strip();
  }

  /**
   * Compares the description of a real command with the one in this module's sources, for the tests of the
   * command's module; with the system property {@link #REGENERATE} set to true, rewrites it instead.
   *
   * @param name the command's name on the {@code diffusion} command line
   * @param real the real command
   * @param cliModule the folder of the module diffusion-cli
   * @return what is wrong, if the description in the sources is not the real command's
   * @throws IOException if the description cannot be read or written
   */
  public static Optional<String> staleDescription(String name, CommandLine real, Path cliModule) throws IOException {
    Path file = cliModule.resolve("src/main/resources/io/github/diffusion4j/cli/optional-commands/" + name + ".tsv");
    String want = describe(name, real);
    if (Boolean.getBoolean(REGENERATE)) {
      Files.writeString(file, want, StandardCharsets.UTF_8);
    }
    String have = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    return have.equals(want) ? Optional.empty() : Optional.of(file + " does not describe the command '" + name
        + "' of this module; rerun this test with -D" + REGENERATE + "=true to rewrite it. Expected:\n" + want);
  }
}
