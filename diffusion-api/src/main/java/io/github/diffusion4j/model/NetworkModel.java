package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.ParameterStore.Buffer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TrainableModel} for any {@link ModelSpec}, on any backend: it evaluates the spec's
 * {@link Network} through the backend's {@link LayerBackend} (its kernels, passes and parameter store).
 * This is the one place where networks run; backends implement layer kinds, never networks.
 *
 * <p><b>Evaluation.</b> Nodes run in order. Sources are computed here (the batch itself, the scaled
 * timestep, the sinusoidal embedding) and handed to the backend as data. In prediction a value is given back
 * as soon as its last reader has run, so memory follows the network's live set, not its size. A batch is
 * split into passes of about {@link LayerBackend#passMemoryBytes()} of activations (one pass when it
 * fits; passes hold multiples of four items, so one may hold up to three items more than the budget); training accumulates the gradient over the passes, so the result does not depend on the split.
 *
 * <p><b>Training.</b> {@link #step} zeroes the gradient, runs each pass forward (with the portable dropout
 * masks of {@link Layer.Dropout#mask}), takes the mean-squared-error loss and its gradient, and runs the
 * backward pass: the kernels' hand-written backward passes in reverse order, summing the gradients of values
 * read by several nodes ({@link LayerBackend.Differentiation#MANUAL}), or the backend's own autograd
 * ({@link LayerBackend.Differentiation#AUTOGRAD}), as the backend chooses for the network; then one Adam
 * update in the parameter store.
 *
 * <p>{@link #predict} may run on several threads at once (each call has its own passes); {@link #step} and
 * the state methods must not run concurrently with each other or with {@code predict}.
 */
public final class NetworkModel implements TrainableModel {
  private static final String EXP_AVG = ".exp_avg";
  private static final String EXP_AVG_SQ = ".exp_avg_sq";
  private static final String STEP = "step";

  /**
   * The multiple of items that a split batch's passes hold ({@link #passSizes}): a backend shares a pass's
   * items over its threads, and multiples of four share evenly over one, two or four of them (ND4J also adds
   * a convolution's weight gradient in four fixed groups of images). The default U-Net's training at two
   * threads on ND4J, passes of 16, 12, 12, 12 and 12 images against 13, 13, 13, 13 and 12, alternating in one
   * process: 4-5% faster a step; at one thread no different (docs/benchmarks.md).
   */
  static final int PASS_QUANTUM = 4;

  private final ModelSpec spec;
  private final Network network;
  private final LayerBackend layers;
  private final TensorFactory tensors;
  private final OptimizerSpec optimizer;
  private final long seed;
  private final ParameterStore parameters;
  private final Kernel[] kernels;
  private final boolean[] needsGradient;
  /** Whether the backend differentiates this network with its own autograd, rather than by the kernels. */
  private final boolean autograd;
  /** In prediction: each node's input ids with dropouts skipped (a dropout's own entry is null). */
  private final int[][] predictInputs;
  /** In prediction: the last node that reads each node (through skipped dropouts). */
  private final int[] predictLastUse;
  private final Map<String, int[]> layout;
  private final int[] offsets;
  private long steps;
  private volatile boolean closed;

  private NetworkModel(
      ModelSpec spec, Network network, LayerBackend layers, TensorFactory tensors, OptimizerSpec optimizer, long seed) {
    if (!network.inputShape().equals(spec.imageShape())) {
      // checked before any parameter is allocated: a backend would otherwise read the batch with the spec's
      // shape through kernels planned for the network's (an index error on one backend, silently another
      // function on the other)
      throw new IllegalArgumentException(
          spec.kind() + ": the network's input " + network.inputShape() + " is not the spec's image shape "
              + spec.imageShape());
    }
    this.spec = spec;
    this.network = network;
    this.layers = layers;
    this.tensors = tensors;
    this.optimizer = optimizer;
    this.seed = seed;
    this.layout = network.parameterShapes();
    this.offsets = offsets(layout);
    this.parameters = layers.parameters(layout);
    int n = network.size();
    this.kernels = new Kernel[n];
    this.needsGradient = new boolean[n];
    this.autograd = layers.differentiation(network) == LayerBackend.Differentiation.AUTOGRAD;
    this.predictInputs = new int[n][];
    this.predictLastUse = new int[n];
    try {
      for (Node node : network.nodes()) {
        if (!node.layer().isSource()) {
          try {
            kernels[node.id()] = layers.kernel(network, node, parameters);
          } catch (UnsupportedOperationException e) {
            // the backend's own words need not say which model or node (Backend.createModel adds the backend)
            throw new UnsupportedOperationException("model '" + spec.kind() + "': node " + node.id() + " ("
                + node.layer() + "): " + e.getMessage(), e);
          }
        }
        boolean needs = !node.layer().parameterNames().isEmpty();
        for (int in : node.inputs()) {
          needs |= needsGradient[in];
        }
        needsGradient[node.id()] = needs;
      }
    } catch (Throwable e) { // an Error too (out of memory): the store's memory is native
      parameters.close();
      throw e;
    }
    int[] resolved = new int[n];
    for (Node node : network.nodes()) {
      int id = node.id();
      resolved[id] = node.layer() instanceof Layer.Dropout ? resolved[node.inputs().get(0)] : id;
      predictLastUse[id] = id;
      if (!(node.layer() instanceof Layer.Dropout)) {
        int[] ins = new int[node.inputs().size()];
        for (int i = 0; i < ins.length; i++) {
          ins[i] = resolved[node.inputs().get(i)];
          predictLastUse[ins[i]] = Math.max(predictLastUse[ins[i]], id);
        }
        predictInputs[id] = ins;
      }
    }
    predictLastUse[resolved[network.output()]] = n;
  }

  /**
   * Builds a model for a spec on a backend and loads the spec's portable initial weights.
   *
   * @param spec the architecture
   * @param layers the backend's layer SPI
   * @param tensors the backend's tensors
   * @param optimizer the optimiser of {@link #step}
   * @param seed the seed of the initial weights and the dropout masks
   * @return the model
   */
  public static NetworkModel create(
      ModelSpec spec, LayerBackend layers, TensorFactory tensors, OptimizerSpec optimizer, long seed) {
    NetworkModel m = new NetworkModel(spec, spec.network(), layers, tensors, optimizer, seed);
    try {
      m.loadStateDict(spec.initialWeights(seed));
    } catch (Throwable e) { // an Error, or a checked exception from a spec in Kotlin, which declares none
      m.close();
      throw e;
    }
    return m;
  }

  /**
   * The network this model evaluates.
   *
   * @return the network
   */
  public Network network() {
    return network;
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  // ------------------------------------------------------------------ inputs and passes

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(spec.kind() + " model is closed");
    }
  }

  private void checkInput(Tensor noisy, int[] timesteps, String what) {
    checkOpen();
    Shape s = noisy.shape();
    Shape image = spec.imageShape();
    if (s.rank() != image.rank() + 1 || !s.item().equals(image)) {
      throw new IllegalArgumentException(
          spec.kind() + ": " + what + " must have shape [N, " + image.toCompactString().replace("x", ", ")
              + "], got " + s);
    }
    if (timesteps == null || timesteps.length != s.batch()) {
      throw new IllegalArgumentException(
          spec.kind() + ": expected " + s.batch() + " timesteps (one per item), got "
              + (timesteps == null ? "none" : timesteps.length));
    }
    int t = spec.numTrainTimesteps();
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] < 0 || timesteps[i] >= t) {
        throw new IllegalArgumentException(
            spec.kind() + ": timestep " + timesteps[i] + " at index " + i + " is outside [0, " + t + ")");
      }
    }
  }

  /** The items of each pass of a batch on this model's backend ({@link #passSizes(int, long)}). */
  private int[] passSizes(int batch, boolean training) {
    long budget = layers.passMemoryBytes();
    long perItem = 4L * Math.max(1, network.activationFloatsPerItem(training));
    return passSizes(batch, budget == Long.MAX_VALUE ? batch : Math.max(1, budget / perItem));
  }

  /**
   * The items of each pass: one pass where the backend's memory budget ({@link LayerBackend#passMemoryBytes})
   * holds the batch; otherwise as many passes as the budget needs, their sizes spread evenly in whole
   * multiples of {@link #PASS_QUANTUM} items (the last one gives back what the batch lacks): 64 items with room
   * for 13 a pass in passes of 16, 12, 12, 12 and 12, not 13, 13, 13, 13 and 12 (nor 26, 26 and 12). A pass may
   * so hold up to {@code PASS_QUANTUM - 1} items more than the budget. With room for fewer than
   * {@code PASS_QUANTUM} items the sizes are spread evenly item by item. The sizes depend on the batch and the
   * budget only, never on the backend's threads.
   *
   * @param batch the batch's items, at least 1
   * @param items the items the budget holds, at least 1
   * @return the items of each pass, in order; they add up to {@code batch}
   */
  static int[] passSizes(int batch, long items) {
    if (items >= batch) {
      return new int[] {batch};
    }
    int passes = (int) ((batch + items - 1) / items);
    int quantum = items >= PASS_QUANTUM ? PASS_QUANTUM : 1;
    int units = (batch + quantum - 1) / quantum;
    int[] sizes = new int[passes];
    for (int i = 0; i < passes; i++) {
      sizes[i] = (units / passes + (i < units % passes ? 1 : 0)) * quantum;
    }
    sizes[passes - 1] -= units * quantum - batch;
    return sizes;
  }

  private Value source(Node node, Pass pass, Tensor x, int[] timesteps, int from) {
    int nb = pass.items();
    Layer l = node.layer();
    if (l instanceof Layer.Input) {
      return pass.input(x, from);
    }
    if (l instanceof Layer.TimestepScale s) {
      float[] v = new float[nb];
      for (int i = 0; i < nb; i++) {
        v[i] = (float) (timesteps[from + i] / s.divisor());
      }
      return pass.host(v, node.itemShape());
    }
    if (l instanceof Layer.TimestepEmbedding e) {
      // a pass over the whole batch (the usual case) reads the caller's array, which compute does not change
      int[] ts = from == 0 && nb == timesteps.length ? timesteps : Arrays.copyOfRange(timesteps, from, from + nb);
      return pass.host(e.compute(ts), node.itemShape());
    }
    throw new IllegalStateException("not a source: " + l);
  }

  // ------------------------------------------------------------------ prediction

  @Override
  public Tensor predict(Tensor noisy, int[] timesteps) {
    checkInput(noisy, timesteps, "input");
    int batch = noisy.shape().batch();
    int[] sizes = passSizes(batch, false);
    if (sizes.length == 1) {
      try (Pass pass = layers.open(network, batch, false)) {
        return predictPass(pass, noisy, timesteps, 0, noisy.shape());
      }
    }
    float[] out = new float[noisy.shape().size()];
    int item = noisy.shape().itemSize();
    for (int i = 0, from = 0; i < sizes.length; from += sizes[i++]) {
      int nb = sizes[i];
      try (TensorScope scope = tensors.openScope();
          Pass pass = layers.open(network, nb, false)) {
        float[] part = predictPass(pass, noisy, timesteps, from, noisy.shape().withBatch(nb)).toFloatArray();
        System.arraycopy(part, 0, out, from * item, part.length);
      }
    }
    return tensors.fromArray(out, noisy.shape());
  }

  private Tensor predictPass(Pass pass, Tensor x, int[] timesteps, int from, Shape outShape) {
    int n = network.size();
    Value[] values = new Value[n];
    for (Node node : network.nodes()) {
      int id = node.id();
      // an interrupted thread ends the pass between two layers (a 256x256 U-Net's pass over a batch takes a minute:
      // Ctrl-C waited for it); the pass's values are released as it closes
      if (Thread.currentThread().isInterrupted()) {
        throw new java.util.concurrent.CancellationException(
            spec.kind() + ": interrupted during a prediction pass, before layer " + (id + 1) + " of " + n);
      }
      if (predictInputs[id] == null) {
        continue; // a dropout: the identity in prediction
      }
      if (node.layer().isSource()) {
        values[id] = source(node, pass, x, timesteps, from);
      } else {
        int[] ins = predictInputs[id];
        Value[] in = new Value[ins.length];
        for (int i = 0; i < ins.length; i++) {
          in[i] = values[ins[i]];
        }
        values[id] = kernels[id].forward(in, pass, null);
        for (int i : ins) {
          if (predictLastUse[i] == id && values[i] != null) {
            pass.release(values[i]);
            values[i] = null;
          }
        }
      }
      if (predictLastUse[id] == id && values[id] != null) {
        pass.release(values[id]);
        values[id] = null;
      }
    }
    int out = network.output();
    while (predictInputs[out] == null) {
      out = network.node(out).inputs().get(0);
    }
    return pass.output(values[out], outShape);
  }

  // ------------------------------------------------------------------ training

  /** The loss over the batch and the prediction, with the gradient accumulated in the store. */
  private record Accumulated(double loss, Tensor prediction) {}

  private Accumulated accumulateGradients(Tensor noisy, int[] timesteps, Tensor target, long step, boolean keepPrediction) {
    parameters.zeroGradients();
    int batch = noisy.shape().batch();
    int[] sizes = passSizes(batch, true);
    double scale = 1.0 / noisy.shape().size();
    double loss = 0;
    float[][] masks = new float[network.size()][];
    if (sizes.length == 1) {
      try (Pass pass = layers.open(network, batch, true)) {
        TrainingPass t = new TrainingPass(pass, noisy, timesteps, 0, step, masks);
        Tensor prediction = keepPrediction ? pass.output(t.values[network.output()], noisy.shape()) : null;
        loss = t.lossAndBackward(target, scale);
        return new Accumulated(loss, prediction);
      }
    }
    float[] out = keepPrediction ? new float[noisy.shape().size()] : null;
    int item = noisy.shape().itemSize();
    for (int i = 0, from = 0; i < sizes.length; from += sizes[i++]) {
      int nb = sizes[i];
      try (TensorScope scope = tensors.openScope();
          Pass pass = layers.open(network, nb, true)) {
        TrainingPass t = new TrainingPass(pass, noisy, timesteps, from, step, masks);
        if (keepPrediction) {
          float[] part = pass.output(t.values[network.output()], noisy.shape().withBatch(nb)).toFloatArray();
          System.arraycopy(part, 0, out, from * item, part.length);
        }
        loss += t.lossAndBackward(target, scale);
      }
    }
    return new Accumulated(loss, keepPrediction ? tensors.fromArray(out, noisy.shape()) : null);
  }

  /** One training pass: the forward values, then the loss and the backward pass. */
  private final class TrainingPass {
    final Pass pass;
    final int from;
    final Value[] values;
    final Value[] masks;
    final Saved[] saved;

    /**
     * Runs the forward pass.
     *
     * @param step the optimiser step whose dropout masks apply; 0 for none (all-ones masks)
     * @param fullMasks each dropout node's mask over the whole batch, filled on first use
     */
    TrainingPass(Pass pass, Tensor x, int[] timesteps, int from, long step, float[][] fullMasks) {
      this.pass = pass;
      this.from = from;
      int n = network.size();
      this.values = new Value[n];
      this.masks = new Value[n];
      this.saved = new Saved[n];
      int nb = pass.items();
      for (Node node : network.nodes()) {
        int id = node.id();
        if (node.layer().isSource()) {
          values[id] = source(node, pass, x, timesteps, from);
          continue;
        }
        List<Integer> ins = node.inputs();
        Value[] in = new Value[ins.size() + (node.layer() instanceof Layer.Dropout ? 1 : 0)];
        for (int i = 0; i < ins.size(); i++) {
          in[i] = values[ins.get(i)];
        }
        if (node.layer() instanceof Layer.Dropout d) {
          int item = node.itemSize();
          float[] full = fullMasks[id];
          if (full == null) {
            full = new float[x.shape().batch() * item];
            if (step > 0) {
              full = d.mask(seed, step, full.length);
            } else {
              Arrays.fill(full, 1f);
            }
            fullMasks[id] = full;
          }
          masks[id] = pass.host(Arrays.copyOfRange(full, from * item, (from + nb) * item), node.itemShape());
          in[ins.size()] = masks[id];
        }
        saved[id] = new Saved();
        values[id] = kernels[id].forward(in, pass, saved[id]);
      }
    }

    double lossAndBackward(Tensor target, double scale) {
      Value out = values[network.output()];
      if (autograd) {
        return pass.mseBackward(out, target, from, scale);
      }
      Pass.Loss loss = pass.mse(out, target, from, scale);
      backward(loss.gradient());
      return loss.value();
    }

    /** Reverse-mode through the kernels, counting references to gradients that several inputs share. */
    private void backward(Value lossGradient) {
      int n = network.size();
      Value[] grads = new Value[n];
      IdentityHashMap<Value, Integer> refs = new IdentityHashMap<>();
      grads[network.output()] = lossGradient;
      refs.put(lossGradient, 1);
      for (int id = n - 1; id >= 0; id--) {
        Node node = network.node(id);
        Value g = grads[id];
        grads[id] = null;
        if (g != null && !node.layer().isSource()) {
          List<Integer> ins = node.inputs();
          Value[] in = new Value[ins.size() + (masks[id] != null ? 1 : 0)];
          boolean[] needed = new boolean[in.length];
          for (int i = 0; i < ins.size(); i++) {
            in[i] = values[ins.get(i)];
            needed[i] = needsGradient[ins.get(i)];
          }
          if (masks[id] != null) {
            in[ins.size()] = masks[id];
          }
          Value[] gin = kernels[id].backward(g, in, values[id], needed, pass, saved[id]);
          for (int i = 0; i < ins.size(); i++) {
            if (needed[i] && gin[i] != null) {
              int target = ins.get(i);
              Value old = grads[target];
              Value sum = gin[i];
              refs.merge(sum, 1, Integer::sum);
              if (old != null) {
                Value added = pass.accumulate(old, sum);
                unref(refs, old);
                unref(refs, sum);
                refs.merge(added, 1, Integer::sum);
                sum = added;
              }
              grads[target] = sum;
            }
          }
        }
        if (g != null) {
          unref(refs, g);
        }
        saved[id] = null;
        if (masks[id] != null) {
          pass.release(masks[id]);
          masks[id] = null;
        }
        if (values[id] != null) {
          pass.release(values[id]);
          values[id] = null;
        }
      }
    }

    private void unref(IdentityHashMap<Value, Integer> refs, Value v) {
      Integer c = refs.get(v);
      if (c == null || c <= 1) {
        refs.remove(v);
        pass.release(v);
      } else {
        refs.put(v, c - 1);
      }
    }
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target) {
    return step(noisy, timesteps, target, optimizer.learningRate());
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target, double learningRate) {
    if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException(spec.kind() + ": the learning rate must be finite and at least 0, got "
          + learningRate);
    }
    checkInput(noisy, timesteps, "input");
    checkTarget(noisy, target);
    Accumulated a = accumulateGradients(noisy, timesteps, target, steps + 1, true);
    steps++;
    parameters.adam(
        new ParameterStore.AdamUpdate(
            learningRate, optimizer.beta1(), optimizer.beta2(), optimizer.epsilon(),
            optimizer.weightDecay(), optimizer.maxGradNorm(), steps));
    return new TrainingStepResult(a.loss(), a.prediction());
  }

  @Override
  public java.util.Optional<OptimizerSpec> optimizer() {
    return java.util.Optional.ofNullable(optimizer);
  }

  private void checkTarget(Tensor noisy, Tensor target) {
    if (target == null || !target.shape().equals(noisy.shape())) {
      throw new IllegalArgumentException(
          spec.kind() + ": target must have the input's shape " + noisy.shape() + ", got "
              + (target == null ? "none" : target.shape()));
    }
  }

  @Override
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    checkInput(noisy, timesteps, "input");
    checkTarget(noisy, target);
    accumulateGradients(noisy, timesteps, target, 0, false);
    return split(parameters.read(Buffer.GRADIENTS), "");
  }

  // ------------------------------------------------------------------ state

  @Override
  public long stepCount() {
    return steps;
  }

  private static int[] offsets(Map<String, int[]> layout) {
    int[] off = new int[layout.size() + 1];
    int i = 0;
    long total = 0;
    for (int[] s : layout.values()) {
      long k = 1;
      for (int d : s) {
        k *= d;
      }
      total += k;
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("the model has more than " + (Integer.MAX_VALUE - 8) + " parameters");
      }
      off[++i] = (int) total;
    }
    return off;
  }

  private StateDict split(float[] flat, String suffix) {
    StateDict.Builder b = StateDict.builder();
    int i = 0;
    for (Map.Entry<String, int[]> e : layout.entrySet()) {
      b.put(e.getKey() + suffix, FloatArray.wrap(Shape.of(e.getValue()), Arrays.copyOfRange(flat, offsets[i], offsets[i + 1])));
      i++;
    }
    return b.build();
  }

  private float[] join(StateDict d, String suffix) {
    float[] flat = new float[offsets[offsets.length - 1]];
    int i = 0;
    for (String name : layout.keySet()) {
      d.get(name + suffix).copyTo(flat, offsets[i++]);
    }
    return flat;
  }

  private Map<String, int[]> optimizerLayout() {
    Map<String, int[]> m = new LinkedHashMap<>();
    for (String suffix : new String[] {EXP_AVG, EXP_AVG_SQ}) {
      layout.forEach((k, v) -> m.put(k + suffix, v));
    }
    m.put(STEP, new int[] {1});
    return m;
  }

  @Override
  public StateDict stateDict() {
    checkOpen();
    return split(parameters.read(Buffer.WEIGHTS), "");
  }

  @Override
  public void loadStateDict(StateDict weights) {
    checkOpen();
    weights.requireLayout(layout, spec.kind() + " weights");
    parameters.write(Buffer.WEIGHTS, join(weights, ""));
  }

  @Override
  public StateDict optimizerState() {
    checkOpen();
    StateDict.Builder b = StateDict.builder();
    split(parameters.read(Buffer.FIRST_MOMENT), EXP_AVG).entries().forEach(b::put);
    split(parameters.read(Buffer.SECOND_MOMENT), EXP_AVG_SQ).entries().forEach(b::put);
    b.put(STEP, FloatArray.scalar(steps));
    return b.build();
  }

  @Override
  public void loadOptimizerState(StateDict state) {
    checkOpen();
    state.requireLayout(optimizerLayout(), "Adam state");
    float step = state.get(STEP).get(0);
    if (step < 0 || step != Math.rint(step)) {
      throw new IllegalArgumentException("Adam state: 'step' must be a whole number at least 0, got " + step);
    }
    writeOptimizerState(state, (long) step);
  }

  /** Takes the exact count: the {@code step} tensor is float32, exact only up to 2^24 steps. */
  @Override
  public void loadOptimizerState(StateDict state, long stepCount) {
    checkOpen();
    if (stepCount < 0) {
      throw new IllegalArgumentException("Adam state: the step count must be at least 0, got " + stepCount);
    }
    state.requireLayout(optimizerLayout(), "Adam state");
    float step = state.get(STEP).get(0);
    if (step != (float) stepCount) {
      throw new IllegalArgumentException("Adam state: 'step' is " + step + " but the exact step count " + stepCount
          + " rounds to " + (float) stepCount + " in float32: they do not describe one state");
    }
    writeOptimizerState(state, stepCount);
  }

  private void writeOptimizerState(StateDict state, long stepCount) {
    parameters.write(Buffer.FIRST_MOMENT, join(state, EXP_AVG));
    parameters.write(Buffer.SECOND_MOMENT, join(state, EXP_AVG_SQ));
    steps = stepCount;
  }

  @Override
  public void updateEma(double decay) {
    checkOpen();
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
    }
    parameters.updateAverage(decay);
  }

  @Override
  public StateDict emaStateDict() {
    checkOpen();
    return split(parameters.read(parameters.hasAverage() ? Buffer.AVERAGE : Buffer.WEIGHTS), "");
  }

  @Override
  public void loadEmaStateDict(StateDict ema) {
    checkOpen();
    ema.requireLayout(layout, "EMA weights");
    parameters.write(Buffer.AVERAGE, join(ema, ""));
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      parameters.close();
    }
  }
}
