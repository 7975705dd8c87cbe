package io.github.diffusion4j.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.tensor.Shape;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
 * <p>Every array these helpers read or write must be contiguous: the backend only creates contiguous arrays
 * (fresh allocations, elementwise results, {@code linear} outputs and reshapes of those). DJL's
 * {@code getByteBuffer} would quietly hand back a view of a fresh contiguous copy of any other array (a write
 * into it would be lost, and the copy would stay attached to the manager), so {@link #write} and {@link #read}
 * check contiguity first and refuse a non-contiguous array. DJL does not make that check public; it is the
 * engine's own {@code torchIsContiguous}, looked up once, like {@code torchDirectByteBuffer} (the view itself,
 * without the four native calls of checks that DJL's {@code getByteBuffer} makes first).
 */
final class PtArrays {
  private static final Device CPU = Device.cpu();
  private static final ai.djl.ndarray.types.Shape SCALAR = new ai.djl.ndarray.types.Shape();

  private PtArrays() {}

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
   * @param data the values, row-major, at least as many as the dimensions hold
   * @param dims the dimensions
   * @return the array
   */
  static PtNDArray fromArray(PtNDManager manager, float[] data, long... dims) {
    long size = 1;
    for (long d : dims) {
      size *= d;
    }
    if (size > data.length) {
      throw new IllegalArgumentException("PtArrays.fromArray: " + data.length + " values for " + size + " elements");
    }
    PtNDArray a = empty(manager, dims);
    view(a).asFloatBuffer().put(data, 0, (int) size); // a fresh array is contiguous: no check needed
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
    requireContiguous(a, "write");
    if (len > a.size()) {
      throw new IllegalArgumentException("PtArrays.write: " + len + " values into an array of " + a.size());
    }
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
    requireContiguous(a, "read");
    if (n > a.size()) {
      throw new IllegalArgumentException("PtArrays.read: " + n + " values from an array of " + a.size());
    }
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

  /**
   * Whether an array's elements are contiguous in row-major order (libtorch's {@code is_contiguous}).
   *
   * @param a the array
   * @return true if they are
   */
  static boolean isContiguous(PtNDArray a) {
    try {
      return (boolean) IS_CONTIGUOUS.invokeExact(a.getHandle().longValue());
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The array itself if it is contiguous, else a contiguous copy (convolutions, for one, may answer in
   * oneDNN's channels-last layout). The copy is created like any result, attached to the array's manager.
   *
   * @param a the array
   * @return a contiguous array with the same shape and values
   */
  static PtNDArray contiguous(PtNDArray a) {
    if (isContiguous(a)) {
      return a;
    }
    long[] dims = a.getShape().getShape();
    // reshape to one dimension cannot be a view of a non-contiguous array, so it copies in row-major order;
    // the reshape back is a view of that copy
    PtNDArray flat = JniUtils.reshape(a, new long[] {-1});
    PtNDArray shaped = JniUtils.reshape(flat, dims);
    flat.close();
    return shaped;
  }

  /**
   * The array in the channels-last layout: a 4-D array {@code [N, C, H, W]} whose elements lie in memory as
   * {@code [N, H, W, C]} (libtorch's {@code torch.channels_last}), which libtorch's convolutions hand to oneDNN
   * without reordering it. The array itself if it already is (its {@code [N, H, W, C]} permutation is
   * contiguous) or is not 4-D; a view if it has one channel (memory is the same in both layouts, only the
   * strides that tell libtorch the layout change); else a channels-last copy. DJL has no memory-format
   * argument, so the copy is made by the operations that define it: the permutation to {@code [N, H, W, C]}
   * made {@link #contiguous}, viewed back as {@code [N, C, H, W]}. Recorded by autograd like any operation.
   *
   * @param a the array
   * @return the array or a new one (a view or a copy) with the same shape and values
   */
  static PtNDArray channelsLast(PtNDArray a) {
    long[] d = a.getShape().getShape();
    if (d.length != 4) {
      return a;
    }
    long[] nhwc = {d[0], d[2], d[3], d[1]};
    long[] back = {0, 3, 1, 2};
    if (d[1] == 1) {
      // contiguous [N, 1, H, W] is contiguous [N, H, W, 1] too; the view gives it the channels-last strides
      PtNDArray rows = JniUtils.reshape(a, nhwc);
      PtNDArray view = JniUtils.permute(rows, back);
      rows.close();
      return view;
    }
    PtNDArray permuted = JniUtils.permute(a, new long[] {0, 2, 3, 1});
    try {
      if (isContiguous(permuted)) {
        return a;
      }
      PtNDArray rows = contiguous(permuted); // a row-major [N, H, W, C] copy
      PtNDArray view = JniUtils.permute(rows, back);
      rows.close();
      return view;
    } finally {
      permuted.close();
    }
  }

  /**
   * Checks once, at load, that the contiguity check is available and answers for a fresh array.
   *
   * @param manager a manager for the probe array (closed before this returns)
   * @throws IllegalStateException if it is not
   */
  static void verify(PtNDManager manager) {
    try (PtNDArray probe = zeros(manager, 2, 3);
        PtNDArray transposed = JniUtils.transpose(probe, 0, 1)) {
      if (!isContiguous(probe) || isContiguous(transposed)) {
        throw new IllegalStateException("djl: libtorch's contiguity check gives wrong answers");
      }
    }
  }

  private static void requireContiguous(PtNDArray a, String what) {
    if (!isContiguous(a)) {
      throw new IllegalStateException(
          "PtArrays." + what + ": the array " + a.getShape() + " is not contiguous; make it contiguous first (a "
              + "direct view of it would be a view of a throwaway copy)");
    }
  }

  /** {@code PyTorchLibrary.LIB.torchIsContiguous(long)}, bound to the library instance. */
  private static final MethodHandle IS_CONTIGUOUS = library("torchIsContiguous", boolean.class);

  /** {@code PyTorchLibrary.LIB.torchDirectByteBuffer(long)}, bound to the library instance. */
  private static final MethodHandle DIRECT_BUFFER = library("torchDirectByteBuffer", ByteBuffer.class);

  private static MethodHandle library(String name, Class<?> returns) {
    try {
      Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
      Field instance = lib.getDeclaredField("LIB");
      instance.setAccessible(true);
      Method m = lib.getDeclaredMethod(name, long.class);
      if (m.getReturnType() != returns) {
        throw new NoSuchMethodException(name + " returns " + m.getReturnType());
      }
      m.setAccessible(true);
      return MethodHandles.lookup().unreflect(m).bindTo(instance.get(null));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "djl: this DJL version has no PyTorchLibrary." + name + " (" + e + "); the djl backend is built "
              + "for DJL 0.36.0",
          e);
    }
  }

  /**
   * A non-owning direct view of a contiguous CPU array's memory, in native byte order: one native call
   * ({@code PyTorchLibrary.torchDirectByteBuffer}). DJL's {@code getByteBuffer} makes four more first (device,
   * layout twice, contiguity) for checks this class makes once, or that hold for a fresh array.
   */
  static ByteBuffer view(PtNDArray a) {
    try {
      return ((ByteBuffer) DIRECT_BUFFER.invokeExact(a.getHandle().longValue())).order(ByteOrder.nativeOrder());
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }
}
