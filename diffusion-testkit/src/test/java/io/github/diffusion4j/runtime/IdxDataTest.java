package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code data.kind: idx} on the committed Fashion-MNIST fixture and the reference backend. */
class IdxDataTest {
  @TempDir
  Path dir;

  private static Path fixture(String name) {
    try {
      return Path.of(IdxDataTest.class.getResource("/fashion-mnist-1k/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String yaml() {
    return String.join("\n",
        "backend: reference",
        "seed: 5",
        "data:",
        "  kind: idx",
        "  train_images: " + fixture("train-images-idx3-ubyte.gz"),
        "  train_labels: " + fixture("train-labels-idx1-ubyte.gz"),
        "  eval_images: " + fixture("t10k-images-idx3-ubyte.gz"),
        "  eval_labels: " + fixture("t10k-labels-idx1-ubyte.gz"),
        "  pad_to: 32",
        "  train_size: 200",
        "  eval_size: 100",
        "model:",
        "  hidden: 16",
        "schedule:",
        "  num_train_timesteps: 50",
        "training:",
        "  epochs: 1",
        "  batch_size: 100",
        "sampling:",
        "  num_inference_steps: 10",
        "");
  }

  private Path write(String text) throws IOException {
    Path p = dir.resolve("idx.yaml");
    Files.writeString(p, text);
    return p;
  }

  @Test
  void trainsOneEpochOnPaddedFashionMnist() throws IOException {
    try (Diffusion d = Diffusion.open(write(yaml()))) {
      assertEquals(Shape.of(1, 32, 32), d.imageShape());
      Dataset train = d.trainingData();
      Dataset eval = d.evalData();
      assertEquals(200, train.size(), "data.train_size limits the 1,000 fixture images");
      assertEquals(100, eval.size(), "data.eval_size limits the 200 fixture images");
      assertEquals(Shape.of(1, 32, 32), train.imageShape());
      assertEquals(Shape.of(1, 32, 32), eval.imageShape());
      float[] img = new float[32 * 32];
      train.copyImage(0, img, 0);
      assertEquals(-1f, img[0], 0f, "the padded corner is background");
      try (TrainableModel m = d.createModel()) {
        TrainingSummary s = d.trainer(m).train(train, eval, TrainingProgress.START, new TrainingListener() {});
        assertTrue(s.completed());
        assertEquals(2, s.progress().step(), "200 images in batches of 100");
        assertEquals(1, s.evalLosses().size());
        assertTrue(Double.isFinite(s.finalTrainLoss()), "loss " + s.finalTrainLoss());
      }
    }
  }

  /**
   * The reference images of IDX data are the first images of the evaluation set, not of the training set (the fixture's
   * two files hold different images, so a mix-up shows); the same arithmetic, so the same bits.
   */
  @Test
  void theReferenceImagesAreTheFirstEvaluationImages() throws IOException {
    try (Diffusion d = Diffusion.open(write(yaml()))) {
      int k = 32 * 32;
      float[] eval = new float[5 * k];
      float[] train = new float[5 * k];
      for (int i = 0; i < 5; i++) {
        d.evalData().copyImage(i, eval, i * k);
        d.trainingData().copyImage(i, train, i * k);
      }
      float[] ref = d.referenceImages(5);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          io.github.diffusion4j.data.Normalization.denormalize(eval), ref, 0f);
      org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(
          io.github.diffusion4j.data.Normalization.denormalize(train), ref), "the training images differ");
      assertEquals("the evaluation images", d.referenceSource());
    }
  }

  @Test
  void allImagesAreUsedWhenTheSizesAreZero() throws IOException {
    String text = yaml().replace("  train_size: 200", "  train_size: 0").replace("  eval_size: 100", "  eval_size: 0")
        .replace("  pad_to: 32\n", "");
    try (Diffusion d = Diffusion.open(write(text))) {
      assertEquals(Shape.of(1, 28, 28), d.imageShape());
      assertEquals(1000, d.trainingData().size());
      assertEquals(200, d.evalData().size());
    }
  }

  @Test
  void aMissingFileIsLocatedAtItsKey() throws IOException {
    Path p = write(yaml().replace("t10k-labels-idx1-ubyte.gz", "no-such-labels.gz"));
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::trainingData);
      assertEquals("data.eval_labels", e.path());
      assertEquals(8, e.line());
      assertTrue(e.getMessage().startsWith(p + ":8:"), e.getMessage());
      assertTrue(e.detail().endsWith("no-such-labels.gz: no such file"), e.detail());
    }
  }

  @Test
  void aMismatchedLabelsFileIsADataError() throws IOException {
    Path p = write(yaml().replace("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"));
    try (Diffusion d = Diffusion.open(p)) {
      DataFileException e = assertThrows(DataFileException.class, d::trainingData);
      assertTrue(e.problem().startsWith("declares 200 labels but "), e.getMessage());
    }
  }

  @Test
  void anImageShapeThatDisagreesWithTheFilesIsLocated() throws IOException {
    Path p = write(yaml().replace("  kind: idx\n", "  kind: idx\n  image_shape: [1, 28, 28]\n"));
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::imageShape);
      assertEquals("data.image_shape", e.path());
      assertTrue(e.detail().contains("after pad_to 32"), e.detail());
    }
  }

  @Test
  void aBatchLargerThanTheImagesIsLocated() throws IOException {
    Path p = write(yaml().replace("  train_size: 200", "  train_size: 0").replace("batch_size: 100", "batch_size: 2000"));
    try (Diffusion d = Diffusion.open(p)) {
      ConfigException e = assertThrows(ConfigException.class, d::trainingData);
      assertEquals("training.batch_size", e.path());
      assertTrue(e.detail().startsWith("must be at most the 1000 training images used from "), e.detail());
    }
  }
}
