package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's parameters on libtorch: flat float32 vectors of one layout (weights, Adam's two moments, the
 * optional moving average), autograd leaves that are views into the weights, and the fused Adam update.
 *
 * <p><b>Layout.</b> Entry {@code i} of the layout occupies {@code [offset(i), offset(i + 1))} of every vector,
 * row-major, in state-dict order. A kernel asks for its parameters with {@link #leaf}: a view of the weight
 * vector (it shares its memory), shaped for the kernel's use (a convolution's {@code [out, in, k, k]}, a group
 * norm's {@code [C, 1, 1]}), marked {@code requires_grad}. So writing the weights is one copy into the flat
 * vector, the kernels see the new values at once, and the optimiser is one fused native call for all weights.
 *
 * <p><b>Gradient.</b> libtorch's backward pass accumulates each leaf's gradient in the leaf's own {@code .grad}
 * (in place, after the first pass), so the gradient of a batch split into several passes is their sum. The
 * flat gradient is gathered from the leaves when it is needed ({@link #adam}, {@link #read}): one
 * concatenation of views of the leaves' gradients (taken once), in layout order. {@link #zeroGradients} zeroes the leaves' gradients (and the flat vector a
 * {@link #write} of the gradient may have set).
 *
 * <p><b>Adam.</b> {@code torch.optim.Adam} with L2 weight decay, after clipping the gradient's global norm
 * ({@code clip_grad_norm_}): DJL's fused {@code adamUpdate} computes {@code w -= lr' m / (sqrt(v) + eps')}, and
 * {@code lr' = lr sqrt(bc2) / bc1}, {@code eps' = eps sqrt(bc2)} make that PyTorch's {@code w -= lr / bc1 * m /
 * (sqrt(v) / sqrt(bc2) + eps)}; clipping's factor is its {@code rescale_grad} argument, and it adds the weight
 * decay to the (rescaled) gradient as PyTorch does.
 *
 * <p><b>Memory.</b> Every array lives on a sub-manager of the backend's root manager (closed by {@link
 * #close}), and is kept out of any DJL scope open on the calling thread; arrays a method creates for its own
 * use are closed before it returns. Kernels put their constants on {@link #manager()} ({@link #constant}), so
 * they live as long as the parameters.
 *
 * <p>Not thread-safe for writes: the model serialises training and state access; concurrent predictions only
 * read the weights.
 */
final class DjlParameters implements ParameterStore {
  private final DjlBackend backend;
  private final Map<String, int[]> layout;
  private final Map<String, Integer> index = new HashMap<>();
  private final int[] offsets;
  private final int size;
  private final PtNDManager manager;
  private final PtNDArray weights;
  private final PtNDArray firstMoment;
  private final PtNDArray secondMoment;
  /** The autograd leaf of each entry, once a kernel has asked for it. */
  private final PtNDArray[] leaves;
  /** A flat view of each leaf's {@code .grad}, once libtorch has created it. */
  private final PtNDArray[] gradients;
  /** A flat gradient written by {@link #write}, added to the leaves' gradients; null when zero. */
  private PtNDArray written;
  private PtNDArray average;
  private boolean closed;

  /**
   * Allocates zeroed vectors for a layout.
   *
   * @param backend the backend whose root manager the vectors' manager descends from
   * @param layout names, shapes and order
   */
  DjlParameters(DjlBackend backend, Map<String, int[]> layout) {
    this.backend = backend;
    this.layout = new LinkedHashMap<>();
    List<String> names = List.copyOf(layout.keySet());
    this.offsets = new int[names.size() + 1];
    long total = 0;
    for (int i = 0; i < names.size(); i++) {
      int[] shape = layout.get(names.get(i)).clone();
      this.layout.put(names.get(i), shape);
      index.put(names.get(i), i);
      offsets[i] = (int) total;
      total += Shape.of(shape).size();
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("djl: more than " + (Integer.MAX_VALUE - 8) + " parameters");
      }
    }
    this.size = (int) total;
    offsets[names.size()] = size;
    this.leaves = new PtNDArray[names.size()];
    this.gradients = new PtNDArray[names.size()];
    this.manager = (PtNDManager) backend.root().newSubManager();
    this.weights = Nd.zeros(manager, size);
    this.firstMoment = Nd.zeros(manager, size);
    this.secondMoment = Nd.zeros(manager, size);
    NDScope.unregister(weights, firstMoment, secondMoment);
  }

  /** The manager that owns the vectors, the leaves and the kernels' constants. */
  PtNDManager manager() {
    return manager;
  }

  /**
   * The autograd leaf of one entry: a view of the weights with the given dimensions that records its
   * gradient. Each entry has one leaf (each parameter is read by one layer).
   *
   * @param name the entry's state-dict name
   * @param dims the view's dimensions, whose product is the entry's size
   * @return the leaf, owned by this store
   * @throws IllegalArgumentException if there is no such entry, or the dimensions do not fit it
   * @throws IllegalStateException if the entry already has a leaf
   */
  PtNDArray leaf(String name, long... dims) {
    Integer i = index.get(name);
    if (i == null) {
      throw new IllegalArgumentException("djl: no parameter '" + name + "' in the layout");
    }
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    if (n != offsets[i + 1] - offsets[i]) {
      throw new IllegalArgumentException(
          "djl: parameter '" + name + "' " + Arrays.toString(layout.get(name)) + " cannot be viewed as "
              + Arrays.toString(dims));
    }
    if (leaves[i] != null) {
      throw new IllegalStateException("djl: parameter '" + name + "' is already read by another layer");
    }
    PtNDArray flat = (PtNDArray) weights.get(new NDIndex().addSliceDim(offsets[i], offsets[i + 1]));
    PtNDArray view = JniUtils.reshape(flat, dims);
    flat.close();
    JniUtils.attachGradient(view, true);
    NDScope.unregister(view);
    leaves[i] = view;
    return view;
  }

  /**
   * A constant of a kernel: an array that lives as long as these parameters.
   *
   * @param values its values
   * @param dims its dimensions
   * @return the array, owned by this store and kept out of any DJL scope
   */
  PtNDArray constant(float[] values, long... dims) {
    PtNDArray a = Nd.fromArray(manager, values, dims);
    NDScope.unregister(a);
    return a;
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
    switch (buffer) {
      case WEIGHTS:
        return Nd.read(weights, size);
      case FIRST_MOMENT:
        return Nd.read(firstMoment, size);
      case SECOND_MOMENT:
        return Nd.read(secondMoment, size);
      case AVERAGE:
        return Nd.read(average == null ? weights : average, size);
      default:
        try (PtNDArray g = gradient()) {
          return Nd.read(g, size);
        }
    }
  }

  @Override
  public void write(Buffer buffer, float[] values) {
    checkOpen();
    if (values.length != size) {
      throw new IllegalArgumentException("djl: " + values.length + " values for " + size + " parameters");
    }
    switch (buffer) {
      case WEIGHTS -> Nd.write(weights, values, 0, size);
      case FIRST_MOMENT -> Nd.write(firstMoment, values, 0, size);
      case SECOND_MOMENT -> Nd.write(secondMoment, values, 0, size);
      case AVERAGE -> {
        if (average == null) {
          average = Nd.empty(manager, size);
          NDScope.unregister(average);
        }
        Nd.write(average, values, 0, size);
      }
      default -> {
        zeroGradients();
        written = Nd.fromArray(manager, values, size);
        NDScope.unregister(written);
      }
    }
  }

  @Override
  public void zeroGradients() {
    checkOpen();
    for (PtNDArray leaf : leaves) {
      if (leaf != null) {
        JniUtils.zeroGrad(leaf); // in place: libtorch then accumulates into the same tensor
      }
    }
    if (written != null) {
      written.close();
      written = null;
    }
  }

  /**
   * The flat gradient: the leaves' gradients concatenated in layout order (zeros for a leaf without one),
   * plus a written gradient.
   *
   * @return a new contiguous array on this store's manager; the caller closes it
   */
  private PtNDArray gradient() {
    PtNDArray[] parts = new PtNDArray[leaves.length];
    try {
      for (int i = 0; i < leaves.length; i++) {
        parts[i] = gradientView(i);
        if (parts[i] == null) {
          parts[i] = Nd.zeros(manager, offsets[i + 1] - offsets[i]);
        }
      }
      PtNDArray g = JniUtils.cat(parts, 0);
      if (written != null) {
        JniUtils.addi(g, written);
      }
      return g;
    } finally {
      for (int i = 0; i < leaves.length; i++) {
        if (parts[i] != null && parts[i] != gradients[i]) {
          parts[i].close();
        }
      }
    }
  }

  /**
   * A flat view of one leaf's gradient, or null while it has none (or no leaf).
   *
   * <p>libtorch creates a leaf's {@code .grad} in its first backward pass, with the leaf's (contiguous)
   * strides, and afterwards accumulates into that same tensor in place ({@code AccumulateGrad} without
   * {@code create_graph}); {@link #zeroGradients} zeroes it in place too. So the view is taken once and
   * stays valid: the gradient costs one concatenation per step, not a handle per parameter. A gradient that
   * is not contiguous (which libtorch does not create for a contiguous leaf) is copied each time instead.
   */
  private PtNDArray gradientView(int i) {
    if (gradients[i] != null || leaves[i] == null) {
      return gradients[i];
    }
    PtNDArray g = JniUtils.getGradient(leaves[i]);
    if (g == null) {
      return null;
    }
    PtNDArray flat = JniUtils.reshape(g, new long[] {-1});
    boolean view = Nd.isContiguous(g);
    g.close();
    if (view) {
      NDScope.unregister(flat);
      gradients[i] = flat;
    }
    return flat;
  }

  @Override
  public void adam(AdamUpdate u) {
    checkOpen();
    try (PtNDArray g = gradient()) {
      double rescale = 1;
      if (u.maxGradNorm() > 0) {
        double norm;
        try (PtNDArray n = JniUtils.norm(g, 2, new int[] {0}, false)) {
          norm = Nd.readScalar(n);
        }
        double coef = u.maxGradNorm() / (norm + 1e-6); // torch.nn.utils.clip_grad_norm_
        if (coef < 1) {
          rescale = coef;
        }
      }
      double bc1 = 1 - Math.pow(u.beta1(), u.step());
      double bc2Sqrt = Math.sqrt(1 - Math.pow(u.beta2(), u.step()));
      JniUtils.adamUpdate(
          weights,
          g,
          firstMoment,
          secondMoment,
          (float) u.learningRate(),
          (float) (u.learningRate() * bc2Sqrt / bc1),
          (float) u.weightDecay(),
          (float) rescale,
          -1f, // no elementwise clipping
          (float) u.beta1(),
          (float) u.beta2(),
          (float) (u.epsilon() * bc2Sqrt),
          false);
    }
  }

  @Override
  public void updateAverage(double decay) {
    checkOpen();
    if (average == null) {
      average = JniUtils.clone(weights);
      NDScope.unregister(average);
    }
    try (PtNDArray keep = Nd.scalar(manager, decay);
        PtNDArray take = Nd.scalar(manager, 1 - decay);
        PtNDArray part = JniUtils.mul(weights, take)) {
      JniUtils.muli(average, keep);
      JniUtils.addi(average, part);
    }
  }

  @Override
  public boolean hasAverage() {
    return average != null;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("djl: the parameters are closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      manager.close();
      backend.closed(this);
    }
  }
}
