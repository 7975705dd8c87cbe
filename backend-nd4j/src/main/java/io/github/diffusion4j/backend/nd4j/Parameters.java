package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.ParameterStore;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network's parameters in flat float32 vectors of the state dict's layout (entry after entry, each
 * row-major), all in native memory: the weights (what BLAS reads in place), the gradient (kernels add to it,
 * often as the accumulating output of a matrix product), Adam's two moments and the optional moving average.
 * Nothing scales with the parameter count on the Java heap, so a model of 100 million parameters fits the
 * default heap.
 *
 * <p>Adam ({@link Kernels#adam}, PyTorch's {@code torch.optim.Adam} after {@code clip_grad_norm_}) and the
 * moving average stream the vectors through heap chunks in one vectorised pass each, the chunks split over
 * the backend's {@link KernelPool}. Not thread-safe for
 * writing: the model serialises training and state access; any number of passes may read the weights
 * between updates.
 */
final class Parameters implements ParameterStore {
  private final Nd4jLayers owner;
  private final Map<String, int[]> layout;
  private final Map<String, Integer> offsets = new HashMap<>();
  private final int size;
  private final INDArray[] arrays = new INDArray[Buffer.values().length];
  private final FloatBuffer[] buffers = new FloatBuffer[Buffer.values().length];
  /** The weights' and gradient's native memory; null once closed (then every accessor throws). */
  private volatile FloatPointer weightsPointer;
  private volatile FloatPointer gradientPointer;
  private final KernelPool threads;
  /** Heap chunks per lane of {@link #threads}. */
  private final float[][][] chunks;
  private volatile boolean closed;

  /**
   * Allocates zeroed vectors for a layout (the moving average when it starts).
   *
   * @param owner the layers that track open stores (to close them with the backend)
   * @param layout names and shapes in state-dict order
   * @param threads the pool that Adam and the average split their chunks over
   */
  Parameters(Nd4jLayers owner, Map<String, int[]> layout, KernelPool threads) {
    this.owner = owner;
    this.threads = threads;
    this.chunks = new float[threads.lanes()][4][Workspace.CHUNK];
    this.layout = Collections.unmodifiableMap(new LinkedHashMap<>(layout));
    long total = 0;
    for (Map.Entry<String, int[]> e : layout.entrySet()) {
      offsets.put(e.getKey(), (int) total);
      long k = count(e.getValue());
      total += k;
      if (total > Nd4jBackend.MAX_BUFFER_FLOATS) {
        throw new IllegalArgumentException("more than " + Nd4jBackend.MAX_BUFFER_FLOATS
            + " parameters: more than one native buffer holds (2 GiB)");
      }
    }
    this.size = (int) total;
    try {
      for (Buffer b : new Buffer[] {Buffer.WEIGHTS, Buffer.GRADIENTS, Buffer.FIRST_MOMENT, Buffer.SECOND_MOMENT}) {
        allocate(b);
      }
    } catch (RuntimeException | Error e) {
      free();
      throw e;
    }
    this.weightsPointer = (FloatPointer) arrays[Buffer.WEIGHTS.ordinal()].data().addressPointer();
    this.gradientPointer = (FloatPointer) arrays[Buffer.GRADIENTS.ordinal()].data().addressPointer();
  }

  /** A zeroed native vector for a buffer. */
  private void allocate(Buffer b) {
    INDArray a = Nd4jBackend.allocate(Math.max(1, size));
    arrays[b.ordinal()] = a;
    buffers[b.ordinal()] = a.data().asNioFloat();
    Pointer.memset(a.data().addressPointer(), 0, (long) Math.max(1, size) * Float.BYTES);
  }

  /** A buffer of an open store. */
  private FloatBuffer buffer(Buffer b) {
    checkOpen();
    return buffers[b.ordinal()];
  }

  /** The number of values of a shape. */
  private static long count(int[] shape) {
    long k = 1;
    for (int d : shape) {
      k *= d;
    }
    return k;
  }

  /**
   * Checks that the store holds an entry a layer reads, with as many values as the network's shape of it: the
   * layer's kernel reads that many from the entry's offset, so a smaller entry would be read past its end (into
   * the next entry, or past the vectors).
   *
   * @param name the entry's state-dict name
   * @param shape the network's shape of it
   * @throws IllegalArgumentException naming the entry if the store lacks it or it has another number of values
   */
  void requireEntry(String name, int[] shape) {
    int[] have = layout.get(name);
    if (have == null) {
      throw new IllegalArgumentException("the parameter store has no entry '" + name
          + "' that the network reads; compile a network against a store of its layout");
    }
    if (count(have) != count(shape)) {
      throw new IllegalArgumentException("the parameter store's entry '" + name + "' is " + Arrays.toString(have)
          + ", but the network reads it as " + Arrays.toString(shape)
          + "; compile a network against a store of its layout");
    }
  }

  /**
   * The offset of a parameter in the flat vectors.
   *
   * @param name its state-dict name
   * @return the offset of its first value
   */
  int offset(String name) {
    Integer o = offsets.get(name);
    if (o == null) {
      throw new IllegalArgumentException("the parameter store has no entry '" + name + "'");
    }
    return o;
  }

  /**
   * The native weights at an offset, for BLAS.
   *
   * @param offset a parameter's offset
   * @return a pointer
   */
  FloatPointer weightsAt(int offset) {
    return Blas.at(open(weightsPointer), offset);
  }

  /**
   * A copy of some weights (a bias, a norm's scale), for loops on the heap.
   *
   * @param offset the first
   * @param count how many
   * @return a new array
   */
  float[] weights(int offset, int count) {
    float[] w = new float[count];
    weights(offset, w, count);
    return w;
  }

  /**
   * Copies some weights into an array.
   *
   * @param offset the first
   * @param dst the array, from index 0
   * @param count how many
   */
  void weights(int offset, float[] dst, int count) {
    buffer(Buffer.WEIGHTS).get(offset, dst, 0, count);
  }

  /**
   * One weight.
   *
   * @param offset its offset
   * @return its value
   */
  float weight(int offset) {
    return buffer(Buffer.WEIGHTS).get(offset);
  }

  /**
   * The native gradient at an offset, for BLAS.
   *
   * @param offset a parameter's offset
   * @return a pointer
   */
  FloatPointer gradientAt(int offset) {
    return Blas.at(open(gradientPointer), offset);
  }

  /**
   * The native gradient as a buffer, indexed absolutely.
   *
   * @return the buffer
   */
  FloatBuffer gradientBuffer() {
    return buffer(Buffer.GRADIENTS);
  }

  @Override
  public Map<String, int[]> layout() {
    return layout;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public float[] read(Buffer buffer) {
    checkOpen();
    FloatBuffer b = buffer(buffer == Buffer.AVERAGE && !hasAverage() ? Buffer.WEIGHTS : buffer);
    float[] out = new float[size];
    b.get(0, out, 0, size);
    return out;
  }

  @Override
  public void write(Buffer buffer, float[] values) {
    checkOpen();
    if (values.length != size) {
      throw new IllegalArgumentException(values.length + " values for a store of " + size + " parameters");
    }
    if (buffer == Buffer.AVERAGE && !hasAverage()) {
      allocate(Buffer.AVERAGE);
    }
    buffer(buffer).put(0, values, 0, size);
  }

  @Override
  public void zeroGradients() {
    Pointer.memset(open(gradientPointer), 0, (long) Math.max(1, size) * Float.BYTES);
  }

  @Override
  public void adam(AdamUpdate u) {
    checkOpen();
    FloatBuffer w = buffer(Buffer.WEIGHTS);
    FloatBuffer g = buffer(Buffer.GRADIENTS);
    FloatBuffer m = buffer(Buffer.FIRST_MOMENT);
    FloatBuffer v = buffer(Buffer.SECOND_MOMENT);
    int count = (size + Workspace.CHUNK - 1) / Workspace.CHUNK;
    int grain = NativePass.streamChunks(threads, true);
    double scale = 1.0;
    if (u.maxGradNorm() > 0) {
      // each chunk's sum of squares on its lane, added in chunk order (as one lane adds them)
      double[] squares = new double[count];
      threads.chunks(size, Workspace.CHUNK, grain, (lane, c, o, len) -> {
        float[] hg = chunks[lane][1];
        g.get(o, hg, 0, len);
        squares[c] = Kernels.sumOfSquares(hg, len);
      });
      double total = 0;
      for (double s : squares) {
        total += s;
      }
      scale = Math.min(1.0, u.maxGradNorm() / (Math.sqrt(total) + 1e-6));
    }
    double clip = scale;
    double bc1 = 1.0 - Math.pow(u.beta1(), u.step());
    double bc2 = 1.0 - Math.pow(u.beta2(), u.step());
    threads.chunks(size, Workspace.CHUNK, grain, (lane, c, o, len) -> {
      float[] hw = chunks[lane][0];
      float[] hg = chunks[lane][1];
      float[] hm = chunks[lane][2];
      float[] hv = chunks[lane][3];
      w.get(o, hw, 0, len);
      g.get(o, hg, 0, len);
      m.get(o, hm, 0, len);
      v.get(o, hv, 0, len);
      Kernels.adam(hw, hg, hm, hv, len, clip, u.weightDecay(), u.beta1(), u.beta2(), u.learningRate() / bc1,
          1.0 / Math.sqrt(bc2), u.epsilon());
      w.put(o, hw, 0, len);
      m.put(o, hm, 0, len);
      v.put(o, hv, 0, len);
    });
  }

  @Override
  public void updateAverage(double decay) {
    checkOpen();
    FloatBuffer w = buffer(Buffer.WEIGHTS);
    if (!hasAverage()) {
      allocate(Buffer.AVERAGE);
      NativePass.copy(w, 0, buffer(Buffer.AVERAGE), 0, size);
    }
    FloatBuffer a = buffer(Buffer.AVERAGE);
    threads.chunks(size, Workspace.CHUNK, NativePass.streamChunks(threads, true), (lane, c, o, len) -> {
      float[] ha = chunks[lane][0];
      float[] hw = chunks[lane][1];
      a.get(o, ha, 0, len);
      w.get(o, hw, 0, len);
      Kernels.ema(ha, hw, len, decay);
      a.put(o, ha, 0, len);
    });
  }

  @Override
  public boolean hasAverage() {
    return arrays[Buffer.AVERAGE.ordinal()] != null;
  }

  private void checkOpen() {
    if (closed) {
      throw closedStore();
    }
  }

  /** A cached pointer of an open store (null once closed, when this throws instead). */
  private FloatPointer open(FloatPointer p) {
    if (p == null || closed) {
      throw closedStore();
    }
    return p;
  }

  private static IllegalStateException closedStore() {
    return new IllegalStateException("nd4j: the parameters are closed (their model or backend was closed)");
  }

  private void free() {
    for (int i = 0; i < arrays.length; i++) {
      if (arrays[i] != null) {
        arrays[i].close();
        arrays[i] = null;
        buffers[i] = null;
      }
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      weightsPointer = null;
      gradientPointer = null;
      free();
      owner.forget(this);
    }
  }
}
