package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
