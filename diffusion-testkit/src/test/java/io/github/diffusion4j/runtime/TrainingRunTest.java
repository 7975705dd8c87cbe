package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run folders, checkpoints and resumption, on the reference backend. */
class TrainingRunTest {
  @TempDir
  Path dir;

  static final String TINY = String.join("\n",
      "backend: reference",
      "seed: 5",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 200",
      "  eval_size: 32",
      "model:",
      "  hidden: 16",
      "schedule:",
      "  num_train_timesteps: 40",
      "training:",
      "  epochs: 3",
      "  batch_size: 32",
      "  log_every: 2",
      "  image_log_every: 5",
      "  images_to_log: 2",
      "  ema:",
      "    enabled: true",
      "    decay: 0.9",
      "sampling:",
      "  num_inference_steps: 8",
      "");

  private Diffusion open(String... overrides) throws IOException {
    Path yaml = dir.resolve("run.yaml");
    Files.writeString(yaml, TINY);
    return Diffusion.open(yaml, List.of(overrides));
  }

  @Test
  void writesTheRunFolder() throws IOException {
    RunFolder folder = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, folder)) {
      TrainingSummary s = run.run();
      assertTrue(s.completed());
      assertEquals(21, s.progress().step());
    }
    assertTrue(Files.readString(folder.config()).contains("backend: reference"));
    List<String> metrics = Files.readAllLines(folder.metrics());
    assertEquals(1 + 10 + 3, metrics.size(), "a data line, 10 log lines (every 2 of 21 steps) and 3 epoch lines");
    assertTrue(metrics.get(0).startsWith("{\"type\":\"data\",\"step\":0,\"kind\":\"gradients\""), metrics.get(0));
    assertTrue(metrics.get(1).contains("\"y_hat_var\""));
    assertTrue(metrics.get(metrics.size() - 1).contains("\"eval_loss\""));
    try (Stream<Path> images = Files.list(folder.images())) {
      assertEquals(4, images.count());
    }
    try (Stream<Path> cps = Files.list(folder.checkpoints())) {
      assertEquals(3, cps.count(), "one checkpoint per epoch, keep_checkpoints defaults to 3");
    }
    try (TrainedModel m = TrainedModel.load(folder.root(), List.of())) {
      float[] x = m.sample(m.diffusion().sampler(), m.diffusion().request(3, 1), SamplingListener.NONE);
      assertEquals(3 * 75, x.length);
      assertEquals(NoiseVersion.ZIGGURAT, m.diffusion().request(3, 1).noise(), "the default noise version");
    }
  }

  /**
   * An old checkpoint that cannot be pruned (here made immutable, which stops even root from renaming it) used to stop
   * the run with a CheckpointException although the new checkpoint was already durable; now it is a warning, the run
   * trains to its end, and a later checkpoint prunes it once it can be deleted.
   */
  @Test
  void anOldCheckpointThatCannotBeDeletedIsAWarningAndTrainingGoesOn() throws Exception {
    RunFolder folder = new RunFolder(dir.resolve("stuck"));
    Path first = folder.checkpoints().resolve("step-00000007");
    boolean[] made = {false};
    TrainingListener stick = new TrainingListener() {
      @Override
      public void onEpochEnd(io.github.diffusion4j.training.EpochSummary e) {
        if (e.epoch() == 0) {
          made[0] = chattr(first, "+i"); // after the run's own listener wrote the epoch's checkpoint
        } else if (e.epoch() == 1) {
          chattr(first, "-i"); // the next checkpoint prunes it
        }
      }
    };
    try (Diffusion d = open("training.keep_checkpoints=1", "training.epochs=3");
        TrainingRun run = TrainingRun.start(d, folder)) {
      TrainingSummary s = run.run(stick);
      org.junit.jupiter.api.Assumptions.assumeTrue(made[0], "chattr +i not possible here");
      assertTrue(s.completed());
      assertEquals(21, s.progress().step());
    } finally {
      chattr(first, "-i");
    }
    try (Stream<Path> cps = Files.list(folder.checkpoints())) {
      assertEquals(List.of("step-00000021"), cps.map(p -> p.getFileName().toString()).toList(),
          "the stuck checkpoint is pruned by the last save");
    }
  }

  private static boolean chattr(Path p, String flag) {
    try {
      Process proc = new ProcessBuilder("chattr", flag, p.toString()).redirectErrorStream(true).start();
      proc.getInputStream().readAllBytes();
      return proc.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * The checkpoint's config decides the noise version: a config written before {@code sampling.noise_version}
   * existed samples with version 1 (the same images as then), and the key or an override chooses version 2.
   */
  @Test
  void theCheckpointsConfigChoosesTheNoiseVersion() throws IOException {
    Path cp = oneEpochCheckpoint("sampling.noise_version=2");
    float[] v2;
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm"))) {
      assertEquals(NoiseVersion.BOX_MULLER, m.diffusion().noiseVersion(), "the run's own setting");
      v2 = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9), SamplingListener.NONE);
    }
    Path config = cp.resolve(Checkpoint.CONFIG_FILE);
    String text = Files.readString(config);
    assertTrue(text.contains("noise_version: 2"), text);
    Files.writeString(config, text.replaceAll("\n *noise_version: 2", ""));
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE)); // it holds the config's hash
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm"))) {
      assertEquals(NoiseVersion.ZIGGURAT, m.diffusion().request(2, 9).noise(), "a config without the key");
      float[] v1 = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9), SamplingListener.NONE);
      float[] again = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9).withNoise(NoiseVersion.BOX_MULLER),
          SamplingListener.NONE);
      assertArrayEquals(v2, again, "the version is the only difference");
      assertFalse(java.util.Arrays.equals(v2, v1), "version 1 noise gives other samples");
    }
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm", "sampling.noise_version=2"))) {
      assertArrayEquals(v2, m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9), SamplingListener.NONE),
          "an override chooses version 2");
    }
  }

  /**
   * A checkpoint written on 2026-12-02 before {@code sampling.noise_version} existed: its config has no key and its
   * manifest records {@code "noise_version" : 2}, the noise its samples were drawn with; it samples those images
   * again, and an override still chooses.
   */
  @Test
  void aManifestsNoiseVersionAppliesWhereTheConfigHasNone() throws IOException {
    Path cp = oneEpochCheckpoint("sampling.noise_version=2");
    float[] v2;
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm"))) {
      v2 = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9), SamplingListener.NONE);
    }
    // the checkpoint as those builds wrote it: no key in config.yaml, the version in the manifest
    String json = asWrittenBeforeTheKey(cp, 2);
    Files.writeString(cp.resolve(Checkpoint.MANIFEST_FILE), json.replace("\n}", ",\n  \"noise_version\" : 2\n}"));
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm"))) {
      assertEquals(NoiseVersion.BOX_MULLER, m.diffusion().noiseVersion(), "the manifest's version");
      assertArrayEquals(v2, m.sample(m.diffusion().sampler(), m.diffusion().request(2, 9), SamplingListener.NONE),
          "the images those builds sampled");
    }
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm", "sampling.noise_version=1"))) {
      assertEquals(NoiseVersion.ZIGGURAT, m.diffusion().noiseVersion(), "an override comes first");
    }
  }


  /**
   * Checkpoints are written after every {@code checkpoint_every}-th epoch and after the last one even where the epochs
   * are not a multiple of it, and {@code keep_checkpoints} keeps exactly that many, the newest. 200 images in batches
   * of 32 are 7 steps an epoch: epochs 2, 4 and 5 end at steps 14, 28 and 35.
   */
  @Test
  void checkpointsAreWrittenEveryNEpochsAndAtTheEndAndTheNewestAreKept() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    java.util.Set<String> written = new java.util.LinkedHashSet<>();
    try (Diffusion d = open("training.epochs=5", "training.checkpoint_every=2", "training.keep_checkpoints=2");
        TrainingRun run = TrainingRun.start(d, a)) {
      assertTrue(run.run(new TrainingListener() {
        @Override
        public void onEpochEnd(io.github.diffusion4j.training.EpochSummary e) {
          // the run's own listener checkpoints first, so the checkpoint of this epoch's end is already there
          run.lastCheckpoint().ifPresent(c -> written.add(c.getFileName().toString()));
        }
      }).completed());
    }
    assertEquals(List.of("step-00000014", "step-00000028", "step-00000035"), List.copyOf(written));
    try (Stream<Path> cps = Files.list(a.checkpoints())) {
      assertEquals(List.of("step-00000028", "step-00000035"),
          cps.map(c -> c.getFileName().toString()).sorted().toList(), "keep_checkpoints: 2, the newest");
    }
  }

  /**
   * Each epoch's evaluation loss is that of the evaluation images (eval_size 32), not of the training images: the
   * value the run logs is the one a fresh evaluation of the trained model on {@link Diffusion#evalData()} gives (the
   * same timesteps and noise every call, the same arithmetic, so the same bits), and the training images give another.
   */
  @Test
  void theEvaluationLossIsTheEvaluationImagesLoss() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.epochs=1"); TrainingRun run = TrainingRun.start(d, a)) {
      TrainingSummary s = run.run();
      assertEquals(1, s.evalLosses().size());
      double onEval = d.trainer(run.model()).evaluate(d.evalData());
      double onTrain = d.trainer(run.model()).evaluate(d.trainingData());
      assertTrue(onEval != onTrain, "the two sets give different losses, so the check below can tell them apart");
      assertEquals(onEval, s.evalLosses().get(0), 0.0);
      List<String> lines = Files.readAllLines(a.metrics());
      assertTrue(lines.get(lines.size() - 1).contains("\"eval_loss\":" + onEval), lines.get(lines.size() - 1));
    }
  }

  /**
   * A checkpoint with EMA weights samples with them (sampling.use_ema defaults to true), and with its raw weights
   * when sampling.use_ema is false; with decay 0.9 after a few steps the two differ, so either mix-up shows.
   */
  @Test
  void aCheckpointSamplesWithItsEmaWeightsUnlessUseEmaIsOff() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.epochs=1"); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
    }
    Checkpoint c = Checkpoint.read(a.checkpoints().resolve("step-00000007"));
    assertFalse(c.content().model().equals(c.content().ema().orElseThrow()), "EMA and raw weights differ");
    try (TrainedModel m = TrainedModel.load(a.root(), List.of())) {
      assertEquals(c.content().ema().orElseThrow(), m.model().stateDict(), "the EMA weights by default");
    }
    try (TrainedModel m = TrainedModel.load(a.root(), List.of("sampling.use_ema=false"))) {
      assertEquals(c.content().model(), m.model().stateDict(), "the raw weights with sampling.use_ema: false");
    }
  }

  @Test
  void resumedRunEndsWithTheSameWeights() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    RunFolder b = new RunFolder(dir.resolve("b"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
    }
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, b)) {
      TrainingSummary s = run.run(new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 10) {
            run.requestStop();
          }
        }
      });
      assertFalse(s.completed());
      assertTrue(run.lastCheckpoint().orElseThrow().endsWith("step-00000010"));
    }
    try (Diffusion d = open(); TrainingRun run = TrainingRun.resume(d, b)) {
      assertEquals(10, run.startsFrom().step());
      assertEquals(List.of(), run.changedSettings(), "the same settings");
      assertTrue(run.run().completed());
    }
    try (Diffusion d = open("training.epochs=4", "threads=2"); TrainingRun run = TrainingRun.resume(d, b)) {
      assertEquals(List.of(), run.changedSettings(), "more epochs and threads continue the run as it was");
    }
    try (Diffusion d = open("training.epochs=4", "training.learning_rate=0.0005"); TrainingRun run =
        TrainingRun.resume(d, b)) {
      assertEquals(List.of("training.learning_rate: 0.001 -> 5.0e-4"), run.changedSettings());
    }
    // a decaying rate spans the run's steps: more epochs then change every later step's rate, so they are listed
    try (Diffusion d = open("training.epochs=4", "training.lr_schedule=cosine"); TrainingRun run =
        TrainingRun.resume(d, b)) {
      assertTrue(run.changedSettings().stream().anyMatch(c -> c.startsWith("training.epochs: ")),
          run.changedSettings().toString());
    }
    Checkpoint ca = Checkpoint.read(a.checkpoints().resolve("step-00000021"));
    Checkpoint cb = Checkpoint.read(b.checkpoints().resolve("step-00000021"));
    assertEquals(ca.content().model(), cb.content().model(), "bit-identical weights");
    assertEquals(ca.content().ema(), cb.content().ema(), "bit-identical moving average");
    List<String> lines = Files.readAllLines(b.metrics());
    long evalLines = lines.stream().filter(l -> l.contains("\"type\":\"eval\"")).count();
    assertEquals(3, evalLines, "the resumed log has each epoch once");
    assertEquals(List.of(0L, 10L), lines.stream().filter(l -> l.contains("\"type\":\"data\""))
        .map(l -> Long.parseLong(l.replaceAll(".*\"step\":(\\d+).*", "$1"))).toList(),
        "a data line where the run started and where it was resumed");
  }

  /**
   * Resuming a checkpoint that an older build wrote, before a key existed: the key counts as the value it stood for
   * there (its default; for {@code sampling.noise_version} the manifest's version where it records one), not as a
   * change from "(none)".
   */
  @Test
  void resumingAnOlderBuildsCheckpointListsOnlyRealChanges() throws IOException {
    Path cp = oneEpochCheckpoint();
    String json = asWrittenBeforeTheKey(cp, 1);
    Path manifest = cp.resolve(Checkpoint.MANIFEST_FILE);
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.resume(d, a)) {
      assertEquals(List.of(), run.changedSettings(), "a key the old config lacks is its default, not a change");
    }
    Files.writeString(manifest, json.replace("\n}", ",\n  \"noise_version\" : 2\n}")); // sampled with version 2
    try (Diffusion d = open("training.epochs=2"); TrainingRun run = TrainingRun.resume(d, a)) {
      assertEquals(List.of("sampling.noise_version: 2 -> 1"), run.changedSettings());
    }
  }

  @Test
  void aFolderLeftByARunKilledBeforeItsFirstCheckpointStartsItsLogAgain() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("killed"));
    Files.createDirectories(a.root());
    Files.writeString(a.metrics(), "{\"type\":\"data\",\"step\":0}\n{\"type\":\"train\",\"step\":2}\n{\"type\":\"tr");
    try (Diffusion d = open("training.epochs=1"); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
    }
    List<String> lines = Files.readAllLines(a.metrics());
    assertEquals(1, lines.stream().filter(l -> l.contains("\"type\":\"data\"")).count(), lines.toString());
    assertTrue(lines.stream().noneMatch(l -> l.endsWith("\"tr")), "the torn line is gone");
  }

  /**
   * A resume whose {@code training.epochs} is below the epochs its checkpoint has trained (the run was raised with a
   * {@code --set} that the resume left out) would train nothing, report "finished", and record the lower count in the
   * run's {@code config.yaml}: refused, naming the key, both counts and the checkpoint, before the folder is touched.
   */
  @Test
  void resumingWithFewerEpochsThanTheCheckpointTrainedIsRefused() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(); TrainingRun run = TrainingRun.start(d, a)) { // 3 epochs
      assertTrue(run.run().completed());
    }
    String recorded = Files.readString(a.config());
    try (Diffusion d = open("training.epochs=2")) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, a));
      // the whole line, as docs/reliability.md quotes it: the key, both counts, the checkpoint and what to do
      assertEquals("training.epochs: 2, but the checkpoint " + a.checkpoints().resolve("step-00000021") + " has trained "
          + "3 epochs (step 21) of the 3 its run was configured for; resuming would train nothing: give a "
          + "training.epochs above 3 to continue the run (--set training.epochs=4), or sample from it (diffusion "
          + "sample --checkpoint)", e.getMessage());
    }
    assertEquals(recorded, Files.readString(a.config()), "the run's configuration is left as it was");
    try (Diffusion d = open(); TrainingRun run = TrainingRun.resume(d, a)) {
      assertTrue(run.run().completed(), "the same epochs: a finished run resumes (and trains nothing)");
    }
    // a run raised to 5 epochs that stopped at the end of its third (its checkpoint records 5), resumed with the
    // file's 3: it too would train nothing and record 3, so it is refused, naming the 5
    Path latest = a.checkpoints().resolve("step-00000021");
    Files.delete(latest.resolve(io.github.diffusion4j.io.Checkpoint.MANIFEST_FILE)); // the edit is not damage here
    Path config = latest.resolve(io.github.diffusion4j.io.Checkpoint.CONFIG_FILE);
    String yaml = Files.readString(config);
    assertTrue(yaml.contains("  epochs: 3\n"), yaml);
    Files.writeString(config, yaml.replace("  epochs: 3\n", "  epochs: 5\n"));
    try (Diffusion d = open()) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, a));
      assertTrue(e.getMessage().contains("has trained 3 epochs (step 21) of the 5 its run was configured for"),
          e.getMessage());
      assertTrue(e.getMessage().contains("give a training.epochs above 3 to continue the run (--set "
          + "training.epochs=5)"), e.getMessage());
    }
    try (Diffusion d = open("training.epochs=5"); TrainingRun run = TrainingRun.resume(d, a)) {
      assertTrue(run.run().completed(), "the raised count continues the run");
      assertEquals(35, run.lastCheckpoint().map(p -> p.getFileName().toString()).map(n -> Integer.parseInt(
          n.substring("step-".length()))).orElseThrow(), "two more epochs of 7 steps");
    }
  }

  @Test
  void refusesToOverwriteAndToResumeNothing() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    Diffusion closed;
    try (Diffusion d = open("training.epochs=1"); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
      // a second run would train on while its steps and checkpoints started again: refused
      IllegalStateException twice = assertThrows(IllegalStateException.class, run::run);
      assertTrue(twice.getMessage().contains("this run has been run"), twice.getMessage());
      closed = d;
    }
    assertTrue(assertThrows(IllegalStateException.class, closed::createModel).getMessage().contains("is closed"));
    try (Diffusion d = open()) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TrainingRun.start(d, a));
      assertTrue(e.getMessage().contains("--resume"), e.getMessage());
      CheckpointException c = assertThrows(CheckpointException.class,
          () -> TrainingRun.resume(d, new RunFolder(dir.resolve("empty"))));
      assertTrue(c.getMessage().contains("no checkpoint to resume from"), c.getMessage());
      // a relative run folder is named absolute: it is resolved against the working folder, not the config's
      c = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, new RunFolder(Path.of("no-such-run"))));
      assertTrue(c.getMessage().startsWith(Path.of("no-such-run/checkpoints").toAbsolutePath() + ": no checkpoint"),
          c.getMessage());
      assertFalse(java.nio.file.Files.exists(Path.of("no-such-run")), "resuming created nothing");
    }
  }

  /**
   * An existing run folder without checkpoints (a run killed before its first) is refused for a resume before
   * anything is created in it: no checkpoints or images folder appears, and the lock is let go.
   */
  @Test
  void resumingAFolderWithoutCheckpointsIsRefusedAndCreatesNothing() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    Files.createDirectories(a.root());
    try (Diffusion d = open()) {
      CheckpointException c = assertThrows(CheckpointException.class, () -> TrainingRun.resume(d, a));
      assertEquals(a.checkpoints().toAbsolutePath() + ": no checkpoint to resume from (a relative output.dir is "
          + "resolved against the working folder); start the run without --resume", c.getMessage());
      try (Stream<Path> files = Files.list(a.root())) {
        assertEquals(List.of(), files.filter(f -> !f.getFileName().toString().startsWith(".")).toList(),
            "the refused resume created nothing but its lock file");
      }
      try (TrainingRun run = TrainingRun.start(d, a)) {
        assertEquals(0, run.startsFrom().step(), "the folder was let go: a new run starts in it");
      }
    }
  }

  /**
   * A run that diverges says whether a checkpoint survives it: none where it diverged before its first, else the
   * last good one, which is kept as it was and loads.
   */
  @Test
  void aDivergedRunNamesTheLastGoodCheckpointOrSaysThereIsNone() throws IOException {
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open("training.learning_rate=1e38"); TrainingRun run = TrainingRun.start(d, a)) {
      io.github.diffusion4j.training.TrainingDivergedException e =
          assertThrows(io.github.diffusion4j.training.TrainingDivergedException.class, run::run);
      assertTrue(e.getMessage().endsWith("; no checkpoint had been written yet"), e.getMessage());
      assertTrue(e.getMessage().startsWith("loss became "), e.getMessage());
    }
    RunFolder b = new RunFolder(dir.resolve("b"));
    try (Diffusion d = open("training.epochs=1"); TrainingRun run = TrainingRun.start(d, b)) {
      run.run();
    }
    Path good = b.checkpoints().resolve("step-00000007");
    byte[] weights = Files.readAllBytes(good.resolve(Checkpoint.MODEL_FILE));
    try (Diffusion d = open("training.learning_rate=1e38"); TrainingRun run = TrainingRun.resume(d, b)) {
      io.github.diffusion4j.training.TrainingDivergedException e =
          assertThrows(io.github.diffusion4j.training.TrainingDivergedException.class, run::run);
      assertTrue(e.getMessage().endsWith("; the last good checkpoint is kept: " + good), e.getMessage());
      assertTrue(e.step() > 7, "diverged after the checkpoint's step 7: " + e.step());
    }
    try (Stream<Path> cps = Files.list(b.checkpoints())) {
      assertEquals(List.of(good), cps.toList(), "no checkpoint is written for a diverged run");
    }
    assertArrayEquals(weights, Files.readAllBytes(good.resolve(Checkpoint.MODEL_FILE)));
    try (TrainedModel m = TrainedModel.load(b.root(), List.of())) {
      assertEquals(3 * 75, m.sample(m.diffusion().sampler(), m.diffusion().request(3, 1), SamplingListener.NONE).length);
    }
  }

  @Test
  void checkpointsLoadWithOnlyWeightsAndConfig() throws IOException {
    Path cp = oneEpochCheckpoint();
    for (String f : List.of(Checkpoint.EMA_FILE, Checkpoint.TRAINING_STATE_FILE, Checkpoint.SCHEDULER_FILE,
        Checkpoint.MANIFEST_FILE)) {
      Files.delete(cp.resolve(f));
    }
    try (TrainedModel m = TrainedModel.load(cp, List.of("sampling.sampler=ddpm"))) {
      assertEquals("ddpm", m.diffusion().sampler().name());
      assertEquals(NoiseVersion.ZIGGURAT, m.diffusion().noiseVersion(), "the default noise version");
    }
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> TrainedModel.load(cp, List.of("data.image_shape=[3, 4, 4]")));
    // docs/reliability.md quotes this line: the file, the model the configuration makes, the first weight that differs
    // (an MLP of 16 hidden units takes the 75 or 48 pixel values and the timestep), in the model's own words
    assertEquals(cp.resolve(Checkpoint.MODEL_FILE) + ": does not fit the model of config.yaml (mlp for 3x4x4 images): "
        + "mlp weights: 'model.0.weight' has shape [16, 76], expected [16, 49]", e.getMessage());
    assertThrows(CheckpointException.class, () -> TrainedModel.load(dir.resolve("nothing"), List.of()));
  }

  @Test
  void aCheckpointWithNonFiniteWeightsIsRefused() throws IOException {
    Path cp = oneEpochCheckpoint();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    io.github.diffusion4j.model.StateDict w = io.github.diffusion4j.io.SafeTensors.read(cp.resolve(Checkpoint.MODEL_FILE))
        .tensors();
    java.util.Map<String, io.github.diffusion4j.model.FloatArray> bad = new java.util.LinkedHashMap<>(w.entries());
    float[] b = bad.get("model.2.bias").toArray();
    b[5] = Float.NaN;
    bad.put("model.2.bias", io.github.diffusion4j.model.FloatArray.of(bad.get("model.2.bias").shape(), b));
    io.github.diffusion4j.io.SafeTensors.write(cp.resolve(Checkpoint.MODEL_FILE),
        io.github.diffusion4j.model.StateDict.of(bad), java.util.Map.of());
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> TrainedModel.load(cp, List.of("sampling.use_ema=false")));
    assertTrue(e.getMessage().contains("tensor 'model.2.bias' holds NaN at index 5") && e.getMessage().endsWith("damaged"),
        e.getMessage());
  }

  @Test
  void schedulerConfigMustAgreeWithTheConfig() throws IOException {
    Path cp = oneEpochCheckpoint();
    Files.delete(cp.resolve(Checkpoint.MANIFEST_FILE));
    Path sched = cp.resolve(Checkpoint.SCHEDULER_FILE);
    Files.writeString(sched, Files.readString(sched).replaceAll("\"num_train_timesteps\"\\s*:\\s*40", "\"num_train_timesteps\": 1000"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(cp, List.of()));
    assertTrue(e.getMessage().contains("num_train_timesteps is 1000"), e.getMessage());
  }

  /** Trains one epoch into the run folder {@code a} and returns its checkpoint (step 7). */
  private Path oneEpochCheckpoint(String... overrides) throws IOException {
    List<String> all = new java.util.ArrayList<>(List.of("training.epochs=1"));
    all.addAll(List.of(overrides));
    RunFolder a = new RunFolder(dir.resolve("a"));
    try (Diffusion d = open(all.toArray(String[]::new)); TrainingRun run = TrainingRun.start(d, a)) {
      run.run();
    }
    return a.checkpoints().resolve("step-00000007");
  }

  /**
   * Makes a checkpoint's config.yaml as builds before {@code sampling.noise_version} wrote it (without the key; it
   * held {@code version}), with the new hash in its manifest.
   *
   * @return the manifest's text
   */
  private static String asWrittenBeforeTheKey(Path cp, int version) throws IOException {
    Path config = cp.resolve(Checkpoint.CONFIG_FILE);
    String text = Files.readString(config);
    assertTrue(text.contains("noise_version: " + version), text);
    Files.writeString(config, text.replaceAll("\n *noise_version: " + version, ""));
    String hash = java.util.HexFormat.of().formatHex(sha256(Files.readAllBytes(config)));
    Path manifest = cp.resolve(Checkpoint.MANIFEST_FILE);
    String json = Files.readString(manifest).replaceAll("\"config.yaml\" : \"[0-9a-f]{64}\"",
        "\"config.yaml\" : \"" + hash + "\"");
    Files.writeString(manifest, json);
    return json;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
