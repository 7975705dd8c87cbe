package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
    Files.writeString(dir.resolve("r.yaml"), ReliabilityCliTest.CONFIG);
    CliTest.Result t = CliTest.cli("train", "-c", dir.resolve("r.yaml").toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=small");
    assertEquals(0, t.code(), t.all());
    Path out = dir.resolve("made/bpd");
    Path log = dir.resolve("bpd.log");
    // 20,000 images, one per model call, at 20 timesteps each: far longer than the test waits
    Process p = ChildCli.builder(dir, log, "eval", "--bpd", "--checkpoint", dir.resolve("runs/small").toString(),
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
}
