package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.backend.nd4j.Workspace.Block;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One evaluation on this backend: a {@link Workspace} borrowed from the backend's pool for the pass's
 * lifetime (so concurrent predictions never share memory), the conversions between the api's tensors and
 * {@link NativeValue}s, and the few operations every kernel needs (new values, views, layout
 * conversions). Used by one thread; closing it makes every block of the workspace free and gives the
 * workspace back. Closing again does nothing; a closed pass refuses to make or read values ({@link #checkOpen}).
 */
final class NativePass implements Pass {
  private final Nd4jLayers layers;
  private final Workspace ws;
  private final int items;
  private final boolean training;
  private boolean closed;

  NativePass(Nd4jLayers layers, Workspace ws, int items, boolean training) {
    this.layers = layers;
    this.ws = ws;
    this.items = items;
    this.training = training;
  }

  @Override
  public int items() {
    return items;
  }

  @Override
  public boolean training() {
    return training;
  }

  /**
   * The workspace, for the kernels' scratch.
   *
   * @return the workspace
   */
  Workspace ws() {
    return ws;
  }

  // ------------------------------------------------------------------ threads

  /**
   * The fewest floats a lane of a split loop should touch: below this, waking a worker costs more than it
   * saves.
   */
  static final int GRAIN = 1 << 15;

  /**
   * The fewest floats a lane of a streaming loop ({@link #chunks}, {@link #copyParallel}: a few operations per
   * float, read from native memory and written back) should take when a split would wake a parked worker. Such
   * a loop runs a few floats per nanosecond, while a split then costs two wake-ups, of the worker and then of
   * the parked caller: about 200 us a split on this project's two-vCPU virtual machine, where a parked vCPU
   * halts (an MLP's DDIM step with one split of its 128,000 hidden values took 0.8-1.0 ms at two threads,
   * 0.6-0.7 ms with none: docs/benchmarks.md). Below 2^18 floats a lane the second lane costs more than it
   * saves. In training, while the workers still spin from the last split, a streaming loop takes {@link #GRAIN}
   * instead ({@link #streamGrain}).
   */
  static final int STREAM_GRAIN = 1 << 18;

  /** The fewest columns of a piece of a matrix product cut by {@link #pieces(int, int, RangeTask)}. */
  static final int PIECE_COLUMNS = 512;

  /** The most pieces a matrix product is cut into (a power of two). */
  static final int MAX_PIECES = 8;

  /** The work of one range of a split loop, with its lane's heap scratch. */
  @FunctionalInterface
  interface RangeTask {
    /**
     * Computes the outputs {@code [from, to)}.
     *
     * @param lane the lane's scratch (never shared with a range running at the same time)
     * @param from the first output
     * @param to one past the last output
     */
    void run(Workspace.Lane lane, int from, int to);
  }

  /**
   * Runs a loop over {@code n} independent outputs on the backend's {@link KernelPool}, split into
   * contiguous ranges (see {@link KernelPool#split}).
   *
   * @param n the number of outputs
   * @param grain the fewest outputs worth a lane of their own
   * @param task the work of one range
   */
  void split(int n, int grain, RangeTask task) {
    layers.threads().split(n, grain, (lane, from, to) -> task.run(ws.lane(lane), from, to));
  }

  /**
   * How many lanes a split of {@code n} outputs uses (see {@link KernelPool#ranges}), for per-lane native
   * staging.
   *
   * @param n the number of outputs
   * @param grain the fewest outputs worth a lane
   * @return the number of lanes, at least 1
   */
  int lanes(int n, int grain) {
    return layers.threads().ranges(n, grain);
  }

  /**
   * The index of a lane's scratch in this pass's workspace.
   *
   * @param lane a lane's scratch from {@link #split}
   * @return its index, {@code 0 <= index <} the pool's lanes
   */
  int laneIndex(Workspace.Lane lane) {
    return ws.laneIndex(lane);
  }

  /**
   * The grain, in outputs, of a loop whose outputs each touch {@code floats} floats: {@link #GRAIN} floats.
   *
   * @param floats floats per output
   * @return outputs per lane at least
   */
  static int grain(long floats) {
    return (int) Math.max(1, GRAIN / Math.max(1, floats));
  }

  /**
   * The grain, in floats, of a streaming loop now: {@link #GRAIN} in training while the pool's workers are
   * awake ({@link KernelPool#awake}: a U-Net's kernels split back to back, so a split then costs no wake-up),
   * else {@link #STREAM_GRAIN}. Not in prediction: a sampling loop draws the next step's noise on a thread of
   * its own while the network runs, and at two threads a worker's range of a small loop then waits for that
   * thread's core (the MLP's DDPM-100 at two threads 15% slower with the finer grain in its passes). A
   * streaming loop computes each float (each chunk's partial sum) the same on any lane, so the grain changes
   * which lane computes what, never a result. (Default U-Net at two threads, one training step alternating
   * with the other grain in one process: 2-6% faster; the group norms' backward passes had found the worker
   * parked after a SiLU backward pass of 2^19 floats that did not split, and waited ~0.15 ms for it;
   * docs/benchmarks.md.)
   *
   * @param threads the pool
   * @param training whether the loop is part of training (a training pass, the optimiser's update)
   * @return floats per lane at least
   */
  static int streamGrain(KernelPool threads, boolean training) {
    return training && threads.awake() ? GRAIN : STREAM_GRAIN;
  }

  /**
   * {@link #streamGrain} in chunks of {@link Workspace#CHUNK} floats.
   *
   * @param threads the pool
   * @param training whether the loop is part of training
   * @return chunks per lane at least
   */
  static int streamChunks(KernelPool threads, boolean training) {
    return streamGrain(threads, training) / Workspace.CHUNK;
  }

  /**
   * Runs {@code task} on {@code pieces} contiguous pieces of {@code [0, n)} (piece {@code i} is
   * {@code [n i / pieces, n (i + 1) / pieces)}), the pieces split over the lanes. The pieces depend only on
   * {@code n} and {@code pieces}, never on the number of lanes, so a matrix product cut this way (each
   * piece a product of its own, OpenBLAS on one thread) computes the same bits on any number of threads.
   *
   * @param n the extent to cut (columns or rows of a product)
   * @param pieces how many pieces, at least 1 (see {@link #pieceCount(long)})
   * @param task the work of one piece: its lane's scratch and {@code [from, to)}
   */
  void pieces(int n, int pieces, RangeTask task) {
    split(pieces, 1, (lane, p0, p1) -> {
      for (int p = p0; p < p1; p++) {
        task.run(lane, KernelPool.bound(n, pieces, p), KernelPool.bound(n, pieces, p + 1));
      }
    });
  }

  /**
   * How many pieces the {@code n} columns of a product are cut into: pieces of at least
   * {@link #PIECE_COLUMNS} columns, at most {@link #MAX_PIECES} (see {@link #pieces(int, int, RangeTask)}).
   *
   * @param n the columns
   * @return the number of pieces, at least 1
   */
  static int pieceCount(long n) {
    return pieceCount(n, PIECE_COLUMNS);
  }

  /**
   * How many pieces {@code n} rows or columns are cut into, each at least {@code least} long: a power of two
   * (so that two or four lanes get equal shares), at most {@link #MAX_PIECES}.
   *
   * @param n the extent
   * @param least the shortest piece
   * @return the number of pieces, at least 1
   */
  static int pieceCount(long n, int least) {
    return Integer.highestOneBit((int) Math.max(1, Math.min(MAX_PIECES, n / least)));
  }

  /** The work of one chunk of a {@link #chunks} loop, with its lane's heap scratch. */
  @FunctionalInterface
  interface ChunkTask {
    /**
     * Computes one chunk.
     *
     * @param lane the lane's scratch
     * @param index the chunk's index
     * @param offset its first float
     * @param length its float count
     */
    void run(Workspace.Lane lane, int index, int offset, int length);
  }

  /**
   * Runs a loop over {@code n} floats in chunks of {@link Workspace#CHUNK} on the pool (see
   * {@link KernelPool#chunks}).
   *
   * @param n the number of floats
   * @param task the work of one chunk
   */
  void chunks(int n, ChunkTask task) {
    layers.threads().chunks(n, Workspace.CHUNK, streamChunks(layers.threads(), training),
        (lane, c, o, len) -> task.run(ws.lane(lane), c, o, len));
  }

  /**
   * Copies floats between native buffers (absolute indices) on the pool: a streaming loop ({@link #streamGrain}).
   *
   * @param src the source
   * @param from its first float
   * @param dst the destination
   * @param to its first float
   * @param n how many
   */
  void copyParallel(FloatBuffer src, int from, FloatBuffer dst, int to, int n) {
    split(n, streamGrain(layers.threads(), training), (lane, a, b) -> copy(src, from + a, dst, to + a, b - a));
  }

  // ------------------------------------------------------------------ values

  /**
   * A new value of this pass's items with its own block, contents undefined.
   *
   * @param shape the item shape
   * @param layout the layout
   * @return the value
   */
  NativeValue allocate(Shape shape, Layout layout) {
    checkOpen();
    return new NativeValue(items, shape, layout, ws.take((long) items * shape.size()), 0);
  }

  /**
   * A new value that shares another's memory (a view).
   *
   * @param of the value viewed
   * @param shape the view's item shape
   * @param layout the view's layout
   * @param offset where the view starts in the block
   * @return the view; releasing it and {@code of} are independent
   */
  NativeValue view(NativeValue of, Shape shape, Layout layout, int offset) {
    checkOpen();
    of.block.retain();
    return new NativeValue(of.items, shape, layout, of.block, offset);
  }

  /**
   * A value as one contiguous value (a {@link Joined} is copied once, then kept with it).
   *
   * @param v a value of this backend
   * @return the value itself, or the copy (owned by {@code v})
   */
  NativeValue dense(Value v) {
    if (v instanceof NativeValue n) {
      return n;
    }
    Joined j = (Joined) v;
    if (j.dense == null) {
      NativeValue out = allocate(j.shape, Layout.ROWS);
      int width = j.shape.size();
      int col = 0;
      for (NativeValue part : j.parts) {
        NativeValue rows = as(part, Layout.ROWS);
        int w = rows.shape.size();
        copyColumns(rows, w, 0, out, width, col, w);
        col += w;
      }
      j.dense = out;
    }
    return j.dense;
  }

  /**
   * A value in a layout: itself if it can be read so, else its conversion (made once and kept with it).
   *
   * @param v a value
   * @param layout the layout wanted
   * @return a value whose memory is in that layout (address it with {@code layout}, or with
   *     {@link NativeValue#plane}, which is the same for a layout-free value)
   */
  NativeValue as(Value v, Layout layout) {
    NativeValue n = dense(v);
    if (n.readableAs(layout)) {
      return n;
    }
    if (n.converted == null) {
      NativeValue out = allocate(n.shape, layout);
      copyPlanes(n, out);
      n.converted = out;
    }
    return n.converted;
  }

  /**
   * Copies every plane of {@code src} to the same plane of {@code dst} (same items and shape, any layouts),
   * an item at a time through heap scratch.
   */
  void copyPlanes(NativeValue src, NativeValue dst) {
    int c = src.c();
    int p = src.p();
    int item = c * p;
    FloatBuffer s = src.buffer();
    FloatBuffer d = dst.buffer();
    split(src.items, grain(item), (lane, n0, n1) -> {
      float[] h = lane.scratch(0, item);
      copyItems(src, dst, s, d, h, n0, n1);
    });
  }

  private static void copyItems(NativeValue src, NativeValue dst, FloatBuffer s, FloatBuffer d, float[] h, int n0,
      int n1) {
    int c = src.c();
    int p = src.p();
    int item = c * p;
    for (int n = n0; n < n1; n++) {
      if (src.readableAs(Layout.ROWS)) {
        s.get(src.plane(n, 0), h, 0, item);
      } else {
        for (int ci = 0; ci < c; ci++) {
          s.get(src.plane(n, ci), h, ci * p, p);
        }
      }
      if (dst.readableAs(Layout.ROWS)) {
        d.put(dst.plane(n, 0), h, 0, item);
      } else {
        for (int ci = 0; ci < c; ci++) {
          d.put(dst.plane(n, ci), h, ci * p, p);
        }
      }
    }
  }

  /**
   * Copies {@code width} columns of a row-major matrix into another, row by row.
   *
   * @param src the source rows ({@code items} of them)
   * @param srcWidth its row length
   * @param srcCol the first column read
   * @param dst the destination rows
   * @param dstWidth its row length
   * @param dstCol the first column written
   * @param width the columns copied
   */
  void copyColumns(NativeValue src, int srcWidth, int srcCol, NativeValue dst, int dstWidth, int dstCol, int width) {
    FloatBuffer s = src.buffer();
    FloatBuffer d = dst.buffer();
    int rows = Math.max(1, Workspace.CHUNK / Math.max(1, width));
    float[] h = ws.scratch(0, rows * width);
    for (int n0 = 0; n0 < src.items; n0 += rows) {
      int nr = Math.min(rows, src.items - n0);
      if (srcWidth == width) {
        s.get(src.offset + n0 * srcWidth, h, 0, nr * width);
      } else {
        for (int r = 0; r < nr; r++) {
          s.get(src.offset + (n0 + r) * srcWidth + srcCol, h, r * width, width);
        }
      }
      if (dstWidth == width) {
        d.put(dst.offset + n0 * dstWidth, h, 0, nr * width);
      } else {
        for (int r = 0; r < nr; r++) {
          d.put(dst.offset + (n0 + r) * dstWidth + dstCol, h, r * width, width);
        }
      }
    }
  }

  /** An elementwise operation on one chunk of one or two operands; the result replaces {@code a}. */
  interface ChunkOp {
    /**
     * Applies the operation.
     *
     * @param a the first operand's chunk, overwritten with the result
     * @param b the second operand's chunk (null for one operand)
     * @param len the chunk's length
     */
    void apply(float[] a, float[] b, int len);
  }

  /**
   * A new value of {@code a}'s shape and layout, computed chunk by chunk through heap scratch (loops on
   * arrays, which the JIT vectorises).
   *
   * @param a the first operand
   * @param b the second operand, in {@code a}'s layout (or readable so), or null
   * @param op the operation
   * @return the result
   */
  NativeValue elementwise(NativeValue a, NativeValue b, ChunkOp op) {
    NativeValue out = allocate(a.shape, a.layout);
    int n = a.size();
    chunks(n, (lane, c, o, len) -> {
      float[] ha = lane.chunk(0);
      float[] hb = b == null ? null : lane.chunk(1);
      a.buffer().get(a.offset + o, ha, 0, len);
      if (b != null) {
        b.buffer().get(b.offset + o, hb, 0, len);
      }
      op.apply(ha, hb, len);
      out.buffer().put(out.offset + o, ha, 0, len);
    });
    return out;
  }

  /**
   * Copies floats between native buffers (absolute indices). JavaCPP's {@code Pointer.memcpy} is not used
   * for this: it takes {@code void*}, so a {@code FloatPointer}'s position would count bytes.
   *
   * @param src the source
   * @param from its first float
   * @param dst the destination
   * @param to its first float
   * @param n how many
   */
  static void copy(FloatBuffer src, int from, FloatBuffer dst, int to, int n) {
    dst.put(to, src, from, n);
  }

  /**
   * Sets floats of a native buffer to zero.
   *
   * @param dst the buffer
   * @param at the first float (absolute index)
   * @param n how many
   */
  void zero(FloatBuffer dst, int at, int n) {
    float[] z = ws.zeros();
    for (int o = 0; o < n; o += z.length) {
      dst.put(at + o, z, 0, Math.min(z.length, n - o));
    }
  }

  /**
   * Adds parameter gradients computed on the heap to the store's native gradient.
   *
   * @param params the store
   * @param offset the first parameter
   * @param values the addends
   * @param from the first addend
   * @param count how many
   */
  void addToGradient(Parameters params, int offset, float[] values, int from, int count) {
    addToGradient(ws.lane(0), params, offset, values, from, count);
  }

  /**
   * {@link #addToGradient(Parameters, int, float[], int, int)} through a lane's scratch, for a range of a
   * split loop.
   *
   * @param lane the lane
   * @param params the store
   * @param offset the first parameter
   * @param values the addends
   * @param from the first addend
   * @param count how many
   */
  static void addToGradient(Workspace.Lane lane, Parameters params, int offset, float[] values, int from, int count) {
    FloatBuffer g = params.gradientBuffer();
    float[] h = lane.chunk(3);
    for (int o = 0; o < count; o += Workspace.CHUNK) {
      int len = Math.min(Workspace.CHUNK, count - o);
      g.get(offset + o, h, 0, len);
      for (int i = 0; i < len; i++) {
        h[i] += values[from + o + i];
      }
      g.put(offset + o, h, 0, len);
    }
  }

  // ------------------------------------------------------------------ Pass

  /**
   * Refuses the use of a closed pass. Its workspace went back to the backend's pool when it closed: another pass may
   * own it by now (its blocks, this pass's values included, are that pass's memory), or the backend has freed it, so
   * a value made or read through this pass would overwrite another pass's values or read freed native memory.
   *
   * @throws IllegalStateException if the pass is closed
   */
  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("nd4j: this pass was closed (its workspace went back to the backend); "
          + "open a new pass to evaluate again");
    }
  }

  private Nd4jTensor tensor(Tensor t, String what) {
    if (!(t instanceof Nd4jTensor n) || n.backend() != layers.backend()) {
      throw new IllegalArgumentException(
          what + " " + t + " is not a tensor of this nd4j backend; create it with this backend's factory");
    }
    return n;
  }

  /** Items {@code [from, from + items)} of a row-major batch tensor, without a copy. */
  private NativeValue slice(Tensor x, int from, String what) {
    Nd4jTensor t = tensor(x, what);
    Shape item = t.shape().item();
    if (from < 0 || from + items > t.shape().batch()) {
      throw new IllegalArgumentException(
          what + " " + t.shape() + " has no items [" + from + ", " + (from + items) + ")");
    }
    Block b = Block.external(t.pointer(), t.buffer(), t.shape().size());
    return new NativeValue(items, item, Layout.ROWS, b, from * item.size());
  }

  @Override
  public Value input(Tensor x, int from) {
    checkOpen();
    return slice(x, from, "input");
  }

  @Override
  public Value host(float[] data, Shape itemShape) {
    checkOpen();
    if (data.length != items * itemShape.size()) {
      throw new IllegalArgumentException(
          data.length + " values for " + items + " items of " + itemShape);
    }
    NativeValue v = allocate(itemShape, Layout.ROWS);
    v.buffer().put(v.offset, data, 0, data.length);
    return v;
  }

  @Override
  public Tensor output(Value v, Shape shape) {
    checkOpen();
    NativeValue n = dense(v);
    if (shape.size() != n.size()) {
      throw new IllegalArgumentException("a value of " + n.size() + " floats cannot be a tensor " + shape);
    }
    INDArray a = layers.backend().allocate(shape);
    try {
      FloatBuffer dst = a.data().asNioFloat();
      if (n.readableAs(Layout.ROWS)) {
        copy(n.buffer(), n.offset, dst, 0, n.size());
      } else {
        Block b = Block.external((FloatPointer) a.data().addressPointer(), dst, shape.size());
        copyPlanes(n, new NativeValue(n.items, n.shape, Layout.ROWS, b, 0));
      }
    } catch (RuntimeException | Error e) {
      a.close();
      throw e;
    }
    return Nd4jTensor.owning(layers.backend(), shape, a);
  }

  @Override
  public Value accumulate(Value sum, Value addend) {
    checkOpen();
    NativeValue a = dense(sum);
    return elementwise(a, as(addend, a.layout), (x, y, len) -> {
      for (int i = 0; i < len; i++) {
        x[i] += y[i];
      }
    });
  }

  @Override
  public Loss mse(Value prediction, Tensor target, int from, double scale) {
    checkOpen();
    NativeValue p = dense(prediction);
    NativeValue t = slice(target, from, "target");
    if (!t.shape.equals(p.shape)) {
      throw new IllegalArgumentException("target items " + t.shape + " do not match the prediction's " + p.shape);
    }
    NativeValue tl = t;
    if (!t.readableAs(p.layout)) {
      tl = allocate(t.shape, p.layout);
      copyPlanes(t, tl);
    }
    NativeValue grad = allocate(p.shape, p.layout);
    FloatBuffer y = p.buffer();
    FloatBuffer tb = tl.buffer();
    FloatBuffer d = grad.buffer();
    float factor = (float) (2 * scale);
    int n = p.size();
    // each chunk's sum of squares on its lane, the chunks' sums added in order (as one lane adds them)
    double[] sums = new double[(n + Workspace.CHUNK - 1) / Workspace.CHUNK];
    NativeValue goal = tl;
    chunks(n, (lane, c, o, len) -> {
      float[] hy = lane.chunk(0);
      float[] ht = lane.chunk(1);
      float[] hd = lane.chunk(2);
      y.get(p.offset + o, hy, 0, len);
      tb.get(goal.offset + o, ht, 0, len);
      for (int i = 0; i < len; i++) {
        float e = hy[i] - ht[i];
        hy[i] = e;
        hd[i] = factor * e;
        ht[i] = e * e;
      }
      d.put(grad.offset + o, hd, 0, len);
      sums[c] = ArrayMath.sum(ht, 0, len);
    });
    double sum = 0;
    for (double s : sums) {
      sum += s;
    }
    if (tl != t) {
      release(tl);
    }
    return new Loss(scale * sum, grad);
  }

  @Override
  public void release(Value v) {
    if (closed || v == null) {
      return;
    }
    if (v instanceof FusedActivation f) {
      f.release(this);
    } else if (v instanceof NativeValue n) {
      ws.release(n.block);
      if (n.converted != null) {
        release(n.converted);
        n.converted = null;
      }
    } else {
      Joined j = (Joined) v;
      for (NativeValue part : j.parts) {
        release(part);
      }
      if (j.dense != null) {
        release(j.dense);
        j.dense = null;
      }
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      layers.give(ws);
    }
  }
}
