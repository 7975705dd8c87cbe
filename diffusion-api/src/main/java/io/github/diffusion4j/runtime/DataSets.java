package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.DataConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.IdxImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
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

  static DataSets load(LoadedConfig loaded) {
    DataConfig d = loaded.config().data();
    long seed = loaded.config().seed();
    switch (d.kind()) {
      case GRADIENTS -> {
        Shape shape = d.imageShape().orElseThrow(() -> loaded.error("data.image_shape", "is required for gradients"));
        Dataset train = GradientImages.dataset(d.trainSize(), shape, Noise.seeded(seed).split(TRAIN));
        Dataset eval = d.evalSize() > 0 ? GradientImages.dataset(d.evalSize(), shape, Noise.seeded(seed).split(EVAL)) : null;
        return new DataSets(train, eval, shape);
      }
      case IDX -> {
        return loadIdx(loaded, d);
      }
      default -> throw loaded.error("data.kind", "'" + d.kind().configName() + "' data is not supported yet; use gradients");
    }
  }

  /**
   * The IDX case. Errors about a configured value (a missing file, a size that does not fit) are located
   * at their key; errors about a file's content are the reader's {@code DataFileException}.
   */
  private static DataSets loadIdx(LoadedConfig loaded, DataConfig d) {
    Path trainImages = existing(loaded, "data.train_images", d.trainImages().orElseThrow());
    Optional<Path> trainLabels = d.trainLabels().map(p -> existing(loaded, "data.train_labels", p));
    Path evalImages = existing(loaded, "data.eval_images", d.evalImages().orElseThrow());
    Optional<Path> evalLabels = d.evalLabels().map(p -> existing(loaded, "data.eval_labels", p));
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
    IdxImages reader = IdxImages.reader().padTo(d.padTo());
    Dataset trainSet = reader.limit(d.trainSize()).read(trainImages, trainLabels).images();
    Dataset evalSet = reader.limit(d.evalSize()).read(evalImages, evalLabels).images();
    return new DataSets(trainSet, evalSet, shape);
  }

  private static Path existing(LoadedConfig loaded, String key, Path file) {
    if (!Files.exists(file)) {
      throw loaded.error(key, "no such file: " + file);
    }
    if (!Files.isRegularFile(file)) {
      throw loaded.error(key, "is not a regular file: " + file);
    }
    return file;
  }
}
