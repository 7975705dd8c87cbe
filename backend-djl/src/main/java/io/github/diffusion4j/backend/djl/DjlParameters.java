package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
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
 * A parameter read by several kernels (a tied weight, or one network compiled twice) is one leaf for all the
 * kernels that view it with the same dimensions, and one more leaf per other view (a 1x1 convolution's {@code [out,
 * in, 1, 1]} of a linear layer's {@code [out, in]}): libtorch adds every use's gradient into the leaf's {@code
 * .grad}, a kernel differentiated by hand adds its own, and each leaf's gradient goes into the entry's slice of the
 * flat gradient, so the entry's gradient is the sum of all uses, as on the other backends.
 *
 * <p><b>Gradient.</b> libtorch's backward pass accumulates each leaf's gradient in the leaf's own {@code .grad},
 * so the gradient of a batch split into several passes is their sum. The store's gradient is one flat vector
 * plus what the leaves' {@code .grad}s hold and it has not collected yet: before the gradient is read or
 * used ({@link #read}, {@link #adam}), each leaf's {@code .grad} is added into the leaf's slice of the flat
 * vector and zeroed, so the optimiser then reads the flat vector without a further copy. That is two native
 * calls per leaf and step: each leaf's slice of the flat gradient is a view made once, with the leaf, and
 * each {@code .grad} is looked up once, when a backward pass has created it, since libtorch then only adds
 * into it and zeroes it in place (without grad mode, {@code AccumulateGrad} in
 * torch/csrc/autograd/functions/accumulate_grad.h adds a new gradient into a defined {@code .grad} in place;
 * DJL's {@code zeroGrad} calls {@code zero_()}). Passes tell the store when their backward pass has run
 * ({@link #backwardRan}); with no backward pass since the last collection the leaves' {@code .grad}s are known
 * to be zero and are not visited at all. (An earlier version
 * pointed each {@code .grad}'s storage at its slice with {@code torch.Tensor.set_}, saving those copies, about
 * 1% of a U-Net step; libtorch warns that {@code set_} under DJL's inference mode guard may give silently wrong
 * results, so it is not done.) The tests check the flat gradient against the reference backend's and finite
 * differences, over many steps and split batches.
 *
 * <p><b>Adam.</b> {@code torch.optim.Adam} with L2 weight decay, after clipping the gradient's global norm
 * ({@code clip_grad_norm_}): DJL's fused {@code adamUpdate} computes {@code w -= lr' m / (sqrt(v) + eps')}, and
 * {@code lr' = lr sqrt(bc2) / bc1}, {@code eps' = eps sqrt(bc2)} make that PyTorch's {@code w -= lr / bc1 * m /
 * (sqrt(v) / sqrt(bc2) + eps)}; the gradient's pending factor ({@link #scaleGradient}) times clipping's factor is
 * its {@code rescale_grad} argument, and it adds the weight decay to the (rescaled) gradient as PyTorch does.
 *
 * <p><b>Memory.</b> Every array lives on a sub-manager of the backend's root manager (closed by {@link
 * #close}), and is kept out of any DJL scope open on the calling thread; arrays a method creates for its own
 * use are closed before it returns. Kernels put their constants on its manager ({@link #constant}), so
 * they live as long as the parameters.
 *
 * <p>Not thread-safe for writes: the model serialises training and state access; concurrent predictions only
 * read the weights.
 */
final class DjlParameters implements ParameterStore {
  /**
   * Zeros written over the flat gradient by {@link #zeroGradients}, a block at a time; only ever read. One block for
   * the process: a new one per step was most of the Java heap a DJL training step allocated (64 KB a step, the
   * MLP's 128 MB a minute), and on a virtual machine every fresh page of heap is a costly first touch.
   */
  private static final byte[] ZEROS = new byte[1 << 16];

  private final DjlBackend backend;
  private final Map<String, int[]> layout;
  private final Map<String, Integer> index = new HashMap<>();
  private final int[] offsets;
  private final int size;
  private final PtNDManager manager;
  private final PtNDArray weights;
  private final PtNDArray firstMoment;
  private final PtNDArray secondMoment;
  /**
   * The autograd leaves, in the order kernels asked for them: one per entry and view dimensions (usually one per
   * entry, each entry being read by one layer).
   */
  private final List<Leaf> leaves = new ArrayList<>();
  /** The leaves of each entry that has any, by the entry's index. */
  private final Map<Integer, List<Leaf>> entryLeaves = new HashMap<>();
  /** Each leaf's record, by its array. */
  private final Map<PtNDArray, Leaf> leafIndex = new IdentityHashMap<>();
  /** Whether a backward pass may have added to the leaves' {@code .grad}s since they were last collected. */
  private boolean leafGradientsPending;
  /** The flat gradient, in layout order, less what the leaves' {@code .grad}s hold (see {@link #collect}). */
  private final PtNDArray gradient;
  /**
   * The factor the flat gradient's values are to be multiplied by to give the gradient (the loss's {@code 2
   * scale}, see {@link #scaleGradient}); NaN while the gradient is zero, when any factor will do.
   */
  private double gradientScale = Double.NaN;
  private PtNDArray average;
  /** {@link #chunks} of {@code weights, gradient, firstMoment, secondMoment}, made at the first update. */
  private PtNDArray[][] updateChunks;
  /** {@link #chunks} of {@link #average}, made at its first update. */
  private PtNDArray[] averageChunks;
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
    this.manager = (PtNDManager) backend.root().newSubManager();
    this.weights = PtArrays.zeros(manager, size);
    this.firstMoment = PtArrays.zeros(manager, size);
    this.secondMoment = PtArrays.zeros(manager, size);
    this.gradient = PtArrays.zeros(manager, size);
    NDScope.unregister(weights, firstMoment, secondMoment, gradient);
  }

  /** An autograd leaf and what the store keeps for it. */
  private static final class Leaf {
    /** The leaf: a view of the weights that records its gradient. */
    final PtNDArray array;
    /** Its dimensions. */
    final long[] dims;
    /** Its entry's slice of the flat gradient, with its dimensions (a view). */
    final PtNDArray gradientSlice;
    /** Its {@code .grad}, once a backward pass has created it (libtorch keeps it and adds into it). */
    private PtNDArray grad;

    Leaf(PtNDArray array, long[] dims, PtNDArray gradientSlice) {
      this.array = array;
      this.dims = dims;
      this.gradientSlice = gradientSlice;
    }

    /** Its {@code .grad}, looked up until a backward pass has created it; null before. */
    PtNDArray gradient() {
      if (grad == null) {
        PtNDArray g = JniUtils.getGradient(array);
        if (g != null) {
          NDScope.unregister(g);
          grad = g;
        }
      }
      return grad;
    }
  }

  /**
   * The autograd leaf of one entry: a view of the weights with the given dimensions that records its
   * gradient. Every kernel that asks for an entry with the same dimensions gets the same leaf, so libtorch sums
   * their uses' gradients in it; a view of other dimensions is a leaf of its own, whose gradient is added to the
   * same entry's.
   *
   * @param name the entry's state-dict name
   * @param dims the view's dimensions, whose product is the entry's size
   * @return the leaf, owned by this store
   * @throws IllegalArgumentException if there is no such entry, or the dimensions do not fit it
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
    List<Leaf> ofEntry = entryLeaves.computeIfAbsent(i, k -> new ArrayList<>(1));
    for (Leaf l : ofEntry) {
      if (Arrays.equals(l.dims, dims)) {
        return l.array;
      }
    }
    PtNDArray view = slice(weights, i, dims);
    JniUtils.attachGradient(view, true);
    Leaf l = new Leaf(view, dims.clone(), slice(gradient, i, dims));
    ofEntry.add(l);
    leaves.add(l);
    leafIndex.put(view, l);
    return view;
  }

  /** A view of entry {@code i}'s part of a flat vector with the given dimensions, kept out of any DJL scope. */
  private PtNDArray slice(PtNDArray vector, int i, long[] dims) {
    PtNDArray flat = (PtNDArray) vector.get(new NDIndex().addSliceDim(offsets[i], offsets[i + 1]));
    PtNDArray view = JniUtils.reshape(flat, dims);
    flat.close();
    NDScope.unregister(view);
    return view;
  }

  /**
   * Adds a gradient computed by a kernel's own backward pass to an entry's part of the flat gradient (a network
   * differentiated by hand, {@link DjlLayers#differentiation}).
   *
   * @param leaf the entry's leaf, as {@link #leaf} returned it
   * @param g the gradient, with the leaf's dimensions, for the loss gradient the pass fed back (whose factor the
   *     store has taken on, {@link #scaleGradient})
   * @throws IllegalArgumentException if the leaf is not one of this store's
   */
  void addGradient(PtNDArray leaf, PtNDArray g) {
    Leaf l = leafIndex.get(leaf);
    if (l == null) {
      throw new IllegalArgumentException("djl: not a parameter of this store");
    }
    JniUtils.addi(l.gradientSlice, g);
  }

  /**
   * A constant of a kernel: an array that lives as long as these parameters.
   *
   * @param values its values
   * @param dims its dimensions
   * @return the array, owned by this store and kept out of any DJL scope
   */
  PtNDArray constant(float[] values, long... dims) {
    PtNDArray a = PtArrays.fromArray(manager, values, dims);
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
        return PtArrays.read(weights, size);
      case FIRST_MOMENT:
        return PtArrays.read(firstMoment, size);
      case SECOND_MOMENT:
        return PtArrays.read(secondMoment, size);
      case AVERAGE:
        return PtArrays.read(average == null ? weights : average, size);
      default:
        collect();
        float[] g = PtArrays.read(gradient, size);
        double factor = gradientFactor();
        if (factor != 1) {
          for (int i = 0; i < g.length; i++) {
            g[i] = (float) (g[i] * factor);
          }
        }
        return g;
    }
  }

  @Override
  public void write(Buffer buffer, float[] values) {
    checkOpen();
    if (values.length != size) {
      throw new IllegalArgumentException("djl: " + values.length + " values for " + size + " parameters");
    }
    switch (buffer) {
      case WEIGHTS -> PtArrays.write(weights, values, 0, size);
      case FIRST_MOMENT -> PtArrays.write(firstMoment, values, 0, size);
      case SECOND_MOMENT -> PtArrays.write(secondMoment, values, 0, size);
      case AVERAGE -> {
        if (average == null) {
          average = PtArrays.empty(manager, size);
          NDScope.unregister(average);
        }
        PtArrays.write(average, values, 0, size);
      }
      default -> {
        zeroLeafGradients();
        PtArrays.write(gradient, values, 0, size);
        gradientScale = 1;
      }
    }
  }

  @Override
  public void zeroGradients() {
    checkOpen();
    zeroLeafGradients();
    if (size > 0) {
      ByteBuffer memory = PtArrays.view(gradient);
      while (memory.hasRemaining()) { // overwrites NaN too, which multiplying by zero would keep
        memory.put(ZEROS, 0, Math.min(ZEROS.length, memory.remaining()));
      }
    }
    gradientScale = Double.NaN;
  }

  /**
   * Takes on a constant factor of the gradient a backward pass is about to add: a backward pass may feed the
   * gradient {@code g / factor} when the store multiplies by {@code factor} afterwards, which it can do for
   * every pass of one gradient that has the same factor (the optimiser's fused update applies it for free).
   *
   * @param factor the factor of the coming backward pass, not zero
   * @return the factor the caller must still apply to what it feeds (1 when the store took all of it)
   */
  double scaleGradient(double factor) {
    if (Double.isNaN(gradientScale)) {
      gradientScale = factor;
      return 1;
    }
    return factor / gradientScale;
  }

  /**
   * Gives up the gradient's pending factor ({@link #scaleGradient}) before a backward pass that feeds the whole loss
   * gradient, one whose kernels read several stores (one fed gradient cannot suit each store's factor): multiplies
   * what the gradient holds by its factor, which is then 1, so that this pass and later ones, of this store alone
   * or with others, add to the gradient at its true scale. Without this, a pass of this store alone before or after
   * such a pass would apply its factor to the other pass's gradient as well.
   */
  void unscaleGradient() {
    if (!Double.isNaN(gradientScale) && gradientScale != 1 && size > 0) {
      collect();
      try (PtNDArray factor = PtArrays.scalar(manager, gradientScale)) {
        JniUtils.muli(gradient, factor);
      }
    }
    gradientScale = 1;
  }

  /** The factor to multiply the flat gradient's values by. */
  private double gradientFactor() {
    return Double.isNaN(gradientScale) ? 1 : gradientScale;
  }

  /**
   * Notes that a backward pass is about to add to the leaves' {@code .grad}s (called by a pass before it
   * starts libtorch's backward pass from a value computed from these parameters).
   */
  void backwardRan() {
    leafGradientsPending = true;
  }

  /**
   * Adds the {@code .grad} of every leaf that has one into the leaf's slice of the flat gradient and zeroes
   * it, so that the flat vector holds the whole gradient. Nothing to do when no backward pass has run since the
   * last time.
   */
  private void collect() {
    if (!leafGradientsPending) {
      return;
    }
    for (Leaf l : leaves) {
      PtNDArray g = l.gradient();
      if (g != null) {
        JniUtils.addi(l.gradientSlice, g);
        JniUtils.zeroGrad(l.array);
      }
    }
    leafGradientsPending = false;
  }

  /** Zeroes the {@code .grad} of every leaf that has one, unless no backward pass has run since the last time. */
  private void zeroLeafGradients() {
    if (!leafGradientsPending) {
      return;
    }
    for (Leaf l : leaves) {
      if (l.gradient() != null) {
        JniUtils.zeroGrad(l.array);
      }
    }
    leafGradientsPending = false;
  }

  /**
   * A store of fewer parameters than this updates them on the calling thread alone (its optimiser step and moving
   * average, each a few libtorch operations over the flat arrays): below it a parallel region's wake-up of the
   * other thread costs more than half the work saves.
   */
  static final int CONFINED_BELOW = 1 << 18;

  /** The confinement of an update of this store: the backend's for a small store, else none. */
  ThreadConfinement updateConfinement() {
    return size < CONFINED_BELOW ? backend.confineToCallingThread() : ThreadConfinement.NONE;
  }

  @Override
  public void adam(AdamUpdate u) {
    checkOpen();
    try (ThreadConfinement c = updateConfinement()) {
      adamUpdate(u);
    }
  }

  private void adamUpdate(AdamUpdate u) {
    collect();
    double rescale = gradientFactor();
    if (u.maxGradNorm() > 0) {
      double norm;
      try (PtNDArray n = JniUtils.norm(gradient, 2, new int[] {0}, false)) {
        norm = Math.abs(rescale) * PtArrays.readScalar(n);
      }
      double coef = u.maxGradNorm() / (norm + 1e-6); // torch.nn.utils.clip_grad_norm_
      if (coef < 1) {
        rescale *= coef;
      }
    }
    double bc1 = 1 - Math.pow(u.beta1(), u.step());
    double bc2Sqrt = Math.sqrt(1 - Math.pow(u.beta2(), u.step()));
    PtNDArray[][] c = updateChunks();
    for (int k = 0; k < c[0].length; k++) {
      JniUtils.adamUpdate(
          c[0][k],
          c[1][k],
          c[2][k],
          c[3][k],
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

  /**
   * The elements of the flat vectors an update (Adam's step, the moving average) visits at a time: 2^20 (4 MB a
   * vector). DJL's fused Adam ({@code adamUpdate} in DJL's ai_djl_pytorch_jni_PyTorchLibrary_optim.cc) makes five
   * temporaries the size of its arrays (a copy of the gradient, then {@code m lr}, {@code sqrt(v)}, its sum with
   * eps and the quotient) and passes over them a dozen times. Over the whole of a large store (the DDPM CIFAR-10
   * model's 143 MB) each temporary is a fresh mapping of memory, above the allocator's mmap threshold, whose pages
   * fault in on every step, and each pass streams from memory: about a third of a DJL training step of that model. A
   * chunk's temporaries come from the allocator's heap and are reused, and its passes stay in the cache. The
   * operations are elementwise, so chunks give the same bits as one call over the whole.
   */
  static final int UPDATE_CHUNK = 1 << 20;

  /** {@link #chunks} of {@code weights, gradient, firstMoment, secondMoment}, in that order. */
  private PtNDArray[][] updateChunks() {
    if (updateChunks == null) {
      updateChunks = new PtNDArray[][] {chunks(weights), chunks(gradient), chunks(firstMoment), chunks(secondMoment)};
    }
    return updateChunks;
  }

  /**
   * A flat vector of this store in {@link #UPDATE_CHUNK}s, in order: views owned by {@link #manager}, or the vector
   * itself where it fits one chunk.
   */
  private PtNDArray[] chunks(PtNDArray vector) {
    int n = (size + UPDATE_CHUNK - 1) / UPDATE_CHUNK;
    if (n <= 1) {
      return new PtNDArray[] {vector};
    }
    PtNDArray[] views = new PtNDArray[n];
    for (int k = 0; k < n; k++) {
      long from = (long) k * UPDATE_CHUNK;
      views[k] = JniUtils.slice(vector, 0, from, Math.min(size, from + UPDATE_CHUNK), 1);
      NDScope.unregister(views[k]);
    }
    return views;
  }

  @Override
  public void updateAverage(double decay) {
    checkOpen();
    try (ThreadConfinement c = updateConfinement()) {
      average(decay);
    }
  }

  private void average(double decay) {
    if (average == null) {
      average = JniUtils.clone(weights);
      NDScope.unregister(average);
    }
    if (averageChunks == null) { // the average is made here or by a state load, once, and never replaced
      averageChunks = chunks(average);
    }
    PtNDArray[] weightChunks = updateChunks()[0];
    try (PtNDArray keep = PtArrays.scalar(manager, decay);
        PtNDArray take = PtArrays.scalar(manager, 1 - decay)) {
      for (int k = 0; k < averageChunks.length; k++) {
        try (PtNDArray part = JniUtils.mul(weightChunks[k], take)) {
          JniUtils.muli(averageChunks[k], keep);
          JniUtils.addi(averageChunks[k], part);
        }
      }
    }
  }

  @Override
  public boolean hasAverage() {
    return average != null;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("djl: the parameters are closed (their model or backend was closed)");
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
