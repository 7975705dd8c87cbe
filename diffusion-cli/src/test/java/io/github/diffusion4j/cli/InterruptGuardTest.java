package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What a signal does to a command that trains, then samples (train, demo). */
class InterruptGuardTest {
  @Test
  void aSignalDuringTrainingStopsItAndOneOnceSamplingInterruptsTheCommand() {
    AtomicInteger stops = new AtomicInteger();
    try (InterruptGuard guard = InterruptGuard.stoppingThenInterrupting(stops::incrementAndGet)) {
      guard.signalled(); // during training: asks it to stop, no interrupt
      assertEquals(1, stops.get());
      assertFalse(Thread.currentThread().isInterrupted(), "training stops at its next step, by request");
      guard.nowSampling(); // the signal came before sampling started: sampling is interrupted at once
      assertTrue(Thread.interrupted(), "a signal between the training's end and the sampling is not lost");
    }
    try (InterruptGuard guard = InterruptGuard.stoppingThenInterrupting(stops::incrementAndGet)) {
      guard.nowSampling();
      assertFalse(Thread.currentThread().isInterrupted(), "no signal, no interrupt");
      guard.signalled(); // during sampling
      assertTrue(Thread.interrupted(), "a signal during sampling interrupts the command's thread");
      assertEquals(2, stops.get());
    } finally {
      Thread.interrupted();
    }
  }
}
