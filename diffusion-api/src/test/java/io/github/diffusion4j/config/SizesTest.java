package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * Every configured size is checked against what it multiplies into, with the key named, before anything
 * is allocated: products that overflow an {@code int} (or a Java array) and runs that need more memory
 * than the heap are one-line configuration errors, never a negative number or an OutOfMemoryError.
 */
class SizesTest {
  private static ConfigException error(String yaml) {
    return ConfigErrorsTest.error(yaml);
  }

  @Test
  void aTrainingSetLargerThanAnArrayNamesTrainSizeAndTheMostThatFits() {
    ConfigException e = error("data:\n  train_size: 2000000000\n");
    assertEquals("data.train_size", e.path());
    assertEquals(2, e.line());
    assertTrue(e.detail().contains("2000000000 images of 3x5x5 make the training set 150000000000 values, more "
        + "than one Java array holds (2147483639); use at most 28633115"), e.detail());
    assertEquals("data.eval_size", error("data:\n  eval_size: 2000000000\n").path());
  }

  @Test
  void largeImagesAreReportedAtTheShapeWhenTheSizeIsLeftToItsDefault() {
    ConfigException e = error("data:\n  image_shape: [3, 4000, 4000]\n");
    assertEquals("data.image_shape", e.path(), e.getMessage());
    assertTrue(e.detail().contains("with data.train_size 50000, images of 48000000 values"), e.detail());
    // an image of more values than an array holds is refused by the shape itself
    assertEquals("data.image_shape", error("data:\n  image_shape: [3, 40000, 40000]\n").path());
  }

  @Test
  void anMlpWiderThanATensorNamesHidden() {
    // the case: 2e9 hidden units overflowed to a bare negative number in train
    ConfigException e = error("model:\n  hidden: 2000000000\n");
    assertEquals("model.hidden", e.path());
    assertTrue(e.detail().contains("more than one tensor holds") && e.detail().contains("use at most 16777215"),
        e.detail());
    // wide enough for the weights to overflow but a small batch: the architecture names the weight tensor
    DiffusionConfig c = ConfigLoader.loadString("model:\n  hidden: 100000000\ntraining:\n  batch_size: 3\n",
        "run.yaml");
    ConfigException w = assertThrows(ConfigException.class, () -> c.model().toSpec(Shape.of(3, 5, 5), 100));
    assertEquals("model.hidden", w.path());
    assertTrue(w.detail().contains("the weight 'model.0.weight' [100000000, 76] = 7600000000 values"), w.detail());
  }

  @Test
  void aBatchWhoseActivationsOverflowNamesBatchSize() {
    ConfigException e = error("data:\n  train_size: 20000000\nmodel:\n  hidden: 200\ntraining:\n  batch_size: "
        + "20000000\n");
    assertEquals("training.batch_size", e.path());
    assertTrue(e.detail().contains("use at most 10737418"), e.detail());
  }

  @Test
  void aUNetWhoseWeightsOrAttentionOverflowNamesItsKey() {
    DiffusionConfig c = ConfigLoader.loadString("model:\n  kind: unet\n  base_channels: 16384\n  channel_mult: [1, 4]\n"
        + "  groups: 8\n", "run.yaml");
    ConfigException e = assertThrows(ConfigException.class, () -> c.model().toSpec(Shape.of(1, 32, 32), 100));
    assertEquals("model.base_channels", e.path());
    assertTrue(e.detail().contains("values, more than one tensor holds"), e.detail());
    DiffusionConfig big = ConfigLoader.loadString("model:\n  kind: unet\n  channel_mult: [1]\n", "run.yaml");
    ConfigException a = assertThrows(ConfigException.class, () -> big.model().toSpec(Shape.of(1, 256, 256), 100));
    assertEquals("model.attention", a.path());
    assertTrue(a.detail().contains("self-attention over the 65536 positions"), a.detail());
  }

  @Test
  void aRunThatNeedsMoreMemoryThanTheHeapNamesItsLargestPart() {
    DiffusionConfig c = ConfigLoader.loadString("data:\n  train_size: 1000000\n", "run.yaml");
    // 1e6 images of 75 values, generated into one array: 300 MB
    ConfigException e = assertThrows(ConfigException.class,
        () -> c.checkSizes(Shape.of(3, 5, 5), 1_000_000, 1000, 256L << 20));
    assertEquals("data.train_size", e.path());
    assertTrue(e.detail().startsWith("the training set (1000000 images of 3x5x5) needs 286 MB of memory"), e.detail());
    assertTrue(e.detail().contains("more than the 256 MB the Java heap may grow to"), e.detail());
    c.checkSizes(Shape.of(3, 5, 5), 1_000_000, 1000, 1L << 30);
    // a schedule of two billion steps is eight double arrays of 16 GB
    DiffusionConfig t = ConfigLoader.loadString("schedule:\n  num_train_timesteps: 2000000000\n", "run.yaml");
    assertEquals("schedule.num_train_timesteps", assertThrows(ConfigException.class,
        () -> t.checkSizes(Shape.of(3, 5, 5), 50_000, 1000, 4L << 30)).path());
  }

  @Test
  void aUNetBatchLargerThanAnArrayNamesBatchSize() {
    // a U-Net has no activation check of its own at the batch (the MLP's covers its batch); the batch must
    // still fit one array: 40000 images of 3x256x256 are 7.9e9 values
    DiffusionConfig c = ConfigLoader.loadString("model:\n  kind: unet\ntraining:\n  batch_size: 40000\n", "run.yaml");
    ConfigException e = assertThrows(ConfigException.class, () -> c.checkDataSizes(Shape.of(3, 256, 256), 1000, 10));
    assertEquals("training.batch_size", e.path());
    assertTrue(e.detail().contains("use at most 10922"), e.detail());
    c.checkDataSizes(Shape.of(3, 32, 32), 1000, 10);
    // the whole check does the same, with the heap left out, and so does the samples' array
    assertEquals("training.batch_size", assertThrows(ConfigException.class,
        () -> c.checkSizes(Shape.of(3, 256, 256), 1000, 10, Long.MAX_VALUE)).path());
    DiffusionConfig samples = ConfigLoader.loadString("sampling:\n  count: 40000\n", "run.yaml");
    assertEquals("sampling.count", assertThrows(ConfigException.class,
        () -> samples.checkSizes(Shape.of(3, 256, 256), 1000, 10, Long.MAX_VALUE)).path());
    assertEquals("sampling.count", assertThrows(ConfigException.class,
        () -> samples.checkDataSizes(Shape.of(3, 256, 256), 1000, 10)).path());
  }

  /** The limits are inclusive: exactly as many values as one array holds fit, one more does not. */
  @Test
  void anArrayOfExactlyTheLimitFits() {
    DiffusionConfig c = ConfigLoader.loadString("training:\n  epochs: 1\n", "run.yaml");
    c.checkDataSizes(Shape.of(1, 1, 1), Sizes.MAX_ARRAY, 10);
    assertEquals("data.train_size", assertThrows(ConfigException.class,
        () -> c.checkDataSizes(Shape.of(1, 1, 1), Sizes.MAX_ARRAY + 1, 10)).path());
    // the heap too: a run that needs exactly the heap fits (the sum of the parts, as the error reports them)
    Shape image = Shape.of(3, 5, 5);
    long needed = 0;
    for (Sizes.Part p : Sizes.memory(new Sizes.Model(c.model(), c.schedule(), c.training()), image, 5000, 100)) {
      needed += p.bytes();
    }
    long exactly = needed;
    c.checkSizes(image, 5000, 100, exactly);
    assertThrows(ConfigException.class, () -> c.checkSizes(image, 5000, 100, exactly - 1));
  }

  @Test
  void theBundledConfigsPass() {
    for (String name : ConfigLoader.bundledNames()) {
      DiffusionConfig c = ConfigLoader.bundled(name);
      // the gradient setups in a small heap; the published DDPM shapes in the launcher's default (-Xmx4g)
      long heap = name.startsWith("ddpm-") ? 4L << 30 : 512L << 20;
      c.checkSizes(c.data().imageShape().orElseThrow(), c.data().trainSize(), c.data().evalSize(), heap);
    }
  }

  @Test
  void productsSaturateInsteadOfOverflowing() {
    assertEquals(Long.MAX_VALUE, Sizes.times(1L << 40, 1L << 40));
    assertEquals(Long.MAX_VALUE, Sizes.times(Long.MAX_VALUE, 2));
    assertEquals(6, Sizes.times(2, 3));
    assertEquals(0, Sizes.times(0, Long.MAX_VALUE));
  }
}
