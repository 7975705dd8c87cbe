package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;

/**
 * An immutable float32 array on the Java heap with a shape: one entry of a {@link StateDict}.
 */
public final class FloatArray {
  private final Shape shape;
  private final float[] data;

  private FloatArray(Shape shape, float[] data) {
    if (data.length != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " values, got " + data.length);
    }
    this.shape = shape;
    this.data = data;
  }

  /**
   * Creates an array holding a copy of {@code data}.
   *
   * @param shape the shape
   * @param data the values in row-major order, {@code shape.size()} of them
   * @return the array
   */
  public static FloatArray of(Shape shape, float[] data) {
    return new FloatArray(shape, data.clone());
  }

  /**
   * Creates an array that takes ownership of {@code data}; the caller must not modify it afterwards.
   *
   * @param shape the shape
   * @param data the values
   * @return the array
   */
  public static FloatArray wrap(Shape shape, float[] data) {
    return new FloatArray(shape, data);
  }

  /**
   * A one-element array of shape {@code [1]}.
   *
   * @param value the value
   * @return the array
   */
  public static FloatArray scalar(double value) {
    return new FloatArray(Shape.of(1), new float[] {(float) value});
  }

  /**
   * The shape.
   *
   * @return the shape
   */
  public Shape shape() {
    return shape;
  }

  /**
   * The number of values.
   *
   * @return {@code shape().size()}
   */
  public int size() {
    return data.length;
  }

  /**
   * One value.
   *
   * @param index a row-major index
   * @return the value
   */
  public float get(int index) {
    return data[index];
  }

  /**
   * A copy of the values.
   *
   * @return the values in row-major order
   */
  public float[] toArray() {
    return data.clone();
  }

  /**
   * Copies the values into {@code dst} at {@code offset}.
   *
   * @param dst the destination
   * @param offset where the first value goes
   */
  public void copyTo(float[] dst, int offset) {
    System.arraycopy(data, 0, dst, offset, data.length);
  }

  /**
   * The index of the first value that is NaN or infinite.
   *
   * @return the index, or -1 if all values are finite
   */
  public int firstNonFinite() {
    for (int i = 0; i < data.length; i++) {
      if (!Float.isFinite(data[i])) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FloatArray f && f.shape.equals(shape) && Arrays.equals(f.data, data);
  }

  @Override
  public int hashCode() {
    return 31 * shape.hashCode() + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "FloatArray" + shape;
  }
}
