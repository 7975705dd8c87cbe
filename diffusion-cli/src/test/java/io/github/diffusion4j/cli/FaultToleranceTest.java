package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.model.FloatArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults during training, with the real command in child JVMs (reference backend): kills at random
 * moments, Ctrl-C, divergence, a full disk. Nothing written before the fault is lost, and resumed runs end
 * where uninterrupted ones do.
 */
class FaultToleranceTest {
  @TempDir
  Path dir;

  /** Checkpoints every epoch, and epochs are short, so kills often land during a checkpoint write. */
  static final String CONFIG = String.join("\n",
      "backend: reference",
      "seed: 21",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 192",
      "  eval_size: 0",
      "model:",
      "  hidden: 24",
      "schedule:",
      "  num_train_timesteps: 20",
      "training:",
      "  epochs: 100",
      "  batch_size: 32",
      "  log_every: 6",
      "  image_log_every: 0",
      "  keep_checkpoints: 2",
      "  ema:",
      "    enabled: true",
      "    decay: 0.95",
      "");

  private Path config(String extra) throws IOException {
    Path yaml = dir.resolve("fault.yaml");
    Files.writeString(yaml, CONFIG + extra);
    return yaml;
  }

  private String[] train(Path yaml, String name, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("train", "-c", yaml.toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=" + name));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  /** Waits until the child has logged a step at or beyond {@code step} (log lines come every 6 steps). */
  private static void waitForStep(Path log, int step, Process p) throws IOException, InterruptedException {
    java.util.regex.Pattern line = java.util.regex.Pattern.compile("step (\\d+)/");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (p.isAlive() && System.nanoTime() < deadline) {
      java.util.regex.Matcher m = line.matcher(ChildCli.read(log));
      int last = -1;
      while (m.find()) {
        last = Integer.parseInt(m.group(1));
      }
      if (last >= step) {
        return;
      }
      Thread.sleep(5);
    }
  }

  private static Checkpoint last(Path run) {
    CheckpointStore s = CheckpointStore.open(run.resolve("checkpoints"), CheckpointStore.KEEP_ALL);
    return s.latest().orElseThrow();
  }

  @Test
  void killedAtRandomMomentsResumesToTheUninterruptedResult() throws Exception {
    Path yaml = config("");
    Path log = dir.resolve("straight.log");
    assertEquals(0, ChildCli.run(dir, log, train(yaml, "straight")), ChildCli.read(log));
    Checkpoint reference = last(dir.resolve("runs/straight"));

    Path run = dir.resolve("runs/killed");
    Random random = new Random(4);
    int kills = 0;
    // kill -9 four times at random points of the run (measured in logged steps, not in time, so a fast
    // machine cannot finish first); checkpoints come every 6 steps, so kills often land in a write
    int[] targets = {60 + random.nextInt(60), 180 + random.nextInt(60), 300 + random.nextInt(60), 420 + random.nextInt(60)};
    for (int attempt = 0; attempt <= targets.length; attempt++) {
      Path l = dir.resolve("killed-" + attempt + ".log");
      boolean resume = Files.isDirectory(run.resolve("checkpoints"))
          && !CheckpointStore.open(run.resolve("checkpoints"), CheckpointStore.KEEP_ALL).list().isEmpty();
      String[] args = resume ? train(yaml, "killed", "--resume") : train(yaml, "killed");
      Process p = ChildCli.builder(dir, l, args).start();
      if (attempt < targets.length) {
        waitForStep(l, targets[attempt], p);
        if (p.isAlive()) {
          ChildCli.signal(p, "KILL");
          kills++;
        }
        p.waitFor(60, TimeUnit.SECONDS);
        // whatever the moment, the latest checkpoint is complete and loads
        CheckpointStore store = CheckpointStore.open(run.resolve("checkpoints"), CheckpointStore.KEEP_ALL);
        store.latest().ifPresent(c -> assertTrue(c.content().trainingState().isPresent()));
        continue;
      }
      assertTrue(p.waitFor(300, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), ChildCli.read(l));
    }
    assertEquals(targets.length, kills, "the test killed the child at each target step");
    Checkpoint resumed = last(run);
    assertEquals(reference.content().trainingState().orElseThrow().step(),
        resumed.content().trainingState().orElseThrow().step());
    assertEquals(reference.content().model(), resumed.content().model(), "bit-identical weights");
    assertEquals(reference.content().ema(), resumed.content().ema(), "bit-identical moving average");
  }

  /** Starts a long run and waits for a logged step at or beyond {@code step}. */
  private Process startLong(Path yaml, String name, Path log, int step, String... more) throws Exception {
    String[] base = train(yaml, name, more);
    String[] args = java.util.Arrays.copyOf(base, base.length + 2);
    args[base.length] = "--set";
    args[base.length + 1] = "training.epochs=5000";
    Process p = ChildCli.builder(dir, log, args).start();
    waitForStep(log, step, p);
    assertTrue(p.isAlive(), "the run is long enough to be interrupted: " + ChildCli.read(log));
    return p;
  }

  @Test
  void ctrlCWritesAFinalCheckpoint() throws Exception {
    Path yaml = config("");
    Path log = dir.resolve("int.log");
    Process p = startLong(yaml, "int", log, 15);
    ChildCli.signal(p, "INT");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = ChildCli.read(log);
    assertTrue(out.contains("interrupted; final checkpoint"), out);
    // the loss chart is still drawn while the JVM shuts down (no PNG was written before the interrupt)
    assertFalse(out.contains("warning"), "a clean stop: " + out);
    assertNotNull(javax.imageio.ImageIO.read(dir.resolve("runs/int/loss.png").toFile()), "loss.png is a PNG");
    long step = last(dir.resolve("runs/int")).content().trainingState().orElseThrow().step();
    assertTrue(step >= 15, "stopped at step " + step);
    // the interrupted run resumes from that checkpoint (and is interrupted again the same way)
    Path resume = dir.resolve("resume.log");
    Process q = startLong(yaml, "int", resume, (int) step + 12, "--resume");
    assertTrue(ChildCli.read(resume).contains("resuming at step " + step), ChildCli.read(resume));
    ChildCli.signal(q, "INT");
    assertTrue(q.waitFor(60, TimeUnit.SECONDS));
    assertTrue(last(dir.resolve("runs/int")).content().trainingState().orElseThrow().step() >= step + 12);
  }

  @Test
  void divergenceStopsNamingTheStepAndKeepsGoodCheckpoints() throws Exception {
    Path yaml = config("");
    Path log = dir.resolve("nan.log");
    int code = ChildCli.run(dir, log, train(yaml, "nan", "--set", "training.learning_rate=1e38"));
    String out = ChildCli.read(log);
    assertEquals(1, code, out);
    assertTrue(out.contains("at step "), out);
    assertTrue(out.contains("learning_rate"), out);
    assertFalse(out.contains("\tat "), "one line, no stack trace: " + out);
    Path cps = dir.resolve("runs/nan/checkpoints");
    if (Files.isDirectory(cps)) {
      for (Path cp : CheckpointStore.open(cps, CheckpointStore.KEEP_ALL).list()) {
        for (FloatArray a : Checkpoint.read(cp).content().model().entries().values()) {
          assertEquals(-1, a.firstNonFinite(), "no checkpoint holds non-finite weights: " + cp);
        }
      }
    }
  }

  @Test
  void aFullDiskIsAClearErrorAndEarlierCheckpointsSurvive() throws Exception {
    Path yaml = config("");
    Path run = dir.resolve("runs/full");
    Path log = dir.resolve("full.log");
    Process p = startLong(yaml, "full", log, 18);
    assertTrue(Files.isDirectory(run.resolve("checkpoints/step-00000012")));
    // the disk fills: from now on every write to the metrics log fails with ENOSPC
    Path metrics = run.resolve("metrics.jsonl");
    Files.delete(metrics);
    Files.createSymbolicLink(metrics, Path.of("/dev/full"));
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    String out = ChildCli.read(log);
    assertEquals(1, p.exitValue(), out);
    assertTrue(out.contains("metrics.jsonl") && out.contains("No space left on device"), out);
    Checkpoint c = last(run);
    assertTrue(c.content().trainingState().orElseThrow().step() >= 12);
  }
}
