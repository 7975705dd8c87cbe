package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.FolderLock;
import io.github.diffusion4j.io.SafeTensors;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.training.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or careless user still broke (issue 17), on the reference backend: configurations that
 * fail leave nothing behind, a run folder has one writer, readers never disturb it, every file a command
 * reads is checked and named, and sampling streams.
 */
class RunReliabilityTest {
  @TempDir
  Path dir;

  /** {@link TrainingRunTest}'s tiny run, one epoch of 7 steps unless overridden. */
  private Diffusion open(String... overrides) throws IOException {
    Path yaml = dir.resolve("run.yaml");
    Files.writeString(yaml, TrainingRunTest.TINY);
    List<String> all = new ArrayList<>(List.of("training.epochs=1", "training.image_log_every=0"));
    all.addAll(List.of(overrides));
    return Diffusion.open(yaml, all);
  }

  private Path trained() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
    }
    return a.checkpoints().resolve("step-00000007");
  }

  // ---- item 3: check() runs every check train runs, and a failing configuration leaves no folder ----------

  @Test
  void checkFindsWhatTrainWouldFindWithoutLoadingAnything() throws IOException {
    try (Diffusion d = open()) {
      d.check();
    }
    String[][] cases = {
        {"sampling.sampler=euler", "sampling.sampler", "unknown sampler 'euler'"},
        {"backend=tpu", "backend", "unknown backend 'tpu'"},
        {"sampling.options={order: 2}", "sampling.options.order", "order"},
        {"model.hidden=2000000000", "model.hidden", "more than one tensor holds"},
        {"output.dir=" + dir.resolve("run.yaml"), "output.dir", "is not a folder"},
        {"output.dir=" + dir.resolve("run.yaml/runs"), "output.dir", "run.yaml is not a folder"},
        {"output.dir=" + readOnlyFolder().resolve("runs"), "output.dir", "cannot create files in"},
    };
    for (String[] c : cases) {
      ConfigException e = assertThrows(ConfigException.class, () -> {
        try (Diffusion d = open(c[0])) {
          d.check();
        }
      }, c[0]);
      assertTrue(e.path().startsWith(c[1]), c[0] + ": " + e.getMessage());
      assertTrue(e.getMessage().contains(c[2]), e.getMessage());
    }
    // image logs are pictures: 4 channels passed, and the first image log failed mid-run; a run without image logs
    // may train them (the command line's train, which draws samples.png, refuses them itself)
    try (Diffusion d = open("data.image_shape=[4, 5, 5]", "training.image_log_every=4")) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertEquals("data.image_shape", e.path());
      assertTrue(e.getMessage().contains("must have 1 (grayscale) or 3 (RGB) channels for the run's image logs "
          + "(training.image_log_every 4; 0 turns them off), got [4, 5, 5]"), e.getMessage());
    }
    try (Diffusion d = open("data.image_shape=[4, 5, 5]"); TrainingRun run = TrainingRun.start(d,
        new RunFolder(dir.resolve("four-channels")))) {
      assertTrue(run.run().completed(), "trained without image logs");
    }
    try (Diffusion d = open("output.dir=" + dir, "output.name=run.yaml")) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertEquals("output.name", e.path());
      assertTrue(e.getMessage().endsWith("run.yaml is a file, not a run folder"), e.getMessage());
    }
  }

  /** A folder where files cannot be created, also for root (whom permission bits do not bind). */
  private Path readOnlyFolder() throws IOException {
    if ("root".equals(System.getProperty("user.name"))) {
      return Path.of("/sys/kernel");
    }
    Path readOnly = Files.createDirectories(dir.resolve("read-only"));
    readOnly.toFile().setWritable(false, false);
    return readOnly;
  }

  @Test
  void aRunWhoseConfigurationFailsLeavesNoFolder() throws IOException {
    RunFolder folder = new RunFolder(dir.resolve("runs/new"));
    Path missing = dir.resolve("missing-idx.gz");
    List<List<String>> bad = List.of(
        List.of("sampling.sampler=euler"),
        List.of("backend=tpu"),
        List.of("sampling.options={order: 2}"),
        List.of("data.kind=idx", "data.image_shape=[1, 28, 28]", "data.train_images=" + missing,
            "data.eval_images=" + missing));
    for (List<String> overrides : bad) {
      try (Diffusion d = open(overrides.toArray(String[]::new))) {
        assertThrows(ConfigException.class, () -> TrainingRun.start(d, folder).close(), overrides.toString());
      }
      assertFalse(Files.exists(folder.root().getParent()), overrides + " left " + folder.root().getParent());
    }
  }

  // ---- item 5: one writer per run folder; readers see complete checkpoints and change nothing -------------

  @Test
  void aRunFolderHasOneWriterAndIsFreedWhenTheRunCloses() throws IOException {
    RunFolder folder = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.epochs=2")) {
      TrainingRun first = TrainingRun.start(d, folder);
      try (Diffusion d2 = open("training.epochs=2")) {
        FolderLock.FolderInUseException e = assertThrows(FolderLock.FolderInUseException.class,
            () -> TrainingRun.start(d2, folder));
        assertTrue(e.getMessage().contains("in use by this process"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertThrows(FolderLock.FolderInUseException.class, () -> TrainingRun.resume(d2, folder).close(),
            "not even to resume");
      }
      assertEquals("this process", FolderLock.owner(folder.root()).orElseThrow());
      // a reader during training: no checkpoint yet, said so
      CheckpointException none = assertThrows(CheckpointException.class,
          () -> TrainedModel.load(folder.root(), List.of()));
      assertTrue(none.getMessage().contains("no checkpoint yet; the run is still training (this process)"),
          none.getMessage());
      first.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 9) {
            // the writer's temporary checkpoint folder of a save in progress: a reader must leave it alone
            try {
              Files.createDirectories(folder.checkpoints().resolve(".tmp-step-00000014-123"));
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            try (TrainedModel m = TrainedModel.load(folder.root(), List.of())) {
              assertEquals("step-00000007", m.checkpoint().directory().getFileName().toString());
            }
            assertTrue(Files.isDirectory(folder.checkpoints().resolve(".tmp-step-00000014-123")));
          }
        }
      });
      first.close();
      assertTrue(FolderLock.owner(folder.root()).isEmpty(), "released");
      try (TrainingRun again = TrainingRun.resume(d, folder)) {
        assertEquals(14, again.startsFrom().step());
      }
    }
  }

  @Test
  void aRunWithoutCheckpointsThatStoppedIsToldApart() throws IOException {
    Path run = dir.resolve("stopped");
    Files.createDirectories(run.resolve("checkpoints"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(run, List.of()));
    assertTrue(e.getMessage().endsWith("no checkpoint yet; the run stopped before it saved one; train it again"),
        e.getMessage());
    // its checkpoints/ folder given instead: the same (it said "missing model.safetensors (not a checkpoint folder,
    // and no checkpoints/ inside)")
    e = assertThrows(CheckpointException.class, () -> TrainedModel.load(run.resolve("checkpoints"), List.of()));
    assertEquals(run.resolve("checkpoints") + ": no checkpoint yet; the run stopped before it saved one; train it again",
        e.getMessage());
  }

  /**
   * A path that is no checkpoint is said as what it is: missing, a file (the weights file itself), a folder without
   * model.safetensors or checkpoints/.
   */
  @Test
  void aPathThatIsNoCheckpointIsSaidAsWhatItIs() throws IOException {
    Path file = Files.writeString(dir.resolve("model.safetensors"), "");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Map<Path, String> said = Map.of(
        dir.resolve("missing"), ": no such checkpoint folder",
        file, ": not a folder; pass a checkpoint folder (with model.safetensors), a run folder or a diffusers folder "
            + "(with config.json)",
        empty, ": missing model.safetensors (not a checkpoint folder, and no checkpoints/ inside)");
    for (Map.Entry<Path, String> p : said.entrySet()) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(p.getKey(), List.of()));
      assertEquals(p.getKey() + p.getValue(), e.getMessage());
    }
  }

  /**
   * A checkpoint inside a run folder the user may not search (mode 000, another user's) was "no such checkpoint
   * folder": it is said to be denied. Root is denied nothing, so this runs only for other users; the refusal is
   * simulated for everyone in FileProblemsTest.aFileInAFolderThatCannotBeSearchedIsSaidToBeDeniedNotMissing.
   */
  @Test
  void aCheckpointInAFolderThatCannotBeSearchedIsSaidToBeDeniedNotMissing() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
        "root may search any folder");
    Path run = Files.createDirectories(dir.resolve("denied"));
    Path checkpoint = Files.createDirectories(run.resolve("checkpoints").resolve("step-00000001"));
    Files.setPosixFilePermissions(run, java.util.Set.of());
    try {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(checkpoint, List.of()));
      assertEquals(checkpoint + ": cannot be read (permission denied: a folder on its path cannot be searched)",
          e.getMessage());
    } finally {
      Files.setPosixFilePermissions(run, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }

  /**
   * A checkpoint folder that is not there, beside checkpoints that are (a step written without its zero padding, or
   * one no longer kept), names the checkpoints its folder holds: their names are the way to spell one. Many are
   * given as a range.
   */
  @Test
  void aMissingCheckpointBesideOthersNamesThem() throws IOException {
    Path checkpoints = Files.createDirectories(dir.resolve("run").resolve("checkpoints"));
    for (long step : new long[] {140, 145, 150}) {
      Files.createDirectories(checkpoints.resolve(io.github.diffusion4j.io.CheckpointStore.directoryName(step)));
    }
    Path typed = checkpoints.resolve("step-150");
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(typed, List.of()));
    assertEquals(typed + ": no such checkpoint folder; " + checkpoints
        + " holds step-00000140, step-00000145, step-00000150", e.getMessage());
    for (long step = 1; step <= 3; step++) {
      Files.createDirectories(checkpoints.resolve(io.github.diffusion4j.io.CheckpointStore.directoryName(step)));
    }
    e = assertThrows(CheckpointException.class, () -> TrainedModel.load(typed, List.of()));
    assertEquals(typed + ": no such checkpoint folder; " + checkpoints
        + " holds 6 checkpoints, step-00000001 to step-00000150", e.getMessage());
  }

  // ---- item 4: every file is checked before use and named ------------------------------------------------

  private static void rewrite(Path file, String entry, float value, int[] shape) {
    StateDict w = SafeTensors.read(file).tensors();
    Map<String, FloatArray> m = new LinkedHashMap<>(w.entries());
    if (shape != null) {
      m.put(entry, FloatArray.of(io.github.diffusion4j.tensor.Shape.of(shape), new float[shape[0]]));
    } else {
      float[] v = m.get(entry).toArray();
      v[0] = value;
      m.put(entry, FloatArray.of(m.get(entry).shape(), v));
    }
    SafeTensors.write(file, StateDict.of(m), Map.of());
  }

  @Test
  void aBadEmaFileIsNamedAsSuch() throws IOException {
    Path cp = trained();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    rewrite(cp.resolve(Checkpoint.EMA_FILE), "model.2.bias", 0, new int[] {3});
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of()));
    assertTrue(e.getMessage().startsWith(cp.resolve(Checkpoint.EMA_FILE) + ": does not fit"), e.getMessage());
    assertTrue(e.getMessage().contains("'model.2.bias' has shape [3]"), e.getMessage());
    // and so when sampling with the model's own weights: every weight file is checked
    e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of("sampling.use_ema=false")));
    assertTrue(e.getMessage().startsWith(cp.resolve(Checkpoint.EMA_FILE) + ":"), e.getMessage());
    // and so when the run is resumed: the EMA file is named, not the model's weights that fit
    RunFolder run = new RunFolder(cp.getParent().getParent());
    try (Diffusion d = open("training.epochs=2")) {
      e = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, run));
      assertTrue(e.getMessage().startsWith(cp.resolve(Checkpoint.EMA_FILE) + ": "), e.getMessage());
      assertTrue(e.getMessage().contains("'model.2.bias'"), e.getMessage());
    }
  }

  @Test
  void aBadModelFileIsFoundWhenSamplingWithTheEmaWeights() throws IOException {
    Path cp = trained();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    rewrite(cp.resolve(Checkpoint.MODEL_FILE), "model.0.bias", Float.NaN, null);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of()));
    assertTrue(e.getMessage().startsWith(cp.resolve(Checkpoint.MODEL_FILE) + ": tensor 'model.0.bias' holds NaN"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("so the file is damaged"), e.getMessage());
  }

  /**
   * A sampler named by an override is checked before the weights are read (a large model's take a minute): with a
   * damaged weight file, a misspelt sampler is what is reported; the checkpoint's own sampler is not checked at load.
   */
  @Test
  void aMisspeltSamplerIsReportedBeforeTheWeightsAreRead() throws IOException {
    Path cp = trained();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    rewrite(cp.resolve(Checkpoint.MODEL_FILE), "model.0.bias", Float.NaN, null);
    io.github.diffusion4j.config.ConfigException e = assertThrows(io.github.diffusion4j.config.ConfigException.class,
        () -> TrainedModel.load(cp, List.of("sampling.sampler=ddimm")));
    assertTrue(e.getMessage().contains("sampling.sampler: unknown sampler 'ddimm'; available: "), e.getMessage());
    assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of("sampling.sampler=ddpm")),
        "a known sampler: the damaged weights are found as before");
  }

  @Test
  void theImageShapeIsReadFromTheConfigurationAloneBeforeALoad() throws IOException {
    Path cp = trained();
    io.github.diffusion4j.tensor.Shape shape;
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      shape = m.diffusion().imageShape();
    }
    Files.writeString(cp.resolve(Checkpoint.MODEL_FILE), "not weights"); // never read for it
    assertEquals(java.util.Optional.of(shape), TrainedModel.imageShape(cp, List.of()));
    assertEquals(java.util.Optional.of(shape), TrainedModel.imageShape(dir.resolve("a"), List.of()), "a run folder");
    assertEquals(java.util.Optional.empty(), TrainedModel.imageShape(dir.resolve("none"), List.of()));
    assertEquals(java.util.Optional.empty(), TrainedModel.imageShape(cp, List.of("no.such.key=1")),
        "what it cannot read, the load names");
  }

  /**
   * A run folder whose checkpoints/ or images/ the user may not write (a shared runs folder, another user's run)
   * was resumed, trained all its epochs and failed only at the checkpoint that would have saved them ("cannot write
   * checkpoint: permission denied"): it is refused before any training, naming the folder. /proc stands for a
   * folder no one may write (root is refused nothing else); checkpoints/ itself is tried where the tests do not run
   * as root.
   */
  @Test
  void aRunWhosePartsCannotBeWrittenIsRefusedBeforeAnyTraining() throws IOException {
    trained();
    RunFolder a = new RunFolder(dir.resolve("a"));
    Path proc = Path.of("/proc");
    if (Files.isDirectory(proc) && !io.github.diffusion4j.io.FileProblems.canCreateFilesIn(proc)) {
      if (Files.exists(a.images())) {
        io.github.diffusion4j.io.AtomicFiles.deleteRecursively(a.images());
      }
      Files.createSymbolicLink(a.images(), proc);
      String metrics = Files.readString(a.metrics());
      try (Diffusion d = open("training.epochs=2")) {
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
            () -> TrainingRun.resume(d, a));
        assertEquals("cannot resume " + a.root() + ": cannot create files in " + a.images() + " (read-only or "
            + "permission denied); resume a copy of the run that you own (cp -r)", e.getMessage());
      }
      assertEquals(metrics, Files.readString(a.metrics()), "nothing trained, nothing logged");
      Files.delete(a.images());
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      Files.setPosixFilePermissions(a.checkpoints(), java.nio.file.attribute.PosixFilePermissions.fromString(
          "r-xr-xr-x"));
      try (Diffusion d = open("training.epochs=2")) {
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
            () -> TrainingRun.resume(d, a));
        assertEquals("cannot resume " + a.root() + ": cannot create files in " + a.checkpoints() + " (read-only or "
            + "permission denied); resume a copy of the run that you own (cp -r)", e.getMessage());
      } finally {
        Files.setPosixFilePermissions(a.checkpoints(), java.nio.file.attribute.PosixFilePermissions.fromString(
            "rwxr-xr-x"));
      }
    }
  }

  @Test
  void aDamagedTrainingStateStopsResumingButNotSampling() throws IOException {
    Path cp = trained();
    float[] before;
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      before = m.sample(m.diffusion().sampler(), m.diffusion().request(4, 7), SamplingListener.NONE);
    }
    Path state = cp.resolve(Checkpoint.TRAINING_STATE_FILE);
    byte[] b = Files.readAllBytes(state);
    b[b.length / 2] ^= 1;
    Files.write(state, b);
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      assertArrayEquals(before, m.sample(m.diffusion().sampler(), m.diffusion().request(4, 7), SamplingListener.NONE));
    }
    CheckpointException e;
    try (Diffusion d = open()) {
      e = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, new RunFolder(dir.resolve("a"))));
    }
    assertTrue(e.getMessage().startsWith(state + ": checksum mismatch"), e.getMessage());
  }

  @Test
  void aNonFiniteValueInACheckpointStopsResumingAsDamageNotAsADivergence() throws IOException {
    // a NaN behind a matching (or no) manifest was resumed and failed at the first step as "training diverged"
    Path cp = trained();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    Path model = cp.resolve(Checkpoint.MODEL_FILE);
    io.github.diffusion4j.io.TensorFile f = io.github.diffusion4j.io.SafeTensors.read(model);
    StateDict.Builder b = StateDict.builder();
    String first = f.tensors().entries().keySet().iterator().next();
    f.tensors().entries().forEach((name, t) -> {
      float[] v = t.toArray();
      if (name.equals(first)) {
        v[1] = Float.NaN;
      }
      b.put(name, FloatArray.of(t.shape(), v));
    });
    io.github.diffusion4j.io.SafeTensors.write(model, b.build(), f.metadata());
    CheckpointException e;
    try (Diffusion d = open()) {
      e = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, new RunFolder(dir.resolve("a"))));
    }
    assertEquals(model + ": tensor '" + first + "' holds NaN at index 1; checkpoints are written with finite values "
        + "only, so the file is damaged", e.getMessage());
    // and sampling says the same (it said the weights did not fit the model of config.yaml)
    e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of()));
    assertEquals(model + ": tensor '" + first + "' holds NaN at index 1; checkpoints are written with finite values "
        + "only, so the file is damaged", e.getMessage());
  }

  @Test
  void aFolderOrAFifoWhereAFileShouldBeIsNamedAndNeverBlocks() throws Exception {
    Path cp = trained();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    Files.delete(cp.resolve(Checkpoint.EMA_FILE));
    Files.createDirectory(cp.resolve(Checkpoint.EMA_FILE));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of()));
    assertEquals(cp.resolve(Checkpoint.EMA_FILE) + ": is a folder, not a file", e.getMessage());
    Files.delete(cp.resolve(Checkpoint.EMA_FILE));
    Path fifo = cp.resolve(Checkpoint.TRAINING_STATE_FILE);
    Files.delete(fifo);
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    if (mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0) {
      // reading a FIFO without a writer would block forever
      java.util.concurrent.CompletableFuture<Throwable> f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          TrainedModel.load(cp, List.of()).close();
          return null;
        } catch (RuntimeException ex) {
          return ex;
        }
      });
      Throwable t = f.get(60, TimeUnit.SECONDS);
      assertEquals(fifo + ": is not a regular file (a FIFO, socket or device)", t.getMessage());
    }
    Files.delete(fifo);
    Files.delete(cp.resolve(Checkpoint.MODEL_FILE));
    Files.createDirectory(cp.resolve(Checkpoint.MODEL_FILE));
    e = assertThrows(CheckpointException.class, () -> Checkpoint.read(cp));
    assertEquals(cp.resolve(Checkpoint.MODEL_FILE) + ": is a folder, not a file", e.getMessage());
  }

  // ---- item 2: sampling streams, batch by batch, with the images of one batch ------------------------------

  @Test
  void imagesSampledInBatchesAreTheImagesOfOneBatch() throws IOException {
    try (Diffusion d = open(); TrainableModel m = d.createModel()) {
      int n = d.samplingBatchSize() * 2 + 37;
      SamplingRequest r = d.request(n, 4);
      float[] whole;
      try (TensorScope s = d.backend().tensors().openScope()) {
        whole = Normalization.denormalize(d.sampler().sample(m, d.backend().tensors(), r).toFloatArray());
      }
      List<long[]> batches = new ArrayList<>();
      float[] streamed = new float[whole.length];
      d.sampleImages(m, d.sampler(), r, SamplingListener.NONE, (first, images, count) -> {
        batches.add(new long[] {first, count});
        System.arraycopy(images, 0, streamed, (int) first * 75, count * 75);
      });
      assertEquals(3, batches.size());
      assertArrayEquals(new long[] {0, d.samplingBatchSize()}, batches.get(0));
      assertArrayEquals(new long[] {2L * d.samplingBatchSize(), 37}, batches.get(2));
      // per-item arithmetic of the reference backend does not depend on the batch: the same bits
      assertArrayEquals(whole, streamed, 0f);
      float[] reference = d.referenceImages(n);
      float[] sliced = d.referenceImages(100, 50);
      assertArrayEquals(java.util.Arrays.copyOfRange(reference, 100 * 75, 150 * 75), sliced, 0f);
    }
  }

  /**
   * A slice of a request (a shard: samples 130 .. 139) gives the same images as those samples of the whole request:
   * each sample's noise comes from its index in the whole request, not its place in the slice or the batch.
   */
  @Test
  void aSliceOfARequestSamplesTheSameImagesAsTheWholeRequest() throws IOException {
    try (Diffusion d = open(); TrainableModel m = d.createModel()) {
      SamplingRequest whole = d.request(140, 4);
      float[] all = d.sampleImages(m, d.sampler(), whole, SamplingListener.NONE);
      float[] shard = new float[10 * 75];
      d.sampleImages(m, d.sampler(), whole.slice(130, 10), SamplingListener.NONE,
          (first, images, count) -> System.arraycopy(images, 0, shard, (int) first * 75, count * 75));
      // per-item arithmetic of the reference backend does not depend on the batch: the same bits
      assertArrayEquals(java.util.Arrays.copyOfRange(all, 130 * 75, 140 * 75), shard, 0f);
    }
  }

  /**
   * The reference Gaussian fitted batch by batch is that of exactly the images asked for, the last partial batch
   * included: a count one batch and 3 more is fitted on that many images, with the mean of the images taken at once
   * (1e-9: the batches' sums may round otherwise than one sum).
   */
  @Test
  void theReferenceGaussianIsFittedOnTheImagesAskedFor() throws IOException {
    try (Diffusion d = open()) {
      int n = d.samplingBatchSize() + 3;
      io.github.diffusion4j.eval.Gaussian g = d.referenceGaussian(n);
      assertEquals(n, g.count());
      assertArrayEquals(io.github.diffusion4j.eval.Gaussian.fit(d.referenceImages(n), 75).mean(), g.mean(), 1e-9);
    }
  }

  /** The README's example: a checkpoint sampled into a file batch by batch, as one sample call would. */
  @Test
  void aCheckpointIsSampledIntoAFileBatchByBatch() throws IOException {
    Path cp = trained();
    Path file = dir.resolve("shard-0.npy");
    int n = 2100;
    try (TrainedModel m = TrainedModel.load(cp, List.of());
        io.github.diffusion4j.io.SampleWriter out = io.github.diffusion4j.io.SampleWriter.create(file,
            m.diffusion().imageShape(), n, Map.of())) {
      m.sample(m.diffusion().sampler(), m.diffusion().request(n, 7), SamplingListener.NONE,
          (first, images, count) -> out.write(images, count));
      out.commit();
      float[] inMemory = m.sample(m.diffusion().sampler(), m.diffusion().request(n, 7), SamplingListener.NONE);
      assertArrayEquals(io.github.diffusion4j.io.NpyWriter.toBytes(inMemory,
          io.github.diffusion4j.tensor.Shape.batchOf(n, m.diffusion().imageShape())), Files.readAllBytes(file));
    }
  }

  // ---- a service's lifecycle: close while sampling, interrupts -------------------------------------------

  @Test
  void closeWaitsForTheSamplingCallsInProgressAndLaterCallsAreRefused() throws Exception {
    Path cp = trained();
    TrainedModel m = TrainedModel.load(cp, List.of());
    java.util.concurrent.CountDownLatch sampling = new java.util.concurrent.CountDownLatch(2);
    java.util.concurrent.atomic.AtomicInteger lastSteps = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<float[]>> calls = new ArrayList<>();
      for (int k = 0; k < 2; k++) {
        calls.add(pool.submit(() -> m.sample(m.diffusion().sampler(), m.diffusion().request(64, 3), (i, plan, r) -> {
          if (i == 0) {
            sampling.countDown();
          }
          if (i == plan.size() - 1) {
            lastSteps.incrementAndGet();
          }
          try {
            Thread.sleep(20); // a slow listener: the call is still running when close comes
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        })));
      }
      assertTrue(sampling.await(30, TimeUnit.SECONDS));
      m.close();
      assertEquals(2, lastSteps.get(), "close returned before the sampling calls ended");
      for (java.util.concurrent.Future<float[]> c : calls) {
        assertEquals(64 * 75, c.get().length);
      }
      IllegalStateException after = assertThrows(IllegalStateException.class,
          () -> m.sample(m.diffusion().sampler(), m.diffusion().request(2, 1), SamplingListener.NONE));
      assertTrue(after.getMessage().contains("closed"), after.getMessage());
      m.close(); // twice: nothing
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The calls of {@code TrainedModel.model()} are held as sampling calls are: a close from another thread waits for a
   * prediction in progress (it freed the model's native memory under it), and a later call is refused as sampling
   * is. The prediction here reads its input slowly, until the test lets it go.
   */
  @Test
  void closeWaitsForAPredictionOfTheModelAndLaterCallsAreRefused() throws Exception {
    Path cp = trained();
    TrainedModel m = TrainedModel.load(cp, List.of());
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      io.github.diffusion4j.tensor.TensorFactory f = m.diffusion().backend().tensors();
      io.github.diffusion4j.tensor.Shape shape = io.github.diffusion4j.tensor.Shape.batchOf(2, m.diffusion().imageShape());
      java.util.concurrent.Future<float[]> predicted = pool.submit(() -> {
        try (TensorScope s = f.openScope()) {
          io.github.diffusion4j.tensor.Tensor x = f.zeros(shape);
          io.github.diffusion4j.tensor.Tensor slow = (io.github.diffusion4j.tensor.Tensor) java.lang.reflect.Proxy
              .newProxyInstance(getClass().getClassLoader(), new Class<?>[] {io.github.diffusion4j.tensor.Tensor.class},
                  (proxy, method, args) -> {
                    if (method.getName().equals("toFloatArray")) {
                      reading.countDown();
                      assertTrue(release.await(30, TimeUnit.SECONDS));
                    }
                    try {
                      return method.invoke(x, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                      throw e.getCause();
                    }
                  });
          return m.model().predict(slow, new int[] {1, 2}).toFloatArray();
        }
      });
      assertTrue(reading.await(30, TimeUnit.SECONDS), "the prediction is under way");
      // a sampling call of its own Diffusion holds it for the whole call, and runs the model itself (its slice
      // threads do not take the hold again behind a waiting close)
      io.github.diffusion4j.model.GuardedModel held = (io.github.diffusion4j.model.GuardedModel) m.model();
      org.junit.jupiter.api.Assertions.assertNotSame(held, held.within(m.diffusion().hold()));
      org.junit.jupiter.api.Assertions.assertSame(held, held.within(new io.github.diffusion4j.model.GuardedModel.Guard() {
        @Override
        public <T> T run(java.util.function.Supplier<T> call) {
          return call.get();
        }
      }), "another guard's caller gets the guarded model");
      assertEquals(2 * 75, m.diffusion().sampleImages(m.model(), m.diffusion().sampler(), m.diffusion().request(2, 1),
          SamplingListener.NONE).length);
      java.util.concurrent.Future<?> closing = pool.submit(m::close);
      Thread.sleep(300);
      assertFalse(closing.isDone(), "close waits for the prediction in progress");
      release.countDown();
      closing.get(30, TimeUnit.SECONDS);
      assertEquals(2 * 75, predicted.get(30, TimeUnit.SECONDS).length);
      for (org.junit.jupiter.api.function.Executable after : List.<org.junit.jupiter.api.function.Executable>of(
          () -> m.model().predict(null, new int[] {1}), () -> m.model().stateDict(),
          () -> m.exportDiffusers(dir.resolve("after")))) {
        IllegalStateException e = assertThrows(IllegalStateException.class, after);
        assertEquals("this Diffusion is closed (its backend is released; closing a TrainedModel closes its Diffusion): open or load another", e.getMessage(),
            "as sampling is refused");
      }
      assertFalse(Files.exists(dir.resolve("after")));
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void closeFromWithinASamplingCallIsRefusedNotADeadlock() throws IOException {
    Path cp = trained();
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.sample(m.diffusion().sampler(),
          m.diffusion().request(2, 1), (i, plan, r) -> m.close()));
      assertTrue(e.getMessage().contains("within a sampling call"), e.getMessage());
      assertEquals(2 * 75, m.sample(m.diffusion().sampler(), m.diffusion().request(2, 1), SamplingListener.NONE).length);
    }
  }

  @Test
  void anInterruptEndsSamplingBeforeTheNextStepAndTheThreadStaysInterrupted() throws IOException {
    Path cp = trained();
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      int[] steps = {0};
      java.util.concurrent.CancellationException e = assertThrows(java.util.concurrent.CancellationException.class,
          () -> m.sample(m.diffusion().sampler(), m.diffusion().request(4, 1), (i, plan, r) -> {
            steps[0]++;
            if (i == 2) {
              Thread.currentThread().interrupt();
            }
          }));
      assertTrue(Thread.interrupted(), "the interrupt is kept");
      assertEquals(3, steps[0]);
      assertTrue(e.getMessage().contains("interrupted before step 4 of 8"), e.getMessage());
      assertEquals(4 * 75, m.sample(m.diffusion().sampler(), m.diffusion().request(4, 1), SamplingListener.NONE).length);
    }
  }

  /**
   * An interrupt of the training thread stops the run with a final checkpoint, also at a step that writes an image log
   * (every 5 steps): drawing the log's titles loads fonts, and Java2D's font loading cleared the flag, so the run went
   * on to its end; and an interrupted thread's file channel refused the log's PNG.
   */
  @Test
  void anInterruptStopsTrainingWithAFinalCheckpoint() throws IOException {
    for (int imageLogEvery : new int[] {0, 5}) {
      RunFolder a = new RunFolder(dir.resolve("a" + imageLogEvery));
      try (Diffusion d = open("training.epochs=3", "training.checkpoint_every=100",
          "training.image_log_every=" + imageLogEvery); TrainingRun run = TrainingRun.start(d, a)) {
        io.github.diffusion4j.training.TrainingSummary s = run.run(new TrainingListener() {
          @Override
          public void onStep(long step, int epoch, double loss) {
            if (step == 10) {
              Thread.currentThread().interrupt();
            }
          }
        });
        assertTrue(Thread.interrupted(), "the interrupt is kept");
        assertFalse(s.completed());
        assertEquals(10, s.progress().step(), "image logs every " + imageLogEvery);
        assertEquals(a.checkpoints().resolve("step-00000010"), run.lastCheckpoint().orElseThrow());
        assertEquals(imageLogEvery > 0, Files.exists(a.imageLog(10)), "the step's image log is written");
      }
      try (TrainedModel m = TrainedModel.load(a.root(), List.of())) {
        assertEquals(a.checkpoints().resolve("step-00000010"), m.checkpoint().directory());
      }
    }
  }

  /** A listener that fails ends the run with a final checkpoint at its step, and its exception is thrown. */
  @Test
  void aFailingListenerLeavesAFinalCheckpointAtItsStep() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.epochs=3", "training.checkpoint_every=100");
        TrainingRun run = TrainingRun.start(d, a)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 9) {
            throw new IllegalStateException("the listener's bug");
          }
        }
      }));
      assertEquals("the listener's bug", e.getMessage());
      assertEquals(a.checkpoints().resolve("step-00000009"), run.lastCheckpoint().orElseThrow());
    }
    try (Diffusion d = open("training.epochs=3", "training.checkpoint_every=100");
        TrainingRun resumed = TrainingRun.resume(d, a)) {
      assertEquals(21, resumed.run().progress().step(), "resumed from step 9 to the end (7 batches x 3 epochs)");
    }
  }

  /**
   * A closed run, or a run of a closed {@code Diffusion}, is refused; closing from within the run (a listener) is
   * refused rather than waiting for itself.
   */
  @Test
  void closedRunsAreRefusedAndAListenerCannotCloseItsOwnRun() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open()) {
      TrainingRun run = TrainingRun.start(d, a);
      run.close();
      IllegalStateException e = assertThrows(IllegalStateException.class, run::run);
      assertTrue(e.getMessage().endsWith("this run is closed"), e.getMessage());
    }
    Diffusion d = open();
    TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("b")));
    d.close();
    assertThrows(IllegalStateException.class, run::run, "the Diffusion is closed");
    run.close();
    try (Diffusion e = open(); TrainingRun own = TrainingRun.start(e, new RunFolder(dir.resolve("c")))) {
      List<String> refused = new ArrayList<>();
      own.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 1) {
            for (Runnable close : List.<Runnable>of(own::close, e::close)) {
              try {
                close.run();
              } catch (IllegalStateException x) {
                refused.add(x.getMessage());
              }
            }
          }
        }
      });
      assertEquals(2, refused.size(), refused.toString());
      assertTrue(refused.get(0).endsWith("close() from within run() (a listener) on the same thread; close after run "
          + "returns"), refused.get(0));
      assertTrue(refused.get(1).startsWith("close() from within a sampling call or training run"), refused.get(1));
    }
  }

  /**
   * A new run's folder holding other files, or a {@code config.yaml} a run did not write (the user's own, which the
   * run's resolved one replaced), is refused before anything is written; a folder a run was started in (killed before
   * its first checkpoint) is taken, and {@link TrainingRun#startedOver()} says so.
   */
  @Test
  void aNewRunRefusesAFolderOfOtherFiles() throws IOException {
    Path mine = Files.createDirectories(dir.resolve("project"));
    Files.writeString(mine.resolve("notes.txt"), "mine");
    try (Diffusion d = open()) {
      io.github.diffusion4j.io.CheckpointException e = assertThrows(io.github.diffusion4j.io.CheckpointException.class,
          () -> TrainingRun.start(d, new RunFolder(mine)));
      assertEquals(mine.toAbsolutePath() + ": holds files a run does not write (notes.txt); a new run needs a new or "
          + "empty folder (choose another output.name or --run-dir)", e.getMessage());
      Files.delete(mine.resolve("notes.txt"));
      Files.writeString(mine.resolve("config.yaml"), TrainingRunTest.TINY);
      e = assertThrows(io.github.diffusion4j.io.CheckpointException.class, () -> TrainingRun.start(d, new RunFolder(mine)));
      assertTrue(e.getMessage().startsWith(mine.resolve("config.yaml").toAbsolutePath() + ": is not a run's resolved "
          + "configuration"), e.getMessage());
      assertEquals(TrainingRunTest.TINY, Files.readString(mine.resolve("config.yaml")), "the user's file is kept");
      assertEquals(List.of("config.yaml"), listing(mine), "nothing written");
    }
    // a run's own leftovers (killed before its first checkpoint): config.yaml, metrics.jsonl, the lock
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) {
      assertTrue(Files.exists(a.config()));
      assertFalse(run.startedOver(), "a new folder");
    }
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) {
      assertTrue(run.startedOver(), "the folder a run left before its first checkpoint is said to be taken again");
      assertFalse(run.run().progress().step() == 0);
    }
    try (Diffusion d = open(); TrainingRun run = TrainingRun.resume(d, a)) {
      assertFalse(run.startedOver(), "a resume");
    }
  }

  private static List<String> listing(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  /** A stop asked for while the run loads its data (before training's first step) is not lost. */
  @Test
  void aStopRequestedBeforeTheFirstStepStopsTheRun() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) {
      run.requestStop();
      io.github.diffusion4j.training.TrainingSummary s = run.run();
      assertFalse(s.completed());
      assertEquals(0, s.progress().step());
    }
  }

  /**
   * Closing a run, or its {@code Diffusion}, from another thread while it trains stops it (it writes its final
   * checkpoint) and waits for it; neither frees the model under the training thread.
   */
  @Test
  void closingWhileTrainingStopsTheRunAndWaitsForIt() throws Exception {
    for (boolean wholeDiffusion : new boolean[] {false, true}) {
      RunFolder a = new RunFolder(dir.resolve(wholeDiffusion ? "d" : "r"));
      Diffusion d = open("training.epochs=3", "training.checkpoint_every=100");
      TrainingRun run = TrainingRun.start(d, a);
      java.util.concurrent.CountDownLatch atStep3 = new java.util.concurrent.CountDownLatch(1);
      Thread[] closer = new Thread[1];
      java.util.concurrent.atomic.AtomicReference<Throwable> closeFailure = new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.CompletableFuture<io.github.diffusion4j.training.TrainingSummary> trained =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> run.run(new TrainingListener() {
            @Override
            public void onStep(long step, int epoch, double loss) {
              if (step == 3) {
                atStep3.countDown();
                // hold step 3 until the closer waits for the run (it has asked for the stop by then)
                long until = System.nanoTime() + 10_000_000_000L;
                while (closer[0] == null || closer[0].getState() != Thread.State.WAITING) {
                  if (System.nanoTime() > until) {
                    throw new AssertionError("the closer did not wait for the run");
                  }
                  Thread.onSpinWait();
                }
              }
            }
          }));
      assertTrue(atStep3.await(30, java.util.concurrent.TimeUnit.SECONDS));
      closer[0] = new Thread(() -> {
        try {
          if (wholeDiffusion) {
            d.close();
          } else {
            run.close();
          }
        } catch (Throwable t) {
          closeFailure.set(t);
        }
      });
      closer[0].start();
      io.github.diffusion4j.training.TrainingSummary s = trained.get(30, java.util.concurrent.TimeUnit.SECONDS);
      closer[0].join(30_000);
      assertFalse(closer[0].isAlive());
      assertEquals(null, closeFailure.get());
      assertFalse(s.completed(), wholeDiffusion ? "Diffusion.close" : "TrainingRun.close");
      assertEquals(3, s.progress().step());
      assertEquals(a.checkpoints().resolve("step-00000003"), run.lastCheckpoint().orElseThrow());
      run.close();
      d.close();
    }
  }

  @Test
  void anInterruptEndsAPredictionPassBetweenTwoLayers() throws IOException {
    Path cp = trained();
    try (TrainedModel m = TrainedModel.load(cp, List.of())) {
      io.github.diffusion4j.tensor.TensorFactory f = m.diffusion().backend().tensors();
      io.github.diffusion4j.tensor.Shape shape = io.github.diffusion4j.tensor.Shape.batchOf(2, m.diffusion().imageShape());
      Thread.currentThread().interrupt();
      java.util.concurrent.CancellationException e;
      try (io.github.diffusion4j.tensor.TensorScope s = f.openScope()) {
        e = assertThrows(java.util.concurrent.CancellationException.class,
            () -> m.model().predict(f.zeros(shape), new int[] {1, 2}));
      }
      assertTrue(Thread.interrupted(), "the interrupt is kept");
      assertTrue(e.getMessage().startsWith("mlp: interrupted during a prediction pass, before layer 1 of "),
          e.getMessage());
      try (io.github.diffusion4j.tensor.TensorScope s = f.openScope()) {
        assertEquals(shape, m.model().predict(f.zeros(shape), new int[] {1, 2}).shape(), "the model works on");
      }
    }
  }

  @Test
  void anInterruptDuringTheEvaluationStopsWhereAResumeEvaluatesFirst() throws IOException {
    RunFolder whole = new RunFolder(dir.resolve("whole"));
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.start(d, whole)) {
      assertTrue(run.run().completed());
    }
    RunFolder cut = new RunFolder(dir.resolve("cut"));
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.start(d, cut)) {
      io.github.diffusion4j.training.TrainingSummary s = run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 7) { // the last step of epoch 1 (200 images, batches of 32): its evaluation comes next
            Thread.currentThread().interrupt();
          }
        }
      });
      assertTrue(Thread.interrupted(), "the interrupt is kept");
      assertFalse(s.completed());
      assertEquals(List.of(0, 7, 7L), List.of(s.progress().epoch(), s.progress().batchInEpoch(), s.progress().step()));
    }
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.resume(d, cut)) {
      assertTrue(run.run().completed());
    }
    try (TrainedModel a = TrainedModel.load(whole.root(), List.of());
        TrainedModel b = TrainedModel.load(cut.root(), List.of())) {
      assertEquals(a.model().stateDict(), b.model().stateDict(), "the uninterrupted run's weights");
    }
    List<String> evals = Files.readAllLines(cut.metrics()).stream().filter(l -> l.contains("\"eval_loss\"")).toList();
    assertEquals(Files.readAllLines(whole.metrics()).stream().filter(l -> l.contains("\"eval_loss\""))
        .map(l -> l.replaceAll(",\"elapsed\":[^,}]*", "")).toList(),
        evals.stream().map(l -> l.replaceAll(",\"elapsed\":[^,}]*", "")).toList(),
        "both epochs' evaluations, as the uninterrupted run logged them");
  }

  /**
   * A run stopped during an epoch's evaluation is saved before it, and a resume evaluates first. A resume killed after
   * it logged that evaluation, before a checkpoint past it (here: checkpoints at the end only), left the line at the
   * checkpoint's step, which the next resume kept (it kept every line up to the step) and then logged the evaluation
   * again: two evaluation lines for one epoch.
   */
  @Test
  void aResumeKilledAfterTheEvaluationItOwedLeavesOneLineForTheEpoch() throws IOException {
    String[] config = {"training.epochs=2", "training.checkpoint_every=100"};
    RunFolder whole = new RunFolder(dir.resolve("whole"));
    try (Diffusion d = open(config); TrainingRun run = TrainingRun.start(d, whole)) {
      assertTrue(run.run().completed());
    }
    RunFolder cut = new RunFolder(dir.resolve("cut"));
    try (Diffusion d = open(config); TrainingRun run = TrainingRun.start(d, cut)) {
      run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 7) { // epoch 1's last step: a stop during its evaluation
            run.requestStop();
          }
        }
      });
    }
    assertEquals(List.of(cut.checkpoints().resolve("step-00000007")),
        io.github.diffusion4j.io.CheckpointStore.listIn(cut.checkpoints()));
    // the resume evaluates epoch 1 and logs it, and is killed during epoch 2: what it leaves is copied at step 8
    RunFolder killed = new RunFolder(dir.resolve("killed"));
    try (Diffusion d = open(config); TrainingRun run = TrainingRun.resume(d, cut)) {
      run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 8) {
            copyWithoutLock(cut.root(), killed.root());
            run.requestStop();
          }
        }
      });
    }
    assertEquals(1, Files.readAllLines(killed.metrics()).stream().filter(l -> l.contains("\"eval_loss\"")).count(),
        "the killed resume logged epoch 1's evaluation");
    try (Diffusion d = open(config); TrainingRun run = TrainingRun.resume(d, killed)) {
      assertEquals(7, run.startsFrom().step());
      assertTrue(run.run().completed());
    }
    java.util.function.Function<RunFolder, List<String>> evals = f -> {
      try {
        return Files.readAllLines(f.metrics()).stream().filter(l -> l.contains("\"eval_loss\""))
            .map(l -> l.replaceAll(",\"elapsed\":[^,}]*", "")).toList();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    assertEquals(evals.apply(whole), evals.apply(killed), "one line an epoch, as the uninterrupted run logged them");
  }

  private static void copyWithoutLock(Path from, Path to) {
    try (java.util.stream.Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().equals(FolderLock.FILE)) {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aStopDuringTheLastEvaluationEndsWithTheEpochsCheckpointOnResume() throws IOException {
    RunFolder cut = new RunFolder(dir.resolve("cut"));
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.start(d, cut)) {
      io.github.diffusion4j.training.TrainingSummary s = run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 14) { // the last step: the run's last evaluation comes next, and a stop ends it at once
            run.requestStop();
          }
        }
      });
      assertFalse(s.completed());
      assertEquals(List.of(1, 7, 14L), List.of(s.progress().epoch(), s.progress().batchInEpoch(), s.progress().step()));
    }
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.resume(d, cut)) {
      assertTrue(run.run().completed());
    }
    io.github.diffusion4j.io.TrainingState state = Checkpoint.read(cut.checkpoints().resolve("step-00000014"))
        .content().trainingState().orElseThrow();
    assertEquals(List.of(2L, 0L), List.of(state.epoch(), state.noisePosition()),
        "the epoch's end replaced the checkpoint saved before its evaluation (same step, another position)");
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.resume(d, cut)) {
      assertTrue(run.run().completed());
    }
    assertEquals(2, Files.readAllLines(cut.metrics()).stream().filter(l -> l.contains("\"eval_loss\"")).count(),
        "a finished run resumed again evaluates nothing more");
  }

  @Test
  void lossSumsReadFromATrainingStateOrNoneFromAnOlderOne() {
    Path file = dir.resolve("training_state.safetensors");
    assertEquals(io.github.diffusion4j.training.TrainingProgress.Losses.NONE,
        Checkpoints.losses(file, java.util.Map.of(Checkpoints.ADAM_STEP, "3")), "written before the sums were");
    assertEquals(new io.github.diffusion4j.training.TrainingProgress.Losses(0.1 + 0.2, 3, 1.0 / 3, 1),
        Checkpoints.losses(file, java.util.Map.of(Checkpoints.EPOCH_LOSS_SUM, Double.toString(0.1 + 0.2),
            Checkpoints.EPOCH_LOSS_STEPS, "3", Checkpoints.INTERVAL_LOSS_SUM, Double.toString(1.0 / 3),
            Checkpoints.INTERVAL_LOSS_STEPS, "1")), "exactly, as written");
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.losses(file,
        java.util.Map.of(Checkpoints.EPOCH_LOSS_SUM, "x", Checkpoints.EPOCH_LOSS_STEPS, "3",
            Checkpoints.INTERVAL_LOSS_SUM, "0", Checkpoints.INTERVAL_LOSS_STEPS, "-1")));
    assertTrue(e.getMessage().startsWith(file + ": loss sums x/3/0/-1 are not two finite sums and two step counts"),
        e.getMessage());
    // a missing one was reported with a NullPointerException's text ("Cannot invoke String.trim() ...")
    e = assertThrows(CheckpointException.class, () -> Checkpoints.losses(file,
        java.util.Map.of(Checkpoints.EPOCH_LOSS_SUM, "0.5", Checkpoints.EPOCH_LOSS_STEPS, "3",
            Checkpoints.INTERVAL_LOSS_STEPS, "1")));
    assertEquals(file + ": loss sums: epoch_loss_sum is given but interval_loss_sum is missing (a checkpoint holds all "
        + "four of epoch_loss_sum, epoch_loss_steps, interval_loss_sum and interval_loss_steps, or none)", e.getMessage());
  }

  /**
   * A checkpoint keeps Adam's exact step count beside the float32 {@code step} tensor (PyTorch's), which counts exactly
   * only to 2^24; a resume read the tensor, so a run past 16,777,216 steps resumed with its count rounded (Adam's bias
   * correction then off, and the run's next counts too). Checkpoints without the exact count still resume from the
   * tensor.
   */
  @Test
  void aResumePastTwoToTheTwentyFourStepsTakesAdamsExactStepCount() {
    io.github.diffusion4j.testkit.ReferenceBackend ref = new io.github.diffusion4j.testkit.ReferenceBackend();
    io.github.diffusion4j.model.MlpSpec spec =
        new io.github.diffusion4j.model.MlpSpec(io.github.diffusion4j.tensor.Shape.of(3, 5, 5), 100, 32);
    io.github.diffusion4j.model.OptimizerSpec adam = io.github.diffusion4j.model.OptimizerSpec.adam(1e-3);
    long exact = (1L << 24) + 1; // float32 holds 16777216 and 16777218, not this
    assertEquals((float) (1L << 24), (float) exact, "a count float32 rounds");
    try (TrainableModel written = ref.createModel(spec, adam, 1);
        TrainableModel resumed = ref.createModel(spec, adam, 2)) {
      StateDict.Builder b = StateDict.builder();
      written.optimizerState().entries().forEach((name, a) -> {
        if (!name.equals("step")) {
          b.put(name, a);
        }
      });
      b.put("step", FloatArray.scalar(exact)); // what optimizerState() writes at this count
      StateDict optimizer = b.build();
      Map<String, String> extra = new LinkedHashMap<>();
      extra.put(Checkpoints.ADAM_STEP, Long.toString(exact));
      io.github.diffusion4j.io.CheckpointContent c = io.github.diffusion4j.io.CheckpointContent
          .of(written.stateDict(), "model: {}\n")
          .withTrainingState(new io.github.diffusion4j.io.TrainingState(exact, 3, 0, optimizer, extra));
      io.github.diffusion4j.training.TrainingProgress p = Checkpoints.restore(dir, c, resumed);
      assertEquals(exact, p.step());
      assertEquals(exact, resumed.stepCount(), "Adam's exact count, not the float32 tensor's " + (float) exact);

      // an older checkpoint, without the exact count: the tensor's, as before
      c = c.withTrainingState(new io.github.diffusion4j.io.TrainingState(exact, 3, 0, optimizer, Map.of()));
      Checkpoints.restore(dir, c, resumed);
      assertEquals(1L << 24, resumed.stepCount());

      // an exact count the tensor does not round from, or one that is not a count, is damage, named
      for (String bad : List.of(Long.toString(exact + 2), "-1", "x")) {
        c = c.withTrainingState(new io.github.diffusion4j.io.TrainingState(exact, 3, 0, optimizer,
            Map.of(Checkpoints.ADAM_STEP, bad)));
        io.github.diffusion4j.io.CheckpointContent damaged = c;
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.restore(dir, damaged,
            resumed));
        assertTrue(e.getMessage().startsWith(dir.resolve(Checkpoint.TRAINING_STATE_FILE) + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(bad.equals("x") || bad.equals("-1") ? "adam_step '" + bad + "' is not a step"
            : "'step' is 1.6777216E7 but the exact step count 16777219"), e.getMessage());
      }
    }
  }

  /**
   * A sweep's runs without {@code output.name}, started side by side: two in the same second were given the same
   * timestamped folder, and the second was refused as a folder in use (or, once the first had finished, as one that
   * holds checkpoints).
   */
  @Test
  void runsWithoutANameStartedInTheSameSecondEachTakeAFolderOfTheirOwn() throws IOException {
    Path out = dir.resolve("runs");
    RunFolder a = RunFolder.under(out, "");
    RunFolder b = RunFolder.under(out, null);
    while (!a.root().equals(b.root())) { // the clock's second turned between the two: again, in the same second
      a = RunFolder.under(out, "");
      b = RunFolder.under(out, null);
    }
    assertTrue(a.stamped() && !RunFolder.under(out, "x").stamped(), "only the SDK's name is stamped");
    try (Diffusion d = open(); TrainingRun first = TrainingRun.start(d, a);
        Diffusion d2 = open(); TrainingRun second = TrainingRun.start(d2, b)) {
      assertEquals(a.root(), first.folder().root());
      assertEquals(out.resolve(a.root().getFileName() + "-2"), second.folder().root());
      second.run();
      first.run();
    }
    // a third after both have finished (their folders hold checkpoints): the next free name, not a refusal
    try (Diffusion d = open(); TrainingRun third = TrainingRun.start(d, b)) {
      assertEquals(out.resolve(a.root().getFileName() + "-3"), third.folder().root());
    }
    try (java.util.stream.Stream<Path> runs = Files.list(out)) {
      assertEquals(3, runs.count());
    }
  }

  @Test
  void aRunNameIsOneFolderInsideTheOutputFolder() {
    Path out = dir.resolve("runs");
    assertEquals(out.resolve("x"), RunFolder.under(out, "x").root());
    assertEquals(out, RunFolder.under(out, null).root().getParent(), "no name: a timestamped folder");
    for (String bad : List.of("../x", "a/b", "..", ".")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.under(out, bad));
      assertTrue(e.getMessage().startsWith("run name '" + bad + "': must be one folder name inside"), e.getMessage());
    }
  }
}
