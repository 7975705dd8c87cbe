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
 * prediction with that gradient: the loss's own operations are never recorded or differentiated, and the
 * constant factor goes to the optimiser's fused update rather than through the activations.
 */
final class DjlPass implements Pass {
  private final DjlBackend backend;
  private final int items;
  private final boolean training;
  private final boolean gradModeBefore;
  /** The grad mode this pass has set on its thread. */
  private boolean gradMode;
  private final NDScope scope;
  /** The parameters the kernels of this pass read, while they are one store. */
  private DjlParameters parameters;
  /** Whether the kernels read more than one store. */
  private boolean mixed;
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
    this.gradMode = training;
    if (gradModeBefore != training) {
      JniUtils.setGradMode(training);
    }
    this.scope = new NDScope();
  }

  /** Sets the calling thread's grad mode, unless it is already so. */
  private void gradMode(boolean on) {
    if (gradMode != on) {
      JniUtils.setGradMode(on);
      gradMode = on;
    }
  }

  /**
   * A value of a pass: one array {@code [items, item shape...]}, in any memory layout, and whether the pass
   * owns it (it does not own a caller's batch it borrowed, nor an array it handed over to a tensor).
   */
  static final class NdValue implements Value {
    private final PtNDArray array;
    private boolean owned;

    NdValue(PtNDArray array, boolean owned) {
      this.array = array;
      this.owned = owned;
    }
  }

  /**
   * A pass of this backend.
   *
   * @param pass a pass opened by {@link DjlLayers}
   * @return it
   */
  static DjlPass of(Pass pass) {
    return (DjlPass) pass;
  }

  /**
   * Notes the parameters a kernel read in this pass (the store whose gradient the backward pass feeds).
   *
   * @param p the parameters
   */
  void uses(DjlParameters p) {
    if (parameters == null) {
      parameters = p;
    } else if (parameters != p) {
      mixed = true;
    }
  }

  /**
   * The array of a value.
   *
   * @param v a value of a DJL pass
   * @return its array
   */
  static PtNDArray nd(Value v) {
    return ((NdValue) v).array;
  }

  /**
   * Wraps an array as a value.
   *
   * @param a the array
   * @return the value
   */
  static Value value(PtNDArray a) {
    return new NdValue(a, true);
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

  /** A tensor of this backend, checked. */
  private PtNDArray array(Tensor t, String what) {
    return DjlTensor.of(backend, t, t.shape(), what).nd();
  }

  /** Whether the pass covers every item of a batch from {@code from}. */
  private boolean whole(Tensor t, int from) {
    return from == 0 && items == t.shape().batch();
  }

  /** The batch itself (borrowed, never closed by the pass) or a view of the pass's items. */
  @Override
  public Value input(Tensor x, int from) {
    PtNDArray a = array(x, "input");
    return whole(x, from) ? new NdValue(a, false) : value(JniUtils.slice(a, 0, from, from + items, 1));
  }

  @Override
  public Value host(float[] data, Shape itemShape) {
    return value(PtArrays.fromArray(backend.root(), data, batchDims(itemShape)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>In training a new handle detached from the graph (so the tensor does not keep the graph alive); in
   * prediction the value's own array, handed over to the tensor (the pass no longer owns it). Made contiguous
   * if it is not (a convolution may answer channels-last). The value already has the shape {@code [items,
   * item shape...]} of its node.
   */
  @Override
  public Tensor output(Value v, Shape shape) {
    NdValue value = (NdValue) v;
    PtNDArray a;
    if (training || !value.owned) {
      a = JniUtils.detachGradient(value.array);
    } else {
      a = value.array;
      value.owned = false;
    }
    NDScope.unregister(a);
    if (a.getManager() != backend.root()) {
      a.attach(backend.root());
    }
    return backend.wrap(a, shape);
  }

  @Override
  public Value accumulate(Value sum, Value addend) {
    return value(JniUtils.add(nd(sum), nd(addend)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code d = prediction - target} and the loss are computed with grad mode off (which stays off: nothing
   * is recorded after the loss), then libtorch's backward pass starts at the prediction with the gradient
   * {@code 2 scale d}. The factor {@code 2 scale} is not applied to {@code d}: it is handed to the parameters
   * ({@link DjlParameters#scaleGradient}), which apply it in the optimiser's fused update (its {@code
   * rescale_grad}) or when the gradient is read; only when the passes of one gradient use different factors,
   * or the kernels read more than one store, is {@code d} multiplied here.
   */
  @Override
  public double mseBackward(Value prediction, Tensor target, int from, double scale) {
    if (!training) {
      throw new IllegalStateException("djl: mseBackward in a prediction pass");
    }
    PtNDArray out = nd(prediction);
    PtNDArray all = array(target, "target");
    PtNDArray y = whole(target, from) ? all : JniUtils.slice(all, 0, from, from + items, 1);
    gradMode(false); // the loss and its gradient are computed, not recorded
    PtNDArray d = JniUtils.sub(out, y);
    double loss;
    try (PtNDArray norm = JniUtils.norm(d, 2, allAxes(target.shape().rank()), false)) {
      double n = PtArrays.readScalar(norm);
      loss = scale * n * n;
    }
    if (parameters == null) {
      return loss; // no parameter was read: nothing to differentiate
    }
    double rest = mixed ? 2 * scale : parameters.scaleGradient(2 * scale);
    if (rest != 1) {
      try (PtNDArray factor = PtArrays.scalar(backend.root(), rest)) {
        JniUtils.muli(d, factor);
      }
    }
    JniUtils.backward(out, d, false, false);
    d.close();
    return loss;
  }

  private static int[] allAxes(int rank) {
    int[] axes = new int[rank];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
    }
    return axes;
  }

  @Override
  public void release(Value v) {
    NdValue value = (NdValue) v;
    if (value.owned) {
      value.array.close();
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        scope.close();
      } finally {
        gradMode(gradModeBefore);
      }
    }
  }
}
