package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.GoldenCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code training.init_from}: a new run starting from a checkpoint's or a diffusers folder's weights (fine-tuning). */
class InitialWeightsTest {
  @TempDir
  Path dir;

  private Path writeYaml(String yaml) throws IOException {
    Path file = dir.resolve("other.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private Diffusion open(String yaml, String... overrides) throws IOException {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, yaml);
    return Diffusion.open(file, List.of(overrides));
  }

  private Path trained(String... overrides) throws IOException {
    RunFolder base = new RunFolder(dir.resolve("base"));
    List<String> all = new ArrayList<>(List.of("training.epochs=1"));
    all.addAll(List.of(overrides));
    try (Diffusion d = open(TrainingRunTest.TINY, all.toArray(String[]::new));
        TrainingRun run = TrainingRun.start(d, base)) {
      run.run();
    }
    return base.root();
  }

  @Test
  void aCheckpointThatSamplesWithItsRawWeightsStartsFromThem() throws IOException {
    Path base = trained("sampling.use_ema=false");
    Path latest = CheckpointStore.listIn(base.resolve("checkpoints")).get(0);
    Checkpoint c = Checkpoint.read(latest);
    assertTrue(c.content().ema().isPresent(), "it keeps an average, but does not sample with it");
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + base);
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("tuned")))) {
      assertEquals(c.content().model(), run.model().stateDict());
      assertEquals(latest.resolve(Checkpoint.MODEL_FILE), run.initialWeights().orElseThrow());
    }
  }

  @Test
  void aNewRunStartsFromTheEmaWeightsOfARunsLatestCheckpoint() throws IOException {
    Path base = trained();
    Path latest = CheckpointStore.listIn(base.resolve("checkpoints")).get(0);
    StateDict ema = Checkpoint.read(latest).content().ema().orElseThrow();
    RunFolder tuned = new RunFolder(dir.resolve("tuned"));
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + base, "training.learning_rate=1e-4");
        TrainingRun run = TrainingRun.start(d, tuned)) {
      assertEquals(ema, run.model().stateDict(), "the sampling (EMA) weights, not the last step's");
      assertEquals(latest.resolve(Checkpoint.EMA_FILE), run.initialWeights().orElseThrow());
      assertEquals(0, run.startsFrom().step(), "a new run: its steps, Adam's moments and the log start afresh");
      assertTrue(run.run().completed());
    }
    String began = "init_from: " + latest.toAbsolutePath().normalize() + "\n";
    assertTrue(Files.readString(tuned.config()).contains(began),
        "the resolved config records the checkpoint it began from, not the run folder whose latest moves on");
    // resumed, the run's own checkpoint is read: the folder it started from may be gone
    deleteTree(base);
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + base, "training.learning_rate=1e-4",
        "training.epochs=4"); TrainingRun run = TrainingRun.resume(d, tuned)) {
      assertTrue(run.initialWeights().isEmpty());
      assertTrue(run.run().completed());
    }
    // resumed with another init_from (not read): the run still records where it began, and so do its checkpoints
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + elsewhere, "training.learning_rate=1e-4",
        "training.epochs=5"); TrainingRun run = TrainingRun.resume(d, tuned)) {
      assertEquals(List.of(), run.changedSettings(), "init_from is not a change of a resumed run");
      assertTrue(run.run().completed());
      assertTrue(Files.readString(run.lastCheckpoint().orElseThrow().resolve("config.yaml")).contains(began));
    }
    assertTrue(Files.readString(tuned.config()).contains(began), Files.readString(tuned.config()));
  }

  @Test
  void weightsOfAnotherNetworkAreRefusedBeforeTheRunFolderIsMade() throws IOException {
    Path base = trained();
    RunFolder tuned = new RunFolder(dir.resolve("tuned"));
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + base, "model.hidden=8")) {
      ConfigException e = assertThrows(ConfigException.class, () -> TrainingRun.start(d, tuned));
      assertTrue(e.getMessage().contains("training.init_from: " + base), e.getMessage());
      assertTrue(e.getMessage().contains("config.yaml: its model.hidden is 16 but the configured model.hidden is 8; "
          + "the run must configure the same network (the model section of its config.yaml)"), e.getMessage());
    }
    assertFalse(Files.exists(tuned.root()));
    // another kind: named as such, not as a list of missing weights
    try (Diffusion d = open(UNET, "training.init_from=" + base)) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertTrue(e.getMessage().contains("config.yaml: its model.kind is mlp but the configured model.kind is unet; "),
          e.getMessage());
    }
  }

  /** A missing path, a file (the weights file itself, say) and a folder without a model are each said as such. */
  @Test
  void aFolderWithoutAModelIsRefusedByTheChecks() throws IOException {
    Path file = Files.writeString(dir.resolve("model.safetensors"), "");
    java.util.Map<Path, String> problems = java.util.Map.of(
        dir.resolve("missing"), "no such folder",
        file, "not a folder",
        Files.createDirectories(dir.resolve("empty")), "holds no model (no model.safetensors, no checkpoints/ with a "
            + "checkpoint, no diffusers config.json)");
    for (java.util.Map.Entry<Path, String> bad : problems.entrySet()) {
      try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + bad.getKey())) {
        ConfigException e = assertThrows(ConfigException.class, d::check);
        assertTrue(e.getMessage().contains("training.init_from: " + bad.getKey() + ": " + bad.getValue()
            + "; give a checkpoint folder, a run folder or a diffusers folder"), e.getMessage());
        assertTrue(e.getMessage().endsWith("give a checkpoint folder, a run folder or a diffusers folder"),
            e.getMessage());
      }
    }
  }

  @Test
  void aDiffusersFolderStartsARunOfTheEquivalentDdpmUNet() throws IOException {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    StateDict w = GoldenCases.testWeights(spec.parameterShapes(), 21);
    Path published = dir.resolve("published");
    DiffusersFolder.write(published, DiffusersConversion.config(spec), DiffusersConversion.weights(spec, w),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    String yaml = String.join("\n", "backend: reference", "data:", "  image_shape: [3, 8, 8]", "  train_size: 8",
        "  eval_size: 0", "model:", "  kind: ddpm", "  base_channels: 32", "  channel_mult: [1, 2]",
        "  num_res_blocks: 1", "  attn_resolutions: [4]", "  dropout: 0.0", "training:", "  epochs: 1",
        "  batch_size: 8", "");
    try (Diffusion d = open(yaml, "training.init_from=" + published);
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("tuned")))) {
      assertEquals(w, run.model().stateDict(), "the authors' names and shapes, from diffusers' ones");
    }
    try (Diffusion d = open(yaml, "training.init_from=" + published, "model.dropout=0.1")) {
      try (TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("with-dropout")))) {
        assertEquals(w, run.model().stateDict(), "dropout is a training setting: it may differ");
      }
    }
    // a pipeline saved with another scheduler (which sampling refuses): the run's own schedule replaces it
    Files.writeString(published.resolve("scheduler/scheduler_config.json"),
        "{\"_class_name\": \"DPMSolverMultistepScheduler\", \"num_train_timesteps\": 1000}");
    Files.writeString(published.resolve("model_index.json"), Files.readString(published.resolve("model_index.json"))
        .replace("DDPMScheduler", "DPMSolverMultistepScheduler"));
    try (Diffusion d = open(yaml, "training.init_from=" + published);
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("other-scheduler")))) {
      assertEquals(w, run.model().stateDict());
    }
    // the same names and shapes, another function: refused
    java.util.Map<String, Object> other = new java.util.HashMap<>(DiffusersConversion.config(spec).toMap());
    other.put("norm_eps", 1e-5);
    Path otherEps = dir.resolve("other-eps");
    DiffusersFolder.write(otherEps, io.github.diffusion4j.model.UNet2DConfig.fromMap(other),
        DiffusersConversion.weights(spec, w), SchedulerConfig.DIFFUSERS_DEFAULTS);
    try (Diffusion d = open(yaml, "training.init_from=" + otherEps)) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TrainingRun.start(d, new RunFolder(dir.resolve("eps"))));
      assertTrue(e.getMessage().contains("config.json: key 'norm_eps' is 1.0E-5 but the configured model's is 1.0E-6; "),
          e.getMessage());
    }
    try (Diffusion d = open(yaml, "training.init_from=" + published, "model.base_channels=64")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TrainingRun.start(d, new RunFolder(dir.resolve("other"))));
      assertTrue(e.getMessage().contains("config.json: key 'block_out_channels' is [32, 64] but the configured "
          + "model's is [64, 128]; the run must configure the same network"), e.getMessage());
    }
  }

  @Test
  void aRunFolderWithoutACheckpointYetIsSaidToBeOne() throws IOException {
    Path run = Files.createDirectories(dir.resolve("run").resolve("checkpoints")).getParent();
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + run)) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertTrue(e.getMessage().contains("training.init_from: " + run + ": a run folder with no checkpoint yet (the "
          + "run stopped before it saved one); give a checkpoint folder, a run folder or a diffusers folder"),
          e.getMessage());
    }
  }

  @Test
  void aDamagedCheckpointIsRefusedNamingTheKey() throws IOException {
    Path base = trained();
    Path latest = CheckpointStore.listIn(base.resolve("checkpoints")).get(0);
    byte[] b = Files.readAllBytes(latest.resolve(Checkpoint.EMA_FILE));
    b[b.length - 1] ^= 0x55;
    Files.write(latest.resolve(Checkpoint.EMA_FILE), b);
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + base)) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TrainingRun.start(d, new RunFolder(dir.resolve("tuned"))));
      assertTrue(e.getMessage().contains("training.init_from: " + latest.resolve(Checkpoint.EMA_FILE) + ": "),
          e.getMessage());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }

  @Test
  void theTutorialsScheduleBuffersAreCheckedAgainstTheCheckpointsScheduleNotTheNewOne() throws IOException {
    Path base = trained();
    Path latest = CheckpointStore.listIn(base.resolve("checkpoints")).get(0);
    StateDict ema = Checkpoint.read(latest).content().ema().orElseThrow();
    StateDict.Builder tutorial = StateDict.builder();
    ema.entries().forEach(tutorial::put);
    try (Diffusion d = open(TrainingRunTest.TINY)) {
      io.github.diffusion4j.schedule.Schedule s = d.schedule();
      tutorial.put("noise_schedule.betas", floats(s.betas()));
      tutorial.put("noise_schedule.alphas", floats(s.alphas()));
      tutorial.put("noise_schedule.alpha_bars", floats(s.alphaBars()));
    }
    Path saved = dir.resolve("tutorial"); // model.safetensors and config.yaml, as a PyTorch user writes them
    Checkpoint.write(saved, io.github.diffusion4j.io.CheckpointContent.of(tutorial.build(),
        Files.readString(latest.resolve("config.yaml"))), io.github.diffusion4j.io.Provenance.now("reference", 5));
    // a fine-tuning with another schedule: allowed (a warning), the buffers are not the run's
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + saved, "schedule.num_train_timesteps=50");
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("tuned")))) {
      assertEquals(ema, run.model().stateDict());
    }
  }

  private static io.github.diffusion4j.model.FloatArray floats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return io.github.diffusion4j.model.FloatArray.wrap(Shape.of(v.length), f);
  }

  private static final String UNET = String.join("\n", "backend: reference", "data:", "  image_shape: [3, 8, 8]",
      "  train_size: 8", "  eval_size: 0", "model:", "  kind: unet", "  base_channels: 8", "  channel_mult: [1, 2]",
      "  groups: 4", "training:", "  epochs: 1", "  batch_size: 8", "");

  @Test
  void aCheckpointOfTheSameShapesComputingAnotherFunctionIsRefused() throws IOException {
    Path saved = dir.resolve("groups4");
    StateDict w;
    try (Diffusion d = open(UNET)) {
      w = d.modelSpec().initialWeights(3);
    }
    Checkpoint.write(saved, io.github.diffusion4j.io.CheckpointContent.of(w, UNET),
        io.github.diffusion4j.io.Provenance.now("reference", 5));
    try (Diffusion d = open(UNET, "training.init_from=" + saved, "model.groups=8")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TrainingRun.start(d, new RunFolder(dir.resolve("groups8"))));
      assertTrue(e.getMessage().contains("training.init_from: " + saved.resolve("config.yaml") + ": its model (as a "
          + "diffusers UNet2DModel config.json) key 'norm_num_groups' is 4 but the configured model's is 8; "),
          e.getMessage());
      // config --check says so too, from the config.yaml alone
      assertEquals(e.getMessage(), assertThrows(ConfigException.class, d::check).getMessage());
    }
    // gray images from an RGB model: the channels are the data's, and the message says where they are set
    try (Diffusion d = open(UNET.replace("[3, 8, 8]", "[1, 8, 8]"), "training.init_from=" + saved)) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertTrue(e.getMessage().contains("key 'in_channels' is 3 but the configured model's is 1; the run must "
          + "configure the same network (the image channels are data.image_shape's first entry)"), e.getMessage());
    }
    // and for a diffusers folder: an MLP cannot start from one, said by the checks
    Path published = dir.resolve("published");
    UNetSpec unetSpec;
    try (Diffusion d = Diffusion.open(writeYaml(UNET), List.of())) {
      unetSpec = (UNetSpec) d.modelSpec();
    }
    DiffusersFolder.write(published, DiffusersConversion.config(unetSpec), DiffusersConversion.weights(unetSpec, w),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    try (Diffusion d = open(TrainingRunTest.TINY, "training.init_from=" + published)) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertTrue(e.getMessage().contains("a diffusers folder starts only a U-Net: "), e.getMessage());
    }
    try (Diffusion d = open(UNET, "training.init_from=" + saved, "model.dropout=0.1");
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("same")))) {
      assertEquals(w, run.model().stateDict(), "dropout may differ");
    }
  }

  @Test
  void aUNetWithoutADiffusersEquivalentIsStillRefusedForOtherGroups() throws IOException {
    // channel_mult [2, 1]: conv_in has base_channels, the first level twice that, which diffusers cannot express
    String unet21 = UNET.replace("channel_mult: [1, 2]", "channel_mult: [2, 1]");
    Path saved = dir.resolve("mult21");
    StateDict w;
    try (Diffusion d = open(unet21)) {
      w = d.modelSpec().initialWeights(3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DiffusersConversion.config(d.modelSpec()));
      assertTrue(e.getMessage().startsWith("model.channel_mult [2, 1] starts with 2, which a diffusers UNet2DModel "
          + "cannot express"), e.getMessage());
    }
    Checkpoint.write(saved, io.github.diffusion4j.io.CheckpointContent.of(w, unet21),
        io.github.diffusion4j.io.Provenance.now("reference", 5));
    try (Diffusion d = open(unet21, "training.init_from=" + saved, "model.groups=8")) {
      ConfigException e = assertThrows(ConfigException.class, d::check);
      assertTrue(e.getMessage().contains("training.init_from: " + saved.resolve("config.yaml") + ": its model.groups "
          + "is 4 but the configured model.groups is 8; "), e.getMessage());
    }
    try (Diffusion d = open(unet21, "training.init_from=" + saved, "model.dropout=0.1");
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("same21")))) {
      assertEquals(w, run.model().stateDict(), "the same network starts from the weights");
    }
  }

  @Test
  void aDdpmCheckpointStartsARunOfTheSameNetworkAsUnet2d() throws IOException {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    StateDict w = GoldenCases.testWeights(spec.parameterShapes(), 21);
    String ddpm = String.join("\n", "backend: reference", "data:", "  image_shape: [3, 8, 8]", "  train_size: 8",
        "  eval_size: 0", "model:", "  kind: ddpm", "  base_channels: 32", "  channel_mult: [1, 2]",
        "  num_res_blocks: 1", "  attn_resolutions: [4]", "  dropout: 0.0", "training:", "  epochs: 1",
        "  batch_size: 8", "");
    Path saved = dir.resolve("ddpm");
    Checkpoint.write(saved, io.github.diffusion4j.io.CheckpointContent.of(w, ddpm),
        io.github.diffusion4j.io.Provenance.now("reference", 5));
    String unet2d = ddpm.replaceAll("(?s)model:.*training:", "model:\n  kind: unet2d\n  unet2d: "
        + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(DiffusersConversion.config(spec).toMap())
        + "\ntraining:");
    try (Diffusion d = open(unet2d, "training.init_from=" + saved);
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("as-unet2d")))) {
      assertEquals(DiffusersConversion.weights(spec, w), run.model().stateDict(), "renamed to diffusers' names");
    }
  }

  @Test
  void theDdpmUNetAtAnotherImageSizeIsToldTheAttentionResolutionsThatKeepTheWeightsLevels() throws IOException {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    Path published = dir.resolve("published");
    DiffusersFolder.write(published, DiffusersConversion.config(spec),
        DiffusersConversion.weights(spec, GoldenCases.testWeights(spec.parameterShapes(), 21)),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    String yaml = String.join("\n", "backend: reference", "data:", "  image_shape: [3, 16, 16]", "  train_size: 8",
        "  eval_size: 0", "model:", "  kind: ddpm", "  base_channels: 32", "  channel_mult: [1, 2]",
        "  num_res_blocks: 1", "  attn_resolutions: [4]", "training:", "  epochs: 1", "  batch_size: 8", "");
    try (Diffusion d = open(yaml, "training.init_from=" + published)) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TrainingRun.start(d, new RunFolder(dir.resolve("tuned"))));
      assertTrue(e.getMessage().contains("(model.attn_resolutions are image sizes: at 16x16 the weights' attention "
          + "levels are model.attn_resolutions=[8], which --set model.attn_resolutions=[8] gives)"), e.getMessage());
    }
    try (Diffusion d = open(yaml, "training.init_from=" + published, "model.attn_resolutions=[8]");
        TrainingRun run = TrainingRun.start(d, new RunFolder(dir.resolve("tuned16")))) {
      assertTrue(run.initialWeights().isPresent(), "as the hint says");
    }
  }

  private static void deleteTree(Path root) throws IOException {
    List<Path> all = new ArrayList<>();
    try (var s = Files.walk(root)) {
      s.forEach(all::add);
    }
    all.sort((a, b) -> b.getNameCount() - a.getNameCount());
    for (Path p : all) {
      Files.delete(p);
    }
  }
}
