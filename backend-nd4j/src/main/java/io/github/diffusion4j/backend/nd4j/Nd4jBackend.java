package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J backend: float32 tensors in ND4J's native memory, scoped by the api's {@link ScopeStack}, and
 * the layer kinds ({@link Nd4jLayers}) on which the api runs every network.
 */
final class Nd4jBackend implements Backend, TensorFactory {
  /**
   * The most floats of one native array that the kernels read: they read arrays through direct
   * {@code FloatBuffer} views ({@code asNioFloat()}), whose size in bytes an {@code int} counts (2 GiB), so
   * sizes are checked against this before anything is allocated.
   */
  static final long MAX_BUFFER_FLOATS = Integer.MAX_VALUE / Float.BYTES;

  /**
   * Refuses a native array larger than {@link #MAX_BUFFER_FLOATS}, before it is allocated.
   *
   * @param floats the array's size
   * @param what what it is for the message ("a value", "a tensor")
   * @throws IllegalArgumentException if it is larger
   */
  static void checkBufferFloats(long floats, String what) {
    if (floats > MAX_BUFFER_FLOATS) {
      throw new IllegalArgumentException(what + " of " + floats + " floats is more than one native buffer holds ("
          + MAX_BUFFER_FLOATS + " floats, 2 GiB); use smaller batches");
    }
  }

  /** The most floats of released tensors' arrays kept for reuse (64 MB). */
  static final long RECYCLE_FLOATS = 1L << 24;

  private final NativeRuntime runtime;
  private final ScopeStack scopes = new ScopeStack();
  private final Nd4jLayers layers;
  private final ConcurrentHashMap<Long, ConcurrentLinkedDeque<INDArray>> recycled = new ConcurrentHashMap<>();
  private final AtomicLong recycledFloats = new AtomicLong();
  private volatile boolean closed;

  /**
   * A backend whose passes keep about {@code passBytes} of activations (tests use small budgets to split
   * batches into several passes).
   *
   * @param runtime the loaded natives
   * @param passBytes the activation budget of one pass
   * @param threads the thread count: the lanes of the kernels' Java loops
   */
  Nd4jBackend(NativeRuntime runtime, long passBytes, int threads) {
    this(runtime, passBytes, threads, DirectConv.Use.defaults());
  }

  /**
   * A backend with a choice of the convolutions that run their forward pass directly (tests choose either
   * form on any CPU).
   *
   * @param runtime the loaded natives
   * @param passBytes the activation budget of one pass
   * @param threads the thread count: the lanes of the kernels' Java loops
   * @param convolution which convolutions run their forward pass directly ({@link DirectConv})
   */
  Nd4jBackend(NativeRuntime runtime, long passBytes, int threads, DirectConv.Use convolution) {
    this.runtime = runtime;
    this.layers = new Nd4jLayers(this, passBytes, threads, convolution);
  }

  ScopeStack scopes() {
    return scopes;
  }

  /**
   * A dense float vector of {@code shape.size()} elements for a tensor, contents undefined; owned by the
   * caller until it gives it back with {@link #recycle}. Arrays of released tensors are reused: allocating
   * through ND4J costs 15-25 µs of bookkeeping whatever the size, more than most tensor operations and than
   * a small network's forward pass.
   *
   * @param shape the tensor's shape (the array itself is flat; tensors keep their shape)
   * @return the array
   * @throws IllegalArgumentException if it is larger than {@link #MAX_BUFFER_FLOATS}
   */
  INDArray allocate(Shape shape) {
    long n = shape.size();
    checkBufferFloats(n, "a tensor");
    ConcurrentLinkedDeque<INDArray> q = recycled.get(n);
    INDArray a = q == null ? null : q.poll();
    if (a != null) {
      recycledFloats.addAndGet(-n);
      return a;
    }
    return allocate(n);
  }

  /**
   * Takes back the array of a released tensor: kept for reuse while the arrays kept stay within
   * {@link #RECYCLE_FLOATS} floats, freed otherwise (and always once the backend is closed).
   *
   * @param a an array from {@link #allocate(Shape)} or an ND4J operation on such arrays
   */
  void recycle(INDArray a) {
    if (!a.closeable()) {
      return;
    }
    long n = a.length();
    boolean reusable = !a.isView() && a.rank() == 1 && a.ordering() == 'c' && a.dataType() == DataType.FLOAT;
    if (reusable && !closed && recycledFloats.addAndGet(n) <= RECYCLE_FLOATS) {
      recycled.computeIfAbsent(n, k -> new ConcurrentLinkedDeque<>()).push(a);
      if (closed) {
        freeRecycled();
      }
      return;
    }
    if (reusable && !closed) {
      recycledFloats.addAndGet(-n);
    }
    a.close();
  }

  /**
   * The floats of released tensors' arrays kept for reuse (for tests: constant once a loop's shapes have run,
   * since every tensor the loop makes takes its array from them).
   *
   * @return at most {@link #RECYCLE_FLOATS}
   */
  long recycledFloats() {
    return recycledFloats.get();
  }

  private void freeRecycled() {
    for (ConcurrentLinkedDeque<INDArray> q : recycled.values()) {
      for (INDArray a; (a = q.poll()) != null; ) {
        a.close();
      }
    }
  }

  /**
   * A new dense float vector, contents undefined; owned by the caller.
   *
   * @param length the number of elements
   * @return the array
   */
  static INDArray allocate(long length) {
    return Nd4j.createUninitialized(DataType.FLOAT, new long[] {length}, 'c');
  }

  @Override
  public String name() {
    return Nd4jBackendProvider.NAME;
  }

  @Override
  public String describe() {
    return runtime.describe(layers.convolution().describe(), threads());
  }

  @Override
  public TensorFactory tensors() {
    return this;
  }

  @Override
  public LayerBackend layers() {
    return layers;
  }

  /**
   * The layers as this backend's own type, for tests.
   *
   * @return the layers
   */
  Nd4jLayers nd4jLayers() {
    return layers;
  }

  /**
   * Throws if the backend is closed: what a pass opened, or a tensor made, after {@link #close} gets instead of
   * running on freed memory.
   *
   * @throws IllegalStateException "the nd4j backend is closed" (the djl backend's words, with its name)
   */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the nd4j backend is closed");
    }
  }

  /**
   * Frees every parameter store, workspace and tensor of this backend. Like a model's close, it does not wait
   * for passes in progress on other threads (close it once none is; {@code Diffusion} and {@code TrainedModel}
   * wait for their calls): a pass opened afterwards, and a kernel reading closed parameters, throw
   * {@link IllegalStateException} instead.
   */
  @Override
  public void close() {
    closed = true;
    layers.close();
    scopes.close("the nd4j backend");
    freeRecycled();
  }

  @Override
  public Tensor zeros(Shape shape) {
    checkOpen();
    Shape.checkGiven(shape);
    INDArray a = allocate(shape);
    Pointer.memset(a.data().addressPointer(), 0, (long) shape.size() * Float.BYTES);
    return Nd4jTensor.owning(this, shape, a);
  }

  @Override
  public Tensor fromArray(float[] data, Shape shape) {
    checkOpen();
    Shape.checkGiven(shape).checkValues(data);
    INDArray a = allocate(shape);
    ((FloatPointer) a.data().addressPointer()).put(data);
    return Nd4jTensor.owning(this, shape, a);
  }

  @Override
  public TensorScope openScope() {
    return scopes.open();
  }

  /**
   * This backend's own thread count: its kernels' lanes ({@link KernelPool}), fixed when it was made. The native
   * counts it applied ({@link NativeRuntime}) are process-wide and change with the next backend made; this does
   * not.
   */
  @Override
  public int threads() {
    return layers.threads().lanes();
  }

  /** The calling thread's kernels run on it alone ({@link KernelPool#confine()}). */
  @Override
  public ThreadConfinement confineToCallingThread() {
    return layers.threads().confine();
  }

  @Override
  public String toString() {
    return "Nd4jBackend[" + describe() + "]";
  }
}
