package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.GoldenCases;
import io.github.diffusion4j.testkit.TorchFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sample}, {@code interpolate}, {@code eval} on diffusers folders, {@code export} and {@code convert}, on the
 * reference backend with miniature models.
 */
class PublishedModelsCliTest {
  @TempDir
  Path dir;

  private Path diffusersFolder() {
    UNet2DConfig c = UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"), "up_block_types", List.of("AttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim", 4, "norm_num_groups", 4, "sample_size", 8));
    StateDict w = GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3);
    Path folder = dir.resolve("ddpm-micro");
    DiffusersFolder.write(folder, c, w, SchedulerConfig.DIFFUSERS_DEFAULTS);
    return folder;
  }

  @Test
  void aDiffusersFolderSamplesInterpolatesAndIsRefusedByEvalWithoutImages() {
    Path folder = diffusersFolder();
    Path png = dir.resolve("samples.png");
    CliTest.Result r = cli("sample", "--checkpoint", folder.toString(), "--backend", "reference", "--steps", "3",
        "--count", "4", "--out", png.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("ddim, 3 steps, reference"), r.out());
    assertTrue(Files.isRegularFile(png));
    r = cli("interpolate", "--checkpoint", folder.toString(), "--backend", "reference", "--steps", "2", "--count", "3",
        "--out", dir.resolve("strip.png").toString());
    assertEquals(0, r.code(), r.all());
    r = cli("eval", "--checkpoint", folder.toString(), "--backend", "reference", "--steps", "2", "--count", "4");
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().contains("no images to compare") && r.err().contains("data.kind=folder"), r.err());
  }

  @Test
  void aFourChannelFolderSamplesToNpyAndAPictureOfItIsRefusedBeforeSampling() throws IOException {
    UNet2DConfig c = UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "DownBlock2D"), "up_block_types", List.of("UpBlock2D", "UpBlock2D"),
        "in_channels", 4, "out_channels", 4, "norm_num_groups", 4, "sample_size", 8));
    Path folder = dir.resolve("latent-micro");
    DiffusersFolder.write(folder, c, GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    String m = folder.toString();
    CliTest.Result r = cli("sample", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "2",
        "--out", dir.resolve("x.npy").toString());
    assertEquals(0, r.code(), r.all());
    Path png = dir.resolve("x.png");
    r = cli("sample", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "2", "--out", png.toString());
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: --out " + png + ": a picture shows images of 1 (grayscale) or 3 (RGB) channels, but this "
        + "model's images are [4, 8, 8]; write --out FILE.npy or FILE.safetensors instead\n", r.err());
    Path gif = dir.resolve("x.gif");
    r = cli("sample", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "2",
        "--out", dir.resolve("y.npy").toString(), "--gif", gif.toString());
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: --gif " + gif + ": a picture shows images of 1 (grayscale) or 3 (RGB) channels, but this "
        + "model's images are [4, 8, 8]; leave --gif out\n", r.err());
    assertFalse(Files.exists(dir.resolve("y.npy")), "refused before sampling");
    r = cli("sample", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "2",
        "--out", dir.resolve("z.npy").toString(), "--frames", "2");
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: --frames (the strip z-frames.png) "), r.err());
    r = cli("interpolate", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "3",
        "--out", png.toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: --out " + png + ": a picture shows images of 1 (grayscale) or 3 (RGB)")
        && r.err().endsWith("; write --out FILE.npy or FILE.safetensors instead\n"), r.err());
    Path strip = dir.resolve("strip.npy");
    r = cli("interpolate", "--checkpoint", m, "--backend", "reference", "--steps", "2", "--count", "3",
        "--out", strip.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(Files.size(strip) > 3 * 4 * 8 * 8 * 4, "the strip's raw values, all four channels");
  }

  @Test
  void evalScoresADiffusersFolderAgainstAFolderOfImages() throws IOException {
    Path folder = diffusersFolder();
    Path images = Files.createDirectories(dir.resolve("real"));
    java.util.Random random = new java.util.Random(3);
    for (int i = 0; i < 6; i++) {
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          img.setRGB(x, y, random.nextInt(1 << 24));
        }
      }
      javax.imageio.ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
    }
    CliTest.Result r = cli("eval", "--checkpoint", folder.toString(), "--backend", "reference", "--steps", "2",
        "--count", "4", "--set", "data.kind=folder", "--set", "data.root=" + images,
        "--set", "data.cache_dir=" + dir.resolve("cache"));
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("frechet"), r.out());
  }

  @Test
  void badDiffusersFoldersAreOneLineErrors() throws IOException {
    Path folder = diffusersFolder();
    Path config = folder.resolve("unet/config.json");
    Files.writeString(config, Files.readString(config).replace("\"default\"", "\"scale_shift\""));
    CliTest.Result r = cli("sample", "--checkpoint", folder.toString(), "--backend", "reference");
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: " + config + ": key 'resnet_time_scale_shift': 'scale_shift' is not supported; only "
        + "'default' (the value of the published DDPM models) can be computed with this SDK's layer kinds\n", r.err());
  }

  /** Weights without their config.json: the file that is missing is named, not a diffusion4j checkpoint's. */
  @Test
  void aFolderOfWeightsWithoutItsConfigNamesConfigJson() throws IOException {
    Path folder = diffusersFolder();
    Files.delete(folder.resolve("unet/config.json"));
    CliTest.Result r = cli("sample", "--checkpoint", folder.toString(), "--backend", "reference");
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: " + folder + ": no config.json in it or in unet/ beside the weights "
        + "(unet/diffusion_pytorch_model.safetensors); a diffusers folder holds the UNet2DModel's config.json with "
        + "its weights\n", r.err());
  }

  /**
   * A model folder whose weights were renamed (to model.safetensors, a diffusion4j checkpoint's name, or to
   * pytorch_model.bin) is told as such, with the names it looks for: it was taken for a checkpoint missing its
   * config.yaml, or for no model at all.
   */
  @Test
  void aModelFolderWhoseWeightsHaveAnotherNameSaysSo() throws IOException {
    Path folder = dir.resolve("renamed");
    Files.createDirectories(folder);
    Path pipeline = diffusersFolder();
    Files.copy(pipeline.resolve("unet/config.json"), folder.resolve("config.json"));
    Files.copy(pipeline.resolve("unet/diffusion_pytorch_model.safetensors"), folder.resolve("model.safetensors"));
    for (String[] names : new String[][] {{"model.safetensors", "diffusion_pytorch_model.safetensors"},
        {"pytorch_model.bin", "diffusion_pytorch_model.bin"}}) {
      if (!Files.exists(folder.resolve(names[0]))) {
        Files.move(folder.resolve("model.safetensors"), folder.resolve(names[0]));
      }
      CliTest.Result r = cli("sample", "--checkpoint", folder.toString(), "--backend", "reference");
      assertEquals(2, r.code(), r.all());
      assertEquals("diffusion: " + folder + ": a diffusers folder (config.json) whose weights file has another name: "
          + names[0] + "; its weights are read from diffusion_pytorch_model.safetensors, diffusion_pytorch_model.bin "
          + "or diffusion_pytorch_model.fp16.safetensors: rename " + names[0] + " to " + names[1] + "\n", r.err());
    }
  }

  /** A file of a model folder given for the folder: the folder that holds it is the advice. */
  @Test
  void aFileOfAModelFolderNamesTheFolderThatHoldsIt() {
    Path folder = diffusersFolder();
    for (String name : List.of("unet/config.json", "unet/diffusion_pytorch_model.safetensors")) {
      Path file = folder.resolve(name);
      CliTest.Result r = cli("sample", "--checkpoint", file.toString(), "--backend", "reference");
      assertEquals(2, r.code(), r.all());
      assertEquals("diffusion: " + file + ": not a folder; pass the folder that holds it (" + file.getParent()
          + ")\n", r.err());
    }
  }

  /** The DDPM authors' checkpoint file given for a folder: the command that makes one of it is the advice. */
  @Test
  void aTorchCheckpointFileGivenForAFolderIsToldToConvertIt() throws IOException {
    Path ckpt = Files.writeString(dir.resolve("model-790000.ckpt"), "not read");
    CliTest.Result r = cli("sample", "--checkpoint", ckpt.toString(), "--backend", "reference");
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: " + ckpt + ": not a folder but a PyTorch file; the DDPM and DDIM authors' checkpoints "
        + "convert to a checkpoint folder first: diffusion convert " + ckpt + " --out DIR\n", r.err());
  }

  /** Another image size than the folder's sample_size is named at the user's override, not in a YAML not shown. */
  @Test
  void anotherImageSizeThanTheModelsIsRefusedAtTheOverride() {
    Path folder = diffusersFolder();
    CliTest.Result r = cli("sample", "--checkpoint", folder.toString(), "--backend", "reference", "--set",
        "data.image_shape=[3, 16, 16]");
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: --set data.image_shape=[3, 16, 16]: the model's images are [3, 8, 8] (sample_size [8, 8] "
        + "in " + folder.resolve("unet/config.json") + "); a diffusers folder samples at its sample_size: leave "
        + "data.image_shape out\n", r.err());
  }

  /** A key UNet2DModel does not take is warned about once per load, as diffusers does, not once per reading. */
  @Test
  void anUnknownConfigKeyIsWarnedAboutOnce() throws Exception {
    Path folder = diffusersFolder();
    Path config = folder.resolve("unet/config.json");
    Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"foo_bar\": 3, "));
    Path log = dir.resolve("child.log"); // in a child JVM: the command line's logging prints to its own stderr
    int code = ChildCli.run(dir, log, "sample", "--checkpoint", folder.toString(), "--backend", "reference",
        "--steps", "2", "--count", "1", "--out", dir.resolve("one.png").toString());
    String out = ChildCli.read(log);
    assertEquals(0, code, out);
    String warning = "ignoring keys that UNet2DModel does not take (as diffusers does): [foo_bar]";
    assertEquals(1, out.split(java.util.regex.Pattern.quote(warning), -1).length - 1, out);
  }

  /**
   * A key of scheduler_config.json that neither DDPMScheduler nor DDIMScheduler takes is warned about once per load
   * too, naming the file, as config.json's are (it was ignored without a word); the checks before the load read it
   * quietly.
   */
  @Test
  void anUnknownSchedulerConfigKeyIsWarnedAboutOnce() throws Exception {
    Path folder = diffusersFolder();
    Path config = folder.resolve("scheduler/scheduler_config.json");
    Files.writeString(config,
        Files.readString(config).replaceFirst("\\{", "{\"beta_ends\": 0.02, \"skip_prk_steps\": true, "));
    Path log = dir.resolve("scheduler.log");
    int code = ChildCli.run(dir, log, "sample", "--checkpoint", folder.toString(), "--backend", "reference",
        "--steps", "2", "--count", "1", "--out", dir.resolve("one.png").toString());
    String out = ChildCli.read(log);
    assertEquals(0, code, out);
    String warning = config + ": ignoring keys that DDPMScheduler and DDIMScheduler do not take (as diffusers does): "
        + "[beta_ends, skip_prk_steps]";
    assertEquals(1, out.split(java.util.regex.Pattern.quote(warning), -1).length - 1, out);
  }

  /** A run starting from a folder with such a key is warned once too: at the check, not again at the load. */
  @Test
  void anUnknownConfigKeyOfTheFolderARunStartsFromIsWarnedAboutOnce() throws Exception {
    Path folder = diffusersFolder();
    Path config = folder.resolve("unet/config.json");
    String json = Files.readString(config);
    Files.writeString(config, json.replaceFirst("\\{", "{\"foo_bar\": 3, "));
    Path yaml = Files.writeString(dir.resolve("tiny.yaml"), "backend: reference\nmodel:\n  kind: unet2d\n  unet2d: "
        + json.replace("\n", " ") + "\ndata:\n  image_shape: [3, 8, 8]\n  train_size: 8\n  eval_size: 4\n"
        + "training:\n  epochs: 1\n  batch_size: 8\n");
    Path log = dir.resolve("train.log");
    int code = ChildCli.run(dir, log, "train", "-c", yaml.toString(), "--set", "training.init_from=" + folder,
        "--set", "output.dir=" + dir.resolve("runs"));
    String out = ChildCli.read(log);
    assertEquals(0, code, out);
    String warning = "ignoring keys that UNet2DModel does not take (as diffusers does): [foo_bar]";
    assertEquals(1, out.split(java.util.regex.Pattern.quote(warning), -1).length - 1, out);
  }

  @Test
  void exportWritesAFolderThatSamplesLikeTheCheckpoint() throws IOException {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    Path ckpt = dir.resolve("model.ckpt");
    TorchFiles.write(ckpt, GoldenCases.testWeights(spec.parameterShapes(), 5));
    Path mine = dir.resolve("mine");
    CliTest.Result r = cli("convert", ckpt.toString(), "--out", mine.toString(), "--image-size", "8");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("3x8x8 images, ch 32, ch_mult [1, 2], attention at [4]"), r.out());
    Path exported = Files.createDirectories(dir.resolve("exported")); // an empty folder made beforehand is taken
    r = cli("export", "--checkpoint", mine.toString(), "--out", exported.toString(), "--backend", "reference");
    assertEquals(0, r.code(), r.all());
    assertTrue(DiffusersFolder.isDiffusersFolder(exported));
    // the bound needs evaluation images, which a diffusers folder has none of: the line says how to give them
    CliTest.assertBad(cli("eval", "--bpd", "--checkpoint", exported.toString(), "--backend", "reference", "--out",
        dir.resolve("bpd").toString()), "--checkpoint " + exported + ": a diffusers folder has no evaluation images; "
        + "give them: --set data.kind=folder --set data.root=DIR --set data.eval_root=DIR (docs/data.md)");
    assertFalse(Files.exists(dir.resolve("bpd")), "no folder made for it");
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    assertEquals(0, cli("sample", "--checkpoint", mine.toString(), "--backend", "reference", "--steps", "3", "--count", "2",
        "--out", a.toString()).code());
    assertEquals(0, cli("sample", "--checkpoint", exported.toString(), "--backend", "reference", "--steps", "3", "--count",
        "2", "--out", b.toString()).code());
    byte[] x = Files.readAllBytes(a);
    byte[] y = Files.readAllBytes(b);
    assertEquals(x.length, y.length);
    java.nio.FloatBuffer fx = java.nio.ByteBuffer.wrap(x, x.length - 2 * 3 * 64 * 4, 2 * 3 * 64 * 4)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    java.nio.FloatBuffer fy = java.nio.ByteBuffer.wrap(y, y.length - 2 * 3 * 64 * 4, 2 * 3 * 64 * 4)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    for (int i = 0; i < 2 * 3 * 64; i++) {
      assertEquals(fx.get(i), fy.get(i), 1e-4, "the same samples from the checkpoint and its export, value " + i);
    }
    r = cli("export", "--checkpoint", mine.toString(), "--out", mine.toString(), "--backend", "reference");
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().contains("exists and is not a diffusers folder"), r.err());
    // an export's own folder is replaced; one that holds other files (a cloned repository's) is refused, kept whole
    assertEquals(0, cli("export", "--checkpoint", mine.toString(), "--out", exported.toString(), "--backend",
        "reference").code());
    Files.writeString(exported.resolve("README.md"), "my notes");
    r = cli("export", "--checkpoint", mine.toString(), "--out", exported.toString(), "--backend", "reference");
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: " + exported + ": holds README.md, which writing a diffusers folder there would delete; "
        + "choose a new folder, or move such files out first\n", r.err());
    assertEquals("my notes", Files.readString(exported.resolve("README.md")));
    // a variance diffusers does not know is written, and said
    r = cli("export", "--checkpoint", mine.toString(), "--out", dir.resolve("tutorial").toString(), "--backend",
        "reference", "--set", "sampling.variance_type=tutorial");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.err().startsWith("warning: sampling.variance_type is tutorial (sigma = beta), which diffusers' "
        + "DDPMScheduler does not know: DDPMPipeline samples this folder with fixed_small"), r.err());
    assertEquals("", cli("export", "--checkpoint", mine.toString(), "--out", dir.resolve("small").toString(),
        "--backend", "reference").err());
  }

  @Test
  void convertExplainsWhatItNeeds() throws IOException {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    Path ckpt = dir.resolve("model.ckpt");
    TorchFiles.write(ckpt, GoldenCases.testWeights(spec.parameterShapes(), 5));
    CliTest.Result r = cli("convert", ckpt.toString(), "--out", dir.resolve("o").toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().contains("--image-size"), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace");
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "hello");
    r = cli("convert", text.toString(), "--out", dir.resolve("o").toString());
    assertEquals(2, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: " + text + ": not a PyTorch checkpoint"), r.err());
    r = cli("convert", ckpt.toString(), "--out", dir.resolve("o").toString(), "--format", "onnx");
    assertEquals(2, r.code(), r.all());
    // an --out under a file: named before the checkpoint is read (it was "cannot write checkpoint: already exists")
    Path under = text.resolve("o");
    for (String format : new String[] {"diffusion4j", "diffusers"}) {
      r = cli("convert", ckpt.toString(), "--out", under.toString(), "--image-size", "8", "--format", format);
      assertEquals(2, r.code(), r.all());
      assertEquals("diffusion: --out " + under + ": " + text + " is not a folder\n", r.err());
      r = cli("export", "--checkpoint", dir.toString(), "--out", under.toString());
      assertEquals(2, r.code(), r.all());
      assertEquals("diffusion: --out " + under + ": " + text + " is not a folder\n", r.err());
    }
    // a diffusers folder needs no conversion (it said "not a file")
    Path folder = diffusersFolder();
    r = cli("convert", folder.toString(), "--out", dir.resolve("o").toString());
    assertEquals(2, r.code(), r.all());
    assertEquals("diffusion: " + folder + ": a diffusers folder, which needs no conversion: sample it as it is "
        + "(diffusion sample --checkpoint " + folder + "); convert takes a torch.save file (.ckpt, .pth, .pt, .bin)\n",
        r.err());
  }

  /**
   * SIGTERM (or Ctrl-C) while convert or export writes deletes the temporary folder beside --out: it stayed behind (a
   * 256x256 model's is 455 MB, hidden as a .tmp- sibling) until a later write of the same name ten minutes on.
   */
  @Test
  void aSigtermDuringConvertOrExportLeavesNoTemporary() throws Exception {
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(3, 32, 32), 1000, 64, List.of(1, 2, 2, 2), 2, List.of(16), 0.1);
    Path ckpt = dir.resolve("model.ckpt");
    TorchFiles.write(ckpt, GoldenCases.testWeights(spec.parameterShapes(), 5));
    Path converted = dir.resolve("converted");
    assertEquals(0, cli("convert", ckpt.toString(), "--out", converted.toString()).code());
    for (String format : new String[] {"diffusion4j", "diffusers", "export"}) {
      Path parent = Files.createDirectories(dir.resolve("to-" + format));
      boolean caught = false;
      for (int attempt = 0; attempt < 5 && !caught; attempt++) {
        Path out = parent.resolve("o" + attempt);
        Path log = dir.resolve("convert-" + format + attempt + ".log");
        String[] args = format.equals("export")
            ? new String[] {"export", "--checkpoint", converted.toString(), "--out", out.toString(), "--backend", "reference"}
            : new String[] {"convert", ckpt.toString(), "--out", out.toString(), "--format", format};
        Process p = ChildCli.builder(dir, log, args).start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.isAlive() && temporaries(parent).isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
        if (p.isAlive() && !temporaries(parent).isEmpty()) {
          ChildCli.signal(p, "TERM");
          caught = true;
        }
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), ChildCli.read(log));
        assertEquals(List.of(), temporaries(parent), format + ": " + ChildCli.read(log));
        assertFalse(ChildCli.read(log).contains("\tat "), "no stack trace: " + ChildCli.read(log));
        String text = ChildCli.read(log);
        if (caught) { // it says what the signal left (it ended without a word), unless it had just finished
          assertTrue(text.contains("interrupted; nothing was written to " + out) ? !Files.exists(out)
              : text.contains("wrote " + out) && Files.isDirectory(out), format + ": " + text);
        }
      }
      assertTrue(caught, format + ": the conversion was signalled while it wrote");
    }
  }

  private static List<String> temporaries(Path parent) throws IOException {
    try (var s = Files.list(parent)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList();
    }
  }
}
