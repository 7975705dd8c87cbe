package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.cli.OptionalCommandDescriptions;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The main CLI's jar has no Spark, so its help and completion script know {@code diffusion spark} from a
 * description of these commands in diffusion-cli's sources: it is written from them, and fails here while it
 * differs.
 */
class SparkCommandDescriptionTest {
  @Test
  void theMainCliDescribesTheseCommands() throws Exception {
    CommandLine real = new CommandLine(new SparkCommandExtension().command());
    assertEquals(Optional.empty(),
        OptionalCommandDescriptions.staleDescription("spark", real, Path.of("..", "diffusion-cli")));
  }
}
