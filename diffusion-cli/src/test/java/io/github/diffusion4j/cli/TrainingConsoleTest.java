package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class TrainingConsoleTest {
  @Test
  void aSlowRateIsNotPrintedAsZero() {
    assertEquals("0.47", TrainingConsole.rate(0.4712));
    assertEquals("1.20", TrainingConsole.rate(1.2));
    assertEquals("9.99", TrainingConsole.rate(9.991));
    assertEquals("248", TrainingConsole.rate(248.4));
    assertEquals("0.00", TrainingConsole.rate(0));
  }

  /** Bars are drawn on stderr: only where it is a terminal that moves the cursor, not into 2>train.log. */
  @Test
  void barsOnlyWhereStandardErrorIsATerminalThatMovesTheCursor() {
    assertTrue(TrainingConsole.isTerminal(true, null, "xterm-256color", Optional.of("/dev/pts/3")));
    assertTrue(TrainingConsole.isTerminal(true, null, null, Optional.of("/dev/tty1")));
    assertTrue(TrainingConsole.isTerminal(true, null, "xterm", Optional.empty()), "no /proc: as the console says");
    assertFalse(TrainingConsole.isTerminal(true, null, "xterm", Optional.of("/home/me/train.log")));
    assertFalse(TrainingConsole.isTerminal(true, null, "xterm", Optional.of("pipe:[12345]")));
    assertFalse(TrainingConsole.isTerminal(true, null, "dumb", Optional.of("/dev/pts/3")));
    assertFalse(TrainingConsole.isTerminal(true, "true", "xterm", Optional.of("/dev/pts/3")));
    assertFalse(TrainingConsole.isTerminal(false, null, "xterm", Optional.of("/dev/pts/3")));
  }

  /** Tests run with their output in files: not interactive, on Java 17 (no console) and 22+ (a console, no terminal). */
  @Test
  void aTestRunIsNotInteractive() {
    assertFalse(Consoles.isInteractive());
  }

  @Test
  void helpIsNotColouredOnADumbTerminal() {
    assertEquals(picocli.CommandLine.Help.Ansi.OFF, DiffusionCli.ansi("dumb"));
    assertEquals(picocli.CommandLine.Help.Ansi.AUTO, DiffusionCli.ansi("xterm-256color"));
    assertEquals(picocli.CommandLine.Help.Ansi.AUTO, DiffusionCli.ansi(null));
  }
}
