package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffusersFolderTest {
  @TempDir
  Path dir;

  static UNet2DConfig micro() {
    return UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"), "up_block_types", List.of("AttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim", 4, "norm_num_groups", 4, "sample_size", 8));
  }

  private static StateDict weights(UNet2DConfig c) {
    return UNet2DSpec.of(c, 1000).initialWeights(9);
  }

  private static final SchedulerConfig SCHEDULER = SchedulerConfig.DIFFUSERS_DEFAULTS;

  /**
   * A {@code config.json} written as diffusers writes one ({@code unet_every_key/make_config.py}), every key at a
   * value other than diffusers' default, so a key name misspelt in the reader (which then takes the default) shows;
   * the layout is that of the Python reference model built from the same file.
   */
  @Test
  void everyKeyOfARealConfigIsRead() throws IOException {
    Path file = dir.resolve("config.json");
    try (java.io.InputStream in = DiffusersFolderTest.class.getResourceAsStream("unet_every_key/config.json")) {
      Files.copy(in, file);
    }
    UNet2DConfig c = DiffusersFolder.readConfig(file);
    assertEquals(List.of(8, 12), c.sampleSize());
    assertEquals(1, c.inChannels());
    assertEquals(1, c.outChannels());
    assertEquals(java.util.OptionalInt.of(24), c.timeEmbeddingDim());
    assertEquals(2.0, c.freqShift());
    assertFalse(c.flipSinToCos());
    assertEquals(List.of("AttnDownBlock2D", "DownBlock2D"), c.downBlockTypes());
    assertFalse(c.midBlock(), "mid_block_type null");
    assertEquals(List.of("UpBlock2D", "AttnUpBlock2D"), c.upBlockTypes());
    assertEquals(List.of(8, 12), c.blockOutChannels());
    assertEquals(1, c.layersPerBlock());
    assertEquals(1.5, c.midBlockScaleFactor());
    assertEquals(0, c.downsamplePadding());
    assertEquals(0.25, c.dropout());
    assertEquals("relu", c.actFn());
    assertEquals(java.util.OptionalInt.of(2), c.attentionHeadDim());
    assertEquals(4, c.normNumGroups());
    assertEquals(java.util.OptionalInt.of(2), c.attnNormNumGroups());
    assertEquals(1e-4, c.normEps());
    assertFalse(c.addAttention());
    com.fasterxml.jackson.databind.JsonNode layout;
    try (java.io.InputStream in = DiffusersFolderTest.class.getResourceAsStream("unet_every_key/layout.json")) {
      layout = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
    }
    Map<String, int[]> got = DiffusersFolder.layout(c);
    assertEquals(layout.size(), got.size());
    int i = 0;
    for (Map.Entry<String, int[]> e : got.entrySet()) {
      assertEquals(layout.get(i).get(0).textValue(), e.getKey(), "name " + i);
      assertEquals(layout.get(i).get(1).toString(), java.util.Arrays.toString(e.getValue()).replace(" ", ""), e.getKey());
      i++;
    }
  }

  @Test
  void aWrittenPipelineFolderReadsBack() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = weights(c);
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, w, SCHEDULER);
    assertTrue(Files.isRegularFile(out.resolve("model_index.json")));
    assertTrue(Files.isRegularFile(out.resolve("unet/config.json")));
    assertTrue(Files.isRegularFile(out.resolve("unet/diffusion_pytorch_model.safetensors")));
    assertTrue(Files.isRegularFile(out.resolve("scheduler/scheduler_config.json")));
    assertTrue(DiffusersFolder.isDiffusersFolder(out));
    DiffusersFolder f = DiffusersFolder.read(out);
    assertEquals(c, f.unet());
    assertEquals(w, f.weights());
    assertEquals("DDPMScheduler", f.scheduler().orElseThrow().className());
    String config = Files.readString(out.resolve("unet/config.json"));
    assertTrue(config.contains("\"_class_name\": \"UNet2DModel\",\n"), config);
    assertTrue(config.contains("  \"block_out_channels\": [\n    8,\n    8\n  ],\n"), config);
    assertTrue(config.contains("\"norm_eps\": 1e-05"), config);
    assertTrue(Files.readString(out.resolve("model_index.json")).contains("\"unet\": [\n    \"diffusers\",\n    \"UNet2DModel\"\n  ]"));
    assertEquals(Map.of("format", "pt"), SafeTensors.read(out.resolve("unet/diffusion_pytorch_model.safetensors")).metadata());
  }

  /**
   * {@code model_index.json} is what {@code DDPMPipeline.save_pretrained} writes, written out by hand here: diffusers
   * picks the pipeline class ({@code DiffusionPipeline.from_pretrained}) and each component's class from it, so a
   * {@code DDIMPipeline} there would sample with DDIM although this reader accepts it too.
   */
  @Test
  void theModelIndexNamesTheDdpmPipelineAndItsComponentsAsDiffusersDoes() throws IOException {
    Path out = dir.resolve("pipe");
    UNet2DConfig c = micro();
    // a configuration that names another scheduler is still written as the pipeline's DDPMScheduler
    DiffusersFolder.write(out, c, weights(c), SCHEDULER.withClassName("DDIMScheduler"));
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    assertEquals(
        json.readTree("{\"_class_name\": \"DDPMPipeline\", \"_diffusers_version\": \"0.32.0\", "
            + "\"scheduler\": [\"diffusers\", \"DDPMScheduler\"], \"unet\": [\"diffusers\", \"UNet2DModel\"]}"),
        json.readTree(out.resolve("model_index.json").toFile()));
    assertEquals("DDPMScheduler",
        json.readTree(out.resolve("scheduler/scheduler_config.json").toFile()).get("_class_name").textValue());
  }

  @Test
  void aModelFolderWithTheOlderAttentionNamesReadsUnderTheCurrentNames() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = weights(c);
    StateDict.Builder old = StateDict.builder();
    for (Map.Entry<String, FloatArray> e : w.entries().entrySet()) {
      old.put(e.getKey().replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
          .replace(".to_out.0.", ".proj_attn."), e.getValue());
    }
    Path flat = Files.createDirectories(dir.resolve("flat"));
    Files.writeString(flat.resolve("config.json"), StrictJson.pretty(c.toMap()));
    SafeTensors.write(flat.resolve("diffusion_pytorch_model.safetensors"), old.build(), Map.of());
    assertTrue(DiffusersFolder.isDiffusersFolder(flat));
    DiffusersFolder f = DiffusersFolder.read(flat);
    assertEquals(w, f.weights());
    assertTrue(f.scheduler().isEmpty());
    assertTrue(w.names().stream().anyMatch(n -> n.endsWith("attentions.0.to_out.0.weight")));
  }

  /**
   * A {@code diffusion_pytorch_model.bin} with an int64 {@code num_batches_tracked} or an empty tensor is read, and
   * judged by the model's layout: a tensor the model does not have is an unexpected entry, as any other; an int64
   * tensor where the model has a float parameter, or an empty one where it has a parameter of another shape, is
   * refused naming the file, the tensor and what was found.
   */
  @Test
  void aBinWithIntegerOrEmptyTensorsIsJudgedByTheModelsLayout() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = weights(c);
    Path d = Files.createDirectories(dir.resolve("bin"));
    Files.writeString(d.resolve("config.json"), StrictJson.pretty(c.toMap()));
    Path bin = d.resolve("diffusion_pytorch_model.bin");
    String fits = bin + ": does not fit " + d.resolve("config.json") + ": diffusion_pytorch_model.bin's weights: ";
    TorchFiles.zip(bin, w);
    assertEquals(w, DiffusersFolder.read(d).weights());

    TorchFiles.zip(bin, w, new TorchFiles.Tensor("conv_norm_out.num_batches_tracked", "Long", "x", 1));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().startsWith(fits + "unexpected entry 'conv_norm_out.num_batches_tracked'; the file has "
        + (w.size() + 1) + " entries, the model expects " + w.size()), e.getMessage());

    TorchFiles.zip(bin, w, new TorchFiles.Tensor("conv_in.weight", "Long", "x", 8 * 3 * 9, 8, 3, 3, 3));
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertEquals(bin + ": tensor 'conv_in.weight' is int64; a model parameter must be float32, float64, float16 or "
        + "bfloat16", e.getMessage());

    TorchFiles.zip(bin, w, new TorchFiles.Tensor("conv_in.weight", "Float", "x", 0, 0, 3, 3, 3));
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertEquals(fits + "'conv_in.weight' has shape [0, 3, 3, 3], expected [8, 3, 3, 3]", e.getMessage());

    TorchFiles.zip(bin, w, new TorchFiles.Tensor("extra", "Float", "x", 0, 0));
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().startsWith(fits + "unexpected entry 'extra'"), e.getMessage());
  }

  /**
   * A {@code diffusion_pytorch_model.safetensors} (and an fp16 one) holding what the .bin above holds is judged as
   * the .bin is, with the same messages: an int64 {@code num_batches_tracked} the model lacks is an unexpected entry,
   * an int64 tensor where it has a parameter is refused by its dtype, an empty one by its shape, an empty extra as an
   * unexpected entry. The safetensors reader used to refuse such a file whole, for its dtype or its zero dimension.
   */
  @Test
  void aSafetensorsWithIntegerOrEmptyTensorsIsJudgedAsTheBinIs() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = weights(c);
    List<TorchFiles.Tensor> cases = List.of(
        new TorchFiles.Tensor("conv_norm_out.num_batches_tracked", "Long", "x", 1),
        new TorchFiles.Tensor("conv_in.weight", "Long", "x", 8 * 3 * 9, 8, 3, 3, 3),
        new TorchFiles.Tensor("conv_in.weight", "Bool", "x", 8 * 3 * 9, 8, 3, 3, 3),
        new TorchFiles.Tensor("conv_in.weight", "Float", "x", 0, 0, 3, 3, 3),
        new TorchFiles.Tensor("conv_in.weight", "Long", "x", 0, 8, 3, 0, 3),
        new TorchFiles.Tensor("extra", "Float", "x", 0, 0));
    for (String name : List.of(DiffusersFolder.WEIGHTS, DiffusersFolder.WEIGHTS_FP16)) {
      Path d = Files.createDirectories(dir.resolve("st-" + name));
      Path b = Files.createDirectories(dir.resolve("bin-" + name));
      Files.writeString(d.resolve("config.json"), StrictJson.pretty(c.toMap()));
      Files.writeString(b.resolve("config.json"), StrictJson.pretty(c.toMap()));
      Path st = d.resolve(name);
      Path bin = b.resolve(DiffusersFolder.WEIGHTS_BIN);
      Files.write(st, SafeTensorsTest.file(w));
      assertEquals(w, DiffusersFolder.read(d).weights());
      String fits = st + ": does not fit " + d.resolve("config.json") + ": " + name + "'s weights: ";
      for (TorchFiles.Tensor t : cases) {
        Files.write(st, SafeTensorsTest.file(w, raw(t)));
        TorchFiles.zip(bin, w, t);
        String got = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d)).getMessage();
        String fromBin = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(b)).getMessage();
        assertEquals(fromBin.replace(b.toString(), d.toString()).replace(DiffusersFolder.WEIGHTS_BIN, name), got, t.toString());
        String expected = switch (t.name() + " " + t.type() + " " + t.numel()) {
          case "conv_norm_out.num_batches_tracked Long 1" -> fits + "unexpected entry 'conv_norm_out.num_batches_tracked'"
              + "; the file has " + (w.size() + 1) + " entries, the model expects " + w.size();
          case "conv_in.weight Long 216" -> st + ": tensor 'conv_in.weight' is int64; a model parameter must be float32, "
              + "float64, float16 or bfloat16";
          case "conv_in.weight Bool 216" -> st + ": tensor 'conv_in.weight' is bool; a model parameter must be float32, "
              + "float64, float16 or bfloat16";
          case "conv_in.weight Float 0" -> fits + "'conv_in.weight' has shape [0, 3, 3, 3], expected [8, 3, 3, 3]";
          case "conv_in.weight Long 0" -> fits + "'conv_in.weight' has shape [8, 3, 0, 3], expected [8, 3, 3, 3]";
          default -> fits + "unexpected entry 'extra'";
        };
        assertTrue(got.startsWith(expected), got);
      }
    }
  }

  /** A tensor of {@link TorchFiles#zip} as a safetensors entry: the same dtype, shape and (zero) values. */
  private static SafeTensorsTest.Raw raw(TorchFiles.Tensor t) {
    String dtype = switch (t.type()) {
      case "Float" -> "F32";
      case "Long" -> "I64";
      case "Bool" -> "BOOL";
      default -> throw new IllegalArgumentException(t.type());
    };
    return new SafeTensorsTest.Raw(t.name(), dtype, java.util.Arrays.toString(t.shape()),
        new byte[Math.toIntExact(t.numel() * TorchFiles.bytes(t.type()))]);
  }

  /**
   * A .bin holding a parameter under both its deprecated and its current attention name, and an unexpected entry:
   * the two names are said first (their layout check merged them into one entry, so the message counted one entry
   * fewer than the file has, or named the other tensor's shape).
   */
  @Test
  void aBinHoldingBothNamesOfARenamedParameterSaysSo() throws IOException {
    UNet2DConfig c = micro();
    StateDict w = weights(c);
    String current = w.names().stream().filter(n -> n.contains("attentions.0.to_q.")).findFirst().orElseThrow();
    long[] shape = java.util.Arrays.stream(w.get(current).shape().dims()).asLongStream().toArray();
    Path d = Files.createDirectories(dir.resolve("both"));
    Files.writeString(d.resolve("config.json"), StrictJson.pretty(c.toMap()));
    Path bin = d.resolve("diffusion_pytorch_model.bin");
    TorchFiles.zip(bin, w, new TorchFiles.Tensor(current.replace(".to_q.", ".query."), "Float", "y",
        w.get(current).size(), shape), new TorchFiles.Tensor("extra", "Float", "x", 1, 1));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertEquals(bin + ": holds both '" + current.replace(".to_q.", ".query.") + "' and '" + current + "'",
        e.getMessage());
  }

  @Test
  void missingOrUnfetchedWeightsSayWhatToDo() throws IOException {
    Path d = Files.createDirectories(dir.resolve("lfs"));
    Files.writeString(d.resolve("config.json"), StrictJson.pretty(micro().toMap()));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().contains("no weights") && e.getMessage().contains("git lfs"), e.getMessage());
    // weights in shards: said so, not "no weights"
    Files.writeString(d.resolve("diffusion_pytorch_model.safetensors.index.json"), "{\"weight_map\": {}}");
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().contains("weights split into shards (diffusion_pytorch_model.safetensors.index.json) "
        + "are not supported"), e.getMessage());
    Files.delete(d.resolve("diffusion_pytorch_model.safetensors.index.json"));
    // a model folder copied without its weights is still told apart from a checkpoint, so its error says so
    assertFalse(DiffusersFolder.isDiffusersFolder(d));
    Files.writeString(d.resolve("scheduler_config.json"), "{\"_class_name\": \"DDPMScheduler\"}");
    assertTrue(DiffusersFolder.isDiffusersFolder(d));
    Files.writeString(d.resolve("diffusion_pytorch_model.safetensors"),
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 143\n");
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().contains("Git LFS pointer"), e.getMessage());
  }

  /** A weights file that cannot be read is named with the failure in words, not with a Java class name. */
  @Test
  void unreadableWeightsAreNamedInWords() throws IOException {
    Path mem = Path.of("/proc/self/mem"); // a regular file whose first bytes cannot be read (EIO)
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(mem), "Linux /proc");
    Path d = Files.createDirectories(dir.resolve("eio"));
    Files.writeString(d.resolve("config.json"), StrictJson.pretty(micro().toMap()));
    Files.createSymbolicLink(d.resolve("diffusion_pytorch_model.safetensors"), mem);
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d));
    assertTrue(e.getMessage().endsWith("diffusion_pytorch_model.safetensors: cannot read: Input/output error"),
        e.getMessage());
  }

  @Test
  void weightsThatDoNotFitTheConfigNameBothFiles() throws IOException {
    UNet2DConfig c = micro();
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, weights(c), SCHEDULER);
    Files.writeString(out.resolve("unet/config.json"), StrictJson.pretty(new java.util.TreeMap<>(Map.of("block_out_channels",
        List.of(8, 16), "layers_per_block", 1, "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"),
        "up_block_types", List.of("AttnUpBlock2D", "UpBlock2D"), "attention_head_dim", 4, "norm_num_groups", 4))));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertTrue(e.getMessage().startsWith(out.resolve("unet/diffusion_pytorch_model.safetensors") + ": does not fit "
        + out.resolve("unet/config.json")), e.getMessage());
  }

  /**
   * Weights of the right names and shapes holding a NaN or an infinity (a diverged run's, or a damaged file) are
   * refused as they are read, naming the file and the parameter, not sampled into NaN images.
   */
  @Test
  void nonFiniteWeightsAreRefusedNamingTheParameter() throws IOException {
    UNet2DConfig c = micro();
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, weights(c), SCHEDULER);
    StateDict.Builder damaged = StateDict.builder();
    String first = weights(c).names().iterator().next();
    weights(c).entries().forEach((name, a) -> {
      float[] v = a.toArray();
      if (name.equals(first)) {
        v[1] = Float.NaN;
      }
      damaged.put(name, a.shape().dims(), v);
    });
    Path file = out.resolve("unet/diffusion_pytorch_model.safetensors");
    SafeTensors.write(file, damaged.build(), Map.of());
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertTrue(e.getMessage().startsWith(file + ": does not fit " + out.resolve("unet/config.json") + ": "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("'" + first + "' has a non-finite value (NaN) at index 1"), e.getMessage());
  }

  /** Weights that do not fit the configuration are refused before anything is written: no folder that cannot load. */
  @Test
  void weightsThatDoNotFitTheConfigAreNotWritten() {
    UNet2DConfig c = micro();
    StateDict.Builder fewer = StateDict.builder();
    StateDict w = weights(c);
    String first = w.names().iterator().next();
    w.entries().forEach((name, a) -> {
      if (!name.equals(first)) {
        fewer.put(name, a);
      }
    });
    Path out = dir.resolve("pipe");
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> DiffusersFolder.write(out, c, fewer.build(), SCHEDULER));
    assertTrue(e.getMessage().startsWith(out + ": diffusers weights"), e.getMessage());
    assertTrue(e.getMessage().contains("'" + first + "'"), e.getMessage());
    assertFalse(Files.exists(out), "nothing written");
  }

  @Test
  void unsupportedPipelinesAndValuesAreNamed() throws IOException {
    UNet2DConfig c = micro();
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, weights(c), SCHEDULER);
    Path index = out.resolve("model_index.json");
    Files.writeString(index, "{\"_class_name\": \"LDMPipeline\", \"unet\": [\"diffusers\", \"UNet2DModel\"], "
        + "\"vqvae\": [\"diffusers\", \"VQModel\"]}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertEquals(index + ": key '_class_name': 'LDMPipeline' is not supported; diffusion4j loads unconditional "
        + "pixel-space pipelines [DDIMPipeline, DDPMPipeline] (a UNet2DModel and a scheduler)", e.getMessage());
    Files.writeString(index, "{\"_class_name\": \"DDPMPipeline\", \"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}");
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertTrue(e.getMessage().startsWith(index + ": key 'unet':"), e.getMessage());
    // a component the loader would silently leave out (a safety checker, a VAE) is refused, not ignored
    Files.writeString(index, "{\"_class_name\": \"DDPMPipeline\", \"unet\": [\"diffusers\", \"UNet2DModel\"], "
        + "\"vae\": [\"diffusers\", \"AutoencoderKL\"]}");
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertEquals(index + ": key 'vae': a pipeline with a vae component is not supported; supported are a unet and a "
        + "scheduler", e.getMessage());
    Files.writeString(index, DiffusersFolder.modelIndexJson());
    Path config = out.resolve("unet/config.json");
    Files.writeString(config, Files.readString(config).replace("\"positional\"", "\"fourier\""));
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertTrue(e.getMessage().startsWith(config + ": key 'time_embedding_type': 'fourier' is not supported"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void anotherSchedulerIsRefusedNotSampledWithOtherMaths() throws IOException {
    UNet2DConfig c = micro();
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, weights(c), SCHEDULER);
    // a PNDM or Euler scheduler's settings were read as DDPM's and sampled with DDIM, silently
    Path scheduler = out.resolve("scheduler/scheduler_config.json");
    Files.writeString(scheduler, "{\"_class_name\": \"EulerDiscreteScheduler\", \"use_karras_sigmas\": true}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertEquals(scheduler + ": key '_class_name': 'EulerDiscreteScheduler' is not supported; allowed are "
        + "[DDIMScheduler, DDPMScheduler] (diffusion4j samples with DDPM or DDIM; to sample this model with DDIM, as "
        + "diffusers' DDIMPipeline does, write \"DDIMScheduler\" there)", e.getMessage());
    Files.writeString(scheduler, "{\"_class_name\": \"DDIMScheduler\"}");
    assertEquals("DDIMScheduler", DiffusersFolder.read(out).scheduler().orElseThrow().className());
    // the pipeline's own list names the scheduler class diffusers loads
    Path index = out.resolve("model_index.json");
    Files.writeString(index, DiffusersFolder.modelIndexJson().replace("\"DDPMScheduler\"", "\"PNDMScheduler\""));
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(out));
    assertTrue(e.getMessage().startsWith(index + ": key 'scheduler': 'PNDMScheduler' is not supported; allowed are "
        + "[DDIMScheduler, DDPMScheduler]"), e.getMessage());
    // a model folder's scheduler_config.json beside config.json is checked alike
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    Files.copy(out.resolve("unet/config.json"), model.resolve("config.json"));
    Files.copy(out.resolve("unet/diffusion_pytorch_model.safetensors"), model.resolve("diffusion_pytorch_model.safetensors"));
    Files.writeString(model.resolve("scheduler_config.json"), "{\"_class_name\": \"PNDMScheduler\"}");
    e = assertThrows(CheckpointException.class, () -> DiffusersFolder.read(model));
    assertTrue(e.getMessage().startsWith(model.resolve("scheduler_config.json") + ": key '_class_name': "
        + "'PNDMScheduler' is not supported"), e.getMessage());
    // the model alone (the start of a fine-tuning, whose own schedule replaces the scheduler) is read from both
    assertEquals("PNDMScheduler", DiffusersFolder.readModel(model).scheduler().orElseThrow().className());
    assertEquals(c, DiffusersFolder.readModel(out).unet(), "the pipeline whose model_index.json names PNDMScheduler");
  }

  /** A path that is no folder, or a folder without a config.json in it or in unet/, is named as such. */
  @Test
  void aMissingFileOrConfiglessFolderIsNamed() throws IOException {
    Path none = dir.resolve("nowhere");
    assertEquals(none + ": no such folder",
        assertThrows(CheckpointException.class, () -> DiffusersFolder.read(none)).getMessage());
    Path file = Files.writeString(dir.resolve("model.safetensors"), "");
    assertEquals(file + ": not a folder",
        assertThrows(CheckpointException.class, () -> DiffusersFolder.read(file)).getMessage());
    Path empty = Files.createDirectories(dir.resolve("empty/unet"));
    assertEquals(empty.getParent() + ": not a diffusers folder: no config.json in it or in unet/",
        assertThrows(CheckpointException.class, () -> DiffusersFolder.read(empty.getParent())).getMessage());
  }

  /**
   * A checkpoint's model.safetensors and config.yaml make it a diffusion4j checkpoint, whatever else it holds; a
   * config.json beside model.safetensors without a config.yaml is a diffusers model folder whose weights were renamed.
   */
  @Test
  void aDiffusion4jCheckpointIsNotADiffusersFolder() throws IOException {
    Path ckpt = Files.createDirectories(dir.resolve("ckpt"));
    Files.writeString(ckpt.resolve("config.json"), "{}");
    Files.writeString(ckpt.resolve(Checkpoint.MODEL_FILE), "");
    Files.writeString(ckpt.resolve(Checkpoint.CONFIG_FILE), "");
    assertFalse(DiffusersFolder.isDiffusersFolder(ckpt));
    assertFalse(DiffusersFolder.isDiffusersFolder(dir.resolve("nowhere")));
    Files.delete(ckpt.resolve(Checkpoint.CONFIG_FILE));
    assertTrue(DiffusersFolder.isDiffusersFolder(ckpt), "config.json with renamed weights");
  }

  /** Weights under another name than diffusers' are named with the names read, and the one to rename them to. */
  @Test
  void weightsUnderAnotherNameAreNamedWithTheNamesRead() throws IOException {
    UNet2DConfig c = micro();
    Path d = Files.createDirectories(dir.resolve("renamed"));
    Files.writeString(d.resolve("config.json"), StrictJson.pretty(c.toMap()));
    SafeTensors.write(d.resolve("model.fp16.safetensors"), weights(c), Map.of());
    Files.writeString(d.resolve("model.ckpt"), "not read");
    assertTrue(DiffusersFolder.isDiffusersFolder(d));
    assertEquals(d + ": a diffusers folder (config.json) whose weights file has another name: model.ckpt, "
        + "model.fp16.safetensors; its weights are read from diffusion_pytorch_model.safetensors, "
        + "diffusion_pytorch_model.bin or diffusion_pytorch_model.fp16.safetensors: rename model.ckpt to "
        + "diffusion_pytorch_model.bin", assertThrows(CheckpointException.class, () -> DiffusersFolder.read(d))
        .getMessage());
  }

  @Test
  void replacingAFolderThatHoldsOtherFilesIsRefusedAndDeletesNothing() throws IOException {
    UNet2DConfig c = micro();
    Path out = dir.resolve("pipe");
    DiffusersFolder.write(out, c, weights(c), SCHEDULER);
    DiffusersFolder.write(out, c, weights(c), SCHEDULER); // its own files only: replaced
    Files.writeString(out.resolve("README.md"), "my notes");
    Files.createDirectories(out.resolve(".git"));
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> DiffusersFolder.write(out, c, weights(c), SCHEDULER));
    assertTrue(e.getMessage().contains("holds .git"), e.getMessage());
    assertEquals("my notes", Files.readString(out.resolve("README.md")));
    assertTrue(Files.isDirectory(out.resolve(".git")));
  }
}
