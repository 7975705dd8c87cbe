package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.CliTest.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages that README.md and docs/reliability.md quote in backticks, against what the command line prints for the
 * input their row describes: a quote changed in the code and not in the docs (or the other way) fails here. A quote
 * matches the message's first line where its {@code ...} stand for any text (the docs' elisions); the quote must be
 * in the doc exactly as given, so the test and the doc change together. Cheap cases only: none loads a model.
 */
class DocMessagesTest {
  private static final Path ROOT = Path.of("..");

  @TempDir
  static Path dir;

  /** docs/reliability.md, the row on unknown options and no command: the commands named, spark and bench too. */
  @Test
  void noCommand() throws IOException {
    assertQuoted("docs/reliability.md",
        "Missing required subcommand: demo, train, sample, ... convert, spark or bench", cli());
  }

  /** docs/reliability.md, the row on a misspelt option or command. */
  @Test
  void misspeltCommand() throws IOException {
    assertQuoted("docs/reliability.md", "did you mean sample?", cli("samle"));
  }

  /** README.md, the tour's check before training: the one-line error for the bundled default with a misspelt key. */
  @Test
  void misspeltKeyInTheReadmesExample() throws IOException {
    Path yaml = dir.resolve("my.yaml");
    Result config = cli("config", "--bundled", "default");
    assertEquals(0, config.code(), config.all());
    Files.writeString(yaml, config.out().replace("  batch_size:", "  batch_sise:"));
    Result r = cli("config", "--check", yaml.toString());
    // the README's reader gives the file's name as it stands in their folder; here it is under a temporary one
    assertQuoted("README.md", "diffusion: my.yaml:29:3: training.batch_sise: unknown key; did you mean "
        + "'batch_size'? (allowed: epochs, batch_size, ...)",
        new Result(r.code(), r.out(), r.err().replace(dir.toString() + java.io.File.separator, "")));
  }

  /** docs/reliability.md, the row on `--set` overrides of the wrong type. */
  @Test
  void overrideOfTheWrongType() throws IOException {
    assertQuoted("docs/reliability.md", "--set training.epochs=abc: training.epochs: expected an integer",
        cli("config", "--check", "--bundled", "default", "--set", "training.epochs=abc"));
  }

  /** docs/reliability.md, the row on an empty file or a directory instead of a file. */
  @Test
  void directoryInsteadOfAFile() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("run.yaml"));
    assertQuoted("docs/reliability.md", "run.yaml: is a directory, not a YAML file",
        cli("config", "--check", folder.toString()));
  }

  /** docs/reliability.md, the row on an unknown backend of another party. */
  @Test
  void unknownBackendOfAnotherParty() throws IOException {
    assertQuoted("docs/reliability.md", "...: unknown backend 'javaf'; available: ...; official backends: ...; "
        + "another backend is found when its jar, with its provider listed in "
        + "META-INF/services/io.github.diffusion4j.spi.BackendProvider, is on the class path (for ./diffusion, in "
        + "DIFFUSION_CLASSPATH)", cli("config", "--check", "--bundled", "default", "--set", "backend=javaf"));
  }

  /** docs/reliability.md, the row on sizes whose products overflow. */
  @Test
  void trainingSetBeyondAnArray() throws IOException {
    assertQuoted("docs/reliability.md", "data.train_size: 2000000000 images of 3x5x5 make the training set "
        + "150000000000 values, more than one Java array holds (2147483639); use at most 28633115",
        cli("config", "--check", "--bundled", "default", "--set", "data.train_size=2000000000"));
  }

  /** docs/reliability.md, the row on `train --resume` with nothing to resume (DIR: the output folder). */
  @Test
  void resumeWithNothingToResume() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    String quote = "--resume: no run with checkpoints under DIR; give --run-dir DIR or set output.name";
    Result r = cli("train", "--bundled", "default", "--resume", "--set", "output.dir=" + empty);
    assertTrue(doc("docs/reliability.md").contains("`" + quote + "`"), "quoted in docs/reliability.md: " + quote);
    assertMatches(quote.replaceFirst("DIR", java.util.regex.Matcher.quoteReplacement(empty.toString())), r);
  }

  /** docs/reliability.md, the row on `diffusion spark` without its module on the class path. */
  @Test
  void sparkWithoutItsModule() throws IOException {
    assertQuoted("docs/reliability.md", "diffusion: 'spark' needs the optional module diffusion-spark with Apache "
        + "Spark on the class path; ...", cli("spark", "sample"));
  }

  /** The quote is in the doc (between backticks, or as a line of a block); the command's first error line holds it. */
  private static void assertQuoted(String doc, String quote, Result r) throws IOException {
    String text = doc(doc);
    assertTrue(text.contains("`" + quote + "`") || text.contains("\n" + quote + "\n"),
        "quoted in " + doc + ": " + quote);
    assertMatches(quote, r);
  }

  /** The first line of standard error holds the quote, whose {@code ...} stand for any text. */
  private static void assertMatches(String quote, Result r) {
    String first = r.err().lines().findFirst().orElse("");
    String regex = Arrays.stream(quote.split("\\.\\.\\.", -1)).map(Pattern::quote)
        .collect(Collectors.joining(".*"));
    assertTrue(Pattern.compile(regex).matcher(first).find(), "the doc quotes\n  " + quote + "\nthe command says\n  "
        + first);
  }

  private static String doc(String name) throws IOException {
    return Files.readString(ROOT.resolve(name), StandardCharsets.UTF_8);
  }
}
