package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.FolderLock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 against the real command: sampling and evaluation in memory independent of the number of
 * images (child JVMs with a heap smaller than the images), one writer per run folder across processes,
 * and configuration errors that leave nothing behind. Reference backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReliabilityCliTest {
  @TempDir
  static Path dir;

  private Path run;

  static final String CONFIG = String.join("\n",
      "backend: reference",
      "seed: 13",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 192",
      "  eval_size: 0",
      "model:",
      "  hidden: 8",
      "schedule:",
      "  num_train_timesteps: 20",
      "training:",
      "  epochs: 1",
      "  batch_size: 32",
      "  image_log_every: 0",
      "sampling:",
      "  num_inference_steps: 2",
      "  count: 4",
      "");

  @BeforeAll
  void train() throws IOException {
    run = trainSmall(dir);
  }

  /** Trains {@link #CONFIG} without samples in this JVM, into {@code dir/runs/small}, which it returns. */
  static Path trainSmall(Path dir) throws IOException {
    Files.writeString(dir.resolve("r.yaml"), CONFIG);
    CliTest.Result r = CliTest.cli("train", "-c", dir.resolve("r.yaml").toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=small");
    assertEquals(0, r.code(), r.all());
    return dir.resolve("runs/small");
  }

  /**
   * SIGTERM once training has finished, while train draws its final samples: the sampling stops at its next step and
   * leaves no temporary (the signal only asked the finished training to stop, so the JVM was held two minutes, then
   * halted, possibly in the middle of samples.png), and says what stands.
   */
  @Test
  void aSigtermDuringTrainsFinalSamplesEndsThemPromptly() throws Exception {
    // a wide MLP on 32x32 images sampled with 1000 DDPM steps on the reference backend: minutes of sampling
    Path yaml = dir.resolve("slow-samples.yaml");
    Files.writeString(yaml, CONFIG.replace("[3, 5, 5]", "[3, 32, 32]").replace("hidden: 8", "hidden: 512")
        .replace("train_size: 192", "train_size: 32").replace("num_train_timesteps: 20", "num_train_timesteps: 1000")
        .replace("num_inference_steps: 2", "num_inference_steps: 1000").replace("count: 4", "count: 64"));
    Path runs = dir.resolve("slow-runs");
    Path log = dir.resolve("slow-samples.log");
    Process p = ChildCli.builder(dir, log, "train", "-c", yaml.toString(), "--set", "output.dir=" + runs, "--set",
        "output.name=slow").start();
    long deadline = System.nanoTime() + 240_000_000_000L;
    while (p.isAlive() && !ChildCli.read(log).contains("finished at step") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(p.isAlive(), "still sampling when signalled: " + ChildCli.read(log));
    Thread.sleep(300); // into the sampling
    long signalled = System.nanoTime();
    ChildCli.signal(p, "TERM");
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), ChildCli.read(log));
    double seconds = (System.nanoTime() - signalled) / 1e9;
    // a step of this sampling is milliseconds; the JVM's own exit well under the guard's 120 s hold
    assertTrue(seconds < 30, "ended " + seconds + " s after the signal: " + ChildCli.read(log));
    Path folder = runs.resolve("slow");
    assertFalse(Files.exists(folder.resolve("samples.png")), "the samples were not finished");
    try (var files = Files.walk(folder)) {
      assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList());
    }
    assertFalse(ChildCli.read(log).contains("\tat "), "no stack trace: " + ChildCli.read(log));
    assertTrue(Files.exists(folder.resolve("checkpoints/step-00000001/model.safetensors")), "the training's checkpoint");
    // said before the JVM went (it ended without a word after "finished at step")
    assertTrue(ChildCli.read(log).contains("interrupted; the final samples were not finished; the training is complete "
        + "(checkpoint " + folder.resolve("checkpoints/step-00000001") + "): draw samples with diffusion sample "
        + "--checkpoint " + folder), ChildCli.read(log));
  }

  /**
   * SIGTERM (or Ctrl-C) during {@code sample}, and its guard's interrupt during {@code interpolate}: the sampling ends
   * at its next step, the output's temporary is deleted, and the command says so before the JVM goes (it ended
   * without a word).
   */
  @Test
  void aSignalDuringSampleOrInterpolateEndsItWithALineAndNoFile() throws Exception {
    // sample streams its images into a .tmp- file: signalled once that file exists (the sampling has begun); 3,000,000
    // images (900 MB, which the free space must hold: it is checked first) sample for seconds (about 12 here)
    Path out = dir.resolve("stopped.npy");
    Path log = dir.resolve("stopped.log");
    Process p = ChildCli.builder(dir, log, "sample", "--checkpoint", run.toString(), "--count", "3000000", "--out",
        out.toString()).start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (p.isAlive() && temporaries().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertStopsWithALine(p, log, out);
    assertEquals(List.of(), temporaries(), "the temporary the samples streamed into is deleted");
    // interpolate holds its images until the end and shows no progress: run in this JVM, and interrupted as its
    // guard's signal does once its thread is seen sampling (a child signalled during its load says the line at once:
    // LoadInterruptTest)
    Path strip = dir.resolve("stopped-strip.npy");
    assertInterruptedWithNothingWritten(strip, "interpolate", "--checkpoint", run.toString(), "--count", "100000",
        "--steps", "20", "--out", strip.toString());
  }

  /** Runs a command interrupted while it samples: exit 1, its line names {@code file}, which does not exist. */
  private static void assertInterruptedWithNothingWritten(Path file, String... args) throws InterruptedException {
    CliTest.Result stopped = CliTest.interruptedWhere(SAMPLING, args);
    assertEquals(1, stopped.code(), stopped.all());
    assertTrue(stopped.out().contains("interrupted; nothing was written to " + file), stopped.all());
    assertFalse(Files.exists(file), "nothing was written");
  }

  /**
   * Ctrl-C (the guard's interrupt) while {@code sample --gif} writes the GIF, after the samples are written: the GIF's
   * write ends, its temporary deleted, and the command says what stands (the error was thrown past the guard: in a
   * signalled JVM, which then went at once, without a word, seconds after the signal).
   */
  @Test
  void anInterruptWhileTheGifIsWrittenSaysSoAndLeavesNoGif() throws Exception {
    // 16 images of 64x64 and 50 steps: a GIF of 57 large frames, seconds to encode
    Path yaml = dir.resolve("gif.yaml");
    Files.writeString(yaml, CONFIG.replace("[3, 5, 5]", "[3, 64, 64]").replace("train_size: 192", "train_size: 32")
        .replace("num_train_timesteps: 20", "num_train_timesteps: 50"));
    CliTest.Result trained = CliTest.cli("train", "-c", yaml.toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=gif");
    assertEquals(0, trained.code(), trained.all());
    Path out = dir.resolve("gif-samples.png");
    Path gif = dir.resolve("gif-trajectory.gif");
    CliTest.Result stopped = CliTest.interruptedWhere(CliTest.inClass("io.github.diffusion4j.io.GifWriter"), "sample",
        "--checkpoint", dir.resolve("runs/gif").toString(), "--count", "16", "--steps", "50", "--out", out.toString(),
        "--gif", gif.toString());
    assertEquals(1, stopped.code(), stopped.all());
    assertTrue(stopped.out().contains("interrupted; nothing was written to " + gif + " (" + out + " was written)"),
        stopped.all());
    assertFalse(Files.exists(gif), "no GIF");
    assertTrue(Files.exists(out), "the samples were written before");
    try (var files = Files.list(dir)) {
      assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".tmp-gif")).toList());
    }
  }

  /**
   * Ctrl-C (its guard's interrupt) while {@code eval} samples: it ends at the next step and says so, and no --json is
   * written (it had no guard: the JVM ended at once without a word).
   */
  @Test
  void anInterruptDuringEvalSaysSoAndWritesNoJson() throws Exception {
    Path json = dir.resolve("stopped-quality.json");
    assertInterruptedWithNothingWritten(json, "eval", "--checkpoint", run.toString(), "--count", "200000",
        "--steps", "20", "--json", json.toString());
    // without --json there is no file to name: the line says that nothing was scored (docs/reliability.md's row)
    CliTest.Result unscored = CliTest.interruptedWhere(SAMPLING, "eval", "--checkpoint", run.toString(), "--count",
        "200000", "--steps", "20");
    assertEquals(1, unscored.code(), unscored.all());
    assertTrue(unscored.out().lines().anyMatch(l -> l.equals("interrupted; nothing was scored")), unscored.all());
    assertFalse(unscored.out().lines().anyMatch(l -> l.startsWith("{")), "no report of a partial scoring: "
        + unscored.all());
  }

  /**
   * Ctrl-C during the demo's training: a final checkpoint, and the line names the command that continues it (the demo
   * has no --resume; the line named only the checkpoint), which does.
   */
  @Test
  void aSignalDuringTheDemosTrainingNamesTheCommandThatContinuesIt() throws Exception {
    Path out = dir.resolve("demo-runs");
    Path log = dir.resolve("demo.log");
    Process p = ChildCli.builder(dir, log, "demo", "--backend", "reference", "--out-dir", out.toString(), "--set",
        "data.train_size=12800", "--set", "data.eval_size=0", "--set", "model.hidden=8", "--set",
        "training.epochs=100000", "--set", "training.batch_size=64").start(); // 200 steps an epoch
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (p.isAlive() && !ChildCli.read(log).contains("epoch 1 done") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(p.isAlive(), "still training when signalled: " + ChildCli.read(log));
    ChildCli.signal(p, "INT");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), ChildCli.read(log));
    String text = ChildCli.read(log);
    Path run;
    try (var runs = Files.list(out)) {
      run = runs.findFirst().orElseThrow();
    }
    assertTrue(text.contains("; continue with diffusion train -c " + run.resolve("config.yaml") + " --run-dir " + run
        + " --resume"), text);
    java.util.regex.Matcher step = java.util.regex.Pattern.compile("step-0*(\\d+); continue").matcher(text);
    assertTrue(step.find(), text);
    long epochs = Long.parseLong(step.group(1)) / 200 + 2; // two epochs past the one it stopped in
    CliTest.Result resumed = CliTest.cli("train", "-c", run.resolve("config.yaml").toString(), "--run-dir",
        run.toString(), "--resume", "--no-samples", "--set", "training.epochs=" + epochs);
    assertEquals(0, resumed.code(), resumed.all());
    assertTrue(resumed.out().contains("resuming at step"), resumed.all());
  }

  /** A command's thread in the sampling loop. */
  private static final java.util.function.Predicate<StackTraceElement> SAMPLING =
      CliTest.inClass("io.github.diffusion4j.sampling.SamplingLoop");

  private static List<String> temporaries() throws IOException {
    try (var files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".tmp-stopped")).toList();
    }
  }

  private static void assertStopsWithALine(Process p, Path log, Path out) throws Exception {
    assertTrue(p.isAlive(), "still sampling when signalled: " + ChildCli.read(log));
    ChildCli.signal(p, "TERM");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), ChildCli.read(log));
    String text = ChildCli.read(log);
    assertTrue(text.contains("interrupted; nothing was written to " + out), text);
    assertFalse(text.contains("\tat "), "no stack trace: " + text);
    assertFalse(Files.exists(out), "nothing was written");
  }

  /**
   * The library's warnings on the command line are the level and the message, as the README shows them, not the
   * logger's line with its thread and class ({@code [main] WARN io.github.diffusion4j.runtime.TrainingRun - ...}).
   */
  @Test
  void aLibraryWarningIsTheLevelAndTheMessage() throws Exception {
    CliTest.Result t = CliTest.cli("train", "-c", dir.resolve("r.yaml").toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=warned");
    assertEquals(0, t.code(), t.all());
    Path folder = dir.resolve("runs/warned");
    Path log = dir.resolve("warned.log");
    Process p = ChildCli.builder(dir, log, "train", "-c", dir.resolve("r.yaml").toString(), "--no-samples", "--set",
        "output.dir=" + dir.resolve("runs"), "--set", "output.name=warned", "--resume", "--set", "training.epochs=2",
        "--set", "training.learning_rate=5e-4").start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), ChildCli.read(log));
    assertEquals(0, p.exitValue(), ChildCli.read(log));
    String text = ChildCli.read(log);
    assertTrue(text.contains("\nWARN " + folder + ": resumed with changed settings: training.learning_rate: 0.001 -> "
        + "5.0e-4\n"), text);
    assertFalse(text.contains("[main]") || text.contains("runtime.TrainingRun"), text);
  }

  /**
   * 300,000 samples are 90 MB of float32: more than the child's whole 48 MB heap, so this passes only if
   * the samples stream to the file batch by batch (before, they were all held, and 2,000,000 failed with an
   * OutOfMemoryError).
   */
  @Test
  void manySamplesStreamToAFileInAHeapSmallerThanThem() throws Exception {
    int n = 300_000;
    for (String ext : List.of(".npy", ".safetensors")) {
      Path out = dir.resolve("many" + ext);
      Path log = dir.resolve("many" + ext + ".log");
      Process p = ChildCli.builder("48m", dir, log, "sample", "--checkpoint", run.toString(), "--count",
          Integer.toString(n), "--out", out.toString()).start();
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
      assertEquals(0, p.exitValue(), ChildCli.read(log));
      long data = (long) n * 75 * 4;
      long header;
      try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ)) {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(b, 0);
        String text = new String(b.array(), StandardCharsets.ISO_8859_1);
        if (ext.equals(".npy")) {
          assertTrue(text.contains("'shape': (300000, 3, 5, 5)"), text);
          header = 10 + (b.getShort(8) & 0xffff);
        } else {
          assertTrue(text.contains("\"samples\":{\"dtype\":\"F32\",\"shape\":[300000,3,5,5]"), text);
          header = 8 + b.getLong(0);
        }
        assertEquals(header + data, ch.size(), "header and every sample");
        ByteBuffer last = ByteBuffer.allocate(75 * 4).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(last, ch.size() - last.capacity());
        last.flip();
        for (int i = 0; i < 75; i++) {
          float v = last.getFloat();
          assertTrue(v >= 0 && v <= 1, "the last sample was written: " + v);
        }
      }
    }
    // the same in the evaluation: statistics accumulate batch by batch
    Path log = dir.resolve("eval.log");
    Process p = ChildCli.builder("48m", dir, log, "eval", "--checkpoint", run.toString(), "--count",
        Integer.toString(n)).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
    assertEquals(0, p.exitValue(), ChildCli.read(log));
    assertTrue(ChildCli.read(log).contains("\"sample_count\": 300000"), ChildCli.read(log));
  }

  /**
   * The nd4j backend's arrays are native memory under JavaCPP's limits, which follow -Xmx unless set: a U-Net batch
   * of 1,024 under -Xmx256m and org.bytedeco.javacpp.maxPhysicalBytes=600m (its start takes about 150-250 MB here)
   * reaches the limit at its first step. It is said as native memory, with the property that raises it and the heap
   * the JVM has (it was "out of memory ... with a heap of at most 256 MB; give the JVM more (-Xmx1g)", which raises
   * nothing that ran out); the folder it leaves (its config.yaml and log, no checkpoint) is taken again by a plain
   * train, which says so (it took it without a word).
   */
  @Test
  void nativeMemoryOfTheBackendIsToldFromTheHeapAndItsFolderIsSaidWhenTakenAgain() throws Exception {
    Path config = dir.resolve("native.yaml");
    Files.writeString(config, String.join("\n", "backend: nd4j", "seed: 1", "threads: 1", "data:",
        "  image_shape: [1, 28, 28]", "  train_size: 1024", "  eval_size: 0", "model:", "  kind: unet",
        "  base_channels: 32", "  channel_mult: [1, 2, 2]", "  num_res_blocks: 1", "  attention: true", "  groups: 8",
        "training:", "  epochs: 1", "  batch_size: 1024", "  image_log_every: 0", "output:",
        "  dir: " + dir.resolve("runs"), "  name: native", ""));
    Path log = dir.resolve("native.log");
    ProcessBuilder pb = ChildCli.builder("256m", dir, log, "train", "-c", config.toString(), "--no-samples");
    pb.command().add(pb.command().indexOf("-Xmx256m") + 1, "-Dorg.bytedeco.javacpp.maxPhysicalBytes=600m");
    Process p = pb.start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
    String said = ChildCli.read(log);
    assertEquals(1, p.exitValue(), said);
    String last = said.strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("diffusion: out of native memory (the backend's arrays, outside the Java heap: the "
        + "process's resident memory, heap included, was "), said);
    assertTrue(last.contains("over its limit org.bytedeco.javacpp.maxPhysicalBytes of 600M; JavaCPP's limits follow "
        + "-Xmx unless set, and this JVM has -Xmx256m): raise the limit (DIFFUSION_JAVA_OPTS=\"-Xmx256m "
        + "-Dorg.bytedeco.javacpp.maxPhysicalBytes=1200m\" for ./diffusion"), said);
    assertFalse(said.contains("heap of at most"), said);
    Path folder = dir.resolve("runs/native");
    assertTrue(Files.exists(folder.resolve("config.yaml")), "failed at its first step, not at its start: " + said);
    CliTest.Result again = CliTest.cli("train", "-c", config.toString(), "--no-samples", "--set",
        "data.train_size=4", "--set", "training.batch_size=4");
    assertEquals(0, again.code(), again.all());
    assertTrue(again.out().lines().anyMatch(l -> l.equals("run folder: " + folder.toAbsolutePath() + " ("
        + TrainCommand.TAKEN_AGAIN + ")")), again.out());
    assertTrue(Files.exists(folder.resolve("checkpoints/step-00000001/model.safetensors")), again.all());
  }

  @Test
  void aGridOfMoreImagesThanCanBeShownIsRefusedBeforeSampling() {
    CliTest.Result r = CliTest.cli("sample", "--checkpoint", run.toString(), "--count", "2000000", "--out",
        dir.resolve("huge.png").toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().contains("--count 2000000: a grid of 2000000 images") && r.err().contains("FILE.npy"), r.err());
    assertEquals(1, r.err().trim().lines().count(), r.err());
    assertFalse(Files.exists(dir.resolve("huge.png")));
    CliTest.Result i = CliTest.cli("interpolate", "--checkpoint", run.toString(), "--count", "500000", "--out",
        dir.resolve("strip.png").toString());
    assertEquals(2, i.code(), i.all());
    assertTrue(i.err().contains("--count 500000: the strip is too long"), i.err());
  }

  /**
   * A strip that fits without its titles but not with them (their 20-pixel band makes each 65-pixel cell's column
   * taller, so fewer fit in the grid's pixels): refused by the check of the titled strip, in one line, not drawn.
   */
  @Test
  void aStripThatFitsOnlyWithoutItsTitlesIsRefused() {
    int count = 12_000; // 3x5x5 images: at most 14,516 fit in one row untitled, about 11,250 titled (MAX_PIXELS 2^26)
    io.github.diffusion4j.io.ImageGrid.checkSize(io.github.diffusion4j.tensor.Shape.of(count, 3, 5, 5),
        io.github.diffusion4j.io.ImageGrid.Options.defaults().withNrow(count)); // untitled, it fits
    Path strip = dir.resolve("titled.png");
    CliTest.Result r = CliTest.cli("interpolate", "--checkpoint", run.toString(), "--count", Integer.toString(count),
        "--out", strip.toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: --count 12000: the strip is too long: a grid of 12000 images"), r.err());
    // the titled limit: 65-pixel cells and 2-pixel padding, 20 + 65 + 2 * 2 = 89 rows: (2^26 / 89 - 2) / 67 = 11,254
    assertTrue(r.err().contains("at most 11254 such images fit in one row"), r.err());
    assertEquals(1, r.err().trim().lines().count(), r.err());
    assertFalse(Files.exists(strip));
  }

  /**
   * What the output cannot hold is refused before the model is loaded (for a 256x256 model that took 26-40 s and
   * 3.6 GB): here the weights could not even be read, and the count is still what is named.
   */
  @Test
  void anOutputTooSmallForTheCountIsRefusedBeforeTheModelIsLoaded() throws IOException {
    Path latest;
    try (java.util.stream.Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      latest = s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().reduce((a, b) -> b).orElseThrow();
    }
    Path ck = Files.createDirectories(dir.resolve("unloadable"));
    Files.copy(latest.resolve("config.yaml"), ck.resolve("config.yaml"));
    Files.writeString(ck.resolve("model.safetensors"), "not weights");
    CliTest.Result grid = CliTest.cli("sample", "--checkpoint", ck.toString(), "--count", "2000000", "--out",
        dir.resolve("huge.png").toString());
    assertEquals(2, grid.code(), grid.all());
    assertTrue(grid.err().startsWith("diffusion: --count 2000000: a grid of 2000000 images"), grid.err());
    CliTest.Result file = CliTest.cli("sample", "--checkpoint", ck.toString(), "--count", "2000000000", "--out",
        dir.resolve("huge.npy").toString());
    assertEquals(1, file.code(), file.all());
    assertTrue(file.err().contains("huge.npy: 2000000000 images of [3, 5, 5] make a file of 600000000128 bytes"),
        file.err());
    CliTest.Result strip = CliTest.cli("interpolate", "--checkpoint", ck.toString(), "--count", "500000", "--out",
        dir.resolve("strip.png").toString());
    assertEquals(2, strip.code(), strip.all());
    assertTrue(strip.err().startsWith("diffusion: --count 500000: the strip is too long"), strip.err());
    // a count the output holds: the load comes, and names the weights
    CliTest.Result load = CliTest.cli("sample", "--checkpoint", ck.toString(), "--count", "4", "--out",
        dir.resolve("small.png").toString());
    assertTrue(load.err().contains("model.safetensors"), load.err());
  }

  @Test
  void configCheckFindsWhatTrainWouldAndAFailedTrainLeavesNoFolder() {
    String yaml = dir.resolve("r.yaml").toString();
    for (String[] c : new String[][] {
        {"sampling.sampler=euler", "unknown sampler 'euler'"},
        {"backend=tpu", "unknown backend 'tpu'"},
        {"model.hidden=2000000000", "model.hidden: with training.batch_size 32, makes activations"},
        {"data.train_size=2000000000", "data.train_size: 2000000000 images of 3x5x5"},
        // 4 channels passed, trained, and failed after the last step at samples.png with exit 1
        {"data.image_shape=[4, 5, 5]", "data.image_shape: must have 1 (grayscale) or 3 (RGB) channels for the "
            + "samples.png and denoise.gif that train draws at its end (train --no-samples does not), got [4, 5, 5]"}}) {
      CliTest.Result check = CliTest.cli("config", "--check", yaml, "--set", c[0]);
      assertEquals(2, check.code(), check.all());
      assertTrue(check.err().contains(c[1]), check.err());
      CliTest.Result train = CliTest.cli("train", "-c", yaml, "--set", c[0], "--set", "output.dir="
          + dir.resolve("failed"), "--set", "output.name=x");
      assertEquals(2, train.code(), train.all());
      assertTrue(train.err().contains(c[1]), train.err());
      assertFalse(Files.exists(dir.resolve("failed")), c[0] + " left a run folder");
      assertFalse(train.out().contains("run folder"), "no run folder is announced: " + train.out());
    }
    CliTest.Result ok = CliTest.cli("config", "--check", yaml);
    assertEquals(0, ok.code(), ok.all());
    assertTrue(ok.out().contains("OK (backend reference, model mlp for 3x5x5 images"), ok.out());
    CliTest.Result four = CliTest.cli("train", "-c", yaml, "--no-samples", "--set", "data.image_shape=[4, 5, 5]",
        "--set", "output.dir=" + dir.resolve("four"), "--set", "output.name=x");
    assertEquals(0, four.code(), "without samples nothing draws them: " + four.all());
  }

  /**
   * A run folder belongs to one process: a second train (and a resume) is refused with one line while the
   * first runs; sample says there is no checkpoint yet; and a killed owner's lock is gone with it.
   */
  @Test
  void aRunFolderHasOneWriterAcrossProcesses() throws Exception {
    Path yaml = dir.resolve("long.yaml");
    Files.writeString(yaml, CONFIG.replace("epochs: 1", "epochs: 100000").replace("train_size: 192",
        "train_size: 50000").replace("batch_size: 32", "batch_size: 4").replace("image_log_every: 0",
        "image_log_every: 0\n  log_every: 5"));
    Path log = dir.resolve("owner.log");
    Path folder = dir.resolve("runs/shared");
    String[] args = {"train", "-c", yaml.toString(), "--no-samples", "--set", "output.dir=" + dir.resolve("runs"),
        "--set", "output.name=shared"};
    Process owner = ChildCli.builder(dir, log, args).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!ChildCli.read(log).contains("step ") && owner.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(owner.isAlive(), ChildCli.read(log));
      CliTest.Result second = CliTest.cli(args);
      assertEquals(1, second.code(), second.all());
      assertTrue(second.err().startsWith("diffusion: " + folder + ": in use by process " + owner.pid()
          + " (diffusion training, since "), second.err());
      assertEquals(1, second.err().trim().lines().count(), second.err());
      String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
      resume[args.length] = "--resume";
      assertTrue(CliTest.cli(resume).err().contains("in use by process " + owner.pid()));
      CliTest.Result sample = CliTest.cli("sample", "--checkpoint", folder.toString(), "--out",
          dir.resolve("early.png").toString());
      assertEquals(2, sample.code(), sample.all());
      assertTrue(sample.err().contains("no checkpoint yet; the run is still training (process " + owner.pid()),
          sample.err());
      ChildCli.signal(owner, "KILL");
      assertTrue(owner.waitFor(60, TimeUnit.SECONDS));
      // the operating system released the killed owner's lock
      try (FolderLock lock = FolderLock.acquire(folder, "test")) {
        assertEquals(folder.toRealPath(), lock.folder());
      }
    } finally {
      owner.destroyForcibly();
    }
  }
}
