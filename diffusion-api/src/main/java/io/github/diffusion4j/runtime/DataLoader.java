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
  private final DataSets.Plan plan;
  private DataSets sets;

  DataLoader(LoadedConfig loaded, DataSets.Plan plan) {
    this.loaded = loaded;
    this.plan = plan;
  }

  synchronized DataSets get(DataProgress progress) {
    if (sets == null) {
      sets = DataSets.load(loaded, plan, progress);
    }
    return sets;
  }

  Shape imageShape() {
    return plan.imageShape();
  }
}
