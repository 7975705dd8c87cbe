package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * training pass that libtorch differentiates turns it on for its thread; a prediction pass, and a training
 * pass of a network the kernels differentiate by hand ({@link DjlLayers#differentiation}), turn it off (a new
 * thread starts with it on); {@link #close} restores what the thread had. DJL's {@code GradientCollector} is
 * not used: it allows one collector per process (a static flag) although the state it sets is per thread, so
 * two models could not train at once.
 *
 * <p><b>Loss.</b> {@link #mse} (differentiation by hand) returns {@code d = prediction - target} as the loss's
 * gradient, its factor {@code 2 scale} handed to the parameters as below. {@link #mseBackward} computes {@code
 * d = prediction - target} outside the graph, the loss
 * {@code scale * sum(d^2)} and its gradient {@code 2 scale d}, and starts libtorch's backward pass at the
 * prediction with that gradient: the loss's own operations are never recorded or differentiated, and the
 * constant factor goes to the optimiser's fused update rather than through the activations.
 *
 * <p><b>Closed.</b> Closing again does nothing, and so does releasing a value; every other use of a closed pass is
 * refused ({@link #checkOpen}).
 */
final class DjlPass implements Pass {
  private final DjlBackend backend;
  private final int items;
  private final boolean training;
  /** Whether libtorch records this pass for its backward pass (a training pass it differentiates). */
  private final boolean recording;
  private final boolean gradModeBefore;
  /** The grad mode this pass has set on its thread. */
  private boolean gradMode;
  private final NDScope scope;
  /** The pass's confinement to its thread, or {@link ThreadConfinement#NONE}. */
  private final ThreadConfinement confinement;
  /** The parameters the kernels of this pass read, while they are one store. */
  private DjlParameters parameters;
  /** Whether the kernels read more than one store. */
  private boolean mixed;
  /** Every store the kernels read, when that is more than one ({@link #mixed}). */
  private List<DjlParameters> stores;
  private boolean closed;

  /**
   * Opens a pass on the calling thread.
   *
   * @param backend the backend
   * @param items the number of items
   * @param training whether a backward pass follows
   * @param recording whether libtorch is to record the pass and differentiate it (only in training)
   * @param confinement closed with the pass
   */
  DjlPass(DjlBackend backend, int items, boolean training, boolean recording, ThreadConfinement confinement) {
    this.confinement = confinement;
    this.backend = backend;
    this.items = items;
    this.training = training;
    this.recording = recording;
    this.gradModeBefore = JniUtils.isGradMode();
    this.gradMode = recording;
    if (gradModeBefore != recording) {
      JniUtils.setGradMode(recording);
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
      if (stores == null) {
        stores = new ArrayList<>(List.of(parameters));
        mixed = true;
      }
      if (!stores.contains(p)) {
        stores.add(p);
      }
    }
  }

  /**
   * The manager of the arrays a kernel makes for its own use (they belong to the pass's scope as well).
   *
   * @return the backend's root manager
   */
  PtNDManager manager() {
    return backend.root();
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

  /**
   * The dimensions of a value of this pass.
   *
   * @param itemShape the item shape
   * @return {@code [items, dims...]}
   */
  long[] batchDims(Shape itemShape) {
    long[] d = new long[itemShape.rank() + 1];
    d[0] = items;
    for (int i = 0; i < itemShape.rank(); i++) {
      d[i + 1] = itemShape.dim(i);
    }
    return d;
  }

  /**
   * Refuses the use of a closed pass: its scope has closed its arrays, the thread's grad mode is the caller's again,
   * and an array made now would belong to no pass (held by the backend's root manager until the backend closes).
   *
   * @throws IllegalStateException if the pass is closed
   */
  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("djl: this pass was closed (its arrays were freed); open a new pass to "
          + "evaluate again");
    }
  }

  /** A tensor of this backend, checked. */
  private PtNDArray array(Tensor t, String what) {
    return DjlTensor.of(backend, t, t.shape(), what).nd();
  }

  /**
   * A batch of this backend that holds the pass's items from {@code from} (libtorch's slice would clamp a range
   * past the end to the items there are, and count a negative start from the end).
   */
  private PtNDArray items(Tensor t, int from, String what) {
    PtNDArray a = array(t, what);
    if (from < 0 || from + items > t.shape().batch()) {
      throw new IllegalArgumentException(
          "djl: " + what + " " + t.shape() + " has no items [" + from + ", " + (from + items) + ")");
    }
    return a;
  }

  /** Whether the pass covers every item of a batch from {@code from}. */
  private boolean whole(Tensor t, int from) {
    return from == 0 && items == t.shape().batch();
  }

  /** The batch itself (borrowed, never closed by the pass) or a view of the pass's items. */
  @Override
  public Value input(Tensor x, int from) {
    checkOpen();
    PtNDArray a = items(x, from, "input");
    return whole(x, from) ? new NdValue(a, false) : value(JniUtils.slice(a, 0, from, from + items, 1));
  }

  @Override
  public Value host(float[] data, Shape itemShape) {
    checkOpen();
    if (data.length != (long) items * itemShape.size()) {
      throw new IllegalArgumentException("djl: host: " + data.length + " values for " + items + " items of shape "
          + itemShape + ", expected " + (long) items * itemShape.size());
    }
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
    checkOpen();
    NdValue value = (NdValue) v;
    if (shape.size() != value.array.size()) {
      throw new IllegalArgumentException(
          "djl: a value of " + value.array.size() + " floats cannot be a tensor " + shape);
    }
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
    checkOpen();
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
    checkOpen();
    if (!recording) {
      throw new IllegalStateException("djl: mseBackward in a pass that libtorch does not record");
    }
    gradMode(false); // the loss and its gradient are computed, not recorded
    PtNDArray d = JniUtils.sub(nd(prediction), target(prediction, target, from));
    double loss = squaredSum(d, target) * scale;
    if (parameters == null) {
      d.close();
      return loss; // no parameter was read: nothing to differentiate
    }
    scaleForParameters(d, scale);
    if (mixed) {
      stores.forEach(DjlParameters::backwardRan);
    } else {
      parameters.backwardRan();
    }
    JniUtils.backward(nd(prediction), d, false, false);
    d.close();
    return loss;
  }

  /**
   * {@inheritDoc}
   *
   * <p>For a training pass differentiated by hand: the gradient is {@code d = prediction - target}, whose factor
   * {@code 2 scale} goes to the parameters as in {@link #mseBackward}.
   */
  @Override
  public Loss mse(Value prediction, Tensor target, int from, double scale) {
    checkOpen();
    if (!training || recording) {
      throw new IllegalStateException("djl: mse outside a training pass differentiated by hand");
    }
    PtNDArray d = JniUtils.sub(nd(prediction), target(prediction, target, from));
    double loss = squaredSum(d, target) * scale;
    scaleForParameters(d, scale);
    return new Loss(loss, value(d));
  }

  /**
   * The pass's items of a target batch, whose items have the prediction's shape (libtorch's subtraction would
   * broadcast a target of one column over the prediction's).
   */
  private PtNDArray target(Value prediction, Tensor target, int from) {
    PtNDArray all = items(target, from, "target");
    long[] p = nd(prediction).getShape().getShape();
    long[] t = PtArrays.dims(target.shape());
    if (!Arrays.equals(p, 1, p.length, t, 1, t.length)) {
      throw new IllegalArgumentException("djl: target items " + target.shape().item()
          + " do not match the prediction's " + Arrays.toString(Arrays.copyOfRange(p, 1, p.length)));
    }
    return whole(target, from) ? all : JniUtils.slice(all, 0, from, from + items, 1);
  }

  /** {@code sum(d^2)}. */
  private static double squaredSum(PtNDArray d, Tensor target) {
    try (PtNDArray norm = JniUtils.norm(d, 2, allAxes(target.shape().rank()), false)) {
      double n = PtArrays.readScalar(norm);
      return n * n;
    }
  }

  /**
   * Makes {@code d} the loss's gradient up to the factor the parameters take on ({@link
   * DjlParameters#scaleGradient}): multiplies it by what they do not (all of {@code 2 scale} when no single store
   * was read, after each store read has applied its own pending factor, {@link DjlParameters#unscaleGradient}).
   */
  private void scaleForParameters(PtNDArray d, double scale) {
    if (mixed) {
      stores.forEach(DjlParameters::unscaleGradient);
    }
    double rest = parameters == null || mixed ? 2 * scale : parameters.scaleGradient(2 * scale);
    if (rest != 1) {
      try (PtNDArray factor = PtArrays.scalar(backend.root(), rest)) {
        JniUtils.muli(d, factor);
      }
    }
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
    if (!closed && value.owned) { // after close the scope has closed it
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
        try {
          gradMode(gradModeBefore);
        } finally {
          confinement.close();
        }
      }
    }
  }
}
