package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.DataConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.IdxImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.io.FileProblems;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The training and evaluation sets a configuration describes. Gradient images are generated from the
 * run's seed ({@code Noise.seeded(seed).split(TRAIN)} and {@code .split(EVAL)}), so every backend and every
 * resumed run sees the same data. IDX images are read from the configured files ({@link IdxImages}),
 * padded to {@code pad_to} and limited to {@code train_size} / {@code eval_size}; the labels files, when
 * given, are read to check that they match their images.
 *
 * @param train the training set
 * @param eval the evaluation set, or null when {@code eval_size} is 0
 * @param imageShape the shape of one image
 */
record DataSets(Dataset train, Dataset eval, Shape imageShape) {
  static final long TRAIN = 0x7472616E;
  static final long EVAL = 0x6576616C;
  static final long REFERENCE = 0x72656665;

  /**
   * What the data will be, known before any image is read or generated: the image shape (for IDX, from the
   * files' headers) and how many images each set uses, with every size checked against the arrays it
   * implies.
   *
   * @param imageShape the shape of one image, after padding
   * @param trainImages the training images used
   * @param evalImages the evaluation images used (0: no evaluation set)
   */
  record Plan(Shape imageShape, int trainImages, int evalImages) {}

  /** Reads only what the plan needs (IDX headers) and checks every size, naming the key at fault. */
  static Plan plan(LoadedConfig loaded) {
    DataConfig d = loaded.config().data();
    Plan p;
    switch (d.kind()) {
      case GRADIENTS -> {
        Shape shape = d.imageShape().orElseThrow(() -> loaded.error("data.image_shape", "is required for gradients"));
        p = new Plan(shape, d.trainSize(), d.evalSize());
      }
      case IDX -> p = planIdx(loaded, d);
      default -> throw loaded.error("data.kind", "'" + d.kind().configName() + "' data is not supported yet; use gradients");
    }
    try {
      loaded.config().checkDataSizes(p.imageShape(), p.trainImages(), p.evalImages());
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
    return p;
  }

  /**
   * Checks the sizes of a plan, and that a training run's data, model and schedule fit in {@code maxHeap}.
   *
   * @throws ConfigException located at the key to change
   */
  static void checkSizes(LoadedConfig loaded, Plan p, long maxHeap) {
    try {
      loaded.config().checkSizes(p.imageShape(), p.trainImages(), p.evalImages(), maxHeap);
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
  }

  /** Generates or reads the images of a plan, once they are known to fit in the heap. */
  static DataSets load(LoadedConfig loaded, Plan p) {
    checkSizes(loaded, p, Runtime.getRuntime().maxMemory());
    DataConfig d = loaded.config().data();
    long seed = loaded.config().seed();
    if (d.kind() == DataConfig.Kind.GRADIENTS) {
      Shape shape = p.imageShape();
      Dataset train = GradientImages.dataset(d.trainSize(), shape, Noise.seeded(seed).split(TRAIN));
      Dataset eval = d.evalSize() > 0 ? GradientImages.dataset(d.evalSize(), shape, Noise.seeded(seed).split(EVAL)) : null;
      return new DataSets(train, eval, shape);
    }
    IdxImages reader = IdxImages.reader().padTo(d.padTo());
    Dataset trainSet = reader.limit(d.trainSize()).read(d.trainImages().orElseThrow(), d.trainLabels()).images();
    Dataset evalSet = reader.limit(d.evalSize()).read(d.evalImages().orElseThrow(), d.evalLabels()).images();
    return new DataSets(trainSet, evalSet, p.imageShape());
  }

  /**
   * The IDX case. Errors about a configured value (a missing file, a size that does not fit) are located
   * at their key; errors about a file's content are the reader's {@code DataFileException}.
   */
  private static Plan planIdx(LoadedConfig loaded, DataConfig d) {
    Path trainImages = existing(loaded, "data.train_images", d.trainImages().orElseThrow());
    d.trainLabels().ifPresent(p -> existing(loaded, "data.train_labels", p));
    Path evalImages = existing(loaded, "data.eval_images", d.evalImages().orElseThrow());
    d.evalLabels().ifPresent(p -> existing(loaded, "data.eval_labels", p));
    IdxImages.Header train = IdxImages.header(trainImages);
    IdxImages.Header eval = IdxImages.header(evalImages);
    if (eval.rows() != train.rows() || eval.cols() != train.cols()) {
      throw loaded.error("data.eval_images", "holds " + eval.rows() + "x" + eval.cols() + " images but "
          + "data.train_images holds " + train.rows() + "x" + train.cols() + "; both must have one size");
    }
    Shape shape;
    try {
      shape = d.resolveImageShape(train.imageShape());
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
    int batch = loaded.config().training().batchSize();
    int trainCount = d.trainSize() > 0 ? Math.min(d.trainSize(), train.count()) : train.count();
    if (trainCount < batch) {
      throw loaded.error("training.batch_size", "must be at most the " + trainCount + " training images "
          + "used from " + trainImages + ", got " + batch);
    }
    int evalCount = d.evalSize() > 0 ? Math.min(d.evalSize(), eval.count()) : eval.count();
    return new Plan(shape, trainCount, evalCount);
  }

  private static Path existing(LoadedConfig loaded, String key, Path file) {
    FileProblems.ofReading(file).ifPresent(problem -> {
      throw loaded.error(key, file + ": " + problem);
    });
    return file;
  }
}
