package io.github.diffusion4j.data;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Objects;

/**
 * Random horizontal flips, as in the DDPM paper's CIFAR-10 and LSUN training (Ho et al. 2020, appendix B):
 * in epoch {@code e}, image {@code i} is mirrored left to right when the first draw of
 * {@code noise.split(e).split(i)} ({@code nextInt(2)}) is 1. The draws are keyed, so they do not depend on the
 * batch size, the order of the epoch, or where a run was resumed, and are the same on every backend.
 *
 * <p>The set itself ({@link #copyImage}) is the images unflipped; {@link #epoch(int)} gives an epoch's view.
 */
public final class RandomFlip implements Dataset {
  private final Dataset images;
  private final Noise noise;

  /**
   * Flips a set's images.
   *
   * @param images the images
   * @param noise the stream the flips are drawn from
   */
  public RandomFlip(Dataset images, Noise noise) {
    this.images = Objects.requireNonNull(images, "images");
    this.noise = Objects.requireNonNull(noise, "noise");
  }

  /**
   * Whether an image is flipped in an epoch.
   *
   * @param epoch the epoch
   * @param index the image
   * @return true to mirror it
   */
  public boolean flipped(int epoch, int index) {
    return noise.split(epoch).split(index).generator().nextInt(2) == 1;
  }

  @Override
  public int size() {
    return images.size();
  }

  @Override
  public Shape imageShape() {
    return images.imageShape();
  }

  @Override
  public void copyImage(int index, float[] dst, int offset) {
    images.copyImage(index, dst, offset);
  }

  @Override
  public Dataset epoch(int epoch) {
    Dataset inner = images.epoch(epoch);
    return new Dataset() {
      @Override
      public int size() {
        return inner.size();
      }

      @Override
      public Shape imageShape() {
        return inner.imageShape();
      }

      @Override
      public void copyImage(int index, float[] dst, int offset) {
        inner.copyImage(index, dst, offset);
        if (flipped(epoch, index)) {
          mirror(imageShape(), dst, offset);
        }
      }
    };
  }

  /** Reverses every row of a {@code [C, H, W]} image in place. */
  static void mirror(Shape shape, float[] image, int offset) {
    int rows = shape.dim(0) * shape.dim(1);
    int w = shape.dim(2);
    for (int r = 0; r < rows; r++) {
      for (int a = offset + r * w, b = a + w - 1; a < b; a++, b--) {
        float t = image[a];
        image[a] = image[b];
        image[b] = t;
      }
    }
  }
}
