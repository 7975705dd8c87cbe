package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.tensor.Shape;

/**
 * Loads a configuration's {@link DataSets} once, on first use, with the progress listener of that first
 * use (building an image cache can take minutes), and tells the image shape without loading when the
 * configuration alone determines it.
 */
final class DataLoader {
  private final LoadedConfig loaded;
  private DataSets sets;

  DataLoader(LoadedConfig loaded) {
    this.loaded = loaded;
  }

  synchronized DataSets get(DataProgress progress) {
    if (sets == null) {
      sets = DataSets.load(loaded, progress);
    }
    return sets;
  }

  Shape imageShape() {
    return DataSets.configuredShape(loaded.config().data()).orElseGet(() -> get(DataProgress.NONE).imageShape());
  }
}
