package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;

/** A {@link Dataset} over one float array of normalised images. */
public final class InMemoryDataset implements Dataset {
  private final Shape imageShape;
  private final float[] data;
  private final int size;

  /**
   * Wraps images; the array is not copied and must not be modified afterwards.
   *
   * @param imageShape {@code [C, H, W]}
   * @param data the images, row-major, a whole number of images
   */
  public InMemoryDataset(Shape imageShape, float[] data) {
    int k = imageShape.size();
    if (data.length == 0 || data.length % k != 0) {
      throw new IllegalArgumentException(
          "data of length " + data.length + " is not a positive whole number of " + imageShape + " images");
    }
    this.imageShape = imageShape;
    this.data = data;
    this.size = data.length / k;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Shape imageShape() {
    return imageShape;
  }

  @Override
  public void copyImage(int index, float[] dst, int offset) {
    int k = imageShape.size();
    System.arraycopy(data, index * k, dst, offset, k);
  }

  /**
   * The first {@code n} images as a new array.
   *
   * @param n how many, at most {@code size()}
   * @return the values
   */
  public float[] head(int n) {
    float[] out = new float[n * imageShape.size()];
    System.arraycopy(data, 0, out, 0, out.length);
    return out;
  }
}
