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
 * The memory one {@link NativePass} works in, used by one thread at a time and reused from pass to pass
 * (a {@link WorkspacePool} lends it out): native blocks for values, a few named native staging buffers for
 * the kernels' matrix products, and heap scratch for the loops that the JIT vectorises.
 *
 * <p><b>Blocks.</b> A value's memory is a {@link Block} taken from this workspace. Sizes are rounded up
 * to a size class (four per octave, at most 19% over), and a request is served by the smallest free block
 * of its class or of up to {@link #SLACK} classes above (so a pass of 21 items reuses the blocks of a pass
 * of 22, and gradients the blocks of released activations), or else a new one; {@link #reset} (the end of
 * a pass) makes every block free again. A pass makes the same requests every time it runs with the same
 * network and item count, so from its second run on it allocates nothing.
 * Blocks are counted ({@link Block#retain}, {@link #release}) because values share them: a reshape or a
 * channel slice is a view of its input's block.
 *
 * <p><b>Staging buffers.</b> A fixed set of named {@link Slot}s (a convolution's columns, the transposed
 * weight, ...), each grown (never shrunk) to the largest size asked of it: at most a few megabytes,
 * whatever the batch, since convolutions run in chunks of images.
 *
 * <p>Everything is freed by {@link #close}.
 */
final class Workspace implements AutoCloseable {
  /** Elements per chunk of the loops that stream native memory through heap scratch. */
  static final int CHUNK = 4096;

  /** How many size classes larger than a request a free block may be and still serve it (one octave). */
  static final int SLACK = 4;

  /** The staging buffers, by use. */
  enum Slot {
    /** A convolution's input columns (im2col). */
    COLUMNS,
    /** A convolution's output-gradient columns, or the gradient of its input columns. */
    COLUMN_GRADIENT,
    /** A weight gradient in a layout that needs reordering before it is added. */
    WEIGHT_GRADIENT,
    /** A convolution's weight transposed and flipped (for its input gradient). */
    FLIPPED_WEIGHT,
    /** A vector of ones (bias gradients as matrix-vector products). */
    ONES
  }

  /**
   * Native memory of one size class, shared by the values that view it. Its reference count is managed by
   * the workspace that owns it; an external block (a caller's tensor) is never freed or reused.
   */
  static final class Block {
    private final INDArray array;
    /** The memory, for BLAS (never move its position). */
    final FloatPointer pointer;
    /** The memory, for bulk copies to and from Java arrays (absolute indices only). */
    final FloatBuffer buffer;
    /** Its length in floats. */
    final long capacity;
    private final int sizeClass;
    private int refs;

    private Block(INDArray array, long capacity, int sizeClass) {
      this.array = array;
      this.pointer = (FloatPointer) array.data().addressPointer();
      this.buffer = array.data().asNioFloat();
      this.capacity = capacity;
      this.sizeClass = sizeClass;
    }

    private Block(FloatPointer pointer, FloatBuffer buffer, long capacity) {
      this.array = null;
      this.pointer = pointer;
      this.buffer = buffer;
      this.capacity = capacity;
      this.sizeClass = -1;
      this.refs = 1;
    }

    /**
     * Memory that someone else owns (a tensor the caller passed in): views of it are counted like any
     * other, but it is never freed or reused.
     *
     * @param pointer its first element
     * @param buffer the same memory as a buffer
     * @param capacity its length in floats
     * @return the block
     */
    static Block external(FloatPointer pointer, FloatBuffer buffer, long capacity) {
      return new Block(pointer, buffer, capacity);
    }

    /** Another user of the block: it stays taken until every user has {@linkplain #release released} it. */
    void retain() {
      refs++;
    }

    boolean external() {
      return array == null;
    }
  }

  /** A staging buffer. */
  static final class Buffer {
    private INDArray array;
    private long capacity;
    /** The memory, for BLAS (do not move its position). */
    FloatPointer pointer;
    /** The memory, for bulk copies to and from Java arrays (absolute indices only). */
    FloatBuffer buffer;

    private void ensure(long size) {
      if (size > capacity) {
        Nd4jBackend.checkBufferFloats(size, "a staging buffer");
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
     * @return a new pointer sharing the memory (the buffer's own one for 0)
     */
    FloatPointer at(long offset) {
      return offset == 0 ? pointer : Blas.at(pointer, offset);
    }

    private void close() {
      if (array != null) {
        array.close();
        array = null;
      }
    }
  }

  /** Free blocks by size class. */
  private final TreeMap<Integer, ArrayDeque<Block>> free = new TreeMap<>();
  private final List<Block> blocks = new ArrayList<>();
  private final Buffer[] slots = new Buffer[Slot.values().length];
  private final Lane[] lanes;
  private final float[] zeros = new float[CHUNK];
  private long onesLength;

  /**
   * The heap scratch of one lane of a {@link KernelPool}: what a range of a split loop works in, so that
   * lanes running at once never share an array. Lane 0 is the pass's own thread, and the workspace's
   * {@link Workspace#chunk}, {@link Workspace#scratch} and {@link Workspace#doubles} are lane 0's.
   */
  static final class Lane {
    private final VectorMath.Scratch math = new VectorMath.Scratch();
    private final float[][] chunks = new float[4][CHUNK];
    private final float[][] grown = new float[8][0];
    private double[] doubles = new double[0];

    /**
     * One of four heap arrays of {@link #CHUNK} floats, contents undefined.
     *
     * @param i 0 to 3
     * @return the array
     */
    float[] chunk(int i) {
      return chunks[i];
    }

    /**
     * One of eight growable heap arrays of at least {@code size} floats, contents undefined.
     *
     * @param i 0 to 7
     * @param size the length needed
     * @return the array
     */
    float[] scratch(int i, int size) {
      if (grown[i].length < size) {
        grown[i] = new float[size];
      }
      return grown[i];
    }

    /**
     * Double scratch of at least {@code size} elements, contents undefined.
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
     * Scratch for {@link VectorMath}.
     *
     * @return the scratch
     */
    VectorMath.Scratch math() {
      return math;
    }

    private long floats() {
      long n = (long) chunks.length * CHUNK + doubles.length * 2L;
      for (float[] g : grown) {
        n += g.length;
      }
      return n;
    }
  }

  /**
   * A workspace with heap scratch for {@code lanes} lanes.
   *
   * @param lanes the lanes of the backend's {@link KernelPool}
   */
  Workspace(int lanes) {
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Buffer();
    }
    this.lanes = new Lane[lanes];
    for (int i = 0; i < lanes; i++) {
      this.lanes[i] = new Lane();
    }
  }

  /**
   * The heap scratch of a lane.
   *
   * @param i the lane, {@code 0 <= i <} the pool's lanes
   * @return its scratch
   */
  Lane lane(int i) {
    return lanes[i];
  }

  /**
   * The index of one of this workspace's lanes.
   *
   * @param lane the lane
   * @return {@code i} such that {@code lane(i) == lane}
   */
  int laneIndex(Lane lane) {
    for (int i = 0; i < lanes.length; i++) {
      if (lanes[i] == lane) {
        return i;
      }
    }
    throw new IllegalArgumentException("not a lane of this workspace");
  }

  /**
   * The size class of a request: the smallest of {@code 2^e}, {@code 1.25 * 2^e}, {@code 1.5 * 2^e},
   * {@code 1.75 * 2^e} (at least 64) that holds it, numbered in increasing order.
   *
   * @param floats the request
   * @return the class
   */
  static int sizeClass(long floats) {
    long n = Math.max(64, floats);
    int e = 63 - Long.numberOfLeadingZeros(n); // 2^e <= n < 2^(e+1)
    long base = 1L << e;
    int quarter = (int) ((n - base + (base >> 2) - 1) / (base >> 2)); // 0..4 quarters above 2^e
    return 4 * e + quarter;
  }

  /**
   * The floats a size class holds.
   *
   * @param sizeClass a class from {@link #sizeClass}
   * @return its capacity
   */
  static long classCapacity(int sizeClass) {
    int e = sizeClass / 4;
    int q = sizeClass % 4;
    long base = 1L << e;
    return base + q * (base >> 2);
  }

  /**
   * A block of at least {@code floats} floats for the caller (one reference), contents undefined.
   *
   * @param floats the size, at most {@link Nd4jBackend#MAX_BUFFER_FLOATS}
   * @return the block
   * @throws IllegalArgumentException if the size is larger, before anything is allocated
   */
  Block take(long floats) {
    Nd4jBackend.checkBufferFloats(floats, "a value");
    int c = sizeClass(floats);
    Block b = null;
    Map.Entry<Integer, ArrayDeque<Block>> e = free.ceilingEntry(c);
    if (e != null && e.getKey() <= c + SLACK) {
      b = e.getValue().pop();
      if (e.getValue().isEmpty()) {
        free.remove(e.getKey());
      }
    }
    if (b == null) {
      long cap = Math.min(classCapacity(c), Nd4jBackend.MAX_BUFFER_FLOATS);
      b = new Block(Nd4jBackend.allocate(cap), cap, c);
      blocks.add(b);
    }
    b.refs = 1;
    return b;
  }

  /**
   * Drops one reference to a block; the last makes it free for later requests of this pass.
   *
   * @param b a block of this workspace or an external one
   */
  void release(Block b) {
    if (b.external()) {
      return;
    }
    if (b.refs <= 0) {
      throw new IllegalStateException("a native block was released more often than it was taken");
    }
    if (--b.refs == 0) {
      free.computeIfAbsent(b.sizeClass, k -> new ArrayDeque<>()).push(b);
    }
  }

  /** Makes every block free again: the end of a pass. */
  void reset() {
    free.clear();
    for (Block b : blocks) {
      b.refs = 0;
      free.computeIfAbsent(b.sizeClass, k -> new ArrayDeque<>()).push(b);
    }
  }

  /**
   * A staging buffer of at least {@code size} floats.
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
   * A native vector of at least {@code n} ones.
   *
   * @param n the length needed
   * @return a pointer to its first element
   */
  FloatPointer ones(long n) {
    Buffer b = slots[Slot.ONES.ordinal()];
    if (onesLength < n) {
      b.ensure(n);
      float[] c = chunk(0);
      java.util.Arrays.fill(c, 1f);
      for (long off = 0; off < n; off += CHUNK) {
        b.buffer.put((int) off, c, 0, (int) Math.min(CHUNK, n - off));
      }
      onesLength = b.capacity;
    }
    return b.pointer;
  }

  /**
   * One of lane 0's four heap arrays of {@link #CHUNK} floats, contents undefined.
   *
   * @param i 0 to 3
   * @return the array
   */
  float[] chunk(int i) {
    return lanes[0].chunk(i);
  }

  /**
   * A heap array of {@link #CHUNK} zeros (never write to it).
   *
   * @return the array
   */
  float[] zeros() {
    return zeros;
  }

  /**
   * One of eight growable heap arrays of at least {@code size} floats, contents undefined.
   *
   * @param i 0 to 7
   * @param size the length needed
   * @return the array
   */
  float[] scratch(int i, int size) {
    return lanes[0].scratch(i, size);
  }

  /**
   * Double scratch of at least {@code size} elements, contents undefined.
   *
   * @param size the number of elements
   * @return the scratch
   */
  double[] doubles(int size) {
    return lanes[0].doubles(size);
  }

  /**
   * The floats held in native memory: blocks and staging buffers.
   *
   * @return the total capacity
   */
  long nativeFloats() {
    long n = 0;
    for (Block b : blocks) {
      n += b.capacity;
    }
    for (Buffer b : slots) {
      n += b.capacity;
    }
    return n;
  }

  /**
   * The floats held in heap scratch.
   *
   * @return the total length
   */
  long heapFloats() {
    long n = 0;
    for (Lane l : lanes) {
      n += l.floats();
    }
    return n;
  }

  @Override
  public void close() {
    for (Block b : blocks) {
      b.array.close();
    }
    blocks.clear();
    free.clear();
    for (Buffer b : slots) {
      b.close();
    }
  }
}
