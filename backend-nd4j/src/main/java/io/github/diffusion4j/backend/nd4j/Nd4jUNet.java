package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The DDPM U-Net of {@link UNetSpec} on ND4J, with hand-written backward passes ({@link UNetNetwork}).
 *
 * <p><b>Weights.</b> One flat vector in state-dict order ({@link ModelState#inOrder}), so state dicts are
 * copies of ranges and Adam (with clipping and weight decay, PyTorch's semantics) is the same single pass
 * as the MLP's; the layers read the native copy in place.
 *
 * <p><b>Compute.</b> Activations are Java arrays in a channel-major layout; convolutions and the
 * attention's products are OpenBLAS calls on native buffers ({@link Conv2d}), the rest are loops the JIT
 * vectorises ({@link UNetKernels}).
 *
 * <p><b>Memory.</b> A batch runs in blocks of items ({@link #itemsPerPass}): a training step runs forward
 * and backward block by block and adds up the gradients, which equals the whole batch's gradient of the
 * mean squared error (every layer acts on each item alone), and the dropout masks are the whole batch's
 * (sliced per block). So the memory a step holds is bounded whatever the batch, and it lives in a
 * {@link UNetWorkspace} that is reused from step to step: after the first step of a batch size nothing is
 * allocated in native memory, and the Java arrays are the same ones. Measured for the default U-Net
 * (1x32x32) at batch 64: three passes of at most 22 items, 209 MB of Java arrays and 12 MB of native
 * buffers for training, and 61 MB and 7 MB more for each thread that predicts; VmRSS stayed within 6 MB
 * over 150 steps.
 *
 * <p><b>Threads.</b> {@link #predict} only reads the weights and borrows a workspace from a pool (as many
 * as calls have run at once, freed at close), so any number of threads may predict at once; its output is
 * a new tensor in the caller's scope.
 */
final class Nd4jUNet extends Nd4jModel {
  /** Floats a pass may keep by default (256 MB): the bound on the items of one pass. */
  static final long PASS_FLOATS = 1L << 26;

  private final UNetSpec spec;
  private final OptimizerSpec opt;
  private final long seed;
  private final UNetNetwork net;
  private final int channels;
  private final int positions;
  private final long perItem;
  private final long passFloats;
  private UNetWorkspace training;
  private INDArray prediction;
  private Shape predictionShape;
  private final WorkspacePool<UNetWorkspace> pool = new WorkspacePool<>();

  Nd4jUNet(Nd4jBackend backend, UNetSpec spec, OptimizerSpec opt, long seed) {
    this(backend, spec, opt, seed, PASS_FLOATS);
  }

  /**
   * A U-Net whose passes keep about {@code passFloats} floats (tests use small values to run batches in
   * many passes).
   */
  Nd4jUNet(Nd4jBackend backend, UNetSpec spec, OptimizerSpec opt, long seed, long passFloats) {
    super(backend, spec, spec.parameterShapes(), spec.parameterCount(), ModelState.inOrder(spec.parameterShapes()));
    this.spec = spec;
    this.opt = opt;
    this.seed = seed;
    this.net = new UNetNetwork(spec, state);
    this.channels = spec.imageShape().dim(0);
    this.positions = spec.imageShape().dim(1) * spec.imageShape().dim(2);
    this.perItem = net.floatsPerItem();
    this.passFloats = passFloats;
  }

  /**
   * The estimate of the floats a training pass keeps per item ({@link UNetNetwork#floatsPerItem}).
   *
   * @return the estimate
   */
  long floatsPerItem() {
    return perItem;
  }

  /**
   * The most items one pass takes: as many as keep about {@code passFloats} floats, at least one.
   *
   * @return the bound
   */
  int maxItemsPerPass() {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, passFloats / Math.max(1, perItem)));
  }

  /**
   * How many items each pass of a batch takes: the batch spread evenly over as few passes as
   * {@link #maxItemsPerPass} allows (64 items at most 26 a pass: 22, 22, 20).
   *
   * @param n the batch size
   * @return the items per pass (the last pass takes the rest)
   */
  int itemsPerPass(int n) {
    int passes = (n + maxItemsPerPass() - 1) / maxItemsPerPass();
    return (n + passes - 1) / passes;
  }

  /**
   * The floats held by every workspace, in Java arrays and in native buffers (for tests: constant once
   * every batch size in use has run).
   *
   * @return {@code {heap, native}}
   */
  long[] footprint() {
    List<UNetWorkspace> all = pool.all();
    if (training != null) {
      all.add(training);
    }
    long heap = 0;
    long nat = 0;
    for (UNetWorkspace ws : all) {
      heap += ws.heapFloats();
      nat += ws.nativeFloats();
    }
    return new long[] {heap, nat};
  }

  @Override
  public Tensor predict(Tensor noisy, int[] timesteps) {
    Nd4jTensor x = input(noisy, timesteps);
    Shape shape = noisy.shape();
    int n = shape.batch();
    int size = shape.size();
    UNetWorkspace ws = pool.take(w -> true, UNetWorkspace::new);
    INDArray out = null;
    try {
      float[] in = ws.batch(0, size);
      x.buffer().get(0, in, 0, size);
      float[] result = ws.batch(2, size);
      int per = itemsPerPass(n);
      for (int n0 = 0; n0 < n; n0 += per) {
        int nb = Math.min(per, n - n0);
        UNetNetwork.Pass pass = net.pass(ws, nb, false, n0, null);
        float[] xc = ws.take(channels * nb * positions);
        UNetKernels.toChannelMajor(in, n0, nb, channels, positions, xc);
        float[] y = pass.forward(xc, Arrays.copyOfRange(timesteps, n0, n0 + nb));
        UNetKernels.fromChannelMajor(y, nb, channels, positions, result, n0);
      }
      out = backend.allocate(shape);
      out.data().asNioFloat().put(0, result, 0, size);
    } catch (RuntimeException | Error e) {
      if (out != null) {
        out.close();
      }
      throw e;
    } finally {
      pool.give(ws);
    }
    return Nd4jTensor.owning(backend, shape, out);
  }

  /**
   * Forward and backward passes over a batch, block by block, adding the gradient of
   * {@code mean((out - target)^2)} into the (zeroed) state gradient.
   *
   * @param step the optimiser step whose dropout masks apply, or 0 for none
   * @param result where to write the output {@code [N, C, H, W]}, or null
   * @return the loss
   */
  private double train(Nd4jTensor x, int[] timesteps, Nd4jTensor target, long step, float[] result) {
    Shape shape = x.shape();
    int n = shape.batch();
    int size = shape.size();
    UNetWorkspace ws = trainingWorkspace();
    float[] in = ws.batch(0, size);
    float[] tg = ws.batch(1, size);
    x.buffer().get(0, in, 0, size);
    target.buffer().get(0, tg, 0, size);
    float[][] masks = step > 0 && spec.dropout() > 0 ? masks(step, n) : null;
    Arrays.fill(state.gradient, 0f);
    float scale = (float) (2.0 / size);
    double sse = 0;
    int per = itemsPerPass(n);
    for (int n0 = 0; n0 < n; n0 += per) {
      int nb = Math.min(per, n - n0);
      int len = channels * nb * positions;
      UNetNetwork.Pass pass = net.pass(ws, nb, true, n0, masks);
      float[] xc = ws.take(len);
      UNetKernels.toChannelMajor(in, n0, nb, channels, positions, xc);
      float[] y = pass.forward(xc, Arrays.copyOfRange(timesteps, n0, n0 + nb));
      if (result != null) {
        UNetKernels.fromChannelMajor(y, nb, channels, positions, result, n0);
      }
      float[] tc = ws.take(len);
      UNetKernels.toChannelMajor(tg, n0, nb, channels, positions, tc);
      float[] d = ws.take(len);
      sse += UNetKernels.squaredError(y, tc, d, len, scale);
      pass.backward(d);
    }
    return sse / size;
  }

  private UNetWorkspace trainingWorkspace() {
    if (training == null) {
      training = new UNetWorkspace();
    }
    return training;
  }

  /** Every block's dropout mask of a step, for the whole batch. */
  private float[][] masks(long step, int n) {
    List<UNetSpec.ResBlock> blocks = spec.resBlocks();
    float[][] masks = new float[blocks.size()][];
    for (int i = 0; i < masks.length; i++) {
      UNetSpec.ResBlock b = blocks.get(i);
      masks[i] = spec.dropoutMask(seed, step, i, n * spec.activation(b.level(), b.outChannels()).size());
    }
    return masks;
  }

  @Override
  public StepOutput step(Tensor noisy, int[] timesteps, Tensor target) {
    // first, so that the last prediction given back as an input fails instead of being overwritten
    invalidatePrediction();
    Nd4jTensor x = input(noisy, timesteps);
    Nd4jTensor y = target(target, noisy.shape());
    Shape shape = noisy.shape();
    float[] result = trainingWorkspace().batch(2, shape.size());
    double loss = train(x, timesteps, y, state.steps() + 1, result);
    state.adamStep(opt);
    if (prediction == null || !shape.equals(predictionShape)) {
      if (prediction != null) {
        prediction.close();
      }
      prediction = null;
      prediction = backend.allocate(shape);
      predictionShape = shape;
    }
    prediction.data().asNioFloat().put(0, result, 0, shape.size());
    return stepOutput(loss, shape, prediction);
  }

  @Override
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    Nd4jTensor x = input(noisy, timesteps);
    Nd4jTensor y = target(target, noisy.shape());
    train(x, timesteps, y, 0, null);
    return state.gradientDict();
  }

  @Override
  void closeResources() {
    if (training != null) {
      training.close();
      training = null;
    }
    pool.close();
    if (prediction != null) {
      prediction.close();
      prediction = null;
    }
  }
}
