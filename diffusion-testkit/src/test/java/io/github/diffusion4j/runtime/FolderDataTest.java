package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.ImageCache;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.TestImages;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code data.kind: folder} and {@code cifar10} end to end, on the reference backend. */
class FolderDataTest {
  @TempDir
  Path dir;

  /** {@code n} 10x8 PNGs in two class folders, each a distinct gradient. */
  private Path folder(String name, int n) {
    Path root = dir.resolve(name);
    for (int i = 0; i < n; i++) {
      TestImages.write(root.resolve((i % 2 == 0 ? "cats" : "dogs") + "/" + String.format("%03d.png", i)),
          TestImages.rgb(10, 8, 5 * i, 2 * i, 255 - i));
    }
    return root;
  }

  private String yaml(String dataLines) {
    return String.join("\n",
        "backend: reference",
        "seed: 3",
        "data:",
        dataLines,
        "model:",
        "  hidden: 16",
        "schedule:",
        "  num_train_timesteps: 20",
        "training:",
        "  epochs: 2",
        "  batch_size: 8",
        "  log_every: 2",
        "  image_log_every: 0",
        "sampling:",
        "  num_inference_steps: 5",
        "output:",
        "  dir: " + dir.resolve("runs"),
        "");
  }

  private String folderData(Path root, String... more) {
    return String.join("\n", "  kind: folder", "  image_shape: [3, 8, 8]", "  root: " + root,
        String.join("\n", more));
  }

  private Path write(String text) throws IOException {
    Path p = dir.resolve("run.yaml");
    Files.writeString(p, text);
    return p;
  }

  @Test
  void trainsFromAFolderAndRecordsWhatItUsed() throws IOException {
    Path train = folder("train", 40);
    Path eval = folder("eval", 12);
    Path yaml = write(yaml(folderData(train, "  eval_root: " + eval, "  eval_size: 10")));
    RunFolder run = new RunFolder(dir.resolve("runs/a"));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, run)) {
      assertEquals(Shape.of(3, 8, 8), d.imageShape());
      Dataset t = d.trainingData();
      assertEquals(40, t.size());
      assertEquals(10, d.evalData().size(), "eval_size takes 10 of the 12, spread evenly");
      float[] first = new float[3 * 64];
      t.copyImage(0, first, 0);
      // image 0 is 10x8, cropped to its centre 8x8: columns 1..8, red = 5 * 0 + x
      assertEquals(1 / 255f * 2 - 1, first[0], 1e-6f);
      assertEquals(1f, first[128], 1e-6f, "blue 255");
      TrainingSummary s = r.run();
      assertTrue(s.completed());
      assertEquals(10, s.progress().step(), "40 images in batches of 8, 2 epochs");
      DataReport report = d.dataReport();
      assertEquals(List.of("cats", "dogs"), report.train().classes());
      assertEquals(ImageCache.Status.BUILT, report.train().cacheStatus().orElseThrow());
      assertTrue(report.train().cacheFile().orElseThrow().startsWith(dir.resolve("runs").resolve(
          DataSets.DEFAULT_CACHE_DIR)), "the default cache folder is under output.dir");
      assertTrue(report.lines(5).get(0).startsWith("train: 40 images from " + train.toAbsolutePath()
          + ", 2 classes; cache "), report.lines(5).toString());
      assertTrue(report.lines(5).get(1).startsWith("eval: 10 images from " + eval.toAbsolutePath() + " (10 of 12)"),
          report.lines(5).toString());
    }
    String data = Files.readAllLines(run.metrics()).get(0);
    assertTrue(data.startsWith("{\"type\":\"data\",\"step\":0,\"kind\":\"folder\",\"train\":{\"source\":\""), data);
    assertTrue(data.contains("\"images\":40,\"available\":40,\"skipped\":0,\"classes\":[\"cats\",\"dogs\"]"), data);
    try (Diffusion d = Diffusion.open(yaml)) {
      assertEquals(ImageCache.Status.REUSED, d.dataReport().train().cacheStatus().orElseThrow(),
          "a second run (or a resumed one) reuses the cache");
    }
  }

  @Test
  void theImageShapeComesFromTheConfigurationSoSamplingNeedsNoData() throws IOException {
    Path missing = dir.resolve("gone");
    Path yaml = write(yaml(folderData(missing)));
    try (Diffusion d = Diffusion.open(yaml)) {
      assertEquals(Shape.of(3, 8, 8), d.imageShape(), "no data read");
      ConfigException e = assertThrows(ConfigException.class, d::trainingData);
      assertEquals("data.root", e.path());
      assertEquals(yaml + ":6:9: data.root: no such folder: " + missing, e.getMessage());
    }
    Path train = folder("train", 16);
    Files.writeString(yaml, yaml(folderData(train)));
    RunFolder run = new RunFolder(dir.resolve("runs/b"));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, run)) {
      assertTrue(r.run().completed());
    }
    AtomicFiles.deleteRecursively(train);
    try (TrainedModel m = TrainedModel.load(run.root(), List.of())) {
      float[] x = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 1), SamplingListener.NONE);
      assertEquals(2 * 3 * 64, x.length, "a checkpoint of a folder run samples without its images");
    }
  }

  @Test
  void aCheckpointReadsItsImagesThroughTheCacheBesideItsRunFolderWhereverOutputDirPointed() throws IOException {
    Path train = folder("train", 16);
    Path eval = folder("eval", 8);
    Path yaml = write(yaml(folderData(train, "  eval_root: " + eval)));
    RunFolder run = new RunFolder(dir.resolve("runs/c"));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, run)) {
      assertTrue(r.run().completed());
    }
    // the runs folder moved (or, as for a relative output.dir, eval runs in another working directory): the
    // recorded output.dir no longer holds the run, the folder beside the run folder does
    Path moved = Files.move(dir.resolve("runs"), dir.resolve("moved"));
    try (TrainedModel m = TrainedModel.load(moved.resolve("c"), List.of())) {
      assertEquals(8, m.diffusion().evalData().size());
      DataReport.Part part = m.diffusion().dataReport().eval().orElseThrow();
      assertEquals(ImageCache.Status.REUSED, part.cacheStatus().orElseThrow(), "the training run's cache");
      assertTrue(part.cacheFile().orElseThrow().startsWith(moved.resolve(DataSets.DEFAULT_CACHE_DIR)),
          part.cacheFile().toString());
    }
    assertFalse(Files.exists(dir.resolve("runs")), "nothing made where the recorded output.dir points");
    // a cache_dir of the configuration's own, or given with --set, is where it says
    Path own = dir.resolve("own-cache");
    try (TrainedModel m = TrainedModel.load(moved.resolve("c"), List.of("data.cache_dir=" + own))) {
      assertEquals(8, m.diffusion().evalData().size());
      assertTrue(m.diffusion().dataReport().eval().orElseThrow().cacheFile().orElseThrow().startsWith(own));
    }
  }

  /**
   * A checkpoint whose evaluation images are a folder of their own is evaluated without its training folder (moved,
   * or on another machine: it was "data.root: no such folder"): the same reference images, from the same cache, as
   * with the training folder there; the training data itself is still refused at its key.
   */
  @Test
  void aCheckpointWithItsOwnEvaluationFolderIsEvaluatedWithoutItsTrainingFolder() throws IOException {
    Path train = folder("train", 16);
    Path eval = folder("eval", 8);
    Path yaml = write(yaml(folderData(train, "  eval_root: " + eval)));
    RunFolder run = new RunFolder(dir.resolve("runs/e"));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, run)) {
      assertTrue(r.run().completed());
    }
    float[] before;
    try (TrainedModel m = TrainedModel.load(run.root(), List.of())) {
      before = m.diffusion().referenceImages(8);
    }
    Files.move(train, dir.resolve("train-moved"));
    try (TrainedModel m = TrainedModel.load(run.root(), List.of())) {
      assertArrayEquals(before, m.diffusion().referenceImages(8), "the evaluation folder's images, as before");
      assertEquals("the evaluation images", m.diffusion().referenceSource());
      ConfigException e = assertThrows(ConfigException.class, () -> m.diffusion().trainingData());
      assertEquals("data.root", e.path());
    }
  }

  @Test
  void tenThousandImagesWithOneBadOne() throws IOException {
    Path root = dir.resolve("many");
    byte[] png = TestImages.encode(TestImages.rgb(8, 8, 1, 2, 3), "png");
    for (int i = 0; i < 10_000; i++) {
      TestImages.write(root.resolve(String.format("d%02d/%05d.png", i / 1000, i)), png);
    }
    Path bad = TestImages.write(root.resolve("d04/04321.png"), TestImages.truncated(png, png.length / 2));
    Path yaml = write(yaml(folderData(root, "  bad_data: skip")));
    try (Diffusion d = Diffusion.open(yaml)) {
      DataReport r = d.dataReport();
      assertEquals(9_999, d.trainingData().size());
      assertEquals(1, r.train().skippedCount());
      assertEquals(bad.toAbsolutePath(), r.train().skipped().get(0).file());
      List<String> lines = r.lines(5);
      assertTrue(lines.get(0).contains("9,999 images from " + root.toAbsolutePath() + ", 10 classes; 1 skipped as "
          + "unusable; cache "), lines.toString());
      assertTrue(lines.get(1).startsWith("  skipped " + bad.toAbsolutePath() + ": is truncated or corrupt: "),
          lines.toString());
    }
    Files.writeString(yaml, yaml(folderData(root, "  bad_data: stop")));
    try (Diffusion d = Diffusion.open(yaml)) {
      DataFileException e = assertThrows(DataFileException.class, d::trainingData);
      assertEquals(bad.toAbsolutePath(), e.file());
      assertTrue(e.getMessage().contains("(1 of 10000 items are unusable; data.bad_data is stop"), e.getMessage());
    }
  }

  @Test
  void cifar10BatchesTrainWithTheTestBatchForEvaluation() throws IOException {
    Path root = dir.resolve("cifar");
    int[] labels = new int[24];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 10;
    }
    TestImages.cifarBatch(root.resolve("data_batch_1.bin"), labels);
    TestImages.cifarBatch(root.resolve("data_batch_2.bin"), labels);
    TestImages.cifarBatch(root.resolve("test_batch.bin"), 1, 2, 3, 4, 5);
    Path yaml = write(yaml(String.join("\n", "  kind: cifar10", "  root: " + root, "  train_size: 40",
        "  cache_dir: " + dir.resolve("cifar-cache"))));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, new RunFolder(dir.resolve("runs/c")))) {
      assertEquals(Shape.of(3, 32, 32), d.imageShape(), "the default for cifar10");
      assertEquals(40, d.trainingData().size());
      assertEquals(5, d.evalData().size());
      assertEquals(List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
          d.dataReport().train().classes());
      assertTrue(d.dataReport().train().cacheFile().orElseThrow().startsWith(dir.resolve("cifar-cache")));
      float[] img = new float[3 * 1024];
      d.evalData().copyImage(0, img, 0);
      assertEquals(-1f, img[0], 0f, "test record 0, pixel 0 is 0");
      assertTrue(r.run().completed());
    }
  }

  @Test
  void randomFlipsAreAppliedAndAResumedRunEndsBitIdentical() throws IOException {
    Path root = folder("train", 24);
    String flipping = yaml(folderData(root, "  random_flip: true"));
    RunFolder whole = new RunFolder(dir.resolve("runs/whole"));
    RunFolder parts = new RunFolder(dir.resolve("runs/parts"));
    RunFolder plain = new RunFolder(dir.resolve("runs/plain"));
    Path yaml = write(flipping);
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, whole)) {
      r.run();
    }
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, parts)) {
      r.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 4) {
            r.requestStop();
          }
        }
      });
    }
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.resume(d, parts)) {
      assertEquals(4, r.startsFrom().step());
      assertTrue(r.run().completed());
    }
    Files.writeString(yaml, yaml(folderData(root)));
    try (Diffusion d = Diffusion.open(yaml); TrainingRun r = TrainingRun.start(d, plain)) {
      r.run();
    }
    String last = "step-00000006";
    Checkpoint a = Checkpoint.read(whole.checkpoints().resolve(last));
    Checkpoint b = Checkpoint.read(parts.checkpoints().resolve(last));
    Checkpoint c = Checkpoint.read(plain.checkpoints().resolve(last));
    assertEquals(a.content().model(), b.content().model(), "bit-identical after a resume: flips are keyed");
    assertFalse(a.content().model().equals(c.content().model()), "flipping changes what is trained on");
  }

  @Test
  void configurationMistakesAreLocated() throws IOException {
    Path root = folder("train", 8);
    ConfigException noShape = assertThrows(ConfigException.class, () -> Diffusion.open(write(yaml(String.join("\n",
        "  kind: folder", "  root: " + root)))));
    assertEquals("data.image_shape", noShape.path());
    assertEquals("required when kind is folder: the [C, H, W] every image is resized to, e.g. [3, 64, 64]",
        noShape.detail());
    ConfigException twoChannels = assertThrows(ConfigException.class, () -> Diffusion.open(write(yaml(
        folderData(root).replace("[3, 8, 8]", "[2, 8, 8]")))));
    assertEquals("must have 1 (grayscale) or 3 (RGB) channels when kind is folder, got [2, 8, 8]",
        twoChannels.detail());
    ConfigException noRoot = assertThrows(ConfigException.class, () -> Diffusion.open(write(yaml(String.join("\n",
        "  kind: cifar10")))));
    assertEquals("data.root", noRoot.path());
    ConfigException wrongKind = assertThrows(ConfigException.class, () -> Diffusion.open(write(yaml(String.join("\n",
        "  image_shape: [3, 5, 5]", "  bad_data: skip")))));
    assertEquals("data.bad_data", wrongKind.path());
    assertEquals("applies only when kind is folder or cifar10 (kind here is gradients); remove it or change kind",
        wrongKind.detail());
    ConfigException evalRoot = assertThrows(ConfigException.class, () -> Diffusion.open(write(yaml(String.join("\n",
        "  kind: cifar10", "  root: " + root, "  eval_root: " + root)))));
    assertEquals("applies only when kind is folder (kind here is cifar10); remove it or change kind",
        evalRoot.detail());
    Path yaml = write(yaml(folderData(root)).replace("batch_size: 8", "batch_size: 9"));
    try (Diffusion d = Diffusion.open(yaml)) {
      ConfigException batch = assertThrows(ConfigException.class, d::trainingData);
      assertEquals("training.batch_size", batch.path());
      assertEquals("must be at most the 8 training images of " + root + ", got 9", batch.detail());
    }
    try (Stream<Path> made = Files.list(dir)) {
      assertFalse(made.anyMatch(p -> p.getFileName().toString().equals("runs")), "nothing was built for bad configs");
    }
  }

  /**
   * With {@code bad_data: skip}, the images left after the unusable ones are skipped must still fill a batch (the
   * listing had enough, the decoding left too few), and a folder of which none is usable names a file and its
   * problem; a data.root or data.eval_root that is a file is refused at its key.
   */
  @Test
  void tooFewUsableImagesAndAFileForAFolderAreRefusedAtTheirKeys() throws IOException {
    Path root = folder("train", 9);
    byte[] png = TestImages.encode(TestImages.rgb(10, 8, 1, 2, 3), "png");
    for (String name : List.of("cats/000.png", "dogs/001.png")) {
      TestImages.write(root.resolve(name), TestImages.truncated(png, png.length / 2));
    }
    Path yaml = write(yaml(folderData(root, "  bad_data: skip")));
    try (Diffusion d = Diffusion.open(yaml)) {
      ConfigException batch = assertThrows(ConfigException.class, d::trainingData);
      assertEquals("training.batch_size", batch.path());
      assertEquals("must be at most the 7 usable training images of " + root + " (2 skipped), got 8", batch.detail());
    }
    Path allBad = dir.resolve("bad");
    for (int i = 0; i < 8; i++) {
      TestImages.write(allBad.resolve(String.format("%03d.png", i)), TestImages.truncated(png, png.length / 2));
    }
    Files.writeString(yaml, yaml(folderData(allBad, "  bad_data: skip")));
    try (Diffusion d = Diffusion.open(yaml)) {
      DataFileException e = assertThrows(DataFileException.class, d::trainingData);
      assertEquals(allBad.resolve("000.png").toAbsolutePath(), e.file());
      assertTrue(e.getMessage().contains("is truncated or corrupt"), e.getMessage());
      assertTrue(e.getMessage().endsWith("(none of the 8 items of bad is usable; 'diffusion data check' lists the "
          + "problems)"), e.getMessage());
    }
    Path file = dir.resolve("not-a-folder.png");
    Files.write(file, png);
    for (String key : List.of("root", "eval_root")) {
      String data = key.equals("root") ? folderData(file) : folderData(root, "  eval_root: " + file);
      Files.writeString(yaml, yaml(data));
      try (Diffusion d = Diffusion.open(yaml)) {
        ConfigException e = assertThrows(ConfigException.class, d::trainingData);
        assertEquals("data." + key, e.path());
        assertEquals("is not a folder: " + file, e.detail());
      }
    }
  }

  /**
   * A cache folder the user may not write (another user's, shared read-only, or the .data-cache another user left in
   * a shared output.dir) serves where it holds every cache up to date: data.cache_dir was refused up front however
   * up to date its caches were, and a default .data-cache with a stale cache was found only once every image had
   * been decoded ("cannot write the image cache: permission denied"). isUpToDate is what the check asks, run for
   * everyone; the folder itself is made read-only where the tests do not run as root (root may write anywhere).
   */
  @Test
  void aCacheFolderThatCannotBeWrittenServesWhereItsCachesAreUpToDate() throws IOException {
    Path root = folder("train", 8);
    Path cache = dir.resolve("shared-cache");
    Path yaml = write(yaml(folderData(root, "  cache_dir: " + cache)));
    io.github.diffusion4j.data.ImageFit fit;
    try (Diffusion d = Diffusion.open(yaml)) {
      d.trainingData();
      fit = d.config().data().fit();
    }
    io.github.diffusion4j.data.ImageFolder listed = io.github.diffusion4j.data.ImageFolder.scan(root, fit);
    Path file = io.github.diffusion4j.io.ImageCache.fileFor(cache, listed);
    assertTrue(io.github.diffusion4j.io.ImageCache.isUpToDate(file, listed));
    assertFalse(io.github.diffusion4j.io.ImageCache.isUpToDate(cache.resolve("other.cache"), listed));
    if ("root".equals(System.getProperty("user.name"))) {
      return;
    }
    Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      try (Diffusion d = Diffusion.open(yaml)) {
        d.check();
        d.trainingData(); // reused, nothing written
      }
      Files.setLastModifiedTime(root.resolve("cats/000.png"), java.nio.file.attribute.FileTime.fromMillis(0));
      try (Diffusion d = Diffusion.open(yaml)) {
        ConfigException e = assertThrows(ConfigException.class, d::check);
        assertEquals("data.cache_dir", e.path());
        assertEquals(cache + ": cannot create files in " + cache + " (read-only or permission denied); a folder that "
            + "cannot be written serves only where it holds these images' caches, up to date: give a data.cache_dir "
            + "of your own", e.detail());
      }
    } finally {
      Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void theChecksBeforeTrainingListTheFoldersWithoutDecodingThem() throws IOException {
    Path root = folder("train", 8);
    Path missing = dir.resolve("nowhere");
    try (Diffusion d = Diffusion.open(write(yaml(folderData(missing))))) {
      assertEquals("data.root", assertThrows(ConfigException.class, d::check).path());
    }
    try (Diffusion d = Diffusion.open(write(yaml(folderData(root, "  eval_root: " + missing))))) {
      assertEquals("data.eval_root", assertThrows(ConfigException.class, d::check).path());
    }
    // a cache folder that is a file, or under one: found by the checks, not after the images are decoded
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    for (Path cache : List.of(file, file.resolve("cache"))) {
      try (Diffusion d = Diffusion.open(write(yaml(folderData(root, "  cache_dir: " + cache))))) {
        ConfigException e = assertThrows(ConfigException.class, d::check);
        assertEquals("data.cache_dir", e.path());
        assertTrue(e.detail().contains("is not a folder"), e.detail());
      }
    }
    try (Diffusion d = Diffusion.open(write(yaml(folderData(root)).replace("batch_size: 8", "batch_size: 9")))) {
      ConfigException batch = assertThrows(ConfigException.class, d::check);
      assertEquals("training.batch_size", batch.path());
      assertEquals("must be at most the 8 training images of " + root + ", got 9", batch.detail());
    }
    // the batch size left to its default (128) in a file without a training section, and an override that made
    // the section to set another key of it: the file is at fault, not the override
    Path yaml = write(yaml(folderData(root)).replaceAll("training:\n(  .*\n)*", ""));
    assertFalse(Files.readString(yaml).contains("training"), Files.readString(yaml));
    try (Diffusion d = Diffusion.open(yaml, List.of("training.epochs=1"))) {
      ConfigException batch = assertThrows(ConfigException.class, d::check);
      assertEquals("training.batch_size", batch.path());
      assertEquals(yaml.toString(), batch.file());
    }
    try (Diffusion d = Diffusion.open(yaml, List.of("training.batch_size=100"))) {
      assertEquals("--set training.batch_size=100", assertThrows(ConfigException.class, d::check).file());
    }
    // nothing is decoded or cached by the checks
    Path bad = folder("withbad", 8);
    Files.writeString(bad.resolve("cats/broken.png"), "not a png");
    try (Diffusion d = Diffusion.open(write(yaml(folderData(bad))))) {
      d.check();
    }
    try (Stream<Path> made = Files.list(dir)) {
      assertFalse(made.anyMatch(p -> p.getFileName().toString().equals("runs")), "no cache was built");
    }
  }

  @Test
  void referenceImagesAreSpreadOverTheClassesNotTheFirstOnes() throws IOException {
    Path eval = folder("eval", 12);
    Path yaml = write(yaml(folderData(folder("train", 8), "  eval_root: " + eval)));
    try (Diffusion d = Diffusion.open(yaml)) {
      float[] ref = d.referenceImages(4);
      assertEquals(4 * 3 * 64, ref.length);
      // sorted: cats/000, 002, ..., 010, then dogs/001, ..., 011; the golden-ratio stride 7 picks 0, 7, 2, 9:
      // cats 0 and 4, dogs 3 and 7
      float[] reds = new float[4];
      for (int i = 0; i < 4; i++) {
        reds[i] = Math.round(ref[i * 192] * 255) - 1;
      }
      assertArrayEquals(new float[] {0, 15, 20, 35}, reds, "two images of each class");
    }
  }

  @Test
  void theLimitsSpreadOverTheSortedOrder() throws IOException {
    Path root = folder("train", 20);
    Path yaml = write(yaml(folderData(root, "  train_size: 8")));
    try (Diffusion d = Diffusion.open(yaml)) {
      Dataset t = d.trainingData();
      assertEquals(8, t.size());
      float[] img = new float[3 * 64];
      float[] reds = new float[8];
      for (int i = 0; i < 8; i++) {
        t.copyImage(i, img, 0);
        reds[i] = Math.round((img[0] + 1) / 2 * 255) - 1;
      }
      // sorted: cats/000, 002, ..., 018, then dogs/001, ..., 019; picks 0, 2, 5, 7, 10, 12, 15, 17
      assertArrayEquals(new float[] {0, 20, 50, 70, 5, 25, 55, 75}, reds);
    }
  }
}
