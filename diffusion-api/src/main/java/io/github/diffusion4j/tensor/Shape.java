package io.github.diffusion4j.tensor;

import java.util.Arrays;

/**
 * The immutable shape of a {@link Tensor}: its dimensions, outermost first (a batch of images is
 * {@code [N, C, H, W]}).
 *
 * <p>Every dimension is positive and the total number of elements is at most {@link #MAX_ELEMENTS}, so a tensor can
 * always be copied into one Java array.
 */
public final class Shape {
  /** The most elements a shape has: {@code Integer.MAX_VALUE - 8}, the largest Java array the JVMs allocate. */
  public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private final int[] dims;
  private final int size;

  private Shape(int[] dims) {
    if (dims.length == 0) {
      throw new IllegalArgumentException("a shape needs at least one dimension");
    }
    long n = 1;
    for (int d : dims) {
      if (d <= 0) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(dims) + ": every dimension must be positive");
      }
      n *= d;
      if (n > MAX_ELEMENTS) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(dims) + " has more than " + MAX_ELEMENTS + " elements");
      }
    }
    this.dims = dims;
    this.size = (int) n;
  }

  /**
   * Creates a shape.
   *
   * @param dims the dimensions, outermost first; each positive
   * @return the shape
   * @throws IllegalArgumentException if there are no dimensions, one is not positive, or there are more than
   *     {@link #MAX_ELEMENTS} elements (the largest Java array)
   */
  public static Shape of(int... dims) {
    if (dims == null) {
      throw new IllegalArgumentException("a shape needs its dimensions, got null");
    }
    return new Shape(dims.clone());
  }

  /**
   * The shape of a batch of {@code batch} items of shape {@code item}: {@code [batch, item...]}.
   *
   * @param batch the number of items, positive
   * @param item the shape of one item
   * @return the batch shape
   * @throws IllegalArgumentException if {@code batch} is not positive, {@code item} is null, or the batch has too
   *     many elements (see {@link #of})
   */
  public static Shape batchOf(int batch, Shape item) {
    if (item == null) {
      throw new IllegalArgumentException("a batch shape needs the item's shape, got null");
    }
    int[] d = new int[item.rank() + 1];
    d[0] = batch;
    System.arraycopy(item.dims, 0, d, 1, item.rank());
    return new Shape(d);
  }

  /**
   * The number of dimensions.
   *
   * @return the rank, at least 1
   */
  public int rank() {
    return dims.length;
  }

  /**
   * One dimension.
   *
   * @param axis the axis, {@code 0 <= axis < rank()}
   * @return its extent
   * @throws IndexOutOfBoundsException if {@code axis} is not an axis of this shape, with a message naming both, e.g.
   *     {@code axis 3 of shape [3, 5, 5]: the axes are 0 to 2} (an index out of range, as elsewhere in the api)
   */
  public int dim(int axis) {
    if (axis < 0 || axis >= dims.length) {
      throw new IndexOutOfBoundsException("axis " + axis + " of shape " + this + ": the axes are 0 to "
          + (dims.length - 1));
    }
    return dims[axis];
  }

  /**
   * Checks that a shape was given, as every {@link TensorFactory} method requires (before anything is allocated).
   *
   * @param shape the shape a tensor is asked for
   * @return {@code shape}
   * @throws IllegalArgumentException {@code "shape must not be null"} if it is null
   */
  public static Shape checkGiven(Shape shape) {
    if (shape == null) {
      throw new IllegalArgumentException("shape must not be null");
    }
    return shape;
  }

  /**
   * A copy of the dimensions.
   *
   * @return the dimensions, outermost first
   */
  public int[] dims() {
    return dims.clone();
  }

  /**
   * Checks that an array holds this shape's values, as {@link TensorFactory#fromArray} requires.
   *
   * @param data the values in row-major order
   * @return {@code data}
   * @throws IllegalArgumentException if {@code data} is null or its length is not {@link #size()}
   */
  public float[] checkValues(float[] data) {
    if (data == null || data.length != size) {
      throw new IllegalArgumentException("shape " + this + " needs " + size + " values, got "
          + (data == null ? "null" : data.length));
    }
    return data;
  }

  /**
   * Checks that an operand has this shape, with the message every backend gives.
   *
   * @param actual the operand's shape
   * @param what what the operand is, e.g. {@code "operand"}
   * @throws IllegalArgumentException "WHAT has shape ACTUAL, expected THIS" if the shapes differ
   */
  public void checkSame(Shape actual, String what) {
    if (!equals(actual)) {
      throw new IllegalArgumentException(what + " has shape " + actual + ", expected " + this);
    }
  }

  /**
   * The total number of elements.
   *
   * @return the product of the dimensions
   */
  public int size() {
    return size;
  }

  /**
   * The extent of the first axis, the batch size by convention.
   *
   * @return {@code dim(0)}
   */
  public int batch() {
    return dims[0];
  }

  /**
   * The number of elements in one item of the batch (the product of all but the first dimension).
   *
   * @return {@code size() / batch()}
   */
  public int itemSize() {
    return size / dims[0];
  }

  /**
   * The shape of one item: all dimensions but the first.
   *
   * @return the item shape
   * @throws IllegalStateException if this shape has rank 1
   */
  public Shape item() {
    if (dims.length < 2) {
      throw new IllegalStateException("shape " + this + " has no item dimensions");
    }
    return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
  }

  /**
   * This shape with another batch size.
   *
   * @param batch the new first dimension, positive
   * @return the new shape
   * @throws IllegalArgumentException if {@code batch} is not positive or the shape would have too many elements
   *     (see {@link #of})
   */
  public Shape withBatch(int batch) {
    int[] d = dims.clone();
    d[0] = batch;
    return new Shape(d);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  /** Formats as {@code [3, 5, 5]}. */
  @Override
  public String toString() {
    return Arrays.toString(dims);
  }

  /**
   * Formats as {@code 3x5x5}, the form used in configuration and file names.
   *
   * @return the dimensions joined by {@code x}
   */
  public String toCompactString() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        b.append('x');
      }
      b.append(dims[i]);
    }
    return b.toString();
  }
}
