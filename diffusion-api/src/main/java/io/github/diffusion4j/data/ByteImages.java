package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A {@link Dataset} of 8-bit images stored channel-major ({@code [C, H, W]} bytes per image, back to back)
 * in byte buffers, usually memory-mapped from a cache file: only the images a batch needs are read, and each
 * is converted to {@code pixel / 255 * 2 - 1} as it is copied, so the heap holds no more than the batch.
 *
 * <p>The images may span several buffers (a mapping is at most 2 GiB): buffer {@code b} holds images
 * {@code b * imagesPerBuffer} onwards. A view made by {@link #select} shares the buffers. Reads use absolute
 * positions only, so an instance is safe to use from several threads.
 */
public final class ByteImages implements Dataset {

  private final Shape imageShape;
  private final List<ByteBuffer> buffers;
  private final int imagesPerBuffer;
  private final int[] indices;
  private final int size;

  private ByteImages(Shape imageShape, List<ByteBuffer> buffers, int imagesPerBuffer, int[] indices, int size) {
    this.imageShape = imageShape;
    this.buffers = buffers;
    this.imagesPerBuffer = imagesPerBuffer;
    this.indices = indices;
    this.size = size;
  }

  /**
   * Images in buffers.
   *
   * @param imageShape {@code [C, H, W]}
   * @param buffers the buffers; each but the last holds exactly {@code imagesPerBuffer} images, from its
   *     position 0 (its own position and limit are not used)
   * @param imagesPerBuffer images per buffer, positive
   * @param count the number of images, positive
   * @return the images
   * @throws IllegalArgumentException if the buffers are too small for {@code count} images
   */
  public static ByteImages of(Shape imageShape, List<ByteBuffer> buffers, int imagesPerBuffer, int count) {
    Objects.requireNonNull(imageShape, "imageShape");
    if (count < 1 || imagesPerBuffer < 1) {
      throw new IllegalArgumentException("count and imagesPerBuffer must be positive, got " + count + " and "
          + imagesPerBuffer);
    }
    long k = imageShape.size();
    long needed = (count + (long) imagesPerBuffer - 1) / imagesPerBuffer;
    if (buffers.size() < needed) {
      throw new IllegalArgumentException(count + " images need " + needed + " buffers, got " + buffers.size());
    }
    for (int b = 0; b < needed; b++) {
      long images = Math.min(imagesPerBuffer, count - (long) b * imagesPerBuffer);
      if (buffers.get(b).capacity() < images * k) {
        throw new IllegalArgumentException("buffer " + b + " holds " + buffers.get(b).capacity() + " bytes, less "
            + "than its " + images + " images of " + k);
      }
    }
    return new ByteImages(imageShape, List.copyOf(buffers), imagesPerBuffer, null, count);
  }

  /**
   * A view of some of the images, in the given order.
   *
   * @param indices images of this set
   * @return the view ({@code indices.length} images)
   * @throws IndexOutOfBoundsException if an index is outside {@code [0, size())}
   */
  public ByteImages select(int[] indices) {
    int[] mapped = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      mapped[i] = storageIndex(Objects.checkIndex(indices[i], size));
    }
    if (mapped.length == 0) {
      throw new IllegalArgumentException("a view needs at least one image");
    }
    return new ByteImages(imageShape, buffers, imagesPerBuffer, mapped, mapped.length);
  }

  /**
   * At most {@code max} of the images, spread evenly over the order: image {@code floor(i * size / n)} for
   * {@code i} in {@code 0..n-1} with {@code n = min(max, size)}, so that every part of a sorted folder (every
   * class) contributes in proportion.
   *
   * @param max the most images, or 0 for all
   * @return this set when it is not larger, else a view
   */
  public ByteImages spread(int max) {
    if (max <= 0 || max >= size) {
      return this;
    }
    int[] pick = new int[max];
    for (int i = 0; i < max; i++) {
      pick[i] = (int) ((long) i * size / max);
    }
    return select(pick);
  }

  private int storageIndex(int index) {
    return indices == null ? index : indices[index];
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Shape imageShape() {
    return imageShape;
  }

  /**
   * Copies one image's bytes.
   *
   * @param index the image
   * @param dst the destination
   * @param offset where the first of {@code imageShape().size()} bytes goes
   */
  public void copyBytes(int index, byte[] dst, int offset) {
    int s = storageIndex(Objects.checkIndex(index, size));
    int k = imageShape.size();
    buffers.get(s / imagesPerBuffer).get((s % imagesPerBuffer) * k, dst, offset, k);
  }

  @Override
  public void copyImage(int index, float[] dst, int offset) {
    int k = imageShape.size();
    byte[] bytes = new byte[k];
    copyBytes(index, bytes, 0);
    Normalization.fromBytes(bytes, dst, offset);
  }

  @Override
  public void gather(int[] indices, float[] dst) {
    int k = imageShape.size();
    byte[] bytes = new byte[k];
    for (int i = 0; i < indices.length; i++) {
      copyBytes(indices[i], bytes, 0);
      Normalization.fromBytes(bytes, dst, i * k);
    }
  }
}
