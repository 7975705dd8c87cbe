package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C or SIGTERM while a command loads its model, before any of its work. */
class LoadInterruptTest {
  @TempDir
  Path dir;

  /**
   * A signal while {@code sample}, {@code eval} (and {@code --bpd}), {@code interpolate} or {@code export} loads the
   * model: each says what it left ({@code interrupted; nothing was written to FILE}, or {@code nothing was scored}) and
   * ends at once, without waiting for the load (here a minute long, heeding no interrupt, as a native engine's or a
   * 256x256 model's can be). The first four ended the JVM without a word; export held it until the load was done.
   */
  @Test
  void aSignalWhileTheModelLoadsIsSaidAtOnce() throws Exception {
    String run = ReliabilityCliTest.trainSmall(dir).toString();
    Path npy = dir.resolve("s.npy");
    Path bpd = dir.resolve("bpd");
    Path strip = dir.resolve("i.png");
    Path exported = dir.resolve("exported");
    assertSaidAtOnce("INT", "nothing was written to " + npy, npy, "sample", "--checkpoint", run, "--out", npy.toString());
    assertSaidAtOnce("TERM", "nothing was scored", null, "eval", "--checkpoint", run, "--count", "8");
    assertSaidAtOnce("INT", "nothing was written to " + bpd, bpd, "eval", "--bpd", "--checkpoint", run, "--out",
        bpd.toString());
    assertSaidAtOnce("TERM", "nothing was written to " + strip, strip, "interpolate", "--checkpoint", run, "--out",
        strip.toString());
    assertSaidAtOnce("INT", "nothing was written to " + exported, exported, "export", "--checkpoint", run, "--out",
        exported.toString());
  }

  /** Signals the command once it has loaded for a while (its "loading ..." line), with the slow backend. */
  private void assertSaidAtOnce(String signal, String what, Path output, String... command) throws Exception {
    List<String> args = new ArrayList<>(List.of(command));
    args.addAll(List.of("--backend", "slow_load"));
    Path log = dir.resolve(command[0] + "-" + signal + ".log");
    Process p = ChildCli.builder(dir, log, args.toArray(String[]::new)).start();
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      // LoadNotice's line: the load has run for seconds (of its minute)
      while (p.isAlive() && !ChildCli.read(log).contains("loading ") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(p.isAlive(), "still loading when signalled: " + ChildCli.read(log));
      long signalled = System.nanoTime();
      ChildCli.signal(p, signal);
      // a generous bound for a JVM's exit on a loaded machine, and a quarter of the load (which it must not wait for)
      assertTrue(p.waitFor(15, TimeUnit.SECONDS), "ended promptly, not after the load: " + ChildCli.read(log));
      double seconds = (System.nanoTime() - signalled) / 1e9;
      String text = ChildCli.read(log);
      assertTrue(text.contains("interrupted; " + what), String.join(" ", command) + " (" + seconds + " s): " + text);
      assertFalse(text.contains("\tat "), "no stack trace: " + text);
      assertFalse(text.contains("diffusion: "), "no error beside the line: " + text);
      assertEquals(signal.equals("INT") ? 130 : 143, p.exitValue(), "the signal's exit status: " + text);
      if (output != null) {
        assertFalse(Files.exists(output), "nothing was written: " + output);
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
