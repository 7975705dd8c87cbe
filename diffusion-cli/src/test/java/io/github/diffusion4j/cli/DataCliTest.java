package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.CliTest.Result;
import io.github.diffusion4j.testkit.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffusion data check}, {@code data bench}, and training from a folder, in-process on the reference backend. */
class DataCliTest {
  @TempDir
  Path dir;

  private static Result cli(String... args) {
    return CliTest.cli(args);
  }

  /** 12 RGB images of 20x16 and 4 gray ones of 8x8, in two classes, a text file, and optionally a bad file. */
  private Path folder(boolean withBadFile) {
    Path root = dir.resolve("pics");
    for (int i = 0; i < 12; i++) {
      TestImages.write(root.resolve("cats/" + i + ".png"), TestImages.rgb(20, 16, i, 2 * i, 9));
    }
    for (int i = 0; i < 4; i++) {
      TestImages.write(root.resolve("dogs/" + i + ".png"), TestImages.gray(8, 8, 10 * i));
    }
    TestImages.write(root.resolve("notes.txt"), "hi".getBytes());
    if (withBadFile) {
      TestImages.write(root.resolve("dogs/broken.jpg"), new byte[0]);
    }
    return root;
  }

  private Path config(Path root, String... data) throws IOException {
    Path yaml = dir.resolve("folder.yaml");
    Files.writeString(yaml, String.join("\n",
        "backend: reference",
        "seed: 2",
        "data:",
        "  kind: folder",
        "  image_shape: [3, 8, 8]",
        "  root: " + root,
        String.join("\n", data),
        "model:",
        "  hidden: 8",
        "schedule:",
        "  num_train_timesteps: 10",
        "training:",
        "  epochs: 3",
        "  batch_size: 4",
        "  log_every: 2",
        "  image_log_every: 0",
        "sampling:",
        "  num_inference_steps: 3",
        "  count: 4",
        "output:",
        "  dir: " + dir.resolve("runs"),
        "  name: f",
        ""));
    return yaml;
  }


  @Test
  void checkPrintsWhatTheSdkSeesInAFolder() {
    Path root = folder(true);
    Result r = cli("data", "check", root.toString());
    assertEquals(2, r.code(), "a bad file: exit 2\n" + r.all());
    String o = r.out();
    assertTrue(o.contains("folder " + root.toAbsolutePath()), o);
    assertTrue(o.contains("ignored: 1 file not named as images (notes.txt)"), o);
    assertTrue(o.contains("images: 17 files, 16 usable"), o);
    assertTrue(o.contains("  classes: 2 (cats 12, dogs 4)"), o);
    assertTrue(o.contains("  sizes: 20x16 12, 8x8 4"), o);
    assertTrue(o.contains("  colour: RGB 12, gray 4"), o);
    assertTrue(o.contains("  unusable: 1\n    " + root.toAbsolutePath().resolve("dogs/broken.jpg")
        + ": is empty (0 bytes), not an image"), o);
    Result fitted = cli("data", "check", root.toString(), "--image-shape", "3,10,10");
    assertTrue(fitted.out().contains("images: 17 files, 12 usable as 3x10x10 crop"), fitted.out());
    assertTrue(fitted.out().contains("is 8x8, smaller than the target 10x10; give --upscale to enlarge such images, "
        + "or --resize pad to pad them\n"), "this command's options, not the keys: " + fitted.out());
    Result padded = cli("data", "check", root.toString(), "--image-shape", "1,10,10", "--resize", "pad");
    assertTrue(padded.out().contains("16 usable as 1x10x10 pad"), padded.out());
    TestImages.write(root.resolve("dogs/broken.jpg"), TestImages.encode(TestImages.rgb(9, 9, 0, 0, 0), "jpeg"));
    assertEquals(0, cli("data", "check", root.toString()).code(), "every image usable: exit 0");
  }

  /**
   * A folder without sub-folders has no classes, and says so; images directly in a folder that has class folders are
   * counted apart; bad files past {@code --show N} are counted, not named; with every file bad, no sizes or colours.
   */
  @Test
  void checkTellsAFlatFolderLooseImagesAndBadFilesPastShow() {
    Path flat = dir.resolve("flat");
    for (int i = 0; i < 3; i++) {
      TestImages.write(flat.resolve(i + ".png"), TestImages.gray(8, 8, 10 * i));
    }
    Result r = cli("data", "check", flat.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("images: 3 files, 3 usable\n  classes: none (no sub-folders)\n"), r.out());

    Path mixed = folder(false);
    TestImages.write(mixed.resolve("loose.png"), TestImages.gray(8, 8, 1));
    TestImages.write(mixed.resolve("loose2.png"), TestImages.gray(8, 8, 2));
    r = cli("data", "check", mixed.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("  classes: 2 (cats 12, dogs 4; 2 directly in the folder (no class))\n"), r.out());

    Path broken = dir.resolve("broken");
    for (int i = 0; i < 3; i++) {
      TestImages.write(broken.resolve(i + ".png"), new byte[0]);
    }
    r = cli("data", "check", broken.toString(), "--show", "1");
    assertEquals(2, r.code(), r.all());
    assertTrue(r.out().contains("  sizes: -\n  colour: -\n  unusable: 3\n    "), r.out());
    assertTrue(r.out().contains("is empty (0 bytes), not an image\n    ... and 2 more (--show N lists more)\n"), r.out());
    assertEquals(1, r.out().lines().filter(l -> l.endsWith("not an image")).count(), r.out());
  }

  @Test
  void checkReadsCifarBatches() {
    Path root = dir.resolve("cifar/cifar-10-batches-bin");
    TestImages.cifarBatch(root.resolve("data_batch_1.bin"), 0, 1, 1, 42);
    Result r = cli("data", "check", dir.resolve("cifar").toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.out().contains("CIFAR-10 binary batches in " + root.toAbsolutePath()), r.out());
    assertTrue(r.out().contains("train: 4 records, 3 usable"), r.out());
    assertTrue(r.out().contains("classes: 10 (airplane 1, automobile 2, bird 0,"), r.out());
    assertTrue(r.out().contains("record 4 of 4: label 42 is outside 0..9"), r.out());
    assertTrue(r.out().contains("test: no test_batch.bin (training will have no evaluation set)"), r.out());
    TestImages.cifarBatch(root.resolve("test_batch.bin"), 3, 3);
    r = cli("data", "check", dir.resolve("cifar").toString());
    assertTrue(r.out().contains("test: 2 records, 2 usable"), r.out());
    assertTrue(r.out().contains("classes: 10 (airplane 0, automobile 0, bird 0, cat 2,"), r.out());
    assertFalse(r.out().contains("test: no test_batch.bin"), r.out());
  }

  @Test
  void badArgumentsAndFoldersAreOneLine() throws IOException {
    Path root = folder(false);
    Result none = cli("data", "check");
    CliTest.assertBad(none, "give a folder (diffusion data check DIR) or a configuration (-c FILE)");
    assertFalse(none.err().contains("not both"), none.err());
    CliTest.assertBad(cli("data", "check", root.toString(), "-c", "x.yaml"), "not both");
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "2,8,8"),
        "--image-shape 2,8,8: give C,H,W with C 1 (gray) or 3 (RGB)");
    // one shape: the usage showed C,H,W[,C,H,W...], and two shapes were refused
    Result help = cli("data", "check", "--help");
    assertTrue(help.out().contains("--image-shape=C,H,W") && !help.out().contains("C,H,W[,C,H,W"), help.out());
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "3,8,8,3,8,8"),
        "--image-shape 3,8,8,3,8,8: give C,H,W with C 1 (gray) or 3 (RGB)");
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "3,x,8"),
        "--image-shape 3,x,8: give C,H,W with C 1 (gray) or 3 (RGB)");
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "3,8"),
        "--image-shape 3,8: give C,H,W with C 1 (gray) or 3 (RGB)");
    // more elements than an array holds: refused naming the option (was exit 1, the shape's message alone)
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "3,100000,100000"),
        "--image-shape 3,100000,100000: shape [3, 100000, 100000] has more than 2147483639 elements; give smaller");
    CliTest.assertBad(cli("data", "check", root.toString(), "--image-shape", "3,8,8", "--resize", "zoom"),
        "--resize zoom: use crop or pad");
    CliTest.assertBad(cli("data", "check", dir.resolve("none").toString()), "none: no such folder");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    CliTest.assertBad(cli("data", "check", empty.toString()), empty.toAbsolutePath() + ": holds no images");
    CliTest.assertBad(cli("data"), "give a subcommand: check or bench");
    CliTest.assertBad(cli("data", "bench", "-c", config(root).toString(), "--steps", "0"), "must be at least 1");
  }

  /**
   * The command config --check suggests names a configuration at a path with spaces in single quotes, so that it
   * pastes as one argument (it was printed bare: 'diffusion data check -c /x/my data/folder.yaml').
   */
  @Test
  void theSuggestedCommandQuotesAPathThatAShellWouldSplit() throws IOException {
    Path root = folder(false);
    Path yaml = Files.createDirectories(dir.resolve("my data ü")).resolve("it's.yaml");
    Files.move(config(root), yaml);
    Result listed = cli("config", "--check", yaml.toString());
    assertEquals(0, listed.code(), listed.all());
    assertTrue(listed.out().contains("'diffusion data check -c '" + yaml.toString().replace("'", "'\\''")
        + "'' decodes every one"), listed.out());
  }

  @Test
  void checkWithAConfigPreparesTheCacheAsTrainingDoes() throws IOException {
    Path root = folder(true);
    Path stop = config(root);
    // config --check lists the folder without decoding it, and says what decodes it
    Result listed = cli("config", "--check", stop.toString());
    assertEquals(0, listed.code(), listed.all());
    assertTrue(listed.out().contains("the images were listed, not decoded: 'diffusion data check -c " + stop
        + "' decodes every one, as training will"), listed.out());
    Result refused = cli("data", "check", "-c", stop.toString());
    CliTest.assertBad(refused, root.toAbsolutePath().resolve("dogs/broken.jpg") + ": is empty (0 bytes), not an image (item");
    assertTrue(refused.err().contains("data.bad_data is stop"), refused.err());
    assertFalse(Files.exists(dir.resolve("runs")), "the cache's folders, made for the build it stopped, are gone");
    Result trained = cli("train", "-c", stop.toString());
    CliTest.assertBad(trained, "broken.jpg: is empty (0 bytes)");
    assertFalse(Files.exists(dir.resolve("runs")), "no run folder, no empty cache folder, for data that cannot be used");
    Path skip = config(root, "  bad_data: skip");
    Result ok = cli("data", "check", "-c", skip.toString());
    assertEquals(0, ok.code(), ok.all());
    assertTrue(ok.out().contains("decoding pics: 17 images into the image cache"), ok.out());
    assertTrue(ok.out().contains("data kind folder, images 3x8x8"), ok.out());
    assertTrue(ok.out().contains("data train: 16 images from " + root.toAbsolutePath() + ", 2 classes; 1 skipped as "
        + "unusable; cache "), ok.out());
    assertTrue(ok.out().contains("  skipped " + root.toAbsolutePath().resolve("dogs/broken.jpg")), ok.out());
    Result train = cli("train", "-c", skip.toString());
    assertEquals(0, train.code(), train.all());
    assertFalse(train.out().contains("decoding"), "the cache built by check is reused: " + train.out());
    assertTrue(train.out().contains(" reused\n"), train.out());
    String data = Files.readAllLines(dir.resolve("runs/f/metrics.jsonl")).get(0);
    assertTrue(data.contains("\"skipped\":1,\"skipped_files\":[{\"file\":\""), data);
  }

  @Test
  void benchTimesTheCacheAgainstMemory() throws IOException {
    Path root = folder(false);
    Result r = cli("data", "bench", "-c", config(root).toString(), "--images", "10", "--steps", "3", "--warmup", "1",
        "--reps", "1", "--gather-batches", "20", "--set", "training.epochs=20");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("cache build, training set (from scratch; source files in the OS cache if read "
        + "before): 16 images in "), r.out());
    assertTrue(r.out().contains("compared: 10 images"), r.out());
    assertTrue(r.out().matches("(?s).*gather \\(random batches\\): cache [0-9.]+ batches/s, memory [0-9.]+ batches/s, "
        + "ratio [0-9.]+.*"), r.out());
    assertTrue(r.out().matches("(?s).*training \\(mlp, 3 steps\\): cache [0-9.]+ steps/s, memory [0-9.]+ steps/s, "
        + "ratio [0-9.]+.*"), r.out());
    try (Stream<Path> left = Files.list(dir.resolve("runs/.data-cache"))) {
      assertEquals(List.of(), left.toList(), "the timing's cache is deleted");
    }
    assertTrue(r.out().contains("decoding pics: 16 images into the image cache"), "its build is not silent: " + r.out());
    Result gradients = cli("data", "bench", "-c", writeGradients().toString());
    CliTest.assertBad(gradients, "data.kind is gradients; the image cache is used by folder and cifar10");
  }

  /** {@code data bench --keep-cache} keeps the cache it built and says where; the only folder under the cache root. */
  @Test
  void benchKeepsItsCacheWhenAsked() throws IOException {
    Result r = cli("data", "bench", "-c", config(folder(false)).toString(), "--images", "10", "--steps", "3", "--warmup",
        "1", "--reps", "1", "--gather-batches", "20", "--set", "training.epochs=20", "--keep-cache");
    assertEquals(0, r.code(), r.all());
    List<Path> kept;
    try (Stream<Path> left = Files.list(dir.resolve("runs/.data-cache"))) {
      kept = left.toList();
    }
    assertEquals(1, kept.size(), kept.toString());
    assertTrue(r.out().lines().anyMatch(l -> l.equals("cache kept in " + kept.get(0).toAbsolutePath())), r.out());
    try (Stream<Path> files = Files.walk(kept.get(0))) {
      assertTrue(files.anyMatch(Files::isRegularFile), "the cache's files are there");
    }
  }

  /** Steps that the configured epochs cannot give are refused before the copy and the timing (it was after both). */
  @Test
  void benchRefusesStepsTheEpochsCannotGiveBeforeTiming() throws IOException {
    Result r = cli("data", "bench", "-c", config(folder(false)).toString(), "--images", "10", "--reps", "1",
        "--gather-batches", "20");
    CliTest.assertBad(r, "--steps 100: training.epochs 3 x 3 batches of 10 images (training.batch_size 4) give 9 steps, "
        + "fewer than --warmup 10 + --steps 100; raise training.epochs (--set training.epochs=N) or lower --steps");
    assertFalse(r.out().contains("compared:"), "refused before the copy: " + r.out());
    try (Stream<Path> left = Files.list(dir.resolve("runs/.data-cache"))) {
      assertEquals(List.of(), left.toList(), "the timing's cache is deleted");
    }
    // the boundary: exactly the steps the epochs give
    Result exact = cli("data", "bench", "-c", config(folder(false)).toString(), "--images", "10", "--reps", "1",
        "--gather-batches", "20", "--warmup", "1", "--steps", "8");
    assertEquals(0, exact.code(), exact.all());
  }

  /**
   * Ctrl-C (the guard's interrupt) during the bench's timing: the training stops at its next step, the cache built for
   * the timing is deleted, and the command says so in its own line before the guard lets the JVM go (the
   * cancellation was thrown past the guard: a signalled JVM ended without a word, or at times with "diffusion: data
   * bench: interrupted").
   */
  @Test
  void anInterruptDuringTheBenchSaysSoAndDeletesItsCache() throws Exception {
    Path root = folder(false);
    Path yaml = config(root);
    // interrupted in the timing's training (its cache built)
    Result stopped = CliTest.interruptedWhere(e -> e.getClassName().equals(DataBenchCommand.class.getName())
        && e.getMethodName().equals("train"), "data", "bench", "-c", yaml.toString(), "--images", "10", "--steps",
        "100000000", "--warmup", "1", "--reps", "1", "--gather-batches", "20", "--set", "training.epochs=100000000");
    assertEquals(1, stopped.code(), stopped.all());
    assertTrue(stopped.out().contains("interrupted; the bench was not finished (the cache built for it is deleted)"),
        stopped.all());
    assertFalse(stopped.all().contains("\tat "), stopped.all());
    try (Stream<Path> left = Files.list(dir.resolve("runs/.data-cache"))) {
      assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith("bench-")).toList(),
          "the timing's cache is deleted");
    }
  }


  @Test
  void benchRefusesACopyThatNoArrayOrHalfTheHeapHolds() {
    // the in-memory side of the comparison is one float array: 20,000 images of 3x256x256 (the default --images)
    // failed as "integer overflow" after the cache was built; a smaller copy past the heap ran out of memory
    io.github.diffusion4j.tensor.Shape big = io.github.diffusion4j.tensor.Shape.of(3, 256, 256);
    BadInputException array = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class,
        () -> DataBenchCommand.checkCopy(20000, 20000, big, Long.MAX_VALUE));
    assertEquals("--images 20000: 20000 images of 3x256x256 are 3932160000 floats (15.7 GB) in memory, more than one "
        + "Java array holds; give at most 10922", array.getMessage());
    BadInputException heap = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class,
        () -> DataBenchCommand.checkCopy(20000, 1000, big, 500_000_000L));
    assertEquals("--images 20000: 1000 images of 3x256x256 are 196608000 floats (0.8 GB) in memory, more than half of "
        + "the heap (0.5 GB; -Xmx); give at most 635", heap.getMessage());
    DataBenchCommand.checkCopy(20000, 635, big, 500_000_000L); // 499 MB
  }

  private Path writeGradients() throws IOException {
    Path yaml = dir.resolve("g.yaml");
    Files.writeString(yaml, "backend: reference\n");
    return yaml;
  }

  @Test
  void helpForTheDataCommands() {
    for (List<String> c : List.of(List.of("data", "--help"), List.of("data", "check", "--help"),
        List.of("data", "bench", "--help"))) {
      Result r = cli(c.toArray(String[]::new));
      assertEquals(0, r.code(), c.toString());
      assertTrue(r.out().contains("Usage: diffusion " + String.join(" ", c.subList(0, c.size() - 1))), r.out());
    }
  }

  @Test
  void trainingFromAFolderWarnsOnceOfAWarmUpLongerThanTheRun() throws IOException {
    // a folder's images are counted as they are loaded, not by config --check's plan: the run warns once they are
    Path yaml = config(folder(false));
    java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stderr = System.err;
    Result r;
    try {
      System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
      r = cli("train", "-c", yaml.toString(), "--no-samples", "--set", "training.lr_schedule=cosine", "--set",
          "training.lr_warmup_steps=100");
    } finally {
      System.setErr(stderr);
    }
    String warnings = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, r.code(), r.all() + warnings);
    // 16 images in batches of 4 for 3 epochs: 12 steps, the last one's rate 11/100 of 0.001
    assertTrue(warnings.contains("training.lr_warmup_steps: is more than the run's 12 steps (3 epochs x 4 batches): "
        + "the warm-up does not end, and the last step's rate is 0.000110"), warnings);
    assertEquals(1, warnings.lines().filter(l -> l.contains("lr_warmup_steps")).count(), "warned once: " + warnings);
  }
}
