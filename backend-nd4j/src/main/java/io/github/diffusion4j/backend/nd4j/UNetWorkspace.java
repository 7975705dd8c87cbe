package io.github.diffusion4j.backend.nd4j;

import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The memory one pass of the U-Net works in, used by one thread at a time: Java arrays for the
 * activations and gradients, and native buffers that the matrix products read and write.
 *
 * <p><b>Arrays.</b> A pass {@link #take}s arrays and, where it knows an array is dead, {@link #give}s it
 * back; {@link #reset} gives back everything at the start of a pass. A request is served by the smallest
 * free array at least as long, or a new one: since a pass makes the same requests every time, the
 * second pass of a shape allocates nothing, and the set of arrays never exceeds what one pass needs at
 * once. Arrays may thus be longer than requested: every kernel takes explicit lengths.
 *
 * <p><b>Native buffers.</b> A fixed set of named {@link Slot}s, each grown (never shrunk) to the largest
 * size asked of it and freed by {@link #close}: at most a few megabytes, whatever the batch.
 */
final class UNetWorkspace implements AutoCloseable {

  /** The native buffers, by use. */
  enum Slot {
    /** A convolution's input columns (im2col), or a linear layer's input. */
    COLUMNS,
    /** A convolution's output or output gradient rows; a linear layer's output or output gradient. */
    ROWS,
    /**
     * A convolution's output-gradient columns (for its input gradient) or input-column gradient; a linear
     * layer's input gradient; the attention's weight gradient.
     */
    COLUMN_GRADIENT,
    /** A convolution's input-gradient rows. */
    INPUT_GRADIENT,
    /** A weight gradient. */
    WEIGHT_GRADIENT,
    /** A convolution's weight transposed and flipped (for its input gradient). */
    FLIPPED_WEIGHT,
    /** Attention: q, k and v. */
    QKV,
    /** Attention: the weights (or logits) of every item. */
    ATTENTION,
    /** Attention: the output (or its gradient). */
    ATTENTION_OUT,
    /** Attention: the gradient of q, k and v. */
    QKV_GRADIENT
  }

  /** A native buffer and its two views. */
  static final class Buffer {
    private INDArray array;
    private long capacity;
    /** The memory, for BLAS (do not move its position). */
    FloatPointer pointer;
    /** The memory, for bulk copies to and from Java arrays (absolute indices only). */
    FloatBuffer buffer;

    void ensure(long size) {
      if (size > capacity) {
        INDArray old = array;
        array = null;
        pointer = null;
        buffer = null;
        if (old != null) {
          old.close();
        }
        array = Nd4jBackend.allocate(size);
        capacity = size;
        pointer = (FloatPointer) array.data().addressPointer();
        buffer = array.data().asNioFloat();
      }
    }

    /**
     * A pointer {@code offset} floats into the buffer.
     *
     * @param offset the offset
     * @return a new pointer sharing the memory
     */
    FloatPointer at(long offset) {
      return offset == 0 ? pointer : Blas.at(pointer, offset);
    }

    void close() {
      if (array != null) {
        array.close();
        array = null;
      }
    }
  }

  private final TreeMap<Integer, ArrayDeque<float[]>> free = new TreeMap<>();
  private final List<float[]> all = new ArrayList<>();
  private final Buffer[] slots = new Buffer[Slot.values().length];
  private double[] doubles = new double[0];
  private final float[][] batches = new float[3][];
  private final VectorMath.Scratch math = new VectorMath.Scratch();
  private float[] planes = new float[0];

  UNetWorkspace() {
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Buffer();
    }
  }

  /** Makes every array free again: the start of a pass. */
  void reset() {
    free.clear();
    for (float[] a : all) {
      free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
    }
  }

  /**
   * An array of at least {@code size} elements, contents undefined, for the caller until it is given back
   * or the workspace is reset.
   *
   * @param size the number of elements needed
   * @return the array
   */
  float[] take(int size) {
    Map.Entry<Integer, ArrayDeque<float[]>> e = free.ceilingEntry(size);
    if (e != null) {
      float[] a = e.getValue().pop();
      if (e.getValue().isEmpty()) {
        free.remove(e.getKey());
      }
      return a;
    }
    float[] a = new float[size];
    all.add(a);
    return a;
  }

  /**
   * Gives an array back for later requests.
   *
   * @param a an array from {@link #take} that the caller no longer reads
   */
  void give(float[] a) {
    free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
  }

  /**
   * One of three arrays that outlive {@link #reset}, for a whole batch's input, target and output (which
   * a pass reads and writes item block by item block).
   *
   * @param index 0, 1 or 2
   * @param size the number of elements needed
   * @return an array of at least {@code size} elements
   */
  float[] batch(int index, int size) {
    if (batches[index] == null || batches[index].length < size) {
      batches[index] = null;
      batches[index] = new float[size];
    }
    return batches[index];
  }

  /**
   * Scratch for {@link VectorMath}.
   *
   * @return the scratch
   */
  VectorMath.Scratch math() {
    return math;
  }

  /**
   * Scratch for a convolution's columns, of at least {@code size} floats, contents undefined.
   *
   * @param size the number of floats
   * @return the scratch
   */
  float[] planes(int size) {
    if (planes.length < size) {
      planes = new float[size];
    }
    return planes;
  }

  /**
   * Double scratch of at least {@code size} elements.
   *
   * @param size the number of elements
   * @return the scratch
   */
  double[] doubles(int size) {
    if (doubles.length < size) {
      doubles = new double[size];
    }
    return doubles;
  }

  /**
   * A native buffer of at least {@code size} floats.
   *
   * @param slot which buffer
   * @param size the number of floats needed
   * @return the buffer, valid until the same slot is asked for more
   */
  Buffer slot(Slot slot, long size) {
    Buffer b = slots[slot.ordinal()];
    b.ensure(size);
    return b;
  }

  /**
   * The number of floats held in Java arrays.
   *
   * @return the total length of all arrays
   */
  long heapFloats() {
    long n = 0;
    for (float[] a : all) {
      n += a.length;
    }
    for (float[] a : batches) {
      n += a == null ? 0 : a.length;
    }
    return n;
  }

  /**
   * The number of floats held in native buffers.
   *
   * @return the total capacity of the slots
   */
  long nativeFloats() {
    long n = 0;
    for (Buffer b : slots) {
      n += b.capacity;
    }
    return n;
  }

  @Override
  public void close() {
    for (Buffer b : slots) {
      b.close();
    }
    free.clear();
    all.clear();
  }
}
