package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.eval.BoundReport;
import io.github.diffusion4j.eval.BoundTerm;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.VarianceType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM (or Ctrl-C) during {@code eval --bpd}. */
class EvalBoundInterruptTest {
  @TempDir
  Path dir;

  /**
   * eval --bpd had no interrupt guard: a signal ended the JVM at once, without a word (and, during its writes, could
   * leave a temporary or a new bpd.json beside an older bpd_terms.jsonl); the evaluation now ends at its next model
   * call and says so before the JVM goes, and nothing is written; the --out folder it made (here with a missing
   * parent) is removed again (it was left, empty).
   */
  @Test
  void aSignalDuringTheEvaluationEndsItPromptlyWithALineAndNoFiles() throws Exception {
    Path run = ReliabilityCliTest.trainSmall(dir);
    Path out = dir.resolve("made/bpd");
    Path log = dir.resolve("bpd.log");
    // 20,000 images, one per model call, at 20 timesteps each: far longer than the test waits
    Process p = ChildCli.builder(dir, log, "eval", "--bpd", "--checkpoint", run.toString(),
        "--set", "data.eval_size=20000", "--batch-size", "1", "--out", out.toString()).start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (p.isAlive() && !Files.isDirectory(out) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(500); // into the evaluation (the folder is made just before it)
    assertTrue(p.isAlive(), "still evaluating when signalled: " + ChildCli.read(log));
    long signalled = System.nanoTime();
    ChildCli.signal(p, "TERM");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), ChildCli.read(log));
    double seconds = (System.nanoTime() - signalled) / 1e9;
    String text = ChildCli.read(log);
    assertTrue(seconds < 30, "ended " + seconds + " s after the signal: " + text);
    assertTrue(text.contains("interrupted; nothing was written to " + out), text);
    assertFalse(text.contains("\tat "), "no stack trace: " + text);
    assertTrue(text.contains("(the folder made for it is removed)"), text);
    assertFalse(Files.exists(dir.resolve("made")), "the folders eval made are removed, not left empty");
  }

  /**
   * The bound's files, written once it is computed, fail on their own (bpd_terms.jsonl is a folder here, as a full disk
   * would fail them) while a signal waits for them: the guard's line says which were written and names the failure, as
   * sample's, interpolate's, eval --json's and the demo's do (it was a plain error beside the signal); without a
   * signal the failure is the plain error it was.
   */
  @Test
  void aFailureOfTheBoundsFilesWhileASignalWaitsIsSaidInTheInterruptedLine() throws IOException {
    BoundReport r = new BoundReport(2, 3, 3, 1.5, 0.1, 0.2, 0.5, 0.8, List.of(new BoundTerm(0, 0.5, 2, 0.01),
        new BoundTerm(1, 0.5, 2, 0.01), new BoundTerm(2, 0.3, 2, 0.01)), PredictionType.EPSILON,
        VarianceType.FIXED_SMALL, true, 1);
    Path out = dir.resolve("bpd");
    Path terms = out.resolve("bpd_terms.jsonl");
    Files.createDirectories(terms);
    Files.writeString(terms.resolve("kept.txt"), "not replaceable by a file");
    StringWriter text = new StringWriter();
    PrintWriter o = new PrintWriter(text);
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt)) {
      guard.signalled(); // as the hook does: the signal waits for the files
      assertEquals(DiffusionCli.FAILURE, EvalCommand.writeBound(r, out, null, guard, o, List.of()), text.toString());
    } finally {
      Thread.interrupted();
    }
    String line = text.toString();
    assertTrue(line.startsWith("interrupted; only " + out.resolve("bpd.json") + " was written, not " + terms + ", "
        + out.resolve("bpd.png") + " ("), line);
    assertTrue(line.endsWith(")" + System.lineSeparator()) && line.contains("bpd_terms.jsonl"), "the failure, named: "
        + line);
    assertTrue(Files.isRegularFile(out.resolve("bpd.json")), "written before the failure");
    // no signal: the write's own error, thrown as before
    text.getBuffer().setLength(0);
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt)) {
      assertThrows(IOException.class, () -> EvalCommand.writeBound(r, out, null, guard, o, List.of()));
    }
    assertEquals("", text.toString(), "no signal, no line");
  }
}
