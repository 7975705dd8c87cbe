package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.DataConfig;

/**
 * The check that a loaded model's samples can be scored against real images, made before anything is sampled: by
 * {@code diffusion eval} on one machine and by {@code diffusion spark eval} on the driver, before any task starts.
 */
public final class ScoringReferences {
  private ScoringReferences() {}

  /**
   * Refuses a model whose configuration gives no real images to compare its samples with: a diffusers folder without
   * data of its own (its configuration's data are placeholder gradients, not the images it was trained on), or data
   * with fewer than 2 images (the Frechet distance fits a covariance to them).
   *
   * @param m the loaded model
   * @throws Unavailable saying why and which settings give the images
   */
  public static void check(TrainedModel m) {
    Diffusion d = m.diffusion();
    if (m.fromDiffusersFolder() && d.config().data().kind() == DataConfig.Kind.GRADIENTS) {
      throw new Unavailable("a diffusers folder has no images to compare the samples with; give them: --set "
          + "data.kind=folder --set data.root=DIR (or CIFAR-10 batches with data.kind=cifar10, IDX files with "
          + "data.kind=idx; docs/data.md)");
    }
    int available = d.referenceImages(0, 2).length / d.imageShape().size();
    if (available < 2) {
      throw new Unavailable("the samples are compared with " + d.referenceSource() + ", of which there "
          + (available == 1 ? "is 1" : "are none") + "; the Frechet distance needs at least 2 real images "
          + "(data.eval_root, or data.root without it; docs/data.md)");
    }
  }

  /** A model whose samples have no real images to be compared with; the message says why, without the model's path. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An error.
     *
     * @param message why, and what gives the images
     */
    public Unavailable(String message) {
      super(message);
    }
  }
}
