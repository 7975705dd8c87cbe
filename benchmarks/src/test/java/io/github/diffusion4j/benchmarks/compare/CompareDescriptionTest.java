package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.cli.OptionalCommandDescriptions;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code diffusion bench} is this module's program, which the launcher runs: the main CLI's help and completion
 * script know its options from a description of them in diffusion-cli's sources, written from {@link Compare} and
 * failing here while it differs.
 */
class CompareDescriptionTest {
  @Test
  void theMainCliDescribesThisCommand() throws Exception {
    CommandLine real = new CommandLine(new Compare());
    assertEquals(Optional.empty(),
        OptionalCommandDescriptions.staleDescription("bench", real, Path.of("..", "diffusion-cli")));
  }
}
