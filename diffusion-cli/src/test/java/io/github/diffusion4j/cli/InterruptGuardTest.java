package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What a signal does to a command that trains, then samples (train, demo), and what a command says of it. */
class InterruptGuardTest {
  @Test
  void aSignalDuringTrainingStopsItAndOneOnceSamplingInterruptsTheCommand() {
    AtomicInteger stops = new AtomicInteger();
    try (InterruptGuard guard = training(stops)) {
      guard.signalled(); // during training: asks it to stop, no interrupt
      assertEquals(1, stops.get());
      assertFalse(Thread.currentThread().isInterrupted(), "training stops at its next step, by request");
      guard.nowSampling(); // the signal came before sampling started: sampling is interrupted at once
      assertTrue(Thread.interrupted(), "a signal between the training's end and the sampling is not lost");
    }
    try (InterruptGuard guard = training(stops)) {
      guard.nowSampling();
      assertFalse(Thread.currentThread().isInterrupted(), "no signal, no interrupt");
      guard.signalled(); // during sampling
      assertTrue(Thread.interrupted(), "a signal during sampling interrupts the command's thread");
      assertEquals(2, stops.get());
    } finally {
      Thread.interrupted();
    }
  }

  private static InterruptGuard training(AtomicInteger stops) {
    InterruptGuard guard = InterruptGuard.beforeTraining();
    guard.nowTraining(stops::incrementAndGet);
    return guard;
  }

  /**
   * Train's and the demo's one guard before their training: a signal during a load (the configuration's, the
   * backend's and the model's) says its line at once; one between the loads interrupts the command's thread (the
   * data's preparation ends and says its line, or the next load says its own at once); one after the last load, once
   * the training begins, asks the training to stop, with the interrupt cleared (the training's stop replaces it).
   */
  @Test
  void beforeTheTrainingASignalInterruptsTheCommandOrSaysTheLoadsLine() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    AtomicInteger stops = new AtomicInteger();
    AutoCloseable backend = () -> { };
    try (InterruptGuard guard = InterruptGuard.beforeTraining()) {
      assertSame(backend, guard.load(out, "nothing was trained", () -> backend));
      guard.signalled(); // between two loads: the data's preparation
      assertTrue(Thread.currentThread().isInterrupted(), "the preparation is interrupted");
      assertEquals(DiffusionCli.FAILURE, guard.said(new CancellationException(), out, "the data was not prepared"));
      assertFalse(Thread.currentThread().isInterrupted(), "said clears it");
      assertEquals(null, guard.load(out, "no checkpoint was written", () -> backend), "a later load is not begun");
    } finally {
      Thread.interrupted();
    }
    assertEquals("interrupted; the data was not prepared" + System.lineSeparator() + "interrupted; no checkpoint was "
        + "written" + System.lineSeparator(), text.toString());
    try (InterruptGuard guard = InterruptGuard.beforeTraining()) {
      assertSame(backend, guard.load(out, "x", () -> backend));
      guard.signalled(); // after the last load, before the training's stop is known
      guard.nowTraining(stops::incrementAndGet);
      assertEquals(1, stops.get(), "the training is asked to stop before its first step");
      assertFalse(Thread.currentThread().isInterrupted(), "by request: the interrupt is cleared");
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * {@code said} prints its line only for a failure a signal (or an interrupt of the command's thread) caused, clears
   * the interrupt so the command's resources close normally, and rethrows any other failure unchanged.
   */
  @Test
  void aFailureIsSaidAsAnInterruptOnlyWhereASignalOrAnInterruptCame() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    RuntimeException other = new IllegalStateException("disk full");
    try (InterruptGuard guard = new InterruptGuard(() -> { })) {
      assertSame(other, assertThrows(IllegalStateException.class, () -> guard.said(other, out, "x")));
      assertEquals("", text.toString(), "no signal, no line");
      Thread.currentThread().interrupt(); // as the guard's own stop does
      assertEquals(DiffusionCli.FAILURE, guard.said(new CancellationException(), out, "nothing was written to a.npy"));
      assertFalse(Thread.currentThread().isInterrupted(), "the interrupt is cleared while the command closes");
      assertEquals("interrupted; nothing was written to a.npy" + System.lineSeparator(), text.toString());
    }
    assertTrue(Thread.interrupted(), "an interrupt without a signal (an in-process caller's) is handed back at close");
    try (InterruptGuard guard = new InterruptGuard(() -> { })) {
      guard.signalled(); // a signal whose interrupt a file operation consumed (its failure is what reaches said)
      BadInputException bad = new BadInputException("--out x: exists");
      assertSame(bad, assertThrows(BadInputException.class, () -> guard.said(bad, out, "x")), "bad input stays so");
      assertEquals(DiffusionCli.FAILURE, guard.said(other, out, "nothing was written to b"));
      assertTrue(text.toString().endsWith("interrupted; nothing was written to b" + System.lineSeparator()));
    }
    assertFalse(Thread.currentThread().isInterrupted(), "a signal's interrupt is not handed back: the JVM is ending");
    try {
      Thread.currentThread().interrupt();
      BadInputException bad = new BadInputException("--count 0: give at least 1");
      try (InterruptGuard guard = new InterruptGuard(() -> { })) {
        assertSame(bad, assertThrows(BadInputException.class, () -> guard.said(bad, out, "x")));
        assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is left as it was");
      }
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * A file the command reads after its model loads (an {@code --init} image, where only the model says the images'
   * shape) fails as bad input when a signal's interrupt closed its channel mid-read ({@code --init a.png cannot be
   * read}); that is the signal's doing, not the user's: said as the interrupt. Bad input of its own stays bad input.
   */
  @Test
  void badInputThatTheSignalsInterruptCausedIsSaidAsTheInterrupt() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt)) {
      guard.signalled();
      BadInputException cut = new BadInputException("--init a.png cannot be read",
          new java.io.UncheckedIOException(new java.nio.channels.ClosedByInterruptException()));
      assertEquals(DiffusionCli.FAILURE, guard.said(cut, out, "nothing was written to s.png"));
      assertEquals("interrupted; nothing was written to s.png" + System.lineSeparator(), text.toString());
    }
    try (InterruptGuard guard = new InterruptGuard(() -> { })) {
      guard.signalled();
      BadInputException own = new BadInputException("--init a.png is not an image", new java.io.IOException("x"));
      assertSame(own, assertThrows(BadInputException.class, () -> guard.said(own, out, "x")));
    }
  }

  /**
   * Work that must not be cut short once begun (a commit of samples already drawn, a report's JSON) runs to its end
   * under {@code finish} when a signal comes meanwhile or came just before: the signal's interrupt closed the file's
   * channel mid-write, so the finished work was lost; it now stops the command once the work is done.
   */
  @Test
  void aSignalWhileFinishingWaitsForTheWorkThenStopsTheCommand(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.nio.file.Path file = dir.resolve("report.json");
    Thread command = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(command::interrupt)) {
      guard.finish(() -> {
        guard.signalled(); // mid-work, as the hook does on a signal
        assertFalse(Thread.currentThread().isInterrupted(), "the signal waits for the work");
        write(file, "{\"a\": 1}");
      });
      assertTrue(Thread.interrupted(), "the signal stops the command once the work is done");
    }
    assertEquals("{\"a\": 1}", java.nio.file.Files.readString(file));
    try (InterruptGuard guard = new InterruptGuard(command::interrupt)) {
      guard.signalled(); // just before the work: its interrupt is already set
      guard.finish(() -> write(file, "{\"b\": 2}"));
      assertTrue(Thread.interrupted(), "kept for after the work");
    }
    assertEquals("{\"b\": 2}", java.nio.file.Files.readString(file));
    try (InterruptGuard guard = new InterruptGuard(command::interrupt)) {
      guard.finish(() -> write(file, "{\"c\": 3}"));
      assertFalse(Thread.currentThread().isInterrupted(), "no signal, no interrupt");
      guard.signalled(); // after the work: stops the command as before
      assertTrue(Thread.interrupted());
    }
  }

  /**
   * A failure of the finishing work itself (a full disk) while a signal is pending is said with the interrupt: the
   * signal did not cause it (the work ran uninterrupted), and "nothing was written" alone hid it.
   */
  @Test
  void aFailureWhileFinishingIsSaidBesideTheSignal() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    Thread command = Thread.currentThread();
    java.io.UncheckedIOException full = new java.io.UncheckedIOException(new java.nio.file.FileSystemException(
        "out.npy", null, "No space left on device"));
    try (InterruptGuard guard = new InterruptGuard(command::interrupt)) {
      RuntimeException e = assertThrows(RuntimeException.class, () -> guard.finish(() -> {
        guard.signalled();
        throw full;
      }));
      assertSame(full, e);
      assertEquals(DiffusionCli.FAILURE, guard.said(new IllegalStateException("commit failed", e), out,
          "nothing was written to out.npy"));
      assertEquals("interrupted; nothing was written to out.npy (out.npy: " + io.github.diffusion4j.io.FileProblems.describe(
          (java.nio.file.FileSystemException) full.getCause()) + ")" + System.lineSeparator(), text.toString());
      assertEquals(DiffusionCli.FAILURE, guard.said(new CancellationException(), out, "nothing was scored"));
      assertTrue(text.toString().endsWith("interrupted; nothing was scored" + System.lineSeparator()),
          "another failure is the signal's alone");
    }
  }

  /**
   * A signal while a model loads says the command's line at once and lets the JVM go (the hook stops waiting), without
   * interrupting the load, which would not heed it; the loaded model is closed and null returned, so the command
   * returns without a second line. Without a signal the model (or the load's failure) is the caller's, and a signal
   * after the load does what the guard's stop does.
   */
  @Test
  void aSignalWhileAModelLoadsIsSaidAtOnce() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    AtomicInteger stops = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    AutoCloseable model = closed::incrementAndGet;
    try (InterruptGuard guard = new InterruptGuard(stops::incrementAndGet)) {
      AutoCloseable loaded = guard.load(out, "nothing was written to a.npy", () -> {
        guard.signalled(); // as the hook does, mid-load
        assertEquals("interrupted; nothing was written to a.npy" + System.lineSeparator(), text.toString(),
            "said at once, before the load ends");
        return model;
      });
      assertEquals(null, loaded, "the command returns at once");
      assertEquals(1, closed.get(), "the model loaded meanwhile is closed");
      assertEquals(0, stops.get(), "the load is not interrupted");
    }
    try (InterruptGuard guard = new InterruptGuard(stops::incrementAndGet)) {
      AutoCloseable failed = guard.load(out, "nothing was scored", () -> {
        guard.signalled();
        throw new IllegalStateException("the JVM ended under the load");
      });
      assertEquals(null, failed, "a failure of the load after the line is not said: the line is");
    }
    assertEquals("interrupted; nothing was written to a.npy" + System.lineSeparator() + "interrupted; nothing was "
        + "scored" + System.lineSeparator(), text.toString(), "one line a load");
    text.getBuffer().setLength(0);
    try (InterruptGuard guard = new InterruptGuard(stops::incrementAndGet)) {
      assertSame(model, guard.load(out, "x", () -> model));
      IllegalStateException bad = new IllegalStateException("no checkpoint");
      assertSame(bad, assertThrows(IllegalStateException.class, () -> guard.load(out, "x", () -> {
        throw bad;
      })));
      guard.signalled(); // after the load: the guard's stop
      assertEquals(1, stops.get());
    }
    assertEquals("", text.toString(), "no line but for a signal during a load");
  }

  private static void write(java.nio.file.Path file, String text) {
    try {
      io.github.diffusion4j.io.AtomicFiles.writeString(file, text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A command whose work runs a load under its guard and fails once the load returns null ({@code diffusion spark
   * sample}: the driver's load inside the job, the job then cancelled) says the load's line only: said adds none.
   */
  @Test
  void afterALoadsLineSaidAddsNone() {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    try (InterruptGuard guard = new InterruptGuard(() -> { })) {
      assertEquals(null, guard.load(out, "nothing was written to d", () -> {
        guard.signalled();
        return (AutoCloseable) () -> { };
      }));
      assertEquals(DiffusionCli.FAILURE, guard.said(new IllegalStateException("cancelled"), out,
          "nothing was written to d (the job was cancelled)"));
    }
    assertEquals("interrupted; nothing was written to d" + System.lineSeparator(), text.toString(), "one line");
  }
}
