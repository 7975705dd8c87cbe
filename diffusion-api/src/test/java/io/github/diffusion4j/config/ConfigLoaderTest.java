package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  @Test
  void defaultsAreTheSchemasDefaults() {
    DiffusionConfig d = ConfigLoader.defaults();
    assertEquals("nd4j", d.backend());
    assertEquals(42L, d.seed());
    assertEquals(1, d.threads());
    assertEquals(DataConfig.gradients(Shape.of(3, 5, 5), 50_000, 1_000), d.data());
    assertEquals(ModelConfig.mlp(128), d.model());
    assertEquals(new ScheduleConfig(ScheduleSpec.linear(100), PredictionType.EPSILON),
        d.schedule());
    assertEquals(new EmaConfig(false, 0.9999, 0, false, 1.0, 2.0 / 3.0, 0.0), d.training().ema());
    assertEquals(20, d.training().epochs());
    assertEquals(128, d.training().batchSize());
    assertEquals(1e-8, d.training().adamEpsilon());
    assertEquals("ddim", d.sampling().sampler());
    assertEquals(TimestepSpacing.TRAILING, d.sampling().timestepSpacing());
    assertEquals(VarianceType.FIXED_SMALL, d.sampling().varianceType());
    assertEquals(List.of(), d.sampling().timesteps());
    assertTrue(d.sampling().options().isEmpty());
    assertEquals(new OutputConfig(Path.of("runs"), ""), d.output());
  }

  @Test
  void aFileThatSetsNothingButOneKeyGivesTheDefaultsOtherwise() {
    DiffusionConfig c = ConfigLoader.loadString("seed: 7\n", "run.yaml");
    DiffusionConfig d = ConfigLoader.defaults();
    assertEquals(new DiffusionConfig(d.backend(), 7, d.threads(), d.data(), d.model(), d.schedule(),
        d.training(), d.sampling(), d.output()), c);
  }

  @Test
  void emptyMappingAndNullSectionsTakeDefaults() {
    assertEquals(ConfigLoader.defaults(), ConfigLoader.loadString("{}\n", "run.yaml"));
    assertEquals(ConfigLoader.defaults(), ConfigLoader.loadString("training:\nsampling:\n", "run.yaml"));
  }

  @Test
  void tutorialIsTheTutorialsExactSetup() {
    DiffusionConfig t = ConfigLoader.bundled("tutorial");
    assertEquals(DataConfig.gradients(Shape.of(3, 5, 5), 50_000, 1_000), t.data());
    assertEquals(ModelConfig.mlp(128), t.model());
    assertEquals(new ScheduleConfig(ScheduleSpec.linear(100), PredictionType.EPSILON),
        t.schedule());
    assertEquals(20, t.training().epochs());
    assertEquals(128, t.training().batchSize());
    assertEquals(1e-3, t.training().learningRate());
    assertFalse(t.training().ema().enabled());
    assertEquals(200, t.training().imageLogEvery());
    assertEquals(3, t.training().imagesToLog());
    assertEquals("ddpm", t.sampling().sampler());
    assertEquals(VarianceType.FIXED_LARGE, t.sampling().varianceType());
    assertFalse(t.sampling().useEma());
    // all 100 steps, 99 down to 0 (Algorithm 2)
    int[] plan = t.sampling().plan(t.schedule().spec().numTrainTimesteps()).toArray();
    assertEquals(100, plan.length);
    for (int i = 0; i < plan.length; i++) {
      assertEquals(99 - i, plan[i]);
    }
  }

  @Test
  void defaultBundledConfig() {
    DiffusionConfig d = ConfigLoader.bundled("default");
    assertEquals(Optional.of(Shape.of(3, 5, 5)), d.data().imageShape());
    assertEquals(BetaSchedule.SQUAREDCOS_CAP_V2, d.schedule().spec().betaSchedule());
    assertEquals(100, d.schedule().spec().numTrainTimesteps());
    assertEquals(ModelConfig.mlp(512), d.model());
    assertTrue(d.training().ema().enabled());
    assertEquals(0.9995, d.training().ema().decay());
    assertEquals(60, d.training().epochs());
    assertEquals("ddim", d.sampling().sampler());
    assertEquals(TimestepSpacing.TRAILING, d.sampling().timestepSpacing());
    assertEquals(20, d.sampling().plan(100).size());
    assertEquals(99, d.sampling().plan(100).get(0));
  }

  @Test
  void bundledNamesAreLoadable() {
    assertEquals(List.of("default", "tutorial", "ddpm-cifar10", "ddpm-celeba", "ddpm-lsun256"), ConfigLoader.bundledNames());
    for (String name : ConfigLoader.bundledNames()) {
      assertTrue(ConfigLoader.bundledYaml(name).contains("backend:"), name);
      ConfigLoader.bundled(name);
    }
    assertEquals(35_746_307, ConfigLoader.bundled("ddpm-cifar10").model().toSpec(
        io.github.diffusion4j.tensor.Shape.of(3, 32, 32), 1000).network().parameterCount());
    assertEquals(113_673_219, ConfigLoader.bundled("ddpm-lsun256").model().toSpec(
        io.github.diffusion4j.tensor.Shape.of(3, 256, 256), 1000).network().parameterCount());
  }

  @Test
  void loadsAFileFromDisk() throws IOException {
    Path f = Files.writeString(dir.resolve("run.yaml"), "training:\n  epochs: 3\n");
    assertEquals(3, ConfigLoader.load(f).training().epochs());
  }

  @Test
  void overridesApplyInOrderAndReadYamlValues() {
    DiffusionConfig c = ConfigLoader.loadString("training:\n  epochs: 3\n", "run.yaml", List.of(
        "training.epochs=5",
        "training.epochs=6",
        "sampling.timesteps=[99, 50, 0]",
        "schedule.beta_schedule=squaredcos_cap_v2",
        "training.ema.enabled=true",
        "sampling.options={order: 3, mode: fast}",
        "output.name=",
        "seed=-3"));
    assertEquals(6, c.training().epochs());
    assertEquals(List.of(99, 50, 0), c.sampling().timesteps());
    assertEquals(BetaSchedule.SQUAREDCOS_CAP_V2, c.schedule().spec().betaSchedule());
    assertTrue(c.training().ema().enabled());
    assertEquals(Map.of("order", 3L, "mode", "fast"), c.sampling().options().toMap());
    assertEquals("", c.output().name());
    assertEquals(-3L, c.seed());
  }

  @Test
  void overrideOfAWholeSectionReplacesIt() {
    DiffusionConfig c = ConfigLoader.loadString("training:\n  ema:\n    decay: 0.99\n", "run.yaml",
        List.of("training.ema={enabled: true}"));
    assertTrue(c.training().ema().enabled());
    assertEquals(0.9999, c.training().ema().decay()); // the file's decay went with the replaced section
  }

  @Test
  void bundledWithOverrides() {
    DiffusionConfig c = ConfigLoader.bundled("tutorial", List.of("training.epochs=1"));
    assertEquals(1, c.training().epochs());
    assertEquals(128, c.model().hidden());
  }

  @Test
  void idxPathsAreResolvedAgainstTheYamlFilesFolder() throws IOException {
    Path sub = Files.createDirectories(dir.resolve("configs"));
    Path f = Files.writeString(sub.resolve("mnist.yaml"), String.join("\n",
        "data:",
        "  kind: idx",
        "  train_images: ../data/train-images-idx3-ubyte",
        "  eval_images: /abs/t10k-images-idx3-ubyte",
        "  pad_to: 32",
        "model:",
        "  kind: mlp",
        ""));
    DataConfig d = ConfigLoader.load(f).data();
    assertEquals(DataConfig.Kind.IDX, d.kind());
    assertEquals(Optional.of(dir.toAbsolutePath().normalize().resolve("data/train-images-idx3-ubyte")),
        d.trainImages());
    assertEquals(Optional.of(Path.of("/abs/t10k-images-idx3-ubyte")), d.evalImages());
    assertEquals(Optional.empty(), d.trainLabels());
    assertEquals(Optional.empty(), d.imageShape());
    assertEquals(0, d.trainSize()); // the idx default: all
    assertEquals(32, d.padTo());
    assertEquals(Shape.of(1, 32, 32), d.resolveImageShape(Shape.of(1, 28, 28)));
    // images already of the padded size are kept; one pixel more in either direction is refused
    assertEquals(Shape.of(1, 32, 32), d.resolveImageShape(Shape.of(1, 32, 32)));
    for (Shape tooLarge : List.of(Shape.of(1, 33, 32), Shape.of(1, 32, 33))) {
      assertEquals("data.pad_to", assertThrows(ConfigException.class, () -> d.resolveImageShape(tooLarge)).path());
    }
  }

  @Test
  void overriddenPathsAreResolvedAgainstTheWorkingDirectory() throws IOException {
    Path sub = Files.createDirectories(dir.resolve("configs"));
    Path f = Files.writeString(sub.resolve("mnist.yaml"),
        "data:\n  kind: idx\n  train_images: train.idx\n  eval_images: eval.idx\n");
    DataConfig d = ConfigLoader.load(f, List.of("data.eval_images=other/eval.idx")).data();
    assertEquals(Optional.of(sub.toAbsolutePath().normalize().resolve("train.idx")), d.trainImages());
    assertEquals(Optional.of(Path.of("").toAbsolutePath().resolve("other/eval.idx")), d.evalImages());
  }

  @Test
  void aLeadingTildeIsTheHomeFolderInTheFileAndInOverrides() throws IOException {
    Path home = ValueType.PathType.home(System.getenv("HOME"), System.getProperty("user.home"));
    Path f = Files.writeString(dir.resolve("home.yaml"), String.join("\n",
        "data:",
        "  kind: folder",
        "  image_shape: [3, 32, 32]",
        "  root: ~/pictures/train",
        "  eval_root: '~'",
        "model:",
        "  kind: unet",
        "output:",
        "  dir: ~/runs",
        ""));
    DiffusionConfig c = ConfigLoader.load(f, List.of("data.cache_dir=~/cache"));
    assertEquals(Optional.of(home.resolve("pictures/train")), c.data().root());
    assertEquals(Optional.of(home), c.data().evalRoot());
    assertEquals(home.resolve("runs"), c.output().dir());
    assertEquals(Optional.of(home.resolve("cache")), c.data().cacheDir());
    // only a leading ~/ : a name that starts with ~ is a name, relative to the YAML file's folder
    Path g = Files.writeString(dir.resolve("tilde.yaml"), "data:\n  kind: folder\n"
        + "  image_shape: [3, 32, 32]\n  root: ~user/x\nmodel:\n  kind: unet\n");
    assertEquals(Optional.of(dir.toAbsolutePath().normalize().resolve("~user/x")), ConfigLoader.load(g).data().root());
  }

  @Test
  void anOverrideTouchesItsKeyTheKeysBelowAndTheKeyOfItsSection() {
    assertTrue(ConfigLoader.overridesTouch(List.of("seed=1", " threads =2"), "threads"));
    assertTrue(ConfigLoader.overridesTouch(List.of("data={kind: folder}"), "data.image_shape"), "the section");
    assertTrue(ConfigLoader.overridesTouch(List.of("data.image_shape=[3, 8, 8]"), "data"), "a key below");
    assertFalse(ConfigLoader.overridesTouch(List.of("threadsx=2", "data.image_shapes=1", "malformed"), "threads"));
    assertFalse(ConfigLoader.overridesTouch(List.of("data.root=x"), "data.image_shape"));
  }

  /** ~ is $HOME, as the shell has it, where HOME is set; user.home (the passwd entry) only where it is not. */
  @Test
  void theHomeFolderIsHomeWhereItIsSet() {
    assertEquals(Path.of("/work/me"), ValueType.PathType.home("/work/me", "/root"));
    assertEquals(Path.of("/root"), ValueType.PathType.home(null, "/root"));
    assertEquals(Path.of("/root"), ValueType.PathType.home("", "/root"));
  }

  @Test
  void idxImageShapeIsCheckedAgainstTheFiles() {
    DiffusionConfig c = ConfigLoader.loadString(
        "data:\n  kind: idx\n  image_shape: [1, 28, 28]\n  train_images: a\n  eval_images: b\n", "run.yaml");
    assertEquals(Shape.of(1, 28, 28), c.data().resolveImageShape(Shape.of(1, 28, 28)));
    ConfigException e = assertThrows(ConfigException.class, () -> c.data().resolveImageShape(Shape.of(1, 32, 32)));
    assertEquals("data.image_shape: is [1, 28, 28] but the IDX files give [1, 32, 32]; remove image_shape or "
        + "correct it", e.getMessage());
  }

  /** 28x28 files under image_shape [1, 32, 32] (docs/unet.md's padded images) point at pad_to. */
  @Test
  void idxImageShapeOfThePaddedSizeNamesPadTo() {
    DiffusionConfig c = ConfigLoader.loadString(
        "data:\n  kind: idx\n  image_shape: [1, 32, 32]\n  train_images: a\n  eval_images: b\n", "run.yaml");
    ConfigException e = assertThrows(ConfigException.class, () -> c.data().resolveImageShape(Shape.of(1, 28, 28)));
    assertEquals("data.image_shape: is [1, 32, 32] but the IDX files give [1, 28, 28]; remove image_shape, correct "
        + "it, or set data.pad_to: 32 to pad the images to 32x32", e.getMessage());
    DiffusionConfig rgb = ConfigLoader.loadString(
        "data:\n  kind: idx\n  image_shape: [3, 28, 28]\n  train_images: a\n  eval_images: b\n", "run.yaml");
    e = assertThrows(ConfigException.class, () -> rgb.data().resolveImageShape(Shape.of(1, 28, 28)));
    assertEquals("data.image_shape: is [3, 28, 28] but the IDX files give [1, 28, 28] (IDX images are gray: C = 1); "
        + "remove image_shape or correct it", e.getMessage());
  }

  @Test
  void enumValuesIgnoreCase() {
    assertEquals(BetaSchedule.SCALED_LINEAR,
        ConfigLoader.loadString("schedule:\n  beta_schedule: Scaled_Linear\n", "r").schedule().spec().betaSchedule());
  }

  @Test
  void yaml11NumberFormsAreRead() {
    DiffusionConfig c = ConfigLoader.loadString(
        "seed: 0x10\ndata:\n  train_size: 50_000\ntraining:\n  learning_rate: 1e-3\n  adam_epsilon: 1.0E-8\n",
        "r");
    assertEquals(16L, c.seed());
    assertEquals(50_000, c.data().trainSize());
    assertEquals(1e-3, c.training().learningRate());
    assertEquals(1e-8, c.training().adamEpsilon());
  }

  @Test
  void differentValuesGiveDifferentConfigs() {
    assertNotEquals(ConfigLoader.defaults(), ConfigLoader.bundled("default"));
  }
}
