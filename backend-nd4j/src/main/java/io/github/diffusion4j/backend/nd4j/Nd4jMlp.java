package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tutorial's MLP ({@link MlpSpec}) on ND4J: {@code Linear(k+1, h) -> ReLU -> Linear(h, k)} with the
 * scaled timestep as the first input, hand-written gradients and PyTorch's Adam.
 *
 * <h2>Layout</h2>
 *
 * All weights live in one flat native vector (so the optimiser, the moving average and checkpoints are
 * single passes), each layer stored as its weight matrix with the bias appended as a last column, and the
 * first layer's time column moved after the pixel columns:
 *
 * <pre>
 *   W1a [h, k+2]: row j = (W1[j, 1..k], W1[j, 0], b1[j])     input row = (x_1..x_k, t/T, 1)
 *   W2a [k, h+1]: row i = (W2[i, 0..h-1], b2[i])             hidden row = (relu(z_1..z_h), 1)
 * </pre>
 *
 * so that every product is one BLAS call on sub-matrices given by strides, with no copying of the input:
 * {@code Z = X W1a[:, :k]^T + [t/T, 1] W1a[:, k:]^T}, {@code Y = relu(Z) W2a[:, :h]^T + 1 W2a[:, h]^T}.
 * The state dict converts to and from PyTorch's names and layouts.
 *
 * <h2>Memory</h2>
 *
 * {@link #step} works in buffers preallocated for the batch size (reallocated only when it changes) and
 * allocates nothing else, so long training runs keep a flat resident size. {@link #predict} may run on
 * several threads: each call borrows a set of buffers from a pool (as many sets as calls have run at
 * once, each grown to the largest batch it served, freed when the model closes); only the output is
 * allocated per call. The weights, the optimiser's moments and the moving average are the
 * {@link ModelState} every model of this backend shares.
 */
final class Nd4jMlp extends Nd4jModel {
  private static final String[] NAMES = {MlpSpec.W1, MlpSpec.B1, MlpSpec.W2, MlpSpec.B2};

  private final MlpSpec spec;
  private final OptimizerSpec opt;
  private final int k;
  private final int h;
  /** Offset of W2a in the flat vector: the size of W1a. */
  private final int layer2;
  private final int size;

  private final INDArray grads;
  private final FloatPointer w1;
  private final FloatPointer w1Time;
  private final FloatPointer w2;
  private final FloatPointer b2;
  private final FloatPointer g1;
  private final FloatPointer g1Time;
  private final FloatPointer g2;
  private final FloatPointer gb2;

  private Workspace work;
  /** Prediction buffers not in use, and all of them (to free at close). */
  private final WorkspacePool<Workspace> scratches = new WorkspacePool<>();

  Nd4jMlp(Nd4jBackend backend, MlpSpec spec, OptimizerSpec opt) {
    super(backend, spec, spec.parameterShapes(), size(spec), new Layout(spec));
    this.spec = spec;
    this.opt = opt;
    this.k = spec.pixels();
    this.h = spec.hidden();
    this.layer2 = h * (k + 2);
    this.size = size(spec);
    this.grads = Nd4jBackend.allocate(size);
    FloatPointer p = state.params();
    FloatPointer g = (FloatPointer) grads.data().addressPointer();
    this.w1 = p;
    this.w1Time = Blas.at(p, k);
    this.w2 = Blas.at(p, layer2);
    this.b2 = Blas.at(p, layer2 + h);
    this.g1 = g;
    this.g1Time = Blas.at(g, k);
    this.g2 = Blas.at(g, layer2);
    this.gb2 = Blas.at(g, layer2 + h);
  }

  private static int size(MlpSpec spec) {
    int k = spec.pixels();
    int h = spec.hidden();
    return h * (k + 2) + k * (h + 1);
  }

  /**
   * Buffers for up to {@code rows} batch items; used by one thread at a time. A training workspace also
   * holds the output (the step's prediction, of the batch's exact shape) and the backward pass's buffers.
   */
  private final class Workspace implements AutoCloseable {
    final int rows;
    /** [rows, 2]: (t/T, 1) per row; its second column is the ones vector of the biases. */
    final INDArray time;
    /** [rows, h]: the hidden layer, pre-activation and then (in place) post-ReLU. */
    final INDArray hidden;
    /** The output, [N, C, H, W] (training only). */
    final INDArray out;
    /** [rows, k]: dLoss/dOutput (training only). */
    final INDArray dOut;
    /** [rows, h]: dLoss/dHidden (training only). */
    final INDArray dHidden;
    final FloatPointer timeP;
    final FloatPointer onesP;
    final FloatPointer hiddenP;
    final FloatBuffer timeB;
    final FloatBuffer hiddenB;

    Workspace(int rows, Shape training) {
      this.rows = rows;
      this.time = Nd4jBackend.allocate(2L * rows);
      this.hidden = Nd4jBackend.allocate((long) rows * h);
      this.out = training == null ? null : backend.allocate(training);
      this.dOut = training == null ? null : Nd4jBackend.allocate((long) rows * k);
      this.dHidden = training == null ? null : Nd4jBackend.allocate((long) rows * h);
      this.timeP = pointer(time);
      this.onesP = Blas.at(timeP, 1);
      this.hiddenP = pointer(hidden);
      this.timeB = time.data().asNioFloat();
      this.hiddenB = hidden.data().asNioFloat();
    }

    @Override
    public void close() {
      time.close();
      hidden.close();
      if (out != null) {
        out.close();
        dOut.close();
        dHidden.close();
      }
    }
  }

  private static FloatPointer pointer(INDArray a) {
    return (FloatPointer) a.data().addressPointer();
  }

  /** Forward pass of {@code n = timesteps.length} items: fills time, hidden (post-ReLU) and out. */
  private void forward(FloatPointer x, int[] timesteps, Workspace w, FloatPointer out) {
    int n = timesteps.length;
    double tMax = spec.numTrainTimesteps();
    for (int i = 0; i < n; i++) {
      w.timeB.put(2 * i, (float) (timesteps[i] / tMax));
      w.timeB.put(2 * i + 1, 1f);
    }
    // Z = X W1[:, pixels]^T + (t/T, 1) [W1[:, time], b1]^T
    Blas.gemm(false, true, n, h, k, x, k, w1, k + 2, 0f, w.hiddenP, h);
    Blas.gemm(false, true, n, h, 2, w.timeP, 2, w1Time, k + 2, 1f, w.hiddenP, h);
    Kernels.relu(w.hiddenB, n * h);
    // Y = A W2^T + 1 b2^T
    Blas.gemm(false, true, n, k, h, w.hiddenP, h, w2, h + 1, 0f, out, k);
    Blas.gemm(false, true, n, k, 1, w.onesP, 2, b2, h + 1, 1f, out, k);
  }

  /** Backward pass of {@code n} items after {@link #forward}: the loss; the gradient in {@link #grads}. */
  private double backward(FloatPointer x, FloatBuffer target, int n, Workspace w) {
    FloatPointer dOut = pointer(w.dOut);
    FloatPointer dHidden = pointer(w.dHidden);
    double loss =
        Kernels.mse(w.out.data().asNioFloat(), target, w.dOut.data().asNioFloat(), n * k,
            (float) (2.0 / ((double) n * k)));
    // layer 2: dW2 = D^T A, db2 = D^T 1, dA = D W2
    Blas.gemm(true, false, k, h, n, dOut, k, w.hiddenP, h, 0f, g2, h + 1);
    Blas.gemvTransposed(n, k, dOut, k, w.onesP, 2, gb2, h + 1);
    Blas.gemm(false, false, n, h, k, dOut, k, w2, h + 1, 0f, dHidden, h);
    Kernels.reluBackward(w.dHidden.data().asNioFloat(), w.hiddenB, n * h);
    // layer 1: dW1[:, pixels] = dZ^T X, [dW1[:, time], db1] = dZ^T (t/T, 1)
    Blas.gemm(true, false, h, k, n, dHidden, h, x, k, 0f, g1, k + 2);
    Blas.gemm(true, false, h, 2, n, dHidden, h, w.timeP, 2, 0f, g1Time, k + 2);
    return loss;
  }

  @Override
  public Tensor predict(Tensor noisy, int[] timesteps) {
    Nd4jTensor x = input(noisy, timesteps);
    FloatPointer xp = x.pointer();
    INDArray out = backend.allocate(noisy.shape());
    int rows = timesteps.length;
    Workspace w = scratches.take(s -> s.rows >= rows, () -> new Workspace(rows, null));
    try {
      forward(xp, timesteps, w, pointer(out));
    } catch (RuntimeException | Error e) {
      out.close();
      throw e;
    } finally {
      scratches.give(w);
    }
    return Nd4jTensor.owning(backend, noisy.shape(), out);
  }

  /** The training buffers for a batch shape, reallocated when the batch size changes. */
  private Workspace trainingWorkspace(Shape shape) {
    if (work == null || work.rows != shape.batch()) {
      if (work != null) {
        work.close();
      }
      work = null;
      work = new Workspace(shape.batch(), shape);
    }
    return work;
  }

  @Override
  public StepOutput step(Tensor noisy, int[] timesteps, Tensor target) {
    // first, so that the last prediction given back as an input fails instead of being overwritten
    invalidatePrediction();
    Nd4jTensor x = input(noisy, timesteps);
    FloatBuffer t = target(target, noisy.shape()).buffer();
    FloatPointer xp = x.pointer();
    Workspace w = trainingWorkspace(noisy.shape());
    forward(xp, timesteps, w, pointer(w.out));
    double loss = backward(xp, t, timesteps.length, w);
    grads.data().asNioFloat().get(0, state.gradient);
    state.adamStep(opt);
    return stepOutput(loss, noisy.shape(), w.out);
  }

  @Override
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    Nd4jTensor x = input(noisy, timesteps);
    FloatBuffer t = target(target, noisy.shape()).buffer();
    FloatPointer xp = x.pointer();
    try (Workspace w = new Workspace(timesteps.length, noisy.shape())) {
      forward(xp, timesteps, w, pointer(w.out));
      backward(xp, t, timesteps.length, w);
    }
    grads.data().asNioFloat().get(0, state.gradient);
    return state.gradientDict();
  }

  // ---- state dicts: PyTorch layout <-> internal layout ------------------------------------------

  /**
   * The codec between the internal layout (bias columns appended, the time column moved last) and
   * PyTorch's {@code fc1}/{@code fc2} weights and biases.
   */
  private static final class Layout implements ModelState.Codec {
    private final MlpSpec spec;
    private final int k;
    private final int h;
    private final int layer2;

    Layout(MlpSpec spec) {
      this.spec = spec;
      this.k = spec.pixels();
      this.h = spec.hidden();
      this.layer2 = h * (k + 2);
    }

    @Override
    public StateDict toStateDict(float[] flat, String suffix) {
      float[] wt1 = new float[h * (k + 1)];
      float[] bs1 = new float[h];
      float[] wt2 = new float[k * h];
      float[] bs2 = new float[k];
      for (int j = 0; j < h; j++) {
        int row = j * (k + 2);
        wt1[j * (k + 1)] = flat[row + k];
        System.arraycopy(flat, row, wt1, j * (k + 1) + 1, k);
        bs1[j] = flat[row + k + 1];
      }
      for (int i = 0; i < k; i++) {
        int row = layer2 + i * (h + 1);
        System.arraycopy(flat, row, wt2, i * h, h);
        bs2[i] = flat[row + h];
      }
      Map<String, int[]> shapes = spec.parameterShapes();
      float[][] values = {wt1, bs1, wt2, bs2};
      StateDict.Builder b = StateDict.builder();
      for (int i = 0; i < NAMES.length; i++) {
        b.put(NAMES[i] + suffix, FloatArray.wrap(Shape.of(shapes.get(NAMES[i])), values[i]));
      }
      return b.build();
    }

    @Override
    public void fromStateDict(StateDict d, String suffix, float[] flat) {
      float[] wt1 = d.get(MlpSpec.W1 + suffix).toArray();
      float[] bs1 = d.get(MlpSpec.B1 + suffix).toArray();
      float[] wt2 = d.get(MlpSpec.W2 + suffix).toArray();
      float[] bs2 = d.get(MlpSpec.B2 + suffix).toArray();
      for (int j = 0; j < h; j++) {
        int row = j * (k + 2);
        System.arraycopy(wt1, j * (k + 1) + 1, flat, row, k);
        flat[row + k] = wt1[j * (k + 1)];
        flat[row + k + 1] = bs1[j];
      }
      for (int i = 0; i < k; i++) {
        int row = layer2 + i * (h + 1);
        System.arraycopy(wt2, i * h, flat, row, h);
        flat[row + h] = bs2[i];
      }
    }
  }

  @Override
  void closeResources() {
    if (work != null) {
      work.close();
      work = null;
    }
    scratches.close();
    grads.close();
  }
}
