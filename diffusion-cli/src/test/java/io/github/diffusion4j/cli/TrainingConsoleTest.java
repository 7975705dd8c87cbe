package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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

  /**
   * A log line shows the step's rate where the run's rate changes (a schedule or warm-up), and not otherwise; a model
   * that does not report its optimiser's rate (NaN) shows none.
   */
  @Test
  void logLinesShowTheRateWhereItChanges() {
    java.io.StringWriter text = new java.io.StringWriter();
    java.io.PrintWriter out = new java.io.PrintWriter(text, true);
    io.github.diffusion4j.training.TrainingProgress start = io.github.diffusion4j.training.TrainingProgress.START;
    TrainingConsole scheduled = new TrainingConsole(out, false, true);
    scheduled.onStart(start, 100);
    scheduled.onLog(record(2.5e-4));
    scheduled.onLog(record(Double.NaN));
    TrainingConsole constant = new TrainingConsole(out, false, false);
    constant.onStart(start, 100);
    constant.onLog(record(1e-3));
    List<String> lines = text.toString().lines().toList();
    assertTrue(lines.get(0).startsWith("epoch 1 step 10/100 loss 0.5000 (mean 0.6000) lr 2.50e-04 "), lines.get(0));
    assertTrue(lines.get(1).startsWith("epoch 1 step 10/100 loss 0.5000 (mean 0.6000) 20 steps/s"), lines.get(1));
    assertFalse(lines.get(2).contains(" lr "), lines.get(2));
  }

  private static io.github.diffusion4j.training.LogRecord record(double rate) {
    return new io.github.diffusion4j.training.LogRecord(10, 0, 640, 0.5, 0.6, 0.5, 20, 0, 1, 0, 1, rate);
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
