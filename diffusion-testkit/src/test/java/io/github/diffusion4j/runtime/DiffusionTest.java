package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.spi.BackendUnavailableException;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.ReferenceBackendProvider;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** The entry point, on the reference backend registered in the test class path. */
class DiffusionTest {
  @TempDir
  Path dir;

  private static final String TINY = String.join("\n",
      "backend: reference",
      "seed: 3",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 256",
      "  eval_size: 64",
      "model:",
      "  hidden: 32",
      "schedule:",
      "  num_train_timesteps: 50",
      "training:",
      "  epochs: 2",
      "  batch_size: 64",
      "  learning_rate: 0.003",
      "sampling:",
      "  sampler: ddim",
      "  num_inference_steps: 10",
      "");

  private Path yaml(String text) throws IOException {
    Path p = dir.resolve("run.yaml");
    Files.writeString(p, text);
    return p;
  }

  /**
   * A model of one configuration given a request or pictures of another's image shape is refused before anything is
   * drawn, naming both shapes and the way out (the model's own Diffusion), by every entry point that takes a model;
   * it was the network's message from inside its first layer ("mlp: noisy must have shape ...").
   */
  @Test
  void aRequestOfAnotherImageShapeThanTheModelsIsRefusedNamingBoth() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY)); TrainableModel m = d.createModel();
        Diffusion other = Diffusion.open(Files.writeString(dir.resolve("gray.yaml"), TINY.replace("[3, 5, 5]",
            "[1, 5, 5]")))) {
      String expected = "the model (mlp) takes images [3, 5, 5], the request's are [1, 5, 5]; make the request with "
          + "the model's own Diffusion (its request(count, seed), or TrainedModel.diffusion())";
      io.github.diffusion4j.sampling.SamplingRequest wrong = other.request(2, 1);
      Diffusion.ImageSink none = (first, images, n) -> { };
      float[] gray = new float[25];
      assertEquals(expected, assertThrows(IllegalArgumentException.class,
          () -> d.sampleImages(m, d.sampler(), wrong, SamplingListener.NONE)).getMessage());
      assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m, d.sampler(),
          wrong, 0.5, i -> gray, SamplingListener.NONE, none)).getMessage());
      assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> other.invert(m, gray)).getMessage());
      assertEquals(2 * 75, d.sampleImages(m, d.sampler(), d.request(2, 1), SamplingListener.NONE).length,
          "the model's own request samples");
    }
  }

  /**
   * A service's per-request step count: {@code request(count, seed, steps)} is the request of the configuration with
   * {@code num_inference_steps: steps}, its spacing and offset kept (as {@code sample --steps}; an explicit
   * {@code timesteps} plan replaced), and samples its images; steps outside {@code [1, T]} are refused naming the range.
   */
  @Test
  void aRequestWithItsOwnStepCountIsTheRequestOfTheConfigurationWithThatCount() throws IOException {
    String leading = TINY + "  timestep_spacing: leading\n  steps_offset: 1\n";
    try (Diffusion d = Diffusion.open(yaml(leading + "  timesteps: [40, 20, 0]\n"));
        Diffusion seven = Diffusion.open(yaml(leading.replace("num_inference_steps: 10", "num_inference_steps: 7")));
        TrainableModel m = d.createModel()) {
      io.github.diffusion4j.sampling.SamplingRequest r = d.request(3, 5, 7);
      assertEquals(seven.request(3, 5), r);
      assertEquals("[43, 36, 29, 22, 15, 8, 1]", java.util.Arrays.toString(r.plan().toArray()));
      assertEquals(3 * 75, d.sampleImages(m, d.sampler(), r, SamplingListener.NONE).length);
      assertEquals("the number of inference steps must be in [1, 50] (num_train_timesteps), got 51",
          assertThrows(IllegalArgumentException.class, () -> d.request(3, 5, 51)).getMessage());
      assertEquals("the number of inference steps must be in [1, 50] (num_train_timesteps), got 0",
          assertThrows(IllegalArgumentException.class, () -> d.request(3, 5, 0)).getMessage());
    }
  }

  @Test
  void opensTrainsAndSamples() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY))) {
      assertEquals(Shape.of(3, 5, 5), d.imageShape());
      assertEquals(50, d.schedule().size());
      assertEquals("reference", d.backend().name());
      assertEquals(DdimSampler.NAME, d.sampler().name());
      assertEquals(DdpmSampler.NAME, d.sampler("ddpm").name());
      try (TrainableModel m = d.createModel()) {
        TrainingSummary s = d.trainer(m).train(d.trainingData(), d.evalData(), TrainingProgress.START,
            new TrainingListener() {});
        assertTrue(s.completed());
        assertEquals(8, s.progress().step());
        assertEquals(2, s.evalLosses().size());
        float[] images = d.sampleImages(m, 4, 1, SamplingListener.NONE);
        assertEquals(4 * 75, images.length);
        for (float v : images) {
          assertTrue(v >= 0 && v <= 1);
        }
      }
    }
  }

  /**
   * {@code sampleFromImages} batch by batch gives each sample what {@code ImageToImage.request} gives it alone: 1,100
   * tiny images are two batches (at most 1,024 a batch); the reference backend computes every image alone, so the bits
   * are the same however they are batched. Sample i starts from the image the function gives for i.
   */
  @Test
  void samplingFromImagesBatchByBatchIsEachSamplesOwnRequest() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY)); TrainableModel m = d.createModel()) {
      int count = 1100;
      int k = d.imageShape().size();
      java.util.function.LongFunction<float[]> image = i -> {
        float[] v = new float[k];
        java.util.Arrays.fill(v, (float) ((i % 7) / 3.5 - 1));
        return v;
      };
      float[] all = new float[count * k];
      List<Long> firsts = new java.util.ArrayList<>();
      d.sampleFromImages(m, d.sampler(), d.request(count, 4), 0.5, image, SamplingListener.NONE,
          (first, images, n) -> {
            firsts.add(first);
            System.arraycopy(images, 0, all, (int) first * k, n * k);
          });
      assertEquals(List.of(0L, 1024L), firsts, "two batches");
      for (int i : new int[] {0, 6, 1023, 1024, 1099}) {
        float[] alone;
        try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
          alone = d.sampleImages(m, d.sampler(), io.github.diffusion4j.sampling.ImageToImage.request(d.backend().tensors(),
              d.schedule(), d.request(count, 4).slice(i, 1), image.apply(i), 0.5), SamplingListener.NONE);
        }
        assertArrayEquals(alone, java.util.Arrays.copyOfRange(all, i * k, (i + 1) * k), "sample " + i);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m,
          d.sampler(), d.request(2, 4), 0.5, i -> new float[3], SamplingListener.NONE, (first, images, n) -> { }));
      assertEquals("images: sample 0's image has 3 values, expected 75 ([3, 5, 5])", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m, d.sampler(), d.request(2, 4), 0.001,
          image, SamplingListener.NONE, (first, images, n) -> { }), "a strength that walks no step");
    }
  }

  /**
   * {@code inpaint} batch by batch gives each sample what {@code Inpainting.of} gives it alone: 1,100 tiny images are
   * two batches (at most 1,024 a batch), the reference backend computes every image alone, so the bits are the same
   * however they are batched; sample i takes the picture and mask the functions give for i, and the pixels its mask
   * keeps are the picture's, to the rounding of the denormalisation ({@code (x + 1) / 2} of the same float: exact).
   */
  @Test
  void inpaintingBatchByBatchIsEachSamplesOwnRequest() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY)); TrainableModel m = d.createModel()) {
      int count = 1100;
      int k = d.imageShape().size();
      java.util.function.LongFunction<float[]> image = i -> {
        float[] v = new float[k];
        java.util.Arrays.fill(v, (float) ((i % 7) / 3.5 - 1));
        return v;
      };
      java.util.function.LongFunction<float[]> mask = i -> {
        float[] v = new float[25];
        for (int p = 0; p < 25; p++) {
          v[p] = (p + i) % 3 == 0 ? 1 : 0; // a third of the pixels regenerated, another third per sample
        }
        return v;
      };
      float[] all = new float[count * k];
      List<Long> firsts = new java.util.ArrayList<>();
      d.inpaint(m, d.sampler(), d.request(count, 4), image, mask, SamplingListener.NONE, (first, images, n) -> {
        firsts.add(first);
        System.arraycopy(images, 0, all, (int) first * k, n * k);
      });
      assertEquals(List.of(0L, 1024L), firsts, "two batches");
      for (int i : new int[] {0, 6, 1023, 1024, 1099}) {
        float[] alone;
        try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
          alone = io.github.diffusion4j.data.Normalization.denormalize(io.github.diffusion4j.sampling.Inpainting.of(
              d.schedule(), d.request(count, 4).slice(i, 1), image.apply(i), mask.apply(i))
              .sample(d.sampler(), m, d.backend().tensors(), SamplingListener.NONE).toFloatArray());
        }
        float[] mine = java.util.Arrays.copyOfRange(all, i * k, (i + 1) * k);
        assertArrayEquals(alone, mine, "sample " + i);
        float[] picture = io.github.diffusion4j.data.Normalization.denormalize(image.apply(i));
        float[] regenerated = mask.apply(i);
        for (int j = 0; j < k; j++) {
          if (regenerated[j % 25] == 0) {
            assertEquals(picture[j], mine[j], 0.0, "sample " + i + ", kept value " + j);
          }
        }
      }
      // with resampling: 1,100 in two batches are each sample's own request too
      io.github.diffusion4j.sampling.Resampling resampling = new io.github.diffusion4j.sampling.Resampling(2, 2);
      d.inpaint(m, d.sampler(), d.request(count, 4), resampling, image, mask, SamplingListener.NONE,
          (first, images, n) -> System.arraycopy(images, 0, all, (int) first * k, n * k));
      for (int i : new int[] {0, 1099}) {
        float[] alone;
        try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
          alone = io.github.diffusion4j.data.Normalization.denormalize(io.github.diffusion4j.sampling.Inpainting.of(
              d.schedule(), d.request(count, 4).slice(i, 1), image.apply(i), mask.apply(i))
              .sample(d.sampler(), m, d.backend().tensors(), SamplingListener.NONE, resampling).toFloatArray());
        }
        assertArrayEquals(alone, java.util.Arrays.copyOfRange(all, i * k, (i + 1) * k), "resampled sample " + i);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.inpaint(m, d.sampler(),
          d.request(2, 4), image, i -> new float[75], SamplingListener.NONE, (first, images, n) -> { }));
      assertEquals("masks: sample 0's mask has 75 values, expected 25 ([5, 5])", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> d.inpaint(m, d.sampler(), d.request(2, 4),
          i -> new float[3], mask, SamplingListener.NONE, (first, images, n) -> { }));
      assertEquals("images: sample 0's image has 3 values, expected 75 ([3, 5, 5])", e.getMessage());
    }
  }

  /**
   * What a Java user gets wrong when editing pictures is refused in one line naming the sample: a picture of another
   * tool's range (0..255) or with a NaN (it was sampled, a NaN said as a diverged model, 0..255 kept as garbage), a
   * mask value outside [0, 1] in the second batch (named by its index in the batch, 6, not the request's 1030), a
   * request's own initial latents (silently dropped by {@code sampleFromImages}).
   */
  @Test
  void editingRefusesWhatAJavaUserGetsWrongNamingTheSample() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY)); TrainableModel m = d.createModel()) {
      int k = d.imageShape().size();
      float[] picture = new float[k];
      java.util.function.LongFunction<float[]> bytes = i -> {
        float[] v = new float[k];
        v[7] = i == 1030 ? 200 : 0; // another tool's 0..255 levels, in the second batch of 1,024
        return v;
      };
      Diffusion.ImageSink none = (first, images, n) -> { };
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m,
          d.sampler(), d.request(1100, 4), 0.5, bytes, SamplingListener.NONE, none));
      assertEquals("images: sample 1030, value 7 (channel 0, pixel 7) is 200.0; a picture's values are in [-1, 1] "
          + "(level v of 255 is v / 255 * 2 - 1, as ImageFit.read gives them)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> d.inpaint(m, d.sampler(), d.request(1100, 4), bytes,
          i -> new float[25], SamplingListener.NONE, none));
      assertEquals("images: sample 1030, value 7 (channel 0, pixel 7) is 200.0; a picture's values are in [-1, 1] "
          + "(level v of 255 is v / 255 * 2 - 1, as ImageFit.read gives them)", e.getMessage());
      float[] nan = new float[k];
      nan[30] = Float.NaN;
      e = assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m, d.sampler(), d.request(2, 4), 0.5,
          i -> nan, SamplingListener.NONE, none));
      assertEquals("images: sample 0, value 30 (channel 1, pixel 5) is NaN; a picture's values are in [-1, 1] "
          + "(level v of 255 is v / 255 * 2 - 1, as ImageFit.read gives them)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> d.inpaint(m, d.sampler(), d.request(1100, 4),
          i -> picture, i -> {
            float[] v = new float[25];
            v[3] = i == 1030 ? 2 : 0;
            return v;
          }, SamplingListener.NONE, none));
      assertEquals("masks: sample 1030, pixel 3 is 2.0; a mask's values are in [0, 1] (1: regenerate, 0: keep)",
          e.getMessage());
      // a shard's functions are asked for the run's sample numbers (the Javadoc said 0 to count - 1)
      List<Long> asked = new ArrayList<>();
      d.sampleFromImages(m, d.sampler(), d.request(10, 4).slice(5, 2), 0.5, i -> {
        asked.add(i);
        return picture;
      }, SamplingListener.NONE, none);
      assertEquals(List.of(5L, 6L), asked);
      try (io.github.diffusion4j.tensor.TensorScope s = d.backend().tensors().openScope()) {
        io.github.diffusion4j.sampling.SamplingRequest latents = d.request(2, 4).withInitialNoise(
            d.backend().tensors().fromArray(new float[2 * k], Shape.batchOf(2, d.imageShape())));
        e = assertThrows(IllegalArgumentException.class, () -> d.sampleFromImages(m, d.sampler(), latents, 0.5,
            i -> picture, SamplingListener.NONE, none));
        assertEquals("the request has initial latents of its own; image-to-image sampling batch by batch starts each "
            + "sample from its image (give a request without them, or use ImageToImage.request with it)",
            e.getMessage());
      }
    }
  }

  /**
   * Interpolating from Java draws what {@code diffusion interpolate} draws: the strip is deterministic DDIM (eta 0)
   * over slerped latents whatever the configuration samples with (here DDIM with eta 0.7, which draws otherwise), and
   * {@code invert} is DDIM inversion over the plan; bad pictures and counts are refused naming them.
   */
  @Test
  void interpolationIsDeterministicDdimOverSlerpedLatentsAndInvertIsDdimInversion() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY.replace("  num_inference_steps: 10", "  num_inference_steps: 10\n"
        + "  eta: 0.7"))); TrainableModel m = d.createModel()) {
      int k = d.imageShape().size();
      io.github.diffusion4j.tensor.TensorFactory tensors = d.backend().tensors();
      float[] a = new float[k];
      float[] b = new float[k];
      for (int j = 0; j < k; j++) {
        a[j] = (float) Math.sin(j) * 0.9f;
        b[j] = (float) Math.cos(3 * j) * 0.8f;
      }
      float[][] latents = d.invert(m, a, b);
      float[] inverted;
      try (io.github.diffusion4j.tensor.TensorScope s = tensors.openScope()) {
        float[] both = new float[2 * k];
        System.arraycopy(a, 0, both, 0, k);
        System.arraycopy(b, 0, both, k, k);
        inverted = new io.github.diffusion4j.sampling.DdimInversion(d.schedule(), d.predictionType()).invert(m, tensors,
            tensors.fromArray(both, Shape.batchOf(2, d.imageShape())), d.plan()).toFloatArray();
      }
      assertArrayEquals(java.util.Arrays.copyOfRange(inverted, 0, k), latents[0]);
      assertArrayEquals(java.util.Arrays.copyOfRange(inverted, k, 2 * k), latents[1]);

      float[] strip = d.interpolate(m, latents[0], latents[1], 4, SamplingListener.NONE);
      io.github.diffusion4j.sampling.SamplerSpec configured = d.samplerSpec();
      assertEquals(0.7, configured.eta());
      DdimSampler deterministic = new DdimSampler(configured.schedule(), configured.predictionType(), 0.0,
          configured.setAlphaToOne(), configured.clipping(), tensors);
      float[] expected;
      float[] withEta;
      try (io.github.diffusion4j.tensor.TensorScope s = tensors.openScope()) {
        io.github.diffusion4j.sampling.SamplingRequest path = d.request(4, 0).withInitialNoise(
            io.github.diffusion4j.sampling.Latents.interpolate(tensors, latents[0], latents[1], d.imageShape(), 4));
        expected = d.sampleImages(m, deterministic, path, SamplingListener.NONE);
        withEta = d.sampleImages(m, d.sampler(), path, SamplingListener.NONE);
      }
      assertArrayEquals(expected, strip, "deterministic DDIM over the slerped latents");
      assertFalse(java.util.Arrays.equals(withEta, strip), "the configured eta 0.7 draws another strip");
      assertArrayEquals(strip, d.interpolate(m, latents[0], latents[1], 4, SamplingListener.NONE), "deterministic");

      assertEquals("pictures: none given; give the pictures to invert",
          assertThrows(IllegalArgumentException.class, () -> d.invert(m)).getMessage());
      assertEquals("pictures: picture 1 has 3 values, expected 75 ([3, 5, 5])",
          assertThrows(IllegalArgumentException.class, () -> d.invert(m, a, new float[3])).getMessage());
      float[] levels = a.clone();
      levels[4] = 255;
      assertTrue(assertThrows(IllegalArgumentException.class, () -> d.invert(m, a, levels)).getMessage()
          .startsWith("pictures: picture 1, value 4 (channel 0, pixel 4) is 255.0; a picture's values are in [-1, 1]"));
      assertTrue(assertThrows(IllegalArgumentException.class, () -> d.interpolate(m, a, b, 1, SamplingListener.NONE))
          .getMessage().startsWith("interpolation needs at least 2 points, got 1"));
    }
  }

  /**
   * {@code sampleImages} into an array refuses a count whose array would take more than half the heap before it
   * allocates it (10 million tiny images are 750 million floats, 2.8 GB: it ran out of heap at once, nothing said of
   * the count), naming the sink for any count; the surefire JVM's heap is 2 GB ({@code -Xmx2g}).
   */
  @Test
  void anArrayOfSamplesLargerThanHalfTheHeapIsRefusedBeforeItIsAllocated() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY)); TrainableModel m = d.createModel()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.sampleImages(m, d.sampler(),
          d.request(10_000_000, 4), SamplingListener.NONE));
      assertTrue(e.getMessage().startsWith("request: 10000000 images of [3, 5, 5] are 750000000 values (2861 MB), "
          + "more than half of this JVM's heap of at most "), e.getMessage());
      assertTrue(e.getMessage().endsWith(" MB; sample them batch by batch into an ImageSink (a SampleWriter for a "
          + "file), or give the JVM more heap (-Xmx)"), e.getMessage());
      // more than an array holds: said as the request's count too (it was "shape [2000000000, 3, 5, 5] has more
      // than 2147483639 elements", without the way out)
      e = assertThrows(IllegalArgumentException.class, () -> d.sampleImages(m, d.sampler(),
          d.request(2_000_000_000, 4), SamplingListener.NONE));
      assertTrue(e.getMessage().startsWith("request: 2000000000 images of [3, 5, 5] are 150000000000 values "
          + "(572204 MB), more than half of this JVM's heap"), e.getMessage());
    }
  }

  /** Fitting the reference images stops between batches once the thread is interrupted (a failed spark eval's). */
  @Test
  void anInterruptEndsTheReferenceFitBetweenBatches() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY))) {
      Thread.currentThread().interrupt();
      java.util.concurrent.CancellationException e;
      try {
        e = assertThrows(java.util.concurrent.CancellationException.class, () -> d.referenceGaussian(8));
        assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
      } finally {
        Thread.interrupted();
      }
      assertEquals("interrupted while fitting the reference images, after 0 of 8", e.getMessage());
      assertEquals(75, d.referenceGaussian(8).mean().length, "fits once the interrupt is gone");
    }
  }

  @Test
  void overridesApply() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY), List.of("training.epochs=5", "sampling.sampler=ddpm"))) {
      assertEquals(5, d.config().training().epochs());
      assertEquals("ddpm", d.sampler().name());
    }
  }

  @Test
  void unknownBackendIsALocatedErrorNamingTheKnownOnes() throws IOException {
    Path p = yaml(TINY.replace("backend: reference", "backend: djl"));
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::backend);
      assertEquals(1, e.line());
      assertEquals("backend", e.path());
      assertTrue(e.getMessage().startsWith(p + ":1:10: backend: unknown backend 'djl'"), e.getMessage());
      assertTrue(e.getMessage().contains("reference"), e.getMessage());
      assertTrue(e.getMessage().contains("io.github.diffusion4j:backend-djl"), e.getMessage());
    }
  }

  /**
   * Code without a configuration (a network of the user's own) opens a backend by its name; an unknown name is the
   * configuration's line without the location. It was a NullPointerException from {@code create(null, ...)} after
   * {@code backends().providers().get(name)}, with nothing that said which backend was missing or where to find it.
   */
  @Test
  void aBackendIsOpenedByNameWithoutAConfigurationAndAnUnknownNameIsNamed() {
    try (Backend b = ProviderDiscovery.create("reference", BackendOptions.defaults())) {
      assertEquals("reference", b.name());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ProviderDiscovery.create("djl", BackendOptions.defaults()));
    assertEquals(ProviderDiscovery.unknownBackend("djl", ProviderDiscovery.backends()), e.getMessage());
    assertTrue(e.getMessage().startsWith("unknown backend 'djl'; available: reference"), e.getMessage());
    assertTrue(e.getMessage().contains("io.github.diffusion4j:backend-djl"), e.getMessage());
  }

  @Test
  void aBackendWhoseServiceEntryWasLostIsToldToMergeServiceFilesNotToAddTheDependency() {
    ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends();
    ClassLoader loader = DiffusionTest.class.getClassLoader();
    // a fat jar whose service file lists nd4j only: djl's provider class is there, unregistered
    String lost = ProviderDiscovery.unknownBackend("djl", found, SecondReference.class.getName(), loader);
    assertTrue(lost.contains(SecondReference.class.getName() + " is on the class path but not listed in "
        + "META-INF/services/io.github.diffusion4j.spi.BackendProvider"), lost);
    assertTrue(lost.contains("ServicesResourceTransformer"), lost);
    assertFalse(lost.contains("add the dependency"), lost);
    String absent = ProviderDiscovery.unknownBackend("djl", found, "com.example.NotThere", loader);
    assertTrue(absent.contains("add the dependency io.github.diffusion4j:backend-djl"), absent);
    assertFalse(absent.contains("ServicesResourceTransformer"), absent);
    assertTrue(ProviderDiscovery.unknownBackend("djl", found).contains("add the dependency"), "djl is not here");
  }

  @Test
  void aBackendThatCannotLoadIsNamedInTheMessage() {
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
        () -> ProviderDiscovery.create(unavailable("libboom.so not found"), BackendOptions.defaults()));
    assertEquals("backend 'boom' (com.example:boom) cannot be loaded here: libboom.so not found", e.getMessage());
    assertEquals("libboom.so not found", e.getCause().getMessage());
    // a provider that names itself, as nd4j's ("backend 'nd4j': ...") and djl's ("djl: ...") do, is left alone
    for (String own : List.of("backend 'boom': libboom.so not found", "boom: libboom.so not found")) {
      assertEquals(own, assertThrows(BackendUnavailableException.class,
          () -> ProviderDiscovery.create(unavailable(own), BackendOptions.defaults())).getMessage());
    }
  }

  /**
   * A provider's {@code create} that breaks its contract (any exception but {@code BackendUnavailableException}: a bug,
   * or a native library that does not link) is named too: its own message alone ("native lib missing") said neither
   * which backend failed nor that it was the backend at all.
   */
  @Test
  void aBackendWhoseCreateFailsOtherwiseIsNamedInTheMessage() {
    IllegalStateException bug = new IllegalStateException("native lib missing");
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
        () -> ProviderDiscovery.create(failing(bug), BackendOptions.defaults()));
    assertEquals("backend 'boom' (com.example:boom) failed to start: IllegalStateException: native lib missing",
        e.getMessage());
    assertSame(bug, e.getCause());
    UnsatisfiedLinkError link = new UnsatisfiedLinkError("no boom in java.library.path");
    e = assertThrows(BackendUnavailableException.class,
        () -> ProviderDiscovery.create(failing(link), BackendOptions.defaults()));
    assertEquals("backend 'boom' (com.example:boom) failed to start: UnsatisfiedLinkError: no boom in "
        + "java.library.path", e.getMessage());
    assertSame(link, e.getCause());
    e = assertThrows(BackendUnavailableException.class,
        () -> ProviderDiscovery.create(failing(new NullPointerException()), BackendOptions.defaults()));
    assertEquals("backend 'boom' (com.example:boom) failed to start: NullPointerException", e.getMessage());
    // a switch's refusal already names what to change, and an interrupt is no failure: both are thrown as they are
    for (RuntimeException own : List.of(
        new io.github.diffusion4j.settings.InvalidPropertyException("-Dboom.x=y: not true or false"),
        new java.util.concurrent.CancellationException("interrupted"))) {
      assertSame(own, assertThrows(RuntimeException.class,
          () -> ProviderDiscovery.create(failing(own), BackendOptions.defaults())));
    }
  }

  /** A provider whose create returns null is named at once (it was a NullPointerException at first use). */
  @Test
  void aBackendWhoseCreateReturnsNullIsNamedInTheMessage() {
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
        () -> ProviderDiscovery.create(failing(null), BackendOptions.defaults()));
    assertEquals("backend 'boom' (com.example:boom) failed to start: its provider's create(BackendOptions) returned "
        + "null", e.getMessage());
  }

  /** A provider whose create throws {@code t}, or returns null for a null {@code t}. */
  private static BackendProvider failing(Throwable t) {
    return new BackendProvider() {
      @Override
      public String name() {
        return "boom";
      }

      @Override
      public String description() {
        return "a backend whose create fails";
      }

      @Override
      public String artifact() {
        return "com.example:boom";
      }

      @Override
      public Backend create(BackendOptions options) {
        if (t == null) {
          return null;
        }
        if (t instanceof Error err) {
          throw err;
        }
        throw (RuntimeException) t;
      }
    };
  }

  private static BackendProvider unavailable(String message) {
    return failing(new BackendUnavailableException(message, new UnsatisfiedLinkError("no boom in java.library.path")));
  }

  @Test
  void anUnknownThirdPartyBackendIsToldHowABackendIsFound() {
    String m = ProviderDiscovery.unknownBackend("javaf", ProviderDiscovery.backends());
    assertTrue(m.startsWith("unknown backend 'javaf'; available: reference"), m);
    assertTrue(m.contains("official backends: djl (io.github.diffusion4j:backend-djl), nd4j"), m);
    assertTrue(m.endsWith("; another backend is found when its jar, with its provider listed in "
        + "META-INF/services/io.github.diffusion4j.spi.BackendProvider, is on the class path "
        + "(for ./diffusion, in DIFFUSION_CLASSPATH)"), m);
  }

  @Test
  void unknownSamplerIsALocatedError() throws IOException {
    Path p = yaml(TINY.replace("sampler: ddim", "sampler: euler"));
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::sampler);
      assertEquals("sampling.sampler", e.path());
      assertEquals(16, e.line());
      assertTrue(e.getMessage().contains("available: ddpm, ddim"), e.getMessage());
    }
  }

  @Test
  void aProvidersRefusalIsTheConfigurationsErrorAndANullSamplerIsNamed() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY.replace("sampler: ddim", "sampler: refusing")))) {
      ConfigException e = assertThrows(ConfigException.class, d::sampler);
      assertEquals("sampling.options", e.path());
      assertTrue(e.getMessage().endsWith("sampler 'refusing' refused its settings: order must be at most the steps"),
          e.getMessage());
      assertEquals("sampling.options", assertThrows(ConfigException.class, d::check).path(), "check() says the same");
    }
    try (Diffusion d = Diffusion.open(yaml(TINY))) {
      assertEquals("sampler 'refusing' refused its settings: order must be at most the steps",
          assertThrows(IllegalArgumentException.class, () -> d.sampler("refusing")).getMessage());
      assertEquals("sampler provider " + NoSampler.class.getName() + " ('nothing') returned no sampler",
          assertThrows(IllegalStateException.class, () -> d.sampler("nothing")).getMessage());
    }
  }

  /**
   * A provider's other failure to make its sampler, and a sampler whose name is not its provider's, are errors that
   * name the provider (its class and name); the failure's own message stays in the line, and the failure is the
   * cause. A sampler under another name would sample and print, and record, a name no configuration can choose.
   */
  @Test
  void aProvidersFailureAndASamplerUnderAnotherNameAreNamedWithTheProvider() throws IOException {
    try (Diffusion d = Diffusion.open(yaml(TINY))) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.sampler("failing"));
      assertEquals("sampler provider " + FailingSampler.class.getName() + " ('failing') failed to make its sampler: "
          + "needs at least 1000 training timesteps", e.getMessage());
      assertEquals("needs at least 1000 training timesteps", e.getCause().getMessage());
      assertEquals("sampler provider " + RenamedSampler.class.getName() + " ('renamed') returned a sampler named "
          + "'other'; Sampler.name() must be its provider's name",
          assertThrows(IllegalStateException.class, () -> d.sampler("renamed")).getMessage());
    }
    try (Diffusion d = Diffusion.open(yaml(TINY.replace("sampler: ddim", "sampler: failing")))) {
      assertTrue(assertThrows(IllegalStateException.class, d::sampler).getMessage()
          .startsWith("sampler provider " + FailingSampler.class.getName() + " ('failing') failed"));
    }
  }

  /**
   * An eta that an override asks for, with a sampler that takes none (the built-in ddpm), is refused at the override
   * rather than taken without effect; an eta in the file stays (it is what a sampler chosen later samples with), and a
   * sampler that takes eta takes the override.
   */
  @Test
  void anEtaOverriddenForASamplerThatTakesNoneIsRefusedAtTheOverride() throws IOException {
    Path ddpm = yaml(TINY.replace("sampler: ddim", "sampler: ddpm"));
    try (Diffusion d = Diffusion.open(ddpm, List.of("sampling.eta=0.5"))) {
      ConfigException e = assertThrows(ConfigException.class, d::sampler);
      assertEquals("sampling.eta", e.path());
      assertTrue(e.getMessage().startsWith("--set sampling.eta=0.5: sampling.eta: the sampler 'ddpm' takes no eta "
          + "(its noise is sampling.variance_type's); samplers that take it: ddim"), e.getMessage());
      assertEquals("sampling.eta", assertThrows(ConfigException.class, d::check).path(), "check() says the same");
    }
    try (Diffusion d = Diffusion.open(yaml(TINY.replace("sampler: ddim", "sampler: ddpm\n  eta: 0.5")))) {
      assertEquals("ddpm", d.sampler().name());
      assertEquals(0.5, d.samplerSpec().eta(), "the file's eta, for a sampler chosen later");
    }
    try (Diffusion d = Diffusion.open(ddpm, List.of("sampling.eta=0.5", "sampling.sampler=ddim"))) {
      assertEquals("ddim", d.sampler().name());
    }
  }

  /** A sampler provider whose create fails otherwise than by refusing its settings (registered in the services). */
  public static final class FailingSampler extends TestSamplerProvider {
    /** Creates it. */
    public FailingSampler() {
      super("failing", spec -> {
        throw new IllegalStateException("needs at least 1000 training timesteps");
      });
    }
  }

  /** A sampler provider whose sampler has another name (registered in this module's test services). */
  public static final class RenamedSampler extends TestSamplerProvider {
    /** Creates it. */
    public RenamedSampler() {
      super("renamed", spec -> new io.github.diffusion4j.sampling.Sampler() {
        @Override
        public String name() {
          return "other";
        }

        @Override
        public io.github.diffusion4j.sampling.ReverseStepResult step(io.github.diffusion4j.sampling.StepContext c) {
          return new io.github.diffusion4j.sampling.ReverseStepResult(c.sample(), c.sample());
        }
      });
    }
  }

  /** A sampler provider that refuses every setting (registered in this module's test services). */
  public static final class RefusingSampler extends TestSamplerProvider {
    /** Creates it. */
    public RefusingSampler() {
      super("refusing", spec -> {
        throw new IllegalArgumentException("order must be at most the steps");
      });
    }
  }

  /** A sampler provider that returns no sampler (registered in this module's test services). */
  public static final class NoSampler extends TestSamplerProvider {
    /** Creates it. */
    public NoSampler() {
      super("nothing", spec -> null);
    }
  }

  /** A named provider whose create is given. */
  abstract static class TestSamplerProvider implements io.github.diffusion4j.sampling.SamplerProvider {
    private final String name;
    private final java.util.function.Function<io.github.diffusion4j.sampling.SamplerSpec,
        io.github.diffusion4j.sampling.Sampler> create;

    TestSamplerProvider(String name, java.util.function.Function<io.github.diffusion4j.sampling.SamplerSpec,
        io.github.diffusion4j.sampling.Sampler> create) {
      this.name = name;
      this.create = create;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return "a test provider";
    }

    @Override
    public io.github.diffusion4j.sampling.Sampler create(io.github.diffusion4j.sampling.SamplerSpec spec) {
      return create.apply(spec);
    }
  }

  /**
   * A sampler of the user's own, used without a provider, is made from {@code samplerSpec()}: the configured
   * prediction type (x0, {@code sample}, where a spec of diffusers' defaults says epsilon) and eta reach it, and the
   * README's skeleton (a deterministic DDIM step) made from it samples what the built-in DDIM samples.
   */
  @Test
  void aSamplerOfTheUsersOwnIsMadeFromTheConfiguredSpec() throws IOException {
    String sample = TINY.replace("  num_train_timesteps: 50", "  num_train_timesteps: 50\n  prediction_type: sample");
    try (Diffusion d = Diffusion.open(yaml(sample + "  eta: 0.5\n"))) {
      io.github.diffusion4j.sampling.SamplerSpec spec = d.samplerSpec();
      assertEquals(io.github.diffusion4j.model.PredictionType.SAMPLE, spec.predictionType());
      assertEquals(0.5, spec.eta());
      assertEquals(d.schedule(), spec.schedule());
    }
    try (Diffusion d = Diffusion.open(yaml(sample)); TrainableModel m = d.createModel()) {
      float[] own = d.sampleImages(m, new SkeletonDdim(d.samplerSpec()), d.request(4, 7), SamplingListener.NONE);
      float[] ddim = d.sampleImages(m, d.sampler("ddim"), d.request(4, 7), SamplingListener.NONE);
      // the same formula in float32 by other sequences of tensor operations: each of the 10 steps rounds a few
      // values of order 1 at ~6e-8, and the images are in [0, 1], so 1e-5 leaves a wide margin over the rounding
      for (int i = 0; i < own.length; i++) {
        assertEquals(ddim[i], own[i], 1e-5, "value " + i);
      }
    }
  }

  /** The README's "Write your own sampler" skeleton: a deterministic DDIM step, made from a spec. */
  static final class SkeletonDdim implements io.github.diffusion4j.sampling.Sampler {
    private final io.github.diffusion4j.schedule.Schedule schedule;
    private final io.github.diffusion4j.model.PredictionType predictionType;

    SkeletonDdim(io.github.diffusion4j.sampling.SamplerSpec spec) {
      this.schedule = spec.schedule();
      this.predictionType = spec.predictionType();
    }

    @Override
    public String name() {
      return "mine";
    }

    @Override
    public io.github.diffusion4j.sampling.ReverseStepResult step(io.github.diffusion4j.sampling.StepContext c) {
      double aT = schedule.alphaBar(c.timestep());
      io.github.diffusion4j.tensor.Tensor x0 = predictionType.toSample(c.modelOutput(), c.sample(), aT);
      io.github.diffusion4j.tensor.Tensor eps = predictionType.toEpsilon(c.modelOutput(), c.sample(), aT);
      double aPrev = schedule.alphaBarOrOne(c.prevTimestep());
      return new io.github.diffusion4j.sampling.ReverseStepResult(
          x0.combine(Math.sqrt(aPrev), eps, Math.sqrt(1 - aPrev)), x0);
    }
  }

  @Test
  void builtInSamplersRejectOptions() throws IOException {
    Path p = yaml(TINY + "  options:\n    order: 2\n");
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::sampler);
      assertTrue(e.getMessage().contains("sampling.options.order"), e.getMessage());
    }
  }

  @Test
  void openingLoadsNoBackend() {
    try (Diffusion d = Diffusion.open(ConfigLoader.readString(TINY.replace("reference", "nonexistent"), "x.yaml", List.of()))) {
      assertEquals(50, d.schedule().size(), "schedule and data work without a backend");
    }
  }

  @Test
  void brokenProvidersAreReportedAndTheOthersStillWork() throws IOException {
    Path services = dir.resolve("cp/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(BackendProvider.class.getName()), "com.example.DoesNotExist\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends(loader);
      assertTrue(found.providers().containsKey("reference"));
      assertFalse(found.broken().isEmpty());
      assertTrue(found.broken().get(0).contains("com.example.DoesNotExist"), found.broken().toString());
      assertTrue(ProviderDiscovery.unknownBackend("x", found).contains("broken providers"));
    }
  }

  /**
   * A backend whose provider cannot be made (its constructor throws) is "unknown"; the line then says which providers
   * failed and why, once (not the service type twice), and not how a backend is found (its services file lists it).
   */
  @Test
  void aBackendWhoseProviderCannotBeMadeIsNamedAmongTheBrokenOnes() throws IOException {
    Path services = dir.resolve("cp3/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(BackendProvider.class.getName()), ThrowingConstructor.class.getName() + "\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp3").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends(loader);
      assertEquals(List.of("BackendProvider: Provider " + ThrowingConstructor.class.getName()
          + " could not be instantiated: native lib missing"), found.broken());
      String m = ProviderDiscovery.unknownBackend("mine", found);
      assertTrue(m.startsWith("unknown backend 'mine'; available: "), m);
      assertTrue(m.endsWith("; broken providers, among them perhaps 'mine': " + found.broken().get(0)), m);
      assertFalse(m.contains("another backend is found"), m);
    }
  }

  /** A provider whose constructor fails, as a third party's may where its native library is missing. */
  public static final class ThrowingConstructor extends Renamed {
    /** Fails. */
    public ThrowingConstructor() {
      super("mine");
      throw new IllegalStateException("native lib missing");
    }
  }

  @Test
  void brokenAndDuplicateProvidersAreLoggedAsWarnings() throws IOException {
    Path services = dir.resolve("cp2/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(BackendProvider.class.getName()),
        "com.example.DoesNotExist\n" + SecondReference.class.getName() + "\n");
    RecordingLogger log = new RecordingLogger();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp2").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends(loader, log);
      assertEquals(ReferenceBackendProvider.class, found.providers().get("reference").getClass(), "the first wins");
      assertEquals(2, found.broken().size(), found.broken().toString());
      assertEquals(2, log.warnings.size(), log.warnings.toString());
      assertTrue(log.warnings.stream().anyMatch(w -> w.startsWith("BackendProvider discovery: ")
          && w.contains("com.example.DoesNotExist")), log.warnings.toString());
      assertTrue(log.warnings.stream().anyMatch(w -> w.contains(SecondReference.class.getName())
          && w.contains("duplicate name 'reference'")), log.warnings.toString());
    }
    RecordingLogger quiet = new RecordingLogger();
    ProviderDiscovery.backends(DiffusionTest.class.getClassLoader(), quiet);
    assertEquals(List.of(), quiet.warnings, "a clean class path logs nothing");
  }

  /**
   * A sampler provider named as a built-in sampler is ignored and reported as such, in words (the built-ins are
   * anonymous classes, whose names, {@code BuiltInSamplers$2}, said nothing), with what to do.
   */
  @Test
  void aSamplerProviderNamedAsABuiltInIsReportedAsTheBuiltInsClash() throws IOException {
    Path services = dir.resolve("cp4/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(io.github.diffusion4j.sampling.SamplerProvider.class.getName()),
        SecondDdim.class.getName() + "\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp4").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      ProviderDiscovery.Found<io.github.diffusion4j.sampling.SamplerProvider> found =
          ProviderDiscovery.samplers(loader, new RecordingLogger());
      assertSame(io.github.diffusion4j.sampling.BuiltInSamplers.DDIM, found.providers().get("ddim"), "the built-in");
      assertEquals(List.of(SecondDdim.class.getName() + ": duplicate name 'ddim' (a built-in sampler's, which a "
          + "provider cannot replace; give it another name); ignored"), found.broken());
    }
  }

  /** A sampler provider under a built-in's name. */
  public static final class SecondDdim extends TestSamplerProvider {
    /** Creates it. */
    public SecondDdim() {
      super("ddim", spec -> null);
    }
  }

  @Test
  void providersWithoutAUsableNameAreReportedAndIgnored() throws IOException {
    Path services = dir.resolve("cp3/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(BackendProvider.class.getName()),
        NullName.class.getName() + "\n" + UpperCaseName.class.getName() + "\n");
    RecordingLogger log = new RecordingLogger();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp3").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends(loader, log);
      assertFalse(found.providers().containsKey(null), "a null name would break the session's bindings");
      assertFalse(found.providers().containsKey("My-Backend"));
      assertTrue(found.providers().containsKey("reference"));
      assertEquals(2, found.broken().size(), found.broken().toString());
      assertTrue(found.broken().get(0).contains(NullName.class.getName()) && found.broken().get(0).contains("null"),
          found.broken().toString());
      assertTrue(found.broken().get(1).contains("'My-Backend'"), found.broken().toString());
    }
  }

  @Test
  void aBackendThatOnlyTheContextClassLoaderSeesIsFound() throws IOException {
    Path services = dir.resolve("cp4/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(BackendProvider.class.getName()), ContextOnly.class.getName() + "\n");
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp4").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      assertFalse(ProviderDiscovery.backends().providers().containsKey("contextonly"));
      Thread.currentThread().setContextClassLoader(loader); // an application server's loader of the application
      ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends();
      assertTrue(found.providers().containsKey("contextonly"), found.providers().keySet().toString());
      assertTrue(found.providers().containsKey("reference"));
      assertEquals(List.of(), found.broken(), "what both loaders see is one provider each, not a duplicate");
    } finally {
      Thread.currentThread().setContextClassLoader(before);
    }
  }

  /** A provider that only a child loader lists. */
  public static final class ContextOnly extends Renamed {
    /** Creates it. */
    public ContextOnly() {
      super("contextonly");
    }
  }

  /** A provider whose name() is null. */
  public static final class NullName extends Renamed {
    /** Creates it. */
    public NullName() {
      super(null);
    }
  }

  /** A provider whose name() no configuration can name. */
  public static final class UpperCaseName extends Renamed {
    /** Creates it. */
    public UpperCaseName() {
      super("My-Backend");
    }
  }

  /** The reference backend under another name. */
  public abstract static class Renamed implements BackendProvider {
    private final ReferenceBackendProvider delegate = new ReferenceBackendProvider();
    private final String name;

    Renamed(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return delegate.description();
    }

    @Override
    public String artifact() {
      return delegate.artifact();
    }

    @Override
    public io.github.diffusion4j.spi.Backend create(io.github.diffusion4j.spi.BackendOptions options) {
      return delegate.create(options);
    }
  }

  /**
   * A backend made on one thread while another closes the session (its native libraries load for seconds) is
   * released by that close: the close used to see no backend yet, and the one made after it stayed open.
   */
  @Test
  void aBackendMadeWhileTheSessionClosesIsReleasedByTheClose() throws Exception {
    Path services = Files.createDirectories(dir.resolve("cp-slow/META-INF/services"));
    Files.writeString(services.resolve(BackendProvider.class.getName()), SlowBackend.class.getName() + "\n");
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp-slow").toUri().toURL()},
        DiffusionTest.class.getClassLoader())) {
      Thread.currentThread().setContextClassLoader(loader);
      Diffusion d = Diffusion.open(ConfigLoader.readString(TINY.replace("reference", "slow"), "x.yaml", List.of()));
      java.util.concurrent.CompletableFuture<io.github.diffusion4j.spi.Backend> made =
          java.util.concurrent.CompletableFuture.supplyAsync(d::backend);
      assertTrue(SlowBackend.CREATING.await(30, java.util.concurrent.TimeUnit.SECONDS), "the backend is being made");
      Thread closing = new Thread(d::close);
      closing.start();
      // the close cannot finish while the backend is being made; let the creation finish after the close began.
      // Waited for by the closing thread's state, not a fixed 300 ms: on a loaded machine the thread may not have
      // reached the close by then, and the creation, released first, would end before the close and test nothing
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (closing.isAlive() && closing.getState() != Thread.State.BLOCKED
          && closing.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      SlowBackend.RELEASE.countDown();
      closing.join(30_000);
      assertFalse(closing.isAlive(), "the close ends");
      made.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(1, SlowBackend.CLOSED.get(), "the backend made during the close is released, once");
      assertThrows(IllegalStateException.class, d::backend);
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  /** A backend whose creation waits for the test (registered only through the test's class loader). */
  public static final class SlowBackend extends Renamed {
    static final java.util.concurrent.CountDownLatch CREATING = new java.util.concurrent.CountDownLatch(1);
    static final java.util.concurrent.CountDownLatch RELEASE = new java.util.concurrent.CountDownLatch(1);
    static final java.util.concurrent.atomic.AtomicInteger CLOSED = new java.util.concurrent.atomic.AtomicInteger();

    /** Creates it (ServiceLoader needs a public no-argument constructor). */
    public SlowBackend() {
      super("slow");
    }

    @Override
    public io.github.diffusion4j.spi.Backend create(io.github.diffusion4j.spi.BackendOptions options) {
      CREATING.countDown();
      try {
        RELEASE.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      io.github.diffusion4j.spi.Backend b = super.create(options);
      return new io.github.diffusion4j.spi.Backend() {
        @Override
        public String name() {
          return "slow";
        }

        @Override
        public String describe() {
          return b.describe();
        }

        @Override
        public io.github.diffusion4j.tensor.TensorFactory tensors() {
          return b.tensors();
        }

        @Override
        public io.github.diffusion4j.nn.LayerBackend layers() {
          return b.layers();
        }

        @Override
        public void close() {
          CLOSED.incrementAndGet();
          b.close();
        }
      };
    }
  }

  @Test
  void theBackendPropertyIsReadWhereTheModuleIsBuilt() {
    DiffusionConfig config = ConfigLoader.readString(TINY, "x.yaml", List.of()).config();
    assertEquals(new DiffusionModule.BackendChoice("reference", false), DiffusionModule.BackendChoice.of(config, null));
    assertEquals(new DiffusionModule.BackendChoice("reference", false), DiffusionModule.BackendChoice.of(config, " "));
    assertEquals(new DiffusionModule.BackendChoice("djl", true), DiffusionModule.BackendChoice.of(config, " djl "));
    String before = System.getProperty(DiffusionModule.BACKEND_PROPERTY);
    System.setProperty(DiffusionModule.BACKEND_PROPERTY, "nonexistent");
    Diffusion d;
    try {
      d = Diffusion.open(config);
    } finally {
      if (before == null) {
        System.clearProperty(DiffusionModule.BACKEND_PROPERTY);
      } else {
        System.setProperty(DiffusionModule.BACKEND_PROPERTY, before);
      }
    }
    try (d) {
      // the property was read when the session was opened, not when the backend is first asked for
      ConfigException e = assertThrows(ConfigException.class, d::backend);
      assertTrue(e.getMessage().contains("unknown backend 'nonexistent'")
          && e.getMessage().contains("(from -Ddiffusion4j.backend)"), e.getMessage());
    }
  }

  /** A second provider named {@code reference}, registered after the test kit's: a duplicate. */
  public static final class SecondReference extends Renamed {
    /** Creates it (ServiceLoader needs a public no-argument constructor). */
    public SecondReference() {
      super("reference");
    }
  }

  private static final class RecordingLogger extends LegacyAbstractLogger {
    final List<String> warnings = new ArrayList<>();

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return false;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
        Throwable t) {
      if (level == Level.WARN) {
        warnings.add(MessageFormatter.basicArrayFormat(pattern, args));
      }
    }
  }
}
