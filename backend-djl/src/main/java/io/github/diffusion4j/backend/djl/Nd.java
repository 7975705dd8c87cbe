package io.github.diffusion4j.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.tensor.Shape;
import java.nio.ByteBuffer;

/**
 * The few native helpers DJL lacks for a hot path: arrays created from Java data without a direct
 * {@link ByteBuffer} per call, read back without a copy on the native side, and scalars created natively.
 *
 * <p>DJL's own {@code manager.create(float[])} allocates a direct buffer for every call and keeps the tensor
 * pointing into it (its memory then lives until the garbage collector runs), and its scalar operations
 * ({@code mul(Number)}) do the same for every scalar. Here a float32 tensor is allocated by libtorch
 * ({@code torch::empty}) and filled through a non-owning direct view of its own memory, so closing it frees
 * it at once and nothing is allocated off-heap by Java.
 *
 * <p>Every array these helpers read or write is contiguous: the backend only creates contiguous arrays
 * (fresh allocations, elementwise results, {@code linear} outputs and reshapes of those).
 */
final class Nd {
  private static final Device CPU = Device.cpu();
  private static final ai.djl.ndarray.types.Shape SCALAR = new ai.djl.ndarray.types.Shape();

  private Nd() {}

  /**
   * DJL's shape for ours.
   *
   * @param shape our shape
   * @return the same dimensions as a DJL shape
   */
  static ai.djl.ndarray.types.Shape shape(Shape shape) {
    return new ai.djl.ndarray.types.Shape(dims(shape));
  }

  /**
   * The dimensions of a shape as longs.
   *
   * @param shape the shape
   * @return its dimensions
   */
  static long[] dims(Shape shape) {
    long[] d = new long[shape.rank()];
    for (int i = 0; i < d.length; i++) {
      d[i] = shape.dim(i);
    }
    return d;
  }

  /**
   * An uninitialised float32 array.
   *
   * @param manager its owner
   * @param dims its dimensions
   * @return the array
   */
  static PtNDArray empty(PtNDManager manager, long... dims) {
    return JniUtils.createEmptyNdArray(
        manager, new ai.djl.ndarray.types.Shape(dims), DataType.FLOAT32, CPU, SparseFormat.DENSE);
  }

  /**
   * A float32 array of zeros.
   *
   * @param manager its owner
   * @param dims its dimensions
   * @return the array
   */
  static PtNDArray zeros(PtNDManager manager, long... dims) {
    return JniUtils.createZerosNdArray(
        manager, new ai.djl.ndarray.types.Shape(dims), DataType.FLOAT32, CPU, SparseFormat.DENSE);
  }

  /**
   * A float32 array holding a copy of {@code data[0, size)}, where size is the product of {@code dims}.
   *
   * @param manager its owner
   * @param data the values, row-major
   * @param dims the dimensions
   * @return the array
   */
  static PtNDArray fromArray(PtNDManager manager, float[] data, long... dims) {
    PtNDArray a = empty(manager, dims);
    write(a, data, 0, data.length);
    return a;
  }

  /**
   * A 0-dimensional float32 array (rounded to float like the reference's {@code (float) s}).
   *
   * @param manager its owner
   * @param value the value
   * @return the scalar array
   */
  static PtNDArray scalar(PtNDManager manager, double value) {
    return JniUtils.full(manager, SCALAR, (float) value, DataType.FLOAT32, CPU, SparseFormat.DENSE);
  }

  /**
   * Per-item factors shaped to broadcast over a batch: {@code [N, 1, ..., 1]} of the given rank.
   *
   * @param manager its owner
   * @param values one factor per item
   * @param rank the rank of the batch they will multiply
   * @return the factors
   */
  static PtNDArray perItem(PtNDManager manager, double[] values, int rank) {
    long[] dims = new long[rank];
    java.util.Arrays.fill(dims, 1);
    dims[0] = values.length;
    float[] f = new float[values.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) values[i];
    }
    return fromArray(manager, f, dims);
  }

  /**
   * Copies {@code src[off, off + len)} into the start of a contiguous array's memory.
   *
   * @param a the destination, contiguous float32 with at least {@code len} elements
   * @param src the values
   * @param off the first index read
   * @param len how many values
   */
  static void write(PtNDArray a, float[] src, int off, int len) {
    view(a).asFloatBuffer().put(src, off, len);
  }

  /**
   * Copies a contiguous array's first {@code n} values to the heap.
   *
   * @param a the array
   * @param n how many values
   * @return the values
   */
  static float[] read(PtNDArray a, int n) {
    float[] out = new float[n];
    view(a).asFloatBuffer().get(out);
    return out;
  }

  /**
   * The first value of an array (a 0-dimensional result such as a sum).
   *
   * @param a the array
   * @return its first value
   */
  static double readScalar(PtNDArray a) {
    return view(a).getFloat(0);
  }

  /** A non-owning direct view of a contiguous CPU array's memory, in native byte order. */
  private static ByteBuffer view(PtNDArray a) {
    return JniUtils.getByteBuffer(a, true);
  }
}
