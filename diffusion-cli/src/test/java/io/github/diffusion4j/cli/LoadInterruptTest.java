package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.runtime.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C or SIGTERM while a command loads its model, before any of its work. */
class LoadInterruptTest {
  @TempDir
  static Path dir;

  /** A small trained run, shared: each test's commands are signalled before they read or write it. */
  private static Path run;

  @BeforeAll
  static void train() throws java.io.IOException {
    run = ReliabilityCliTest.trainSmall(dir);
  }

  /**
   * A signal while {@code sample}, {@code eval} (and {@code --bpd}), {@code interpolate} or {@code export} loads the
   * model: each says what it left ({@code interrupted; nothing was written to FILE}, or {@code nothing was scored}) and
   * ends at once, without waiting for the load (here a minute long, heeding no interrupt, as a native engine's or a
   * 256x256 model's can be). The first four ended the JVM without a word; export held it until the load was done.
   */
  @Test
  void aSignalWhileTheModelLoadsIsSaidAtOnce() throws Exception {
    String run = LoadInterruptTest.run.toString();
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

  /**
   * A signal while {@code train} (a new run, or {@code --resume}) or {@code demo} loads its backend (created with the
   * model, after the data's preparation: a native engine's load takes seconds), before the training's guard was open:
   * the JVM ended without a word. Each now says that nothing was trained and what stands of the run folder, and ends
   * at once, without waiting for the load; no new run folder is made, and the run resumed keeps its files as they
   * were.
   */
  @Test
  void aSignalWhileTrainOrTheDemoLoadsItsBackendIsSaidAtOnce() throws Exception {
    Path yaml = dir.resolve("r.yaml"); // trainSmall's configuration
    String started = SlowLoadingBackendProvider.STARTED;
    Path fresh = dir.resolve("runs/fresh");
    assertSaidOnceLoading("INT", TrainCommand.notStarted(new RunFolder(fresh)), fresh, started, "train", "-c",
        yaml.toString(), "--set", "backend=slow_load", "--set", "output.dir=" + dir.resolve("runs"), "--set",
        "output.name=fresh");
    java.util.Map<Path, String> before = files(run);
    assertSaidOnceLoading("TERM", TrainCommand.notResumed(new RunFolder(run)), null, started, "train", "-c",
        yaml.toString(), "--resume", "--run-dir", run.toString(), "--set", "backend=slow_load");
    assertEquals(before, files(run), "the run resumed is as it was");
    Path demos = dir.resolve("demos");
    // the demo's folder is named by the time it starts: demo-yyyyMMdd-HHmmss
    assertSaidOnceLoading("INT", TrainCommand.notStarted(new RunFolder(demos.resolve("demo-"))), demos, started,
        "demo", "--backend", "slow_load", "--out-dir", demos.toString(), "--count", "2");
  }

  /** Every file under {@code root} (but the lock) and its size and modification time. */
  private static java.util.Map<Path, String> files(Path root) throws java.io.IOException {
    try (java.util.stream.Stream<Path> all = Files.walk(root)) {
      java.util.Map<Path, String> files = new java.util.TreeMap<>();
      for (Path f : all.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(".lock")).toList()) {
        files.put(root.relativize(f), Files.size(f) + " bytes, " + Files.getLastModifiedTime(f));
      }
      return files;
    }
  }

  /** Signals the command once it has loaded for a while (its "loading ..." line), with the slow backend. */
  private void assertSaidAtOnce(String signal, String what, Path output, String... command) throws Exception {
    List<String> args = new ArrayList<>(List.of(command));
    args.addAll(List.of("--backend", "slow_load"));
    // LoadNotice's line: the load has run for seconds (of its minute)
    assertSaidOnceLoading(signal, what, output, "loading ", args.toArray(String[]::new));
  }

  /** Signals the command once its output holds {@code loading}, with the slow backend the command names. */
  private void assertSaidOnceLoading(String signal, String what, Path output, String loading, String... command)
      throws Exception {
    Path log = dir.resolve(command[0] + "-" + signal + ".log");
    Files.deleteIfExists(log);
    Process p = ChildCli.builder(dir, log, command).start();
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (p.isAlive() && !ChildCli.read(log).contains(loading) && System.nanoTime() < deadline) {
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
