package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.Dataset;
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
  /** The folder listing the checks made ({@link #checkListing}), which loading then uses instead of listing again. */
  private DataSets.Sources listed;
  /** The evaluation set loaded without the training set ({@link #eval}), or null. */
  private Dataset evalAlone;

  DataLoader(LoadedConfig loaded, DataSets.Plan plan) {
    this.loaded = loaded;
    this.plan = plan;
  }

  synchronized DataSets get(DataProgress progress) {
    if (sets == null) {
      sets = DataSets.load(loaded, plan, progress, listed);
      listed = null;
    }
    return sets;
  }

  /**
   * The evaluation set: the loaded sets' where they are loaded; else, where the configuration gives the evaluation
   * images a folder of their own ({@link DataSets#evalLoadsAlone}), that folder's alone, without the training folder
   * (which a checkpoint's evaluation does not need, and which may have moved since); else the sets', loaded.
   */
  synchronized Dataset eval(DataProgress progress) {
    if (sets != null || !DataSets.evalLoadsAlone(loaded.config().data())) {
      return get(progress).eval();
    }
    if (evalAlone == null) {
      evalAlone = DataSets.loadEval(loaded, progress);
    }
    return evalAlone;
  }

  /**
   * Lists folder data and checks it before anything is decoded ({@link DataSets#list}); the listing is kept for
   * the load that follows, so a training run's start lists a folder once.
   */
  synchronized void checkListing() {
    if (sets == null) {
      listed = DataSets.list(loaded);
    }
  }

  /**
   * Whether loading would write nothing into the cache folder {@code dir}: the data is loaded already, or every image
   * set's cache is there and up to date ({@link io.github.diffusion4j.io.ImageCache#isUpToDate}). False for data
   * without image caches.
   */
  synchronized boolean cachesUpToDate(java.nio.file.Path dir) {
    if (sets != null) {
      return true;
    }
    checkListing();
    return listed != null && java.util.stream.Stream.of(listed.train(), listed.eval())
        .filter(java.util.Objects::nonNull)
        .allMatch(s -> io.github.diffusion4j.io.ImageCache.isUpToDate(
            io.github.diffusion4j.io.ImageCache.fileFor(dir, s), s));
  }

  Shape imageShape() {
    return plan.imageShape();
  }
}
