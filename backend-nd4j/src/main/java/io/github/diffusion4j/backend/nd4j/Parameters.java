package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.ParameterStore;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network's parameters in flat float32 vectors of the state dict's layout (entry after entry, each
 * row-major): the weights on the heap (the optimiser's copy) and in native memory (the kernels' copy, what
 * BLAS reads), the gradient in native memory (kernels add to it, often as the accumulating output of a
 * matrix product), Adam's two moments and the optional moving average on the heap.
 *
 * <p>Adam is one vectorised pass over Java arrays ({@link Kernels#adam}, PyTorch's {@code torch.optim.Adam}
 * after {@code clip_grad_norm_}) followed by one copy of the weights into native memory. Not thread-safe
 * for writing: the model serialises training and state access; any number of passes may read the weights
 * between updates.
 */
final class Parameters implements ParameterStore {
  private final Nd4jLayers owner;
  private final Map<String, int[]> layout;
  private final Map<String, Integer> offsets = new HashMap<>();
  private final int size;
  /** The weights, the source of truth. */
  final float[] weights;
  private final float[] gradient;
  private final float[] expAvg;
  private final float[] expAvgSq;
  private float[] average;
  private final INDArray nativeWeights;
  private final INDArray nativeGradient;
  private final FloatPointer weightsPointer;
  private final FloatPointer gradientPointer;
  private final FloatBuffer weightsBuffer;
  private final FloatBuffer gradientBuffer;
  private boolean closed;

  /**
   * Allocates zeroed vectors for a layout.
   *
   * @param owner the layers that track open stores (to close them with the backend)
   * @param layout names and shapes in state-dict order
   */
  Parameters(Nd4jLayers owner, Map<String, int[]> layout) {
    this.owner = owner;
    this.layout = Collections.unmodifiableMap(new LinkedHashMap<>(layout));
    long total = 0;
    for (Map.Entry<String, int[]> e : layout.entrySet()) {
      offsets.put(e.getKey(), (int) total);
      long k = 1;
      for (int d : e.getValue()) {
        k *= d;
      }
      total += k;
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("more than " + (Integer.MAX_VALUE - 8) + " parameters");
      }
    }
    this.size = (int) total;
    this.weights = new float[size];
    this.gradient = new float[size];
    this.expAvg = new float[size];
    this.expAvgSq = new float[size];
    INDArray w = Nd4jBackend.allocate(Math.max(1, size));
    INDArray g;
    try {
      g = Nd4jBackend.allocate(Math.max(1, size));
    } catch (RuntimeException | Error e) {
      w.close();
      throw e;
    }
    this.nativeWeights = w;
    this.nativeGradient = g;
    this.weightsPointer = (FloatPointer) w.data().addressPointer();
    this.gradientPointer = (FloatPointer) g.data().addressPointer();
    this.weightsBuffer = w.data().asNioFloat();
    this.gradientBuffer = g.data().asNioFloat();
    syncWeights();
    zeroGradients();
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
    return Blas.at(weightsPointer, offset);
  }

  /**
   * The native gradient at an offset, for BLAS.
   *
   * @param offset a parameter's offset
   * @return a pointer
   */
  FloatPointer gradientAt(int offset) {
    return Blas.at(gradientPointer, offset);
  }

  /**
   * The native gradient as a buffer, indexed absolutely.
   *
   * @return the buffer
   */
  FloatBuffer gradientBuffer() {
    return gradientBuffer;
  }

  private void syncWeights() {
    weightsBuffer.put(0, weights, 0, size);
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
    return switch (buffer) {
      case WEIGHTS -> weights.clone();
      case GRADIENTS -> {
        float[] g = new float[size];
        gradientBuffer.get(0, g, 0, size);
        yield g;
      }
      case FIRST_MOMENT -> expAvg.clone();
      case SECOND_MOMENT -> expAvgSq.clone();
      case AVERAGE -> (average == null ? weights : average).clone();
    };
  }

  @Override
  public void write(Buffer buffer, float[] values) {
    checkOpen();
    if (values.length != size) {
      throw new IllegalArgumentException(values.length + " values for a store of " + size + " parameters");
    }
    switch (buffer) {
      case WEIGHTS -> {
        System.arraycopy(values, 0, weights, 0, size);
        syncWeights();
      }
      case GRADIENTS -> gradientBuffer.put(0, values, 0, size);
      case FIRST_MOMENT -> System.arraycopy(values, 0, expAvg, 0, size);
      case SECOND_MOMENT -> System.arraycopy(values, 0, expAvgSq, 0, size);
      case AVERAGE -> average = values.clone();
    }
  }

  @Override
  public void zeroGradients() {
    checkOpen();
    Pointer.memset(gradientPointer, 0, (long) Math.max(1, size) * Float.BYTES);
  }

  @Override
  public void adam(AdamUpdate u) {
    checkOpen();
    gradientBuffer.get(0, gradient, 0, size);
    double scale = 1.0;
    if (u.maxGradNorm() > 0) {
      scale = Math.min(1.0, u.maxGradNorm() / (Kernels.norm(gradient) + 1e-6));
    }
    double bc1 = 1.0 - Math.pow(u.beta1(), u.step());
    double bc2 = 1.0 - Math.pow(u.beta2(), u.step());
    Kernels.adam(
        weights, gradient, expAvg, expAvgSq, scale, u.weightDecay(), u.beta1(), u.beta2(),
        u.learningRate() / bc1, 1.0 / Math.sqrt(bc2), u.epsilon());
    syncWeights();
  }

  @Override
  public void updateAverage(double decay) {
    checkOpen();
    if (average == null) {
      average = weights.clone();
    }
    Kernels.ema(average, weights, decay);
  }

  @Override
  public boolean hasAverage() {
    return average != null;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the parameters were closed (their model or backend was closed)");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      nativeWeights.close();
      nativeGradient.close();
      owner.forget(this);
    }
  }
}
