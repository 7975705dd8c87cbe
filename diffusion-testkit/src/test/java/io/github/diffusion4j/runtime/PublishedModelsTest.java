package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.ConfigWriter;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointContent;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.Provenance;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.GoldenCases;
import io.github.diffusion4j.testkit.TorchFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models trained elsewhere, on the reference backend: diffusers folders load and sample, the SDK's models export
 * to diffusers and load back with the same function, the DDPM authors' checkpoints convert in one step, and the
 * tutorial's state dict with its schedule buffers loads.
 */
class PublishedModelsTest {
  @TempDir
  Path dir;

  private static final List<String> REFERENCE = List.of("backend=reference");

  static UNet2DConfig micro() {
    return UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"), "up_block_types", List.of("AttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim", 4, "norm_num_groups", 4, "sample_size", 8, "flip_sin_to_cos", false, "freq_shift", 1));
  }

  private float[] predict(TrainedModel m, int[] t) {
    TensorFactory f = m.diffusion().backend().tensors();
    Shape shape = Shape.batchOf(t.length, m.diffusion().imageShape());
    try (TensorScope s = f.openScope()) {
      return m.model().predict(f.fromArray(GoldenCases.input(shape.size()), shape), t).toFloatArray();
    }
  }

  private static double maxRelative(float[] a, float[] b) {
    return GoldenCases.maxRelativeDifference(a, b);
  }

  @Test
  void aDiffusersFolderLoadsWithItsSchedulerAndSamples() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3);
    SchedulerConfig s = SchedulerConfig.DIFFUSERS_DEFAULTS.withClassName("DDPMScheduler");
    Path folder = dir.resolve("ddpm-micro");
    DiffusersFolder.write(folder, c, w, s);
    try (TrainedModel m = TrainedModel.load(folder, REFERENCE)) {
      assertTrue(m.fromDiffusersFolder());
      assertInstanceOf(UNet2DSpec.class, m.model().spec());
      assertEquals(w, m.model().stateDict());
      assertEquals("ddim", m.diffusion().config().sampling().sampler());
      assertEquals(50, m.diffusion().plan().size(), "DDIMPipeline's 50 steps");
      assertEquals(900 + 80, m.diffusion().plan().get(0), "leading spacing, as the folder's scheduler (default)");
      assertTrue(m.diffusion().config().sampling().clipping().clipSample());
      assertEquals(Shape.of(3, 8, 8), m.diffusion().imageShape());
      assertTrue(m.checkpoint().content().configYaml().contains("kind: unet2d"));
    }
    try (TrainedModel m = TrainedModel.load(folder, List.of("backend=reference", "sampling.num_inference_steps=3"))) {
      float[] images = m.sample(m.diffusion().sampler(), m.diffusion().request(2, 5), SamplingListener.NONE);
      assertEquals(2 * 3 * 8 * 8, images.length);
      for (float v : images) {
        assertTrue(v >= 0 && v <= 1, "images in [0, 1]");
      }
    }
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> TrainedModel.load(folder, List.of("backend=reference", "schedule.beta_end=0.03")));
    assertTrue(e.getMessage().contains("beta_end"), e.getMessage());
  }

  @Test
  void aConfigWithoutSampleSizeNeedsTheImageShape() throws IOException {
    Map<String, Object> values = new java.util.HashMap<>(micro().toMap());
    values.put("sample_size", null);
    UNet2DConfig c = UNet2DConfig.fromMap(values);
    Path folder = dir.resolve("no-size");
    DiffusersFolder.write(folder, c, GoldenCases.testWeights(UNet2DSpec.of(micro(), 1000).parameterShapes(), 3),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(folder, REFERENCE));
    assertTrue(e.getMessage().contains("sample_size is null; give the image size with data.image_shape=[3, H, W]"),
        e.getMessage());
    try (TrainedModel m = TrainedModel.load(folder, List.of("backend=reference", "data.image_shape=[3, 16, 16]"))) {
      assertEquals(Shape.of(3, 16, 16), m.diffusion().imageShape());
    }
  }

  /** A sample_size the levels cannot halve is named in config.json, not in the YAML built from it. */
  @Test
  void aSampleSizeTheLevelsCannotHalveIsNamedInConfigJson() throws IOException {
    Map<String, Object> values = new java.util.HashMap<>(micro().toMap());
    values.put("sample_size", 9);
    Path folder = dir.resolve("odd-size");
    DiffusersFolder.write(folder, UNet2DConfig.fromMap(values),
        GoldenCases.testWeights(UNet2DSpec.of(micro(), 1000).parameterShapes(), 3), SchedulerConfig.DIFFUSERS_DEFAULTS);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(folder, REFERENCE));
    assertEquals(DiffusersFolder.read(folder).configFile() + ": key 'sample_size': 2 levels halve the image 1 times, "
        + "so its height and width must be multiples of 2, got 9x9", e.getMessage());
  }

  /**
   * A diffusers folder's configuration is made from its small files alone: {@code configuration} and
   * {@code imageShape} answer without its weights, and the load refuses what the overrides get wrong (a backend, a
   * sampler, steps beyond T) before it reads them, as it does a checkpoint's. The weights here are cut short, so a
   * read of them would be what the load reports.
   */
  @Test
  void aDiffusersFolderIsConfiguredAndItsOverridesCheckedBeforeItsWeightsAreRead() throws IOException {
    Path folder = dir.resolve("damaged");
    DiffusersFolder.write(folder, micro(), GoldenCases.testWeights(UNet2DSpec.of(micro(), 1000).parameterShapes(), 3),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    Path weights = folder.resolve("unet").resolve(DiffusersFolder.WEIGHTS);
    try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(weights,
        java.nio.file.StandardOpenOption.WRITE)) {
      c.truncate(100);
    }
    assertTrue(assertThrows(CheckpointException.class, () -> TrainedModel.load(folder, REFERENCE)).getMessage()
        .startsWith(weights.toString()), "the weights are read by the load");
    io.github.diffusion4j.config.DiffusionConfig c = TrainedModel.configuration(folder,
        List.of("sampling.num_inference_steps=7")).orElseThrow();
    assertEquals(1000, c.schedule().spec().numTrainTimesteps());
    assertEquals(7, c.sampling().numInferenceSteps());
    assertEquals("ddim", c.sampling().sampler());
    assertEquals(Optional.of(Shape.of(3, 8, 8)), TrainedModel.imageShape(folder, List.of()));
    assertEquals(Optional.of(Shape.of(3, 16, 16)), TrainedModel.imageShape(folder,
        List.of("data.kind=folder", "data.root=x", "data.image_shape=[3, 16, 16]")), "the overrides' data");
    for (String bad : List.of("backend=nd4k", "sampling.sampler=eulr", "sampling.num_inference_steps=1001")) {
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> TrainedModel.load(folder, List.of("backend=reference", bad)));
      String key = bad.substring(0, bad.indexOf('='));
      assertTrue(e.getMessage().contains(key + ": ") && !e.getMessage().contains(weights.toString()), e.getMessage());
    }
  }

  private Path ddpmCheckpoint(DdpmUNetSpec spec, StateDict weights) {
    String yaml = PublishedConfigs.yaml(spec.imageShape(), List.of("kind: ddpm", "base_channels: " + spec.baseChannels(),
        "channel_mult: " + spec.channelMult(), "num_res_blocks: " + spec.numResBlocks(),
        "attn_resolutions: " + spec.attnResolutions(), "dropout: 0.0"), DdpmImport.authorsScheduler());
    Path ckpt = dir.resolve("ddpm-ckpt");
    Checkpoint.write(ckpt, CheckpointContent.of(weights, ConfigWriter.toYaml(ConfigLoader.loadString(yaml, "x.yaml")))
        .withScheduler(DdpmImport.authorsScheduler()), Provenance.now("reference", 1));
    return ckpt;
  }

  private static final DdpmUNetSpec MINI = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);

  @Test
  void aDdpmModelExportsToDiffusersAndLoadsBackWithTheSameFunction() throws IOException {
    Path ckpt = ddpmCheckpoint(MINI, GoldenCases.testWeights(MINI.parameterShapes(), 11));
    Path out = dir.resolve("exported");
    int[] t = {0, 500, 999};
    float[] before;
    try (TrainedModel m = TrainedModel.load(ckpt, REFERENCE)) {
      assertFalse(m.fromDiffusersFolder());
      before = predict(m, t);
      m.exportDiffusers(out);
    }
    assertTrue(Files.isRegularFile(out.resolve("unet/diffusion_pytorch_model.safetensors")));
    try (TrainedModel m = TrainedModel.load(out, REFERENCE)) {
      assertTrue(m.fromDiffusersFolder());
      double rel = maxRelative(before, predict(m, t));
      assertTrue(rel < 1e-5, "the exported model differs by " + rel);
      assertEquals(Schedule.of(DdpmImport.authorsScheduler().schedule()).alphaBar(999), m.diffusion().schedule().alphaBar(999));
    }
  }

  /**
   * An export reads the model's native memory: a close from another thread waits for it to finish (it freed the
   * memory under it), and an export after the close is refused as sampling is. The model is large enough (about 12 MB
   * of weights) that the close comes while the export writes.
   */
  @Test
  void closeWaitsForAnExportInProgress() throws Exception {
    UNet2DConfig c = UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(128, 128), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "DownBlock2D"), "up_block_types", List.of("UpBlock2D", "UpBlock2D"),
        "norm_num_groups", 8, "sample_size", 8));
    StateDict w = GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3);
    Path folder = dir.resolve("ddpm-medium");
    DiffusersFolder.write(folder, c, w, SchedulerConfig.DIFFUSERS_DEFAULTS.withClassName("DDPMScheduler"));
    Path exports = Files.createDirectories(dir.resolve("exports"));
    Path out = exports.resolve("exported");
    TrainedModel m = TrainedModel.load(folder, REFERENCE);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<?> export = pool.submit(() -> m.exportDiffusers(out));
      // the export is writing once its temporary folder is there
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!export.isDone() && System.nanoTime() < deadline) {
        try (java.util.stream.Stream<Path> files = Files.list(exports)) {
          if (files.anyMatch(p -> p.getFileName().toString().startsWith(io.github.diffusion4j.io.AtomicFiles.TEMP_PREFIX))) {
            break;
          }
        }
      }
      assertFalse(export.isDone(), "the close is to come during the export");
      m.close();
      // the folder is renamed into place as the export's last step (its task ends a moment later)
      assertTrue(Files.isDirectory(out), "close returned before the export ended");
      export.get(30, java.util.concurrent.TimeUnit.SECONDS);
      try (TrainedModel back = TrainedModel.load(out, REFERENCE)) {
        assertEquals(w, back.model().stateDict(), "the whole export");
      }
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.exportDiffusers(dir.resolve("after")));
      assertEquals("this Diffusion is closed (its backend is released; closing a TrainedModel closes its Diffusion): open or load another", e.getMessage());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theAuthorsCheckpointConvertsInOneStepToEitherFormat() throws IOException {
    StateDict w = GoldenCases.testWeights(MINI.parameterShapes(), 12);
    Path ckpt = dir.resolve("model.ckpt");
    TorchFiles.write(ckpt, w);
    Path mine = dir.resolve("mine");
    DdpmImport.Result r = DdpmImport.convert(ckpt, mine, new DdpmImport.Options(OptionalInt.of(8), Optional.empty(),
        DdpmImport.Format.DIFFUSION4J));
    assertEquals(new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.1), r.spec(),
        "the architecture from the names and shapes; the published small models' dropout");
    assertEquals("", r.entry());
    assertFalse(r.imageSizeGuessed());
    Path theirs = dir.resolve("theirs");
    DdpmImport.convert(ckpt, theirs, new DdpmImport.Options(OptionalInt.of(8), Optional.empty(), DdpmImport.Format.DIFFUSERS));
    int[] t = {0, 1, 999};
    try (TrainedModel a = TrainedModel.load(mine, REFERENCE); TrainedModel b = TrainedModel.load(theirs, REFERENCE)) {
      assertEquals(w, a.model().stateDict());
      assertEquals("ddpm", a.diffusion().config().model().kind().configName());
      assertEquals("ddim", a.diffusion().config().sampling().sampler());
      double rel = maxRelative(predict(a, t), predict(b, t));
      assertTrue(rel < 1e-5, "the two conversions differ by " + rel);
    }
  }

  @Test
  void theDdimAuthorsListGivesItsAverageWithoutTheDataParallelPrefix() throws IOException {
    StateDict model = prefixed(GoldenCases.testWeights(MINI.parameterShapes(), 13));
    StateDict ema = prefixed(GoldenCases.testWeights(MINI.parameterShapes(), 14));
    Path ckpt = dir.resolve("ckpt.pth");
    TorchFiles.write(ckpt, List.of(model, 7L, 1234L, ema));
    DdpmImport.Result r = DdpmImport.convert(ckpt, dir.resolve("out"), new DdpmImport.Options(OptionalInt.of(8),
        Optional.empty(), DdpmImport.Format.DIFFUSION4J));
    assertEquals("[3]", r.entry());
    try (TrainedModel m = TrainedModel.load(dir.resolve("out"), REFERENCE)) {
      assertEquals(GoldenCases.testWeights(MINI.parameterShapes(), 14), m.model().stateDict());
    }
    r = DdpmImport.convert(ckpt, dir.resolve("out0"), new DdpmImport.Options(OptionalInt.of(8), Optional.of("[0]"),
        DdpmImport.Format.DIFFUSION4J));
    assertEquals("[0]", r.entry());
    CheckpointException e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, dir.resolve("x"),
        new DdpmImport.Options(OptionalInt.of(8), Optional.of("[1]"), DdpmImport.Format.DIFFUSION4J)));
    assertTrue(e.getMessage().contains("[[0], [3]]"), e.getMessage());
  }

  /** A NaN weight is refused by convert, naming the file, in both formats; nothing is written. */
  @Test
  void aNonFiniteWeightIsRefusedBeforeAnythingIsWritten() throws IOException {
    StateDict w = GoldenCases.testWeights(MINI.parameterShapes(), 12);
    StateDict.Builder b = StateDict.builder();
    w.entries().forEach((k, v) -> {
      float[] a = v.toArray();
      if (k.equals("conv_in.weight")) {
        a[3] = Float.NaN;
      }
      b.put(k, v.shape().dims(), a);
    });
    Path ckpt = dir.resolve("diverged.ckpt");
    TorchFiles.write(ckpt, b.build());
    for (DdpmImport.Format f : DdpmImport.Format.values()) {
      Path out = dir.resolve("out-" + f);
      CheckpointException e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, out,
          new DdpmImport.Options(OptionalInt.of(8), Optional.empty(), f)), f.toString());
      assertTrue(e.getMessage().startsWith(ckpt + ": the state dict: 'conv_in.weight' has a non-finite value (NaN) at index 3"),
          e.getMessage());
      assertFalse(Files.exists(out), f + ": " + out + " was written");
    }
  }

  private static StateDict prefixed(StateDict w) {
    StateDict.Builder b = StateDict.builder();
    w.entries().forEach((k, v) -> b.put("module." + k, v));
    return b.build();
  }

  @Test
  void theImageSizeOfThePublishedShapesIsKnownAndOthersMustBeGiven() throws IOException {
    Path ckpt = dir.resolve("model.ckpt");
    TorchFiles.write(ckpt, GoldenCases.testWeights(MINI.parameterShapes(), 12));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, dir.resolve("o"),
        DdpmImport.Options.defaults()));
    assertTrue(e.getMessage().contains("--image-size"), e.getMessage());
    Path other = dir.resolve("other.ckpt");
    TorchFiles.write(other, prefixed(GoldenCases.testWeights(Map.of("w", new int[] {2, 2}), 1)));
    e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(other, dir.resolve("o"), DdpmImport.Options.defaults()));
    assertTrue(e.getMessage().contains("is not the DDPM authors' Model"), e.getMessage());
  }

  /** The tutorial's module saved with safetensors: {@code model.0/2} and the schedule buffers of its submodule. */
  @Test
  void theTutorialsStateDictWithItsScheduleBuffersLoads() throws IOException {
    String yaml = ConfigLoader.bundledYaml("tutorial").replace("backend: nd4j", "backend: reference");
    io.github.diffusion4j.config.DiffusionConfig config = ConfigLoader.loadString(yaml, "tutorial.yaml");
    int t = config.schedule().spec().numTrainTimesteps();
    Schedule schedule = Schedule.of(config.schedule().spec());
    Map<String, int[]> layout = config.model().toSpec(config.data().imageShape().orElseThrow(), t).parameterShapes();
    StateDict.Builder b = StateDict.builder();
    GoldenCases.testWeights(layout, 4).entries().forEach(b::put);
    float[] betas = new float[t];
    float[] alphas = new float[t];
    float[] alphaBars = new float[t];
    float bar = 1f;
    for (int i = 0; i < t; i++) {  // as the tutorial: torch.linspace, 1 - betas, torch.cumprod, in float32
      betas[i] = (float) (1e-4 + (0.02 - 1e-4) * i / (t - 1));
      alphas[i] = 1f - betas[i];
      bar *= alphas[i];
      alphaBars[i] = bar;
    }
    b.put("noise_schedule.betas", FloatArray.wrap(Shape.of(t), betas));
    b.put("noise_schedule.alphas", FloatArray.wrap(Shape.of(t), alphas));
    b.put("noise_schedule.alpha_bars", FloatArray.wrap(Shape.of(t), alphaBars));
    Path ckpt = dir.resolve("tutorial");
    Files.createDirectories(ckpt);
    Files.writeString(ckpt.resolve(Checkpoint.CONFIG_FILE), yaml);
    io.github.diffusion4j.io.SafeTensors.write(ckpt.resolve(Checkpoint.MODEL_FILE), b.build(), Map.of());
    try (TrainedModel m = TrainedModel.load(ckpt, REFERENCE)) {
      assertEquals(GoldenCases.testWeights(layout, 4), m.model().stateDict());
      assertEquals(schedule.alphaBar(t - 1), m.diffusion().schedule().alphaBar(t - 1));
    }
    alphaBars[t / 2] *= 1.01f;
    StateDict.Builder wrong = StateDict.builder();
    GoldenCases.testWeights(layout, 4).entries().forEach(wrong::put);
    wrong.put("noise_schedule.alpha_bars", FloatArray.wrap(Shape.of(t), alphaBars));
    io.github.diffusion4j.io.SafeTensors.write(ckpt.resolve(Checkpoint.MODEL_FILE), wrong.build(), Map.of());
    CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedModel.load(ckpt, REFERENCE));
    assertTrue(e.getMessage().contains("'noise_schedule.alpha_bars'[" + t / 2 + "]"), e.getMessage());
  }
}
