package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.SafeTensors;
import io.github.diffusion4j.io.TensorFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line in-process, on the reference backend (registered on the test class path), so that no
 * native engine is loaded into the test JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {
  @TempDir
  static Path dir;

  private Path run;

  record Result(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  static Result cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DiffusionCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  /**
   * Runs a command in this JVM on a thread of its own and interrupts that thread, as the command's guard does on a
   * signal, once the thread is seen in a frame that {@code where} accepts (polled every millisecond, for up to two
   * minutes); the command must then end within a minute.
   *
   * @param where the frame the command must be in when interrupted
   * @param args the command line
   * @return what the command said and its exit code
   */
  static Result interruptedWhere(java.util.function.Predicate<StackTraceElement> where, String... args)
      throws InterruptedException {
    Result[] result = new Result[1];
    Thread command = new Thread(() -> result[0] = cli(args), "command");
    command.start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (command.isAlive() && java.util.Arrays.stream(command.getStackTrace()).noneMatch(where)
        && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    org.junit.jupiter.api.Assertions.assertTrue(command.isAlive(), "still running when interrupted: " + result[0]);
    command.interrupt();
    command.join(60_000);
    org.junit.jupiter.api.Assertions.assertFalse(command.isAlive(), "ended after the interrupt");
    return result[0];
  }

  /** A frame of the given class, for {@link #interruptedWhere}. */
  static java.util.function.Predicate<StackTraceElement> inClass(String className) {
    return e -> e.getClassName().equals(className);
  }

  static final String TINY = String.join("\n",
      "backend: reference",
      "seed: 9",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 256",
      "  eval_size: 64",
      "model:",
      "  hidden: 16",
      "schedule:",
      "  num_train_timesteps: 30",
      "training:",
      "  epochs: 2",
      "  batch_size: 64",
      "  log_every: 2",
      "  image_log_every: 4",
      "  ema:",
      "    enabled: true",
      "    decay: 0.9",
      "sampling:",
      "  num_inference_steps: 6",
      "  count: 9",
      "output:",
      "  name: tiny",
      "");

  @BeforeAll
  void train() throws IOException {
    Path yaml = dir.resolve("tiny.yaml");
    Files.writeString(yaml, TINY);
    Result r = cli("train", "-c", yaml.toString(), "--set", "output.dir=" + dir.resolve("runs"));
    assertEquals(0, r.code(), r.all());
    run = dir.resolve("runs/tiny");
  }

  @Test
  void trainWritesTheRunFolder() {
    for (String f : List.of("config.yaml", "metrics.jsonl", "loss.png", "samples.png", "denoise.gif",
        "checkpoints/step-00000008/model.safetensors", "images/step-00000004.png")) {
      assertTrue(Files.exists(run.resolve(f)), f);
    }
    // each train line carries its step's learning rate (the constant default: training.learning_rate)
    List<String> trainLines;
    try {
      trainLines = Files.readAllLines(run.resolve("metrics.jsonl")).stream()
          .filter(l -> l.contains("\"type\":\"train\"")).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertFalse(trainLines.isEmpty());
    trainLines.forEach(l -> assertTrue(l.contains("\"lr\":0.001"), l));
  }

  @Test
  void sampleWritesGridsRawSamplesGifsAndFrames() throws IOException {
    Path png = dir.resolve("s.png");
    Result r = cli("sample", "--checkpoint", run.toString(), "--count", "4", "--out", png.toString(), "--gif",
        dir.resolve("s.gif").toString(), "--frames", "5", "--sampler", "ddpm");
    assertEquals(0, r.code(), r.all());
    assertTrue(ImageIO.read(png.toFile()).getWidth() > 0);
    assertTrue(Files.size(dir.resolve("s.gif")) > 0);
    assertTrue(Files.exists(dir.resolve("s-frames.png")));

    Path npy = dir.resolve("s.npy");
    assertEquals(0, cli("sample", "--checkpoint", run.toString(), "--count", "3", "--out", npy.toString()).code());
    byte[] b = Files.readAllBytes(npy);
    assertEquals(0x93, b[0] & 0xff);
    assertTrue(new String(b, 0, 128, java.nio.charset.StandardCharsets.ISO_8859_1).contains("(3, 3, 5, 5)"));

    Path st = dir.resolve("s.safetensors");
    assertEquals(0, cli("sample", "--checkpoint", run.toString(), "--count", "3", "--seed", "4", "--out",
        st.toString()).code());
    TensorFile f = SafeTensors.read(st);
    float[] v = f.tensors().get("samples").toArray();
    assertEquals(3 * 75, v.length);
    for (float x : v) {
      assertTrue(x >= 0 && x <= 1);
    }
    Path again = dir.resolve("again.safetensors");
    assertEquals(0, cli("sample", "--checkpoint", run.toString(), "--count", "3", "--seed", "4", "--out",
        again.toString()).code());
    assertEquals(f.tensors(), SafeTensors.read(again).tensors(), "same seed, same samples");
  }

  @Test
  void interpolateAndEval() throws IOException {
    Path strip = dir.resolve("i.png");
    Result r = cli("interpolate", "--checkpoint", run.toString(), "--count", "5", "--out", strip.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(Files.exists(strip));
    Path json = dir.resolve("q.json");
    r = cli("eval", "--checkpoint", run.toString(), "--count", "50", "--json", json.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("frechet"), r.out());
    assertTrue(Files.readString(json).contains("\"frechet\""));
  }

  /**
   * A count whose strip or raw images cannot be held is refused at once, naming {@code --count}: a strip of 10^8 images
   * made a title for each before its size was checked (minutes, then out of memory), and 3 x 10^7 raw images were
   * refused as a shape's error (exit 1, no option named).
   */
  @Test
  void interpolateRefusesAHugeCountAtOnceNamingIt() {
    Path strip = dir.resolve("huge-strip.png");
    Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> cli("interpolate", "--checkpoint", run.toString(), "--count", "100000000", "--out", strip.toString()));
    assertBad(r, "--count 100000000: the strip is too long");
    assertFalse(Files.exists(strip));
    Path raw = dir.resolve("huge-strip.npy");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--count", "30000000", "--out", raw.toString()),
        "--count 30000000: 30000000 images of [3, 5, 5] are 2250000000 values, more than the 2147483639 an "
            + "interpolation samples at once; give at most 28633115");
    assertFalse(Files.exists(raw));
  }

  /**
   * A count whose images fit an array but not the heap is refused before the model is loaded, naming {@code --count}
   * (it ran out of memory after loading, exit 1, as eval and demo refuse a scoring that would not fit).
   */
  @Test
  void interpolateRefusesACountThatWouldNotFitTheHeapNamingIt() {
    Path raw = dir.resolve("heap-strip.npy");
    // 2 x 10^7 images of [3, 5, 5]: 1.5 x 10^9 values, under the array limit, 18 GB as three float copies
    Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> cli("interpolate", "--checkpoint", run.toString(), "--count", "20000000", "--out", raw.toString()));
    assertBad(r, "--count 20000000: 20000000 images of [3, 5, 5] take about 18.0 GB of Java heap at once");
    assertTrue(r.err().contains("DIFFUSION_JAVA_OPTS=-Xmx"), r.err());
    assertFalse(Files.exists(raw));
  }

  @Test
  void interpolateHeapCheckNamesTheLargestCountThatFits() {
    io.github.diffusion4j.tensor.Shape image = io.github.diffusion4j.tensor.Shape.of(3, 5, 5);
    InterpolateCommand.checkHeap(1000, image, 1000L * 3 * 4 * 75); // exactly fits
    BadInputException e = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class,
        () -> InterpolateCommand.checkHeap(1001, image, 1000L * 3 * 4 * 75));
    assertTrue(e.getMessage().startsWith("--count 1001: "), e.getMessage());
    assertTrue(e.getMessage().contains("give at most 1000,"), e.getMessage());
  }

  /**
   * The demo end to end (its Ctrl-C is ReliabilityCliTest's): it trains, samples with DDIM and DDPM, scores both, prints
   * each report, writes every file it names, quality.json holding the two reports it printed, and exits 0.
   */
  @Test
  void demoTrainsSamplesScoresAndWritesTheRunFolder() throws IOException {
    Path out = dir.resolve("demo-full");
    Result r = cli("demo", "--backend", "reference", "--out-dir", out.toString(), "--count", "4", "--set",
        "data.train_size=128", "--set", "data.eval_size=16", "--set", "model.hidden=8", "--set", "training.epochs=1",
        "--set", "training.batch_size=64", "--set", "schedule.num_train_timesteps=10", "--set",
        "sampling.num_inference_steps=3");
    assertEquals(0, r.code(), r.all());
    Path run;
    try (var runs = Files.list(out)) {
      run = runs.findFirst().orElseThrow();
    }
    assertTrue(run.getFileName().toString().startsWith("demo-"), run.toString());
    for (String f : List.of("config.yaml", "samples.png", "samples-ddpm.png", "denoise.gif", "loss.png", "metrics.jsonl",
        "quality.json", "images", "checkpoints/step-00000002/model.safetensors")) {
      assertTrue(Files.exists(run.resolve(f)), f + ": " + r.all());
    }
    assertTrue(ImageIO.read(run.resolve("samples-ddpm.png").toFile()).getWidth() > 0, "samples-ddpm.png is a PNG");
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.contains("run folder: " + run.toAbsolutePath()), r.out());
    assertTrue(lines.contains("done: " + run.toAbsolutePath()), r.out());
    String ddim = lines.get(indexOfRowStarting(lines, "ddim 3 steps") + 1);
    String ddpm = lines.get(indexOfRowStarting(lines, "ddpm 10 steps") + 1);
    assertTrue(ddim.startsWith("{") && ddpm.startsWith("{"), r.out());
    assertEquals("{\"ddim\": " + ddim + ", \"ddpm\": " + ddpm + "}\n", Files.readString(run.resolve("quality.json")));
  }

  private static int indexOfRowStarting(List<String> lines, String label) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(label + " ")) {
        return i;
      }
    }
    throw new AssertionError("no row " + label + " in " + lines);
  }

  /**
   * {@code demo --count} whose scoring would not fit the heap is refused before anything is trained, as eval refuses
   * it before sampling (the demo trained, sampled twice, then ran out of memory while scoring, exit 1).
   */
  @Test
  void demoRefusesACountWhoseScoringWouldNotFitBeforeTraining() {
    Path out = dir.resolve("demo-heap");
    Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> cli("demo", "--backend", "reference", "--out-dir", out.toString(), "--set", "data.image_shape=[3,64,64]",
            "--set", "data.train_size=64", "--set", "data.eval_size=8", "--set", "training.batch_size=32", "--set",
            "training.epochs=1", "--set", "model.hidden=16", "--count", "50000"));
    assertBad(r, "--count 50000: scoring 50000 samples of 3x64x64 images");
    assertFalse(Files.exists(out), "nothing was made");
  }

  /**
   * A run folder that training refuses for its checkpoints (a finished run trained again, a resume without any) is
   * refused before the data is prepared: a folder's image cache was built first (minutes), then the run refused.
   */
  @Test
  void aRunFolderRefusedForItsCheckpointsIsRefusedBeforeTheData() {
    String tiny = dir.resolve("tiny.yaml").toString();
    Result again = cli("train", "-c", tiny, "--set", "output.dir=" + dir.resolve("runs"));
    assertBad(again, run + " already holds checkpoints; resume it");
    assertFalse(again.out().contains("data train"), again.out());
    Path none = dir.resolve("no-run");
    Result resume = cli("train", "-c", tiny, "--resume", "--run-dir", none.toString());
    assertBad(resume, none.resolve("checkpoints") + ": no checkpoint to resume from");
    assertFalse(resume.out().contains("data train"), resume.out());
    assertFalse(Files.exists(none));
    // a folder of other files, which a new run refuses as well
    Path stray = dir.resolve("stray-run");
    try {
      Files.createDirectories(stray);
      Files.writeString(stray.resolve("notes.txt"), "mine");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Result foreign = cli("train", "-c", tiny, "--run-dir", stray.toString());
    assertBad(foreign, "holds files a run does not write (notes.txt)");
    assertFalse(foreign.out().contains("data train"), foreign.out());
  }

  /**
   * {@code train --resume} with no output.name and no --run-dir continues the run under output.dir whose checkpoints
   * folder changed last, passing over a folder without checkpoints; with none there it is bad input naming the folder.
   */
  @Test
  void resumeWithoutANameContinuesTheNewestRunUnderTheOutputFolder() throws IOException {
    String tiny = dir.resolve("tiny.yaml").toString();
    Path runs = dir.resolve("newest");
    Files.createDirectories(runs.resolve("no-checkpoints"));
    assertBad(cli("train", "-c", tiny, "--set", "output.dir=" + runs, "--set", "output.name=", "--resume"),
        "--resume: no run with checkpoints under " + runs.toAbsolutePath() + "; give --run-dir DIR or set output.name");
    for (String name : List.of("older", "newer", "oldest")) {
      Result r = cli("train", "-c", tiny, "--set", "output.dir=" + runs, "--set", "output.name=" + name, "--no-samples");
      assertEquals(0, r.code(), r.all());
    }
    long now = System.currentTimeMillis(); // the order set apart from when each finished
    assertTrue(runs.resolve("oldest/checkpoints").toFile().setLastModified(now - 300_000));
    assertTrue(runs.resolve("older/checkpoints").toFile().setLastModified(now - 200_000));
    assertTrue(runs.resolve("newer/checkpoints").toFile().setLastModified(now - 100_000));
    assertTrue(runs.resolve("no-checkpoints").toFile().setLastModified(now));
    Result resumed = cli("train", "-c", tiny, "--set", "output.dir=" + runs, "--set", "output.name=", "--resume",
        "--no-samples", "--set", "training.epochs=3");
    assertEquals(0, resumed.code(), resumed.all());
    assertTrue(resumed.out().contains("done: " + runs.resolve("newer").toAbsolutePath()), resumed.out());
    assertTrue(Files.exists(runs.resolve("newer/checkpoints/step-00000012")), resumed.out());
    assertFalse(Files.exists(runs.resolve("older/checkpoints/step-00000012")));
    assertFalse(Files.exists(runs.resolve("oldest/checkpoints/step-00000012")));
  }

  /**
   * A sweep's {@code train} without {@code output.name} in a second whose timestamped folder another run holds (two
   * started side by side; here the folders of the coming minute, taken beforehand) trains into the name with
   * {@code -2} and says that folder in {@code run folder:} and {@code done:} (it was refused: the folder was another
   * run's).
   */
  @Test
  void aTrainWithoutANameTakesAFolderOfItsOwnInAnotherRunsSecond() throws IOException {
    String tiny = dir.resolve("tiny.yaml").toString();
    Path runs = dir.resolve("stamped");
    java.time.LocalDateTime now = java.time.LocalDateTime.now();
    for (int s = 0; s < 60; s++) { // another run's folder, with a file of its own, for every second the train may take
      Path other = runs.resolve(now.plusSeconds(s).format(java.time.format.DateTimeFormatter.ofPattern(
          "yyyyMMdd-HHmmss")));
      Files.createDirectories(other);
      Files.writeString(other.resolve("notes.txt"), "another run's");
    }
    Result r = cli("train", "-c", tiny, "--set", "output.dir=" + runs, "--set", "output.name=", "--no-samples");
    assertEquals(0, r.code(), r.all());
    String done = r.out().lines().filter(l -> l.startsWith("done: ")).findFirst().orElseThrow();
    Path folder = Path.of(done.substring("done: ".length()));
    assertTrue(folder.getFileName().toString().endsWith("-2"), done);
    assertTrue(r.out().contains("run folder: " + folder + "\n"), r.out());
    assertTrue(Files.isDirectory(folder.resolve("checkpoints")), r.out());
    assertTrue(Files.exists(runs.resolve(folder.getFileName().toString().replace("-2", "")).resolve("notes.txt")));
  }

  /** {@code export} of a model diffusers has no pipeline for (the MLP) is bad input naming the kinds it takes; no folder. */
  @Test
  void exportOfAnMlpNamesTheKindsItTakesAndWritesNothing() {
    Path out = dir.resolve("mlp-export");
    assertBad(cli("export", "--checkpoint", run.toString(), "--out", out.toString()), "--checkpoint " + run
        + ": model.kind mlp has no diffusers UNet2DModel equivalent; supported are unet2d, ddpm and unet");
    assertFalse(Files.exists(out), "no folder");
  }

  /**
   * {@code diffusion} without a command (with an option only, too) names the commands, as {@code diffusion data} names
   * its subcommands (it said only "Missing required subcommand").
   */
  @Test
  void noCommandNamesTheCommands() {
    String commands = "Missing required subcommand: demo, train, sample, interpolate, eval, info, config, data, export, "
        + "convert, spark or bench";
    assertBadWithHint(cli(), commands, "");
    assertBadWithHint(cli("--verbose"), commands, "");
  }

  /**
   * {@code diffusion --help} lists the commands the launcher runs from other modules ({@code spark}, {@code bench})
   * with the other commands, and the tools ({@code generate-completion}, {@code help}) last, as in the synopsis of
   * a bare {@code diffusion} (they came after {@code help}).
   */
  @Test
  void theHelpListsEveryCommandBeforeTheTools() {
    List<String> listed = cli("--help").out().lines().dropWhile(l -> !l.equals("Commands:")).skip(1)
        .filter(l -> l.matches("  \\S.*")).map(l -> l.strip().split("\\s+")[0]).toList();
    assertEquals(List.of("demo", "train", "sample", "interpolate", "eval", "info", "config", "data", "export",
        "convert", "spark", "bench", "generate-completion", "help"), listed);
  }

  /** {@code info --load NAME} creates the backend and describes it after the listing. */
  @Test
  void infoLoadsTheBackendItIsAskedFor() {
    Result r = cli("info", "--load", "reference");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("samplers:"), "the listing first: " + r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("loaded reference: ")), r.out());
    // the backends' descriptions line up, the test backend fails_to_start's too (its name is wider than 10)
    List<String> rows = r.out().lines().dropWhile(l -> !l.equals("backends:")).skip(1)
        .takeWhile(l -> l.startsWith("  ") && !l.startsWith("  broken")).toList();
    assertTrue(rows.stream().anyMatch(l -> l.startsWith("  fails_to_start ")), r.out());
    assertEquals(1, rows.stream().map(l -> {
      int at = l.indexOf(' ', 2); // the end of the name
      while (l.charAt(at) == ' ') {
        at++;
      }
      return at; // where the description starts
    }).distinct().count(), "one column: " + rows);
  }

  /**
   * A backend whose creation fails outside the contract is named, by {@code info --load} and by a command, in one
   * line: the provider's own words ({@code native lib missing}) do not say which backend failed.
   */
  @Test
  void aBackendThatFailsToStartIsNamedInOneLine() {
    String line = "backend 'fails_to_start' (com.example:fails-to-start) failed to start: IllegalStateException: "
        + FailingToStartBackendProvider.MESSAGE;
    Result info = cli("info", "--load", "fails_to_start");
    assertEquals(DiffusionCli.FAILURE, info.code(), info.all());
    assertTrue(info.out().lines().anyMatch(l -> l.equals("loading fails_to_start failed: " + line)), info.out());
    Result sample = cli("sample", "--checkpoint", run.toString(), "--backend", "fails_to_start", "--count", "1",
        "--out", dir.resolve("never.png").toString());
    assertEquals(DiffusionCli.FAILURE, sample.code(), sample.all());
    assertEquals("diffusion: " + line, sample.err().strip());
  }

  @Test
  void interpolateBetweenTwoSamplesStartsAndEndsAtThoseSamples() throws IOException {
    Path samples = dir.resolve("five.safetensors");
    Result r = cli("sample", "--checkpoint", run.toString(), "--sampler", "ddim", "--eta", "0", "--count", "5",
        "--seed", "7", "--out", samples.toString());
    assertEquals(0, r.code(), r.all());
    Path strip = dir.resolve("strip.safetensors");
    r = cli("interpolate", "--checkpoint", run.toString(), "--between", "1,4", "--count", "3", "--seed", "7", "--out",
        strip.toString());
    assertEquals(0, r.code(), r.all());
    float[] s = SafeTensors.read(samples).tensors().get("samples").toArray();
    float[] i = SafeTensors.read(strip).tensors().get("samples").toArray();
    assertEquals(3 * 75, i.length);
    // the same latents through the same deterministic DDIM steps; the products of a batch of 3 and one of 5 may
    // round differently in the last bits, a few 1e-7 after six steps of this tiny model (the images are in [0, 1])
    float tolerance = 1e-5f;
    assertArrayEquals(Arrays.copyOfRange(s, 75, 150), Arrays.copyOfRange(i, 0, 75), tolerance, "starts at sample 1");
    assertArrayEquals(Arrays.copyOfRange(s, 300, 375), Arrays.copyOfRange(i, 150, 225), tolerance, "ends at sample 4");
    double middle = 0;
    for (int k = 0; k < 75; k++) {
      middle = Math.max(middle, Math.abs(i[75 + k] - s[75 + k]));
    }
    assertTrue(middle > 1e-3, "the middle is another image: " + middle);
    // with the sample's own settings (--set as for sample): another noise version draws other latents
    Path v2 = dir.resolve("five-v2.safetensors");
    assertEquals(0, cli("sample", "--checkpoint", run.toString(), "--sampler", "ddim", "--eta", "0", "--count", "5",
        "--seed", "7", "--set", "sampling.noise_version=2", "--out", v2.toString()).code());
    Path stripV2 = dir.resolve("strip-v2.safetensors");
    r = cli("interpolate", "--checkpoint", run.toString(), "--between", "1,4", "--count", "3", "--seed", "7", "--set",
        "sampling.noise_version=2", "--out", stripV2.toString());
    assertEquals(0, r.code(), r.all());
    java.util.Map<String, String> meta = SafeTensors.read(v2).metadata();
    assertEquals("0.0", meta.get("eta"), "DDIM's eta, which draws noise above 0");
    assertEquals("sampling.noise_version=2", meta.get("set"), "the overrides, as given");
    float[] s2 = SafeTensors.read(v2).tensors().get("samples").toArray();
    float[] i2 = SafeTensors.read(stripV2).tensors().get("samples").toArray();
    assertArrayEquals(Arrays.copyOfRange(s2, 75, 150), Arrays.copyOfRange(i2, 0, 75), tolerance, "version 2's sample 1");
    assertFalse(Arrays.equals(Arrays.copyOfRange(s, 75, 150), Arrays.copyOfRange(s2, 75, 150)), "other latents");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--between", "2,2"), "--between 2,2");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--between", "3"), "--between 3");
  }

  /** A PNG of random colours, {@code w x h}. */
  private static Path randomPng(String name, int w, int h, long seed) throws IOException {
    java.util.Random random = new java.util.Random(seed);
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    Path png = dir.resolve(name);
    ImageIO.write(img, "png", png.toFile());
    return png;
  }

  /** The files fitted to the model's images as the CLI fits them, one after another. */
  private static float[] fitted(io.github.diffusion4j.runtime.Diffusion d, Path... files) {
    io.github.diffusion4j.data.ImageFit fit = new io.github.diffusion4j.data.ImageFit(d.imageShape(),
        io.github.diffusion4j.data.ImageFit.Resize.CROP, true);
    int k = d.imageShape().size();
    float[] x0 = new float[files.length * k];
    for (int i = 0; i < files.length; i++) {
      System.arraycopy(fit.read(files[i]), 0, x0, i * k, k);
    }
    return x0;
  }

  /**
   * {@code sample --init}: the images the api's {@link io.github.diffusion4j.sampling.ImageToImage} gives from the
   * same files (fitted as training fits a folder's: a 9x7 photo centre-cropped and shrunk to 5x5), sample i from
   * image i mod their number, bit for bit (one batch, the same steps).
   */
  @Test
  void sampleFromImagesIsTheApisImageToImage() throws IOException {
    Path a = randomPng("init-a.png", 5, 5, 1);
    Path b = randomPng("init-b.png", 9, 7, 2);
    Path out = dir.resolve("edited.safetensors");
    Result r = cli("sample", "--checkpoint", run.toString(), "--init", a + "," + b, "--strength", "0.5", "--count", "3",
        "--seed", "5", "--sampler", "ddpm", "--out", out.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("wrote " + out + " (3 images, ddpm, 3 of 6 steps from --init at strength 0.5,"),
        r.out());
    TensorFile file = SafeTensors.read(out);
    float[] cli = file.tensors().get("samples").toArray();
    assertEquals("2 images", file.metadata().get("init"));
    assertEquals("0.5", file.metadata().get("strength"));
    assertEquals("6", file.metadata().get("steps"), "the plan's, as --steps");
    assertEquals("3", file.metadata().get("walked_steps"));
    assertEquals("reference", file.metadata().get("backend"));
    assertFalse(file.metadata().containsKey("eta"), "DDPM has no eta");
    assertFalse(file.metadata().containsKey("set"), "no --set given");
    float[] api;
    try (io.github.diffusion4j.runtime.TrainedModel m = io.github.diffusion4j.runtime.TrainedModel.load(run,
        List.of("sampling.sampler=ddpm"))) {
      io.github.diffusion4j.runtime.Diffusion d = m.diffusion();
      float[] x0 = fitted(d, a, b, a);
      try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
        api = m.sample(d.sampler(), io.github.diffusion4j.sampling.ImageToImage.request(d.backend().tensors(),
            d.schedule(), d.request(3, 5), x0, 0.5), io.github.diffusion4j.sampling.SamplingListener.NONE);
      }
    }
    assertArrayEquals(api, cli);
    assertFalse(Arrays.equals(Arrays.copyOfRange(cli, 0, 75), Arrays.copyOfRange(cli, 150, 225)),
        "samples 0 and 2 start from one image with their own noise");

    // one image per --init image without --count, a folder's images in its listing order
    Path folder = Files.createDirectories(dir.resolve("init-folder"));
    Files.copy(a, folder.resolve("1.png"));
    Files.copy(b, folder.resolve("2.png"));
    Path png = dir.resolve("edited.png");
    r = cli("sample", "--checkpoint", run.toString(), "--init", folder.toString(), "--out", png.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(2 images, ddim, 4 of 6 steps from --init at strength 0.8,"), r.out());

    assertBad(cli("sample", "--checkpoint", run.toString(), "--strength", "0.5"), "--strength 0.5: only with --init");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--strength", "0"),
        "--strength 0.0: must be in (0, 1]");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--strength", "0.1"),
        "--strength 0.1 walks no step of a 6-step plan");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a + "," + b, "--count", "1"),
        "--count 1: fewer than the 2 --init images");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", dir.resolve("none.png").toString()),
        "--init " + dir.resolve("none.png") + ": no such file or folder");
    Path text = Files.writeString(dir.resolve("notes.png"), "hello world");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", text.toString()), "is not an image");
    Path noImages = Files.createDirectories(dir.resolve("no-init-images"));
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", noImages.toString()),
        "--init " + noImages.toAbsolutePath() + ": holds no images (no *.png, *.jpg, *.jpeg, *.bmp or *.gif files");
  }

  /** A mask file: white where {@code white(x, y)}, black elsewhere; RGB or gray. */
  private static Path maskPng(String name, int w, int h, boolean rgb,
      java.util.function.BiPredicate<Integer, Integer> white) throws IOException {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h,
        rgb ? java.awt.image.BufferedImage.TYPE_INT_RGB : java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, white.test(x, y) ? 0xffffff : 0);
      }
    }
    Path png = dir.resolve(name);
    ImageIO.write(img, "png", png.toFile());
    return png;
  }

  /**
   * {@code sample --init --mask}: the api's {@code inpaint} with the same pictures (fitted as {@code --init} fits them)
   * and the masks fitted alike and thresholded at gray level 128, sample i from image i mod their number and its
   * mask, bit for bit (one batch, the same steps); where a mask is black the result is its picture (denormalised from
   * the same float: exact), where white it is not; and the refusals, one line each, exit 2.
   */
  @Test
  void sampleInpaintsTheInitImagesWhereTheMaskIsWhite() throws IOException {
    Path a = randomPng("paint-a.png", 5, 5, 6);
    Path b = randomPng("paint-b.png", 9, 7, 7);
    Path maskA = maskPng("mask-a.png", 5, 5, false, (x, y) -> x >= 3);
    Path maskB = maskPng("mask-b.png", 9, 7, true, (x, y) -> y < 3);
    Path out = dir.resolve("painted.safetensors");
    Result r = cli("sample", "--checkpoint", run.toString(), "--init", a + "," + b, "--mask", maskA + "," + maskB,
        "--count", "3", "--seed", "5", "--sampler", "ddpm", "--out", out.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("wrote " + out + " (3 images, ddpm, 6 steps, inpainting the --init images where --mask "
        + "is white,"), r.out());
    TensorFile file = SafeTensors.read(out);
    float[] cli = file.tensors().get("samples").toArray();
    assertEquals("2 images", file.metadata().get("init"));
    assertEquals("2 masks", file.metadata().get("mask"));
    assertEquals("6", file.metadata().get("steps"));
    assertFalse(file.metadata().containsKey("strength"), "inpainting walks the whole plan");
    float[] api = new float[cli.length];
    float[] x0;
    float[][] masks = new float[2][];
    try (io.github.diffusion4j.runtime.TrainedModel m = io.github.diffusion4j.runtime.TrainedModel.load(run,
        List.of("sampling.sampler=ddpm"))) {
      io.github.diffusion4j.runtime.Diffusion d = m.diffusion();
      x0 = fitted(d, a, b, a);
      io.github.diffusion4j.data.ImageFit gray = new io.github.diffusion4j.data.ImageFit(
          io.github.diffusion4j.tensor.Shape.of(1, 5, 5), io.github.diffusion4j.data.ImageFit.Resize.CROP, true);
      Path[] maskFiles = {maskA, maskB};
      for (int i = 0; i < 2; i++) {
        float[] g = gray.read(maskFiles[i]);
        masks[i] = new float[g.length];
        for (int p = 0; p < g.length; p++) {
          masks[i][p] = g[p] > 0 ? 1 : 0;
        }
      }
      m.inpaint(d.sampler(), d.request(3, 5), i -> Arrays.copyOfRange(x0, (int) i * 75, (int) (i + 1) * 75),
          i -> masks[(int) (i % 2)], io.github.diffusion4j.sampling.SamplingListener.NONE,
          (first, images, n) -> System.arraycopy(images, 0, api, (int) first * 75, n * 75));
    }
    assertArrayEquals(api, cli);
    float[] picture = io.github.diffusion4j.data.Normalization.denormalize(x0);
    int kept = 0;
    int regenerated = 0;
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 75; j++) {
        int at = i * 75 + j;
        if (masks[i % 2][j % 25] == 0) {
          assertEquals(picture[at], cli[at], 0.0, "sample " + i + ", kept value " + j);
          kept++;
        } else if (cli[at] != picture[at]) {
          regenerated++;
        }
      }
    }
    // mask a keeps its left 3 of 5 columns exactly (5x5 is copied as it is); mask b, cropped and shrunk, keeps rows
    int regeneratedA = 0;
    for (int p = 0; p < 25; p++) {
      assertEquals(p % 5 >= 3 ? 1f : 0f, masks[0][p], "mask a, pixel " + p);
      regeneratedA += (int) masks[0][p];
    }
    assertTrue(kept > 0 && regenerated > 0.9 * (225 - kept), kept + " kept, " + regenerated + " regenerated values");
    assertEquals(10, regeneratedA);

    // with RePaint's resampling (jump 2, twice: 6 positions walked in 10 steps), the api's resampled inpainting
    Path resampled = dir.resolve("painted-resampled.safetensors");
    r = cli("sample", "--checkpoint", run.toString(), "--init", a + "," + b, "--mask", maskA + "," + maskB,
        "--resample", "2,2", "--count", "3", "--seed", "5", "--sampler", "ddpm", "--out", resampled.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(3 images, ddpm, 6 steps resampled to 10, inpainting"), r.out());
    TensorFile again = SafeTensors.read(resampled);
    assertEquals("2,2", again.metadata().get("resample"));
    float[] apiResampled = new float[cli.length];
    try (io.github.diffusion4j.runtime.TrainedModel m = io.github.diffusion4j.runtime.TrainedModel.load(run,
        List.of("sampling.sampler=ddpm"))) {
      io.github.diffusion4j.runtime.Diffusion d = m.diffusion();
      m.inpaint(d.sampler(), d.request(3, 5), new io.github.diffusion4j.sampling.Resampling(2, 2),
          i -> Arrays.copyOfRange(x0, (int) i * 75, (int) (i + 1) * 75), i -> masks[(int) (i % 2)],
          io.github.diffusion4j.sampling.SamplingListener.NONE,
          (first, images, n) -> System.arraycopy(images, 0, apiResampled, (int) first * 75, n * 75));
    }
    float[] cliResampled = again.tensors().get("samples").toArray();
    assertArrayEquals(apiResampled, cliResampled);
    assertFalse(Arrays.equals(cli, cliResampled), "resampling changes the samples");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--resample", "2,2"),
        "--resample: only with --mask");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
        "--resample", "0,2"), "--resample 0,2: J (the jump length, in steps) must be at least 1");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
        "--resample", "2,-1"), "--resample 2,-1: R (the walks of each jumping step) must be at least 1");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
        "--resample", "3"), "--resample 3: give J,R, two whole numbers");
    for (String pair : List.of("a,b", "10,10,10", "2,", "2.5,3")) {
      assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
          "--resample", pair), "--resample " + pair + ": give J,R, two whole numbers");
    }
    Result help = cli("sample", "--help");
    assertTrue(help.out().contains("--resample=J,R") && !help.out().contains("J,R[,J,R"), "one pair: " + help.out());
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
        "--resample", "1,1000000000"), "--resample 1,1000000000: jumpLength 1 and resamples 1000000000 over 6 steps walk");

    // one mask for all the --init images (a PNG of one size for images of that size)
    r = cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(), "--count", "2",
        "--out", dir.resolve("painted.png").toString());
    assertEquals(0, r.code(), r.all());

    assertBad(cli("sample", "--checkpoint", run.toString(), "--mask", maskA.toString()), "--mask: only with --init");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA.toString(),
        "--strength", "0.5"), "--strength 0.5: not with --mask");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", maskA + "," + maskB),
        "--mask: 2 masks for 1 --init image; give one mask for all the --init images, or one for each");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a + "," + b, "--mask", maskA.toString()),
        "--mask " + maskA + ": is 5x5, its --init image " + b + " is 9x7; a mask must be its image's size");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask",
        dir.resolve("no-mask.png").toString()), "--mask " + dir.resolve("no-mask.png") + ": no such file or folder");
    Path text = Files.writeString(dir.resolve("mask-notes.png"), "not a mask");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", text.toString()),
        "--mask " + text);
  }

  /**
   * {@code sample --resample J,R} with J at or above the plan's steps is refused in one line: the walk would never
   * jump back, and the command used to sample plain inpainting while saying "resampled".
   */
  @Test
  void aResampleJumpNotBelowTheStepsIsRefused() throws IOException {
    Path a = randomPng("jump-a.png", 5, 5, 6);
    Path mask = maskPng("jump-mask.png", 5, 5, false, (x, y) -> x >= 3);
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", mask.toString(),
        "--resample", "6,3", "--sampler", "ddpm", "--out", dir.resolve("jump.npy").toString()),
        "--resample 6,3: the jump length 6 must be below the plan's 6 steps");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", mask.toString(),
        "--resample", "10,10", "--steps", "4", "--out", dir.resolve("jump.npy").toString()),
        "--resample 10,10: the jump length 10 must be below the plan's 4 steps");
    Result r = cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", mask.toString(),
        "--resample", "5,2", "--sampler", "ddpm", "--out", dir.resolve("jump.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("6 steps resampled to 11"), r.out());
  }

  /**
   * {@code interpolate --out} naming one of the {@code --images} is refused before the model is loaded: the strip
   * replaced the user's picture (and was then compared with itself for the line on how far the ends are).
   */
  /**
   * Image files start only a model of gray or RGB images: a model of two channels is refused at {@code --init} with
   * one line, before it is loaded, as are {@code interpolate --images}.
   */
  @Test
  void imageFilesAreRefusedForAModelOfNeitherGrayNorRgbImages() throws IOException {
    Path yaml = dir.resolve("two-channels.yaml");
    Files.writeString(yaml, TINY.replace("image_shape: [3, 5, 5]", "image_shape: [2, 5, 5]")
        .replace("epochs: 2", "epochs: 1").replace("image_log_every: 4", "image_log_every: 0")
        .replace("name: tiny", "name: two-channels")); // no image logs: they take 1 or 3 channels only
    Result trained = cli("train", "-c", yaml.toString(), "--no-samples", "--set", "output.dir=" + dir.resolve("runs"));
    assertEquals(0, trained.code(), trained.all());
    Path two = dir.resolve("runs/two-channels");
    Path png = randomPng("two-channels.png", 5, 5, 3);
    String refused = ": the model's images are [2, 5, 5]; only a model of gray (1 channel) or RGB (3 channels) images "
        + "can start from image files";
    assertBad(cli("sample", "--checkpoint", two.toString(), "--init", png.toString(), "--strength", "0.5", "--out",
        dir.resolve("two.png").toString()), "diffusion: --init" + refused);
    assertBad(cli("interpolate", "--checkpoint", two.toString(), "--images", png + "," + png, "--out",
        dir.resolve("two-strip.png").toString()), "diffusion: --images" + refused);
  }

  @Test
  void interpolateRefusesAnOutThatIsOneOfTheImages() throws IOException {
    Path a = randomPng("keep-a.png", 5, 5, 7);
    Path b = randomPng("keep-b.png", 5, 5, 8);
    byte[] before = Files.readAllBytes(b);
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--images", a + "," + b, "--count", "3", "--out",
        b.toString()), "--out " + b + ": is the --images file " + b + ", which the strip would replace");
    // by another name too
    Path other = dir.resolve(".").resolve(b.getFileName());
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--images", a + "," + b, "--count", "3", "--out",
        other.toString()), "which the strip would replace");
    assertArrayEquals(before, Files.readAllBytes(b), "the picture is kept");
  }

  /**
   * {@code interpolate --images}: the strip's ends are DDIM's samples from the two images' DDIM inversions (the api's
   * {@link io.github.diffusion4j.sampling.DdimInversion} over the same plan, bit for bit), and the line says how far
   * they are from the images.
   */
  @Test
  void interpolateBetweenTwoImagesStartsFromTheirInversions() throws IOException {
    Path a = randomPng("ends-a.png", 5, 5, 3);
    Path b = randomPng("ends-b.png", 6, 5, 4);
    Path strip = dir.resolve("ends.safetensors");
    Result r = cli("interpolate", "--checkpoint", run.toString(), "--images", a + "," + b, "--count", "3", "--out",
        strip.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("the ends differ from ends-a.png and ends-b.png by a mean of "), r.out());
    float[] cli = SafeTensors.read(strip).tensors().get("samples").toArray();
    try (io.github.diffusion4j.runtime.TrainedModel m = io.github.diffusion4j.runtime.TrainedModel.load(run,
        List.of("sampling.sampler=ddim", "sampling.eta=0"))) {
      io.github.diffusion4j.runtime.Diffusion d = m.diffusion();
      float[] x0 = fitted(d, a, b);
      // the line's distances are those of the strip's first and last images from A and B, in levels of 255; the
      // plan's 6 of the schedule's 30 steps can come closer
      double[] levels = new double[2];
      for (int j = 0; j < 75; j++) {
        levels[0] += Math.abs((x0[j] + 1) / 2 - cli[j]);
        levels[1] += Math.abs((x0[75 + j] + 1) / 2 - cli[150 + j]);
      }
      levels[0] = levels[0] / 75 * 255;
      levels[1] = levels[1] / 75 * 255;
      assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "by a mean of %.1f and %.1f levels of 255 (DDIM "
          + "inversion over 6 steps; more --steps come closer)", levels[0], levels[1])), r.out());
      try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
        float[] latents = new io.github.diffusion4j.sampling.DdimInversion(d.schedule(), d.predictionType())
            .invert(m.model(), d.backend().tensors(), d.backend().tensors().fromArray(x0,
                io.github.diffusion4j.tensor.Shape.of(2, 3, 5, 5)), d.plan()).toFloatArray();
        float[] ends = m.sample(d.sampler(), d.request(2, 0).withInitialNoise(d.backend().tensors().fromArray(latents,
            io.github.diffusion4j.tensor.Shape.of(2, 3, 5, 5))), io.github.diffusion4j.sampling.SamplingListener.NONE);
        // a batch of 2 and one of 3 may round the products differently in the last bits (see the test above)
        assertArrayEquals(Arrays.copyOfRange(ends, 0, 75), Arrays.copyOfRange(cli, 0, 75), 1e-5f, "starts at A's");
        assertArrayEquals(Arrays.copyOfRange(ends, 75, 150), Arrays.copyOfRange(cli, 150, 225), 1e-5f, "ends at B's");
      }
    }
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--images", a.toString()),
        "--images: 1 image; give two, A,B");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--images", a + "," + b, "--between", "1,2"),
        "--images and --between: give one of them");
  }

  @Test
  void evalBpdWritesTheBoundItsTermsAndTheirChart() throws IOException {
    Path out = dir.resolve("bpd-full");
    Result r = cli("eval", "--bpd", "--checkpoint", run.toString(), "--count", "16", "--batch-size", "5", "--out",
        out.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("bits/dim (16 images, all 30 timesteps)"), r.out());
    String summary = Files.readString(out.resolve("bpd.json"));
    assertTrue(summary.contains("\"estimate\": false") && summary.contains("\"images\": 16"), summary);
    List<String> terms = Files.readAllLines(out.resolve("bpd_terms.jsonl"));
    assertEquals(31, terms.size(), "30 terms and the prior");
    assertTrue(terms.get(0).startsWith("{\"term\": \"decoder\", \"t\": 0, "), terms.get(0));
    assertTrue(terms.get(30).startsWith("{\"term\": \"prior\", \"t\": 30, "), terms.get(30));
    assertTrue(ImageIO.read(out.resolve("bpd.png").toFile()).getWidth() > 0);

    Path estimate = dir.resolve("bpd-estimate");
    Path json = dir.resolve("bpd-summary.json");
    r = cli("eval", "--bpd", "--checkpoint", run.toString(), "--timesteps", "6", "--out", estimate.toString(), "--json",
        json.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("bits/dim (64 images, estimate from 6 of 30 timesteps)"), r.out());
    assertTrue(Files.readString(json).contains("\"estimate\": true, \"timesteps_per_image\": 6"));
    assertTrue(Files.exists(estimate.resolve("bpd.png")));
  }

  @Test
  void evalBpdRefusesWhatItCannotDo() throws IOException {
    String ck = run.toString();
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--timesteps", "31"), "--timesteps 31: must be in [2, 30]");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--timesteps", "1"), "--timesteps 1");
    assertBad(cli("eval", "--checkpoint", ck, "--timesteps", "5"), "--timesteps applies only to --bpd");
    assertBad(cli("eval", "--checkpoint", ck, "--no-clip"), "--no-clip applies only to --bpd");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--sampler", "ddpm"), "--sampler does not apply to --bpd");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--batch-size", "0"), "--batch-size 0");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--count", "0"), "--count 0");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--set", "sampling.variance_type=tutorial"),
        "sampling.variance_type: is 'tutorial'");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--set", "sampling.variance_type=tutorial"),
        "--set sampling.variance_type=fixed_small");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--set", "data.eval_size=0"), "data.eval_size: is 0");
    Path file = dir.resolve("a-file");
    Files.writeString(file, "x");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--out", file.toString()), "is a file; give a folder");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--out", file.resolve("sub").toString()),
        "cannot create the folder");
  }

  @Test
  void aScheduleSetOnACheckpointIsRefusedAtTheSetNotBlamedOnItsConfigYaml() {
    // was: "scheduler_config.json: num_train_timesteps is 30 but config.yaml's schedule.num_train_timesteps is 7;
    // the two files must describe the same schedule", where config.yaml says 30 and the 7 is the --set's
    String ck = run.toString();
    assertBad(cli("sample", "--checkpoint", ck, "--set", "schedule.num_train_timesteps=7"),
        "diffusion: --set schedule.num_train_timesteps=7: schedule.num_train_timesteps: is 7 but the checkpoint's "
            + "weights were trained with 30 (scheduler_config.json); a checkpoint samples with the schedule it was "
            + "trained with");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--set", "schedule.beta_schedule=sigmoid"),
        "diffusion: --set schedule.beta_schedule=sigmoid: schedule.beta_schedule: is sigmoid but the checkpoint's "
            + "weights were trained with linear");
  }

  @Test
  void aSetWithoutEffectOnACheckpointIsWarnedOf() throws IOException {
    // sample --set sampling.steps_offset=1 on a trailing plan sampled as without it, silently (train and config
    // --check warn of it)
    Result r = cli("sample", "--checkpoint", run.toString(), "--count", "2", "--out", dir.resolve("offset.npy").toString(),
        "--set", "sampling.steps_offset=1");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.err().contains("diffusion: warning: --set sampling.steps_offset=1: sampling.steps_offset: has no "
        + "effect: only a leading plan adds it"), r.all());
    // the checkpoint's own config.yaml (every key restated) gives no warning
    Result plain = cli("sample", "--checkpoint", run.toString(), "--count", "2", "--out",
        dir.resolve("plain.npy").toString());
    assertFalse(plain.err().contains("warning"), plain.all());
  }

  @Test
  void badArgumentsExitTwoWithOneLine() {
    Path ck = run;
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--count", "0"), "--count 0");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--steps", "31", "--out", dir.resolve("x.png").toString()),
        "--steps 31");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--out", dir.resolve("missing/x.png").toString()),
        "does not exist");
    Path aFile = dir.resolve("a-file");
    try {
      java.nio.file.Files.writeString(aFile, "x");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--out", aFile.resolve("x.png").toString()),
        aFile + " is a file, not a folder");
    assertBad(cli("demo", "--out-dir", aFile.toString()),
        "diffusion: --out-dir " + aFile + ": output.dir: " + aFile + ": is not a folder");
    // a folder name that YAML reads as a mapping, a list or a comment is still the path (it was 'expected a path,
    // got a mapping'): the override the option stands for quotes it
    for (String name : List.of("d: x", "[runs]", "runs #2", "q\"uote\\")) {
      Path odd = dir.resolve(name);
      try {
        java.nio.file.Files.writeString(odd, "x");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      assertBad(cli("demo", "--out-dir", odd.toString()),
          "diffusion: --out-dir " + odd + ": output.dir: " + odd + ": is not a folder");
    }
    // the frame strip's place is checked before sampling, like --out's and --gif's
    java.nio.file.Path strip = dir.resolve("strip-frames.png");
    strip.toFile().mkdirs();
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--frames", "3", "--out", dir.resolve("strip.png").toString()),
        "--frames (the strip strip-frames.png) " + strip + ": is a folder; give a file name");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--out", dir.resolve("x.jpg").toString()), "unknown format");
    // a name no file system takes is refused before sampling (it failed at the write, after the work, exit 1)
    Path tooLong = dir.resolve("o".repeat(296) + ".npy");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--out", tooLong.toString()),
        "diffusion: --out " + tooLong + ": the name oooooooooooooooooooo...oooooooo.npy is 300 bytes long (UTF-8), "
            + "more than the 255 a file name may have");
    assertBad(cli("export", "--checkpoint", ck.toString(), "--out", dir.resolve("e".repeat(256)).toString()),
        "is 256 bytes long (UTF-8), more than the 255");
    assertBad(cli("sample", "--checkpoint", dir.resolve("nope").toString()), "no such checkpoint");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--eta", "-1"), "--eta -1: must be a finite number at least 0");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--eta", "-0.25"), "--eta -0.25: must");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--eta", "NaN"), "--eta NaN: must");
    // DDPM takes no eta: the option was taken and had no effect, whichever way ddpm was chosen (a --set of the
    // sampler, or the checkpoint's own, took it silently), and a --set of eta likewise
    String noEta = "sampling.eta: the sampler 'ddpm' takes no eta (its noise is sampling.variance_type's); samplers "
        + "that take it: ddim";
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--sampler", "ddpm", "--eta", "0.5"),
        "diffusion: --eta 0.5: " + noEta);
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--set", "sampling.sampler=ddpm", "--eta", "0.5"),
        "diffusion: --eta 0.5: " + noEta);
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--sampler", "ddpm", "--set", "sampling.eta=0.5"),
        "diffusion: --set sampling.eta=0.5: " + noEta);
    // an option's error names the option as typed, a --set's names the --set
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--sampler", "euler"),
        "diffusion: --sampler euler: sampling.sampler: unknown sampler 'euler'");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--set", "sampling.sampler=euler"),
        "diffusion: --set sampling.sampler=euler: sampling.sampler: unknown sampler 'euler'");
    assertBad(cli("sample", "--checkpoint", ck.toString(), "--backend", "tpu"),
        "diffusion: --backend tpu: backend: unknown backend 'tpu'");
    // a name is a name, never YAML: '@x' was "YAML syntax error: found character '@' that cannot start any token",
    // '[ddim]' a list; now any text is a name, refused as one with what names are allowed (a C1 control or U+FFFE
    // was "YAML syntax error: special characters are not allowed", and U+0085 or U+2028 a folded line: 'a b')
    for (String odd : List.of("@x", "[ddim]", "a: b", "x #2", "")) {
      assertBad(cli("sample", "--checkpoint", ck.toString(), "--sampler", odd), "diffusion: --sampler " + odd
          + ": sampling.sampler: must be a lowercase identifier ([a-z][a-z0-9_]*), got '" + odd + "'");
    }
    for (String odd : List.of("a\u0080b", "a\uFFFEb", "a\u0085b", "a\u2028b")) {
      Result bad = cli("sample", "--checkpoint", ck.toString(), "--sampler", odd);
      assertBad(bad, ": sampling.sampler: must be a lowercase identifier ([a-z][a-z0-9_]*), got 'a");
      assertFalse(bad.err().contains("YAML") || bad.err().contains("got 'a b'"), bad.err());
    }
    for (String[] c : new String[][] {{"sample"}, {"eval", "--bpd"}, {"interpolate"}}) {
      List<String> args = new java.util.ArrayList<>(List.of(c));
      args.addAll(List.of("--checkpoint", ck.toString(), "--backend", "@x"));
      assertBad(cli(args.toArray(String[]::new)),
          "diffusion: --backend @x: backend: must be a lowercase identifier ([a-z][a-z0-9_]*), got '@x'");
    }
    assertBad(cli("eval", "--checkpoint", ck.toString(), "--backend", "tpu"), "diffusion: --backend tpu: backend:");
    assertBadWithHint(cli("sample", "--checkpoint", ck.toString(), "--nonsense"), "Unknown option", "sample");
    assertBadWithHint(cli("sample", "--checkpoint"), "Missing required", "sample");
    assertBad(cli("interpolate", "--checkpoint", ck.toString(), "--count", "1"), "--count 1");
    assertBad(cli("train", "-c", dir.resolve("none.yaml").toString()), "no such file");
    // training again into the finished run's folder: refused before anything is built
    assertBad(cli("train", "-c", dir.resolve("tiny.yaml").toString(), "--set", "output.dir=" + dir.resolve("runs")),
        run + " already holds checkpoints; resume it (--resume; TrainingRun.resume from Java) or choose another "
            + "output.name");
    assertBadWithHint(cli("frobnicate"), "Unmatched argument", "");
    // a value's error is one line without the hint (the option is named; its help would not say more)
    assertEquals(1, cli("sample", "--checkpoint", ck.toString(), "--count", "0").err().lines().count());
  }

  /**
   * Each option's bounds at their edges: the last value the help allows runs, the first it does not is refused in one
   * line naming the option (an off-by-one in a check refuses what the help promises, or lets through what it refuses).
   */
  @Test
  void optionBoundsAreWhereTheHelpSaysTheyAre() throws IOException {
    String ck = run.toString();
    // sample --frames: at least 2
    assertBad(cli("sample", "--checkpoint", ck, "--frames", "1", "--out", dir.resolve("f1.png").toString()),
        "--frames 1: must be at least 2");
    Result r = cli("sample", "--checkpoint", ck, "--count", "1", "--frames", "2", "--out",
        dir.resolve("f2.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(1 image, "), r.out());
    assertTrue(Files.exists(dir.resolve("f2-frames.png")), "the strip is written next to --out");
    assertTrue(r.out().contains("wrote " + dir.resolve("f2-frames.png")), r.out());
    // sample --strength: in (0, 1]
    Path a = randomPng("edge-a.png", 5, 5, 11);
    r = cli("sample", "--checkpoint", ck, "--init", a.toString(), "--strength", "1", "--out",
        dir.resolve("s1.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("6 of 6 steps from --init at strength 1.0"), r.out());
    assertBad(cli("sample", "--checkpoint", ck, "--init", a.toString(), "--strength", "1.5"),
        "--strength 1.5: must be in (0, 1]");
    // sample --count: at least the --init images (one each)
    Path b = randomPng("edge-b.png", 5, 5, 13);
    r = cli("sample", "--checkpoint", ck, "--init", a + "," + b, "--count", "2", "--out",
        dir.resolve("one-each.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(2 images, "), r.out());
    // sample --resample J,R: R at least 1 (1: no resampling, a plain inpainting)
    Path mask = maskPng("edge-mask.png", 5, 5, false, (x, y) -> x >= 3);
    r = cli("sample", "--checkpoint", ck, "--init", a.toString(), "--mask", mask.toString(), "--resample", "2,1",
        "--sampler", "ddpm", "--out", dir.resolve("r1.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(1 image, ddpm, 6 steps, inpainting the --init images"), r.out());
    // sample --steps: at least 1
    assertBad(cli("sample", "--checkpoint", ck, "--steps", "0"), "--steps 0: must be at least 1");
    // sample --gif: a .gif
    Path notGif = dir.resolve("t.png");
    assertBad(cli("sample", "--checkpoint", ck, "--gif", notGif.toString()),
        "--gif " + notGif + ": the file name must end in .gif");
    // interpolate --count: at least 2; --between: two different numbers, each at least 0
    r = cli("interpolate", "--checkpoint", ck, "--count", "2", "--out", dir.resolve("two.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(2 images, DDIM"), r.out());
    assertBad(cli("interpolate", "--checkpoint", ck, "--between", "-1,2"),
        "--between -1,2: give two different sample numbers I,J, each at least 0");
    assertBad(cli("interpolate", "--checkpoint", ck, "--between", "2,-1"), "--between 2,-1: give two different");
    for (String ends : List.of("0,1", "1,0")) {
      r = cli("interpolate", "--checkpoint", ck, "--between", ends, "--count", "2", "--out",
          dir.resolve("between.npy").toString());
      assertEquals(0, r.code(), r.all());
    }
    // eval --count: at least 2 samples
    assertBad(cli("eval", "--checkpoint", ck, "--count", "1"), "--count 1: needs at least 2 samples");
    r = cli("eval", "--checkpoint", ck, "--count", "2");
    assertEquals(0, r.code(), r.all());
    // eval: the --bpd options only with --bpd, the sampling ones not with it
    assertBad(cli("eval", "--checkpoint", ck, "--batch-size", "4"), "--batch-size applies only to --bpd");
    assertBad(cli("eval", "--checkpoint", ck, "--out", dir.resolve("no-bpd").toString()), "--out applies only to --bpd");
    assertBad(cli("eval", "--bpd", "--checkpoint", ck, "--steps", "3"), "--steps does not apply to --bpd");
    // eval --bpd --timesteps: in [2, T], T the full bound; --count and --batch-size at least 1
    r = cli("eval", "--bpd", "--checkpoint", ck, "--count", "1", "--batch-size", "1", "--timesteps", "30", "--out",
        dir.resolve("bpd-all").toString());
    assertEquals(0, r.code(), r.all());
    r = cli("eval", "--bpd", "--checkpoint", ck, "--count", "1", "--timesteps", "2", "--out",
        dir.resolve("bpd-two").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(Files.exists(dir.resolve("bpd-two/bpd.json")));
  }

  /**
   * {@code eval --bpd --out} at a dangling symbolic link (or below one) is refused, and the link, the user's, is left
   * as it was: the folders eval removes again are only those it made (a dangling link did not "exist" to it, was
   * counted as its own, and was deleted when the folder could not be made).
   */
  @Test
  void evalBpdLeavesADanglingLinkAtOutAsItWas() throws IOException {
    Path link = dir.resolve("bpd-dangling");
    Files.createSymbolicLink(link, dir.resolve("bpd-nowhere"));
    for (Path out : List.of(link, link.resolve("below"))) {
      Result r = cli("eval", "--bpd", "--checkpoint", run.toString(), "--count", "1", "--timesteps", "2", "--out",
          out.toString());
      assertBad(r, "--out " + out + ": cannot create the folder");
      assertTrue(Files.isSymbolicLink(link), "the user's link is kept: " + r.all());
    }
  }

  /**
   * {@code sample --gif}: a GIF that cannot be written is refused before anything is sampled (not after the work), and
   * the GIF shows up to 16 of the samples (a 3x3 grid of 9, not the 2x2 the frame strip keeps), its line saying where.
   */
  @Test
  void sampleGifIsCheckedFirstAndShowsUpToSixteenSamples() throws IOException {
    Path out = dir.resolve("gif-first.npy");
    Path missing = dir.resolve("no-such-folder/t.gif");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--count", "2", "--out", out.toString(), "--gif",
        missing.toString()), "--gif " + missing + ": the folder " + missing.getParent().toAbsolutePath()
        + " does not exist");
    assertFalse(Files.exists(out), "nothing was sampled");
    int[] widths = new int[2];
    int[] counts = {4, 9};
    for (int i = 0; i < 2; i++) {
      Path gif = dir.resolve("grid-" + counts[i] + ".gif");
      Result r = cli("sample", "--checkpoint", run.toString(), "--count", Integer.toString(counts[i]), "--out",
          dir.resolve("grid-" + counts[i] + ".npy").toString(), "--gif", gif.toString());
      assertEquals(0, r.code(), r.all());
      assertTrue(r.out().contains("wrote " + gif), r.out());
      widths[i] = ImageIO.read(gif.toFile()).getWidth();
    }
    assertTrue(widths[1] > widths[0], "9 samples are a grid of 3 columns, 4 of 2: " + Arrays.toString(widths));
  }

  /** {@code interpolate --out} in a folder that does not exist is refused before the model is loaded. */
  @Test
  void interpolateChecksItsOutBeforeSampling() {
    Path missing = dir.resolve("no-such-folder/strip.png");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--count", "2", "--out", missing.toString()),
        "--out " + missing + ": the folder " + missing.getParent().toAbsolutePath() + " does not exist");
  }

  /** {@code --steps 1}, the fewest the help allows, samples with a plan of one step. */
  @Test
  void oneStepIsAPlan() {
    Result r = cli("sample", "--checkpoint", run.toString(), "--steps", "1", "--count", "2", "--out",
        dir.resolve("one-step.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(2 images, ddim, 1 steps, "), r.out());
  }

  /**
   * An interpolation's images may take half the heap, not all of it: a count whose three copies take three quarters
   * of the heap is refused before the model is loaded, naming {@code --count} (it ran out of memory after loading).
   */
  @Test
  void interpolateLeavesHalfTheHeapToTheModel() {
    long perImage = 4L * InterpolateCommand.HEAP_COPIES * 75;
    long images = Runtime.getRuntime().maxMemory() * 3 / 4 / perImage;
    // under a heap above ~34 GB (an IDE's, not surefire's -Xmx2g) the array limit refuses the count first
    org.junit.jupiter.api.Assumptions.assumeTrue(images <= io.github.diffusion4j.tensor.Shape.MAX_ELEMENTS / 75,
        "the heap is too large for this check to come before the array limit's");
    int count = (int) images;
    Path raw = dir.resolve("three-quarters.npy");
    Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> cli("interpolate", "--checkpoint", run.toString(), "--count", Integer.toString(count), "--out",
            raw.toString()));
    assertBad(r, "--count " + count + ": " + count + " images of [3, 5, 5] take about");
    assertTrue(r.err().contains("(half the heap; the rest is the model's and the JVM's)"), r.err());
    assertFalse(Files.exists(raw));
  }

  /** The counts a command makes when none is given are the ones its help names. */
  @Test
  void theDefaultCountsAreTheHelps() throws IOException {
    assertTrue(cli("sample", "--help").out().replaceAll("\\s+", " ")
        .contains("Number of images (default: 64, or one per --init image)."));
    Path raw = dir.resolve("default-count.safetensors");
    Result r = cli("sample", "--checkpoint", run.toString(), "--out", raw.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(64 images, "), r.out());
    assertEquals(64 * 75, SafeTensors.read(raw).tensors().get("samples").toArray().length);
    assertTrue(cli("interpolate", "--help").out().replaceAll("\\s+", " ").contains("at least 2 (default: 8)."));
    r = cli("interpolate", "--checkpoint", run.toString(), "--out", dir.resolve("default-strip.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("(8 images, DDIM"), r.out());
  }

  /** {@code --resample J,R} allows spaces around each number, as its help's "J,R" is often typed "10, 10". */
  @Test
  void aResamplePairMayHaveSpaces() throws IOException {
    Path a = randomPng("space-a.png", 5, 5, 12);
    Path mask = maskPng("space-mask.png", 5, 5, false, (x, y) -> x >= 3);
    Result r = cli("sample", "--checkpoint", run.toString(), "--init", a.toString(), "--mask", mask.toString(),
        "--resample", " 5 , 2 ", "--sampler", "ddpm", "--out", dir.resolve("space.npy").toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("6 steps resampled to 11"), r.out());
  }

  /**
   * The interpolation heap check's advice: the largest count that fits where two or more do, "no count fits" where
   * not even the two ends do (it must never advise a count the command refuses).
   */
  @Test
  void interpolateHeapCheckAdvisesNoCountBelowTwo() {
    io.github.diffusion4j.tensor.Shape image = io.github.diffusion4j.tensor.Shape.of(3, 5, 5);
    long perImage = 4L * InterpolateCommand.HEAP_COPIES * 75;
    BadInputException two = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class,
        () -> InterpolateCommand.checkHeap(3, image, 2 * perImage));
    assertTrue(two.getMessage().contains("give at most 2,"), two.getMessage());
    BadInputException none = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class,
        () -> InterpolateCommand.checkHeap(2, image, perImage));
    assertTrue(none.getMessage().contains("no count fits"), none.getMessage());
    assertFalse(none.getMessage().contains("give at most"), none.getMessage());
  }

  @Test
  void aMisspeltOptionIsNamedBeforeTheRequiredOptionItHid() {
    // without --checkpoint picocli would first complain that it is missing; the typo is the real error
    assertBadWithHint(cli("sample", "--chekpoint", run.toString()), "Unknown options: '--chekpoint'", "sample");
    assertBadWithHint(cli("sample", "--chekpoint", run.toString()), "(did you mean --checkpoint?)", "sample");
    assertBadWithHint(cli("samle", "--checkpoint", run.toString()), "(did you mean sample", "");
  }

  /**
   * An output folder nobody may write to: a read-only folder for ordinary users; as root (whom permission
   * bits do not bind) sysfs, where no one can create files.
   */
  @Test
  void anUnwritableOutputFolderIsBadInput() throws IOException {
    Path readOnly;
    if ("root".equals(System.getProperty("user.name"))) {
      readOnly = Path.of("/sys/kernel");
    } else {
      readOnly = dir.resolve("read-only");
      Files.createDirectories(readOnly);
      readOnly.toFile().setWritable(false, false);
    }
    assertFalse(io.github.diffusion4j.io.FileProblems.canCreateFilesIn(readOnly), "the test needs a folder where files cannot be created");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--out", readOnly.resolve("x.png").toString()),
        "is not writable");
    assertBad(cli("eval", "--checkpoint", run.toString(), "--json", readOnly.resolve("q.json").toString()),
        "is not writable");
    // eval --bpd's folder: refused before the evaluation, not when its first file is written after it
    assertBad(cli("eval", "--bpd", "--checkpoint", run.toString(), "--out", readOnly.toString()),
        "diffusion: --out " + readOnly + ": the folder is not writable");
  }

  @Test
  void configCheckWarnsOfAWarmUpLongerThanTheRun() {
    String tiny = dir.resolve("tiny.yaml").toString();
    // the warning is logged (slf4j-simple, to System.err), as the other configuration warnings are
    java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stderr = System.err;
    Result r;
    Result fits;
    String warnings;
    String fitWarnings;
    try {
      System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
      r = cli("config", "--check", tiny, "--set", "training.lr_warmup_steps=100000");
      warnings = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
      logged.reset();
      fits = cli("config", "--check", tiny, "--set", "training.lr_warmup_steps=8", "--set",
          "training.lr_schedule=cosine");
      fitWarnings = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
    } finally {
      System.setErr(stderr);
    }
    assertEquals(0, r.code(), r.all());
    // 256 images in batches of 64 for 2 epochs: 8 steps
    assertTrue(warnings.contains("--set training.lr_warmup_steps=100000: training.lr_warmup_steps: is more than the "
        + "run's 8 steps (2 epochs x 4 batches)"), warnings);
    assertEquals(1, warnings.lines().filter(l -> l.contains("lr_warmup_steps")).count(), "warned once: " + warnings);
    assertEquals(0, fits.code(), fits.all());
    assertFalse(fitWarnings.contains("lr_warmup_steps"),
        "a warm-up as long as the run is not warned of: " + fitWarnings);
    assertBad(cli("config", "--check", tiny, "--set", "training.lr_schedule=step"),
        "training.lr_schedule: unknown value 'step'; allowed: constant, linear, cosine");
  }

  @Test
  void configCheckReportsTheLocation() throws IOException {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "training:\n  epochs: -3\n");
    Result r = cli("config", "--check", bad.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("diffusion: " + bad + ":2:3: training.epochs:"), r.err());
    // a misspelt key: located, the closest key suggested and the allowed ones listed (docs/reliability.md's row)
    Path misspelt = dir.resolve("misspelt.yaml");
    Files.writeString(misspelt, "training:\n  batch_sise: 4\n");
    Result unknown = cli("config", "--check", misspelt.toString());
    assertBad(unknown, "diffusion: " + misspelt + ":2:3: training.batch_sise: unknown key; did you mean 'batch_size'? "
        + "(allowed: epochs, batch_size, ");
    assertEquals(1, unknown.err().lines().count(), unknown.err());
    assertEquals(0, cli("config", "--check", dir.resolve("tiny.yaml").toString()).code());
    // the file as train takes it (-c), a bundled config with overrides, and what does not go together
    assertEquals(0, cli("config", "--check", "-c", dir.resolve("tiny.yaml").toString()).code());
    Result bundled = cli("config", "--check", "--bundled", "tutorial", "--set", "training.epochs=2");
    assertEquals(0, bundled.code(), bundled.all());
    assertTrue(bundled.out().startsWith("bundled tutorial: OK"), bundled.out());
    assertBad(cli("config", "--bundled", "tutorail"), "--bundled tutorail: no bundled config named 'tutorail'; did "
        + "you mean 'tutorial'? (allowed: ");
    assertBad(cli("config", "--markdown", "--bundled", "tutorial"), "does not go with --bundled");
    assertBad(cli("config", "-c", bad.toString()), "-c: only with --check");
    Result docs = cli("config");
    assertTrue(docs.out().contains("num_train_timesteps"), docs.out());
  }

  @Test
  void helpAndInfo() {
    for (String c : List.of("demo", "train", "sample", "interpolate", "eval", "info", "config")) {
      Result r = cli(c, "--help");
      assertEquals(0, r.code(), c);
      assertTrue(r.out().contains("Usage: diffusion " + c), r.out());
    }
    Result info = cli("info");
    assertEquals(0, info.code());
    assertTrue(info.out().contains("reference"), info.out());
    assertTrue(info.out().contains("ddim"), info.out());
    assertTrue(info.out().contains("native allocation: MALLOC_MMAP_THRESHOLD_="), info.out());
    assertTrue(info.out().contains(", MALLOC_TOP_PAD_="), info.out());
    assertTrue(info.out().contains(", MALLOC_MMAP_MAX_="), info.out());
    Result completion = cli("generate-completion");
    assertEquals(0, completion.code());
    assertTrue(completion.out().contains("complete"), "a bash completion script");
  }

  /**
   * Every option that takes a bundled configuration's name completes to the names in bash ({@code train --bundled}
   * as {@code config --bundled}), and the help gives each option's name for its value and its default.
   */
  @Test
  void completionAndHelpNameTheBundledConfigsAndDefaults() {
    String script = cli("generate-completion").out();
    for (String c : List.of("train", "config")) {
      int start = script.indexOf("function _picocli_diffusion_" + c + "() {");
      assertTrue(start >= 0, c);
      String function = script.substring(start, script.indexOf("\n}\n", start));
      assertTrue(function.contains("\"default\" \"tutorial\" \"ddpm-cifar10\""), c + ": " + function);
    }
    assertTrue(cli("info", "--help").out().contains("--load=NAME"), cli("info", "--help").out());
    String interpolate = cli("interpolate", "--help").out().replaceAll("\\s+", " ");
    assertTrue(interpolate.contains("--seed=S Seed of the two end latents (default: 0)"), interpolate);
  }

  /** An unknown {@code info --load} is the one-line error alone, not the listing followed by it. */
  @Test
  void infoWithAnUnknownBackendToLoadIsOnlyTheError() {
    Result r = cli("info", "--load", "nope");
    assertEquals(2, r.code(), r.all());
    assertEquals("", r.out(), "no listing before the error");
    assertEquals(1, r.err().trim().lines().count(), r.err());
    assertTrue(r.err().contains("--load: unknown backend 'nope'; available: "), r.err());
  }

  @Test
  void verboseShowsTheStackTraceOtherwiseOneLine() {
    Result quiet = cli("sample", "--checkpoint", dir.resolve("nope").toString());
    assertEquals(1, quiet.err().trim().lines().count(), quiet.err());
    Result loud = cli("sample", "--checkpoint", dir.resolve("nope").toString(), "--verbose");
    assertTrue(loud.err().contains("\tat "), loud.err());
  }

  /** Bad input as the CLI must report it: exit 2, no stack trace, one line "diffusion: ..." holding the fragment. */
  @Test
  void aRootFolderAsAnOutputFileIsBadInput() {
    // Path.of("/").getFileName() is null: these exited 1 with a NullPointerException's message
    String root = dir.getRoot().toString();
    assertBad(cli("sample", "--checkpoint", run.toString(), "--count", "2", "--out", root),
        "--out " + root + ": is a folder (the root); give a file name");
    assertBad(cli("sample", "--checkpoint", run.toString(), "--count", "2", "--out", dir.resolve("g.png").toString(),
        "--gif", root), "--gif " + root + ": is a folder (the root); give a file name");
    assertBad(cli("interpolate", "--checkpoint", run.toString(), "--out", root),
        "--out " + root + ": is a folder (the root); give a file name");
    assertBad(cli("eval", "--checkpoint", run.toString(), "--count", "2", "--json", root),
        "--json " + root + ": is a folder (the root); give a file name");
  }

  @Test
  void aRunDirThatIsAFileIsBadInput() throws IOException {
    // these exited 1 ("is not a folder", an I/O failure) once the run folder was made
    Path file = Files.writeString(dir.resolve("run-dir-file.txt"), "x");
    String tiny = dir.resolve("tiny.yaml").toString();
    assertBad(cli("train", "-c", tiny, "--no-samples", "--run-dir", file.toString()),
        "--run-dir " + file + ": is not a folder");
    assertBad(cli("train", "-c", tiny, "--no-samples", "--resume", "--run-dir", file.toString()),
        "--run-dir " + file + ": is not a folder");
    assertBad(cli("train", "-c", tiny, "--no-samples", "--run-dir", file.resolve("run").toString()),
        "--run-dir " + file.resolve("run") + ": " + file + " is not a folder");
    // an empty --run-dir ("$UNSET") trained into the working folder, next to whatever it holds
    assertBad(cli("train", "-c", tiny, "--no-samples", "--run-dir", ""), "--run-dir '': is empty; give a folder");
    assertBad(cli("train", "-c", tiny, "--no-samples", "--resume", "--run-dir", " "), "--run-dir ' ': is empty");
  }

  /**
   * Bad input as docs/reliability.md promises it: exit 2, no stack trace, and one line that holds the fragment; the
   * argument parser's own errors (an unknown option or command, a missing value) add its hint, {@link #HELP_HINT}.
   */
  static void assertBad(Result r, String fragment) {
    assertEquals(2, r.code(), r.all());
    assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    List<String> lines = r.err().lines().toList();
    String first = lines.isEmpty() ? "" : lines.get(0);
    assertTrue(first.startsWith("diffusion: ") && first.contains(fragment), r.err());
    assertTrue(lines.size() == 1 || lines.size() == 2 && HELP_HINT.matcher(lines.get(1)).matches(),
        "one line, or the parser's error and its hint: " + r.err());
  }

  /** The second line of an error of the argument parser: where to read how the command is used. */
  static final java.util.regex.Pattern HELP_HINT =
      java.util.regex.Pattern.compile("Try 'diffusion (?:[a-z-]+ )*--help' for more information\\.");

  /** Bad input that the argument parser found: {@link #assertBad}, and the hint names the command's help. */
  static void assertBadWithHint(Result r, String fragment, String command) {
    assertBad(r, fragment);
    assertEquals("Try 'diffusion " + (command.isEmpty() ? "" : command + " ") + "--help' for more information.",
        r.err().lines().skip(1).findFirst().orElse("(no hint)"), r.err());
  }
}
