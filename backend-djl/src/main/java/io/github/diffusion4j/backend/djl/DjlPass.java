package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/**
 * One evaluation on libtorch, on the thread that opened it: the owner of every native array the evaluation
 * creates, and the grad mode of that thread while it is open.
 *
 * <p><b>Memory.</b> A pass opens a DJL {@link NDScope} (thread-local): every {@code NDArray} created on this
 * thread until {@link #close} (the kernels' results and intermediates, the convolution workaround's padded
 * copies, the loss) is registered with it and closed when the pass closes, whichever manager it is attached
 * to. {@link #release} closes a value's array at once, so a prediction holds only the network's live values;
 * in training libtorch keeps what its graph saved until the backward pass has run. Arrays that outlive the
 * pass ({@link #output}) are taken out of the scope.
 *
 * <p><b>Grad mode.</b> libtorch records a graph only while grad mode is on, and grad mode is per thread. A
 * training pass turns it on for its thread, a prediction pass turns it off (a new thread starts with it on),
 * and {@link #close} restores what the thread had. DJL's {@code GradientCollector} is not used: it allows one
 * collector per process (a static flag) although the state it sets is per thread, so two models could not
 * train at once.
 *
 * <p><b>Loss.</b> {@link #mseBackward} computes {@code d = prediction - target} outside the graph, the loss
 * {@code scale * sum(d^2)} and its gradient {@code 2 scale d}, and starts libtorch's backward pass at the
 * prediction with that gradient: the loss's own operations are never recorded or differentiated.
 */
final class DjlPass implements Pass {
  private final DjlBackend backend;
  private final int items;
  private final boolean training;
  private final boolean gradModeBefore;
  private final NDScope scope;
  private boolean closed;

  /**
   * Opens a pass on the calling thread.
   *
   * @param backend the backend
   * @param items the number of items
   * @param training whether to record a graph for a backward pass
   */
  DjlPass(DjlBackend backend, int items, boolean training) {
    this.backend = backend;
    this.items = items;
    this.training = training;
    this.gradModeBefore = JniUtils.isGradMode();
    this.scope = new NDScope();
    JniUtils.setGradMode(training);
  }

  /** A value of a pass: one array {@code [items, item shape...]}, in any memory layout. */
  record NdValue(PtNDArray array) implements Value {}

  /**
   * The array of a value.
   *
   * @param v a value of a DJL pass
   * @return its array
   */
  static PtNDArray nd(Value v) {
    return ((NdValue) v).array();
  }

  /**
   * Wraps an array as a value.
   *
   * @param a the array
   * @return the value
   */
  static Value value(PtNDArray a) {
    return new NdValue(a);
  }

  @Override
  public int items() {
    return items;
  }

  @Override
  public boolean training() {
    return training;
  }

  /** {@code [items, dims...]}. */
  private long[] batchDims(Shape itemShape) {
    long[] d = new long[itemShape.rank() + 1];
    d[0] = items;
    for (int i = 0; i < itemShape.rank(); i++) {
      d[i + 1] = itemShape.dim(i);
    }
    return d;
  }

  /** Items {@code [from, from + items)} of a tensor of this backend: a view, no copy. */
  private PtNDArray rows(Tensor t, Shape expected, int from, String what) {
    PtNDArray a = DjlTensor.of(backend, t, expected, what).nd();
    return JniUtils.slice(a, 0, from, from + items, 1);
  }

  @Override
  public Value input(Tensor x, int from) {
    return value(rows(x, x.shape(), from, "input"));
  }

  @Override
  public Value host(float[] data, Shape itemShape) {
    return value(Nd.fromArray(backend.root(), data, batchDims(itemShape)));
  }

  @Override
  public Tensor output(Value v, Shape shape) {
    PtNDArray detached = JniUtils.detachGradient(nd(v)); // a new handle, outside the graph
    PtNDArray c = Nd.contiguous(detached);
    long[] dims = Nd.dims(shape);
    if (!java.util.Arrays.equals(dims, c.getShape().getShape())) {
      c = JniUtils.reshape(c, dims);
    }
    NDScope.unregister(c);
    if (c.getManager() != backend.root()) {
      c.attach(backend.root());
    }
    return backend.wrap(c, shape);
  }

  @Override
  public Value accumulate(Value sum, Value addend) {
    return value(JniUtils.add(nd(sum), nd(addend)));
  }

  @Override
  public double mseBackward(Value prediction, Tensor target, int from, double scale) {
    if (!training) {
      throw new IllegalStateException("djl: mseBackward in a prediction pass");
    }
    PtNDArray out = nd(prediction);
    PtNDArray all = DjlTensor.of(backend, target, target.shape(), "target").nd();
    boolean whole = from == 0 && items == target.shape().batch();
    PtNDArray y = whole ? all : JniUtils.slice(all, 0, from, from + items, 1);
    double loss;
    PtNDArray d;
    JniUtils.setGradMode(false); // the loss and its gradient are computed, not recorded
    try {
      d = JniUtils.sub(out, y);
      try (PtNDArray norm = JniUtils.norm(d, 2, allAxes(d), false)) {
        double n = Nd.readScalar(norm);
        loss = scale * n * n;
      }
      try (PtNDArray factor = Nd.scalar(backend.root(), 2 * scale)) {
        JniUtils.muli(d, factor);
      }
    } finally {
      JniUtils.setGradMode(true);
    }
    JniUtils.backward(out, d, false, false);
    d.close();
    return loss;
  }

  private static int[] allAxes(PtNDArray a) {
    int[] axes = new int[a.getShape().dimension()];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
    }
    return axes;
  }

  @Override
  public void release(Value v) {
    nd(v).close();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        scope.close();
      } finally {
        JniUtils.setGradMode(gradModeBefore);
      }
    }
  }
}
