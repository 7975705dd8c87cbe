package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.DataConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;

/**
 * The training and evaluation sets a configuration describes. Gradient images are generated from the
 * run's seed ({@code Noise.seeded(seed).split(TRAIN)} and {@code .split(EVAL)}), so every backend and every
 * resumed run sees the same data.
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
      default -> throw loaded.error("data.kind", "'" + d.kind().configName() + "' data is not supported yet; use gradients");
    }
  }
}
