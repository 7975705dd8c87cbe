package io.github.diffusion4j.training;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The DDPM training loop (Ho et al. 2020, Algorithm 1) with the DDPM tutorial's logging.
 *
 * <p>Per step: take the next batch {@code x0} of a shuffled epoch; draw {@code t ~ U{0..T-1}} and
 * {@code eps ~ N(0, I)} per item; form {@code x_t = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps}
 * (eq. 4); take one optimiser step on {@code ||target - model(x_t, t)||^2} where the target is
 * {@code eps}, {@code x0} or {@code v} by {@link PredictionType} (eq. 14); update the moving average.
 *
 * <p>Randomness is keyed, not sequential: with {@code root = Noise.seeded(seed)}, epoch {@code e} is
 * shuffled by {@code root.split(1).split(e)}, and the step that starts with {@code s} steps taken draws its
 * timesteps from {@code root.split(2).split(s)} and its noise from {@code root.split(3).split(s)}; evaluation
 * batch {@code b} uses {@code root.split(4).split(b)} every epoch, so evaluation losses are comparable
 * across epochs. A run resumed from a {@link TrainingProgress} therefore repeats the uninterrupted run step
 * for step.
 *
 * <p>The learning rate of the step that starts with {@code k} steps taken is the optimiser's rate times
 * {@link TrainerOptions#learningRateSchedule()}'s {@link LearningRateSchedule#factor factor(k, N)}, where {@code N}
 * is the run's total steps ({@code epochs x batchesPerEpoch}); a resumed run counts {@code k} on from its
 * position, so it follows the schedule as the uninterrupted run did. With {@link LearningRateSchedule#CONSTANT}
 * every step is the model's three-argument {@link TrainableModel#step(Tensor, int[], Tensor) step}.
 *
 * <p>Not thread-safe; {@link #requestStop()} may be called from any thread (e.g. a signal handler).
 */
public final class Trainer {
  private static final long SHUFFLE = 1;
  private static final long TIMESTEPS = 2;
  private static final long NOISE = 3;
  private static final long EVAL = 4;

  private final TrainableModel model;
  private final TensorFactory tensors;
  private final Schedule schedule;
  private final ForwardProcess forward;
  private final PredictionType predictionType;

  /**
   * Whether a model's four-argument {@code step} is the interface's default, which takes only the optimiser's own
   * rate: refused here, before a run starts, rather than at its first step (a warm-up's rate 0).
   */
  private static boolean takesOnlyItsOwnRate(TrainableModel model) {
    try {
      return model.getClass().getMethod("step", io.github.diffusion4j.tensor.Tensor.class, int[].class,
          io.github.diffusion4j.tensor.Tensor.class, double.class).isDefault();
    } catch (NoSuchMethodException e) {
      return true;
    }
  }
  private final TrainerOptions options;
  private volatile boolean stopRequested;

  /**
   * Creates a trainer.
   *
   * @param model the model to train
   * @param tensors the model's backend's tensor factory
   * @param schedule the noise schedule
   * @param predictionType what the model learns to predict
   * @param options epochs, batch size, seed, logging, EMA
   */
  public Trainer(
      TrainableModel model,
      TensorFactory tensors,
      Schedule schedule,
      PredictionType predictionType,
      TrainerOptions options) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(tensors, "tensors must not be null");
    java.util.Objects.requireNonNull(schedule, "schedule must not be null");
    java.util.Objects.requireNonNull(predictionType, "predictionType must not be null");
    java.util.Objects.requireNonNull(options, "options must not be null");
    if (!options.learningRateSchedule().isConstant() && (model.optimizer().isEmpty() || takesOnlyItsOwnRate(model))) {
      throw new IllegalArgumentException("the learning-rate schedule " + options.learningRateSchedule()
          + " scales the optimiser's rate, but " + model.getClass().getName() + (model.optimizer().isEmpty()
              ? " does not report its optimiser (TrainableModel.optimizer())"
              : " does not take a rate per step (TrainableModel.step(noisy, timesteps, target, learningRate))")
          + "; use LearningRateSchedule.CONSTANT");
    }
    if (model.spec().numTrainTimesteps() != schedule.size()) {
      throw new IllegalArgumentException(
          "the model expects T = " + model.spec().numTrainTimesteps() + " but the schedule has " + schedule.size());
    }
    this.model = model;
    this.tensors = tensors;
    this.schedule = schedule;
    this.forward = new ForwardProcess(schedule);
    this.predictionType = predictionType;
    this.options = options;
  }

  /**
   * Asks the loop to stop after the current step (or, during an epoch's evaluation, before its next batch: a resume
   * evaluates first); {@link #train} then returns an incomplete summary. A stop asked for before {@link #train} is
   * called stops that call before its first step (a signal while a run loads its data is not lost); each call of
   * {@code train} ends by forgetting it.
   */
  public void requestStop() {
    stopRequested = true;
  }

  /**
   * The number of batches in an epoch: {@code ceil(size / batchSize)}.
   *
   * @param datasetSize the number of training images
   * @return the batches per epoch
   */
  public int batchesPerEpoch(int datasetSize) {
    return Math.toIntExact(options.batchesPerEpoch(datasetSize));
  }

  /**
   * The order in which epoch {@code epoch} visits the images.
   *
   * @param size the number of images
   * @param seed the run's seed
   * @param epoch the epoch
   * @return a permutation of {@code 0 .. size-1}
   */
  public static int[] permutation(int size, long seed, int epoch) {
    int[] p = new int[size];
    for (int i = 0; i < size; i++) {
      p[i] = i;
    }
    Noise.seeded(seed).split(SHUFFLE).split(epoch).generator().shuffle(p);
    return p;
  }

  private void checkData(Dataset data, String what) {
    if (!data.imageShape().equals(model.spec().imageShape())) {
      throw new IllegalArgumentException(
          what + " images are " + data.imageShape() + " but the model expects " + model.spec().imageShape());
    }
  }

  /**
   * Trains from a given position to the end of the last epoch, or until {@link #requestStop()} or an interrupt of the
   * training thread (which stays interrupted). Epoch
   * {@code e} reads its batches from {@code train.epoch(e)}, so an augmenting set draws per epoch.
   *
   * @param train the training set
   * @param eval the evaluation set, or null for none
   * @param from where to start ({@link TrainingProgress#START}, or a checkpoint's progress)
   * @param listener receives the logs
   * @return the summary
   * @throws TrainingDivergedException if a loss is NaN or infinite
   * @throws RuntimeException what a listener threw: the listener's {@code onEnd} has then been told of a stop at the
   *     position after the last step taken (so a run folder saves its final checkpoint), and the failure is thrown on
   */
  public TrainingSummary train(Dataset train, Dataset eval, TrainingProgress from, TrainingListener listener) {
    try {
      return trainUntilStopped(train, eval, from, listener);
    } finally {
      stopRequested = false;
    }
  }

  private TrainingSummary trainUntilStopped(Dataset train, Dataset eval, TrainingProgress from,
      TrainingListener listener) {
    java.util.Objects.requireNonNull(train, "train: the training set must not be null");
    java.util.Objects.requireNonNull(from, "from must not be null (TrainingProgress.START for a new run)");
    java.util.Objects.requireNonNull(listener, "listener must not be null (a TrainingListener that does nothing for none)");
    int n = checkTrainingSets(train, eval);
    int bsMax = options.batchSize();
    int batches = batchesPerEpoch(n);
    listener.onStart(from, options.totalSteps(n));

    Run run = new Run(from, train.imageShape(), listener, options.totalSteps(n));
    // the images the steps before `from` saw: each earlier epoch whole and the batches of its own before its next
    // one (all full: only an epoch's last batch is short), so a resumed run counts on as the uninterrupted one did
    run.examples = (long) from.epoch() * n + Math.min((long) from.batchInEpoch() * bsMax, n);
    try {
      for (int epoch = from.epoch(); epoch < options.epochs(); epoch++) {
        int[] perm = permutation(n, options.seed(), epoch);
        Dataset epochData = train.epoch(epoch);
        run.startEpoch(epoch == from.epoch());
        int firstBatch = epoch == from.epoch() ? from.batchInEpoch() : 0;
        for (int b = firstBatch; b < batches; b++) {
          if (stopRequested || Thread.currentThread().isInterrupted()) { // an interrupt stops as requestStop does
            return run.stopped(run.at(epoch, b));
          }
          run.step(epochData, perm, b * bsMax, Math.min(bsMax, n - b * bsMax), epoch, b);
        }
        try {
          run.endEpoch(epoch, eval);
        } catch (java.util.concurrent.CancellationException e) {
          if (!stopRequested && !Thread.currentThread().isInterrupted()) {
            throw e;
          }
          // stopped during the evaluation, which a resume from here runs first (its steps are all taken)
          return run.stopped(run.at(epoch, batches));
        }
      }
    } catch (ListenerFailure f) {
      // the model and the position are consistent (the failure came after a step or an epoch's end): end there, so
      // that a run folder writes its final checkpoint, then throw what the listener threw
      try {
        run.stopped(f.position);
      } catch (Throwable e) {
        f.getCause().addSuppressed(e);
      }
      throw f.rethrown();
    }
    return run.completed(run.at(options.epochs(), 0));
  }

  /** A listener's failure after a step or an epoch's end, with the position the run is consistent at. */
  private static final class ListenerFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient TrainingProgress position;

    ListenerFailure(TrainingProgress position, Throwable cause) {
      super(cause);
      this.position = position;
    }

    /**
     * The listener's own exception, thrown as it was: an unchecked one is returned for the caller to throw, an Error
     * or a checked exception (a listener in Kotlin declares none, and Java code may throw one sneakily) thrown here.
     */
    RuntimeException rethrown() {
      if (getCause() instanceof RuntimeException e) {
        return e;
      }
      throw ListenerFailure.<RuntimeException>rethrow(getCause());
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E rethrow(Throwable failure) throws E {
      throw (E) failure;
    }
  }

  /**
   * Calls listeners after the model and the counts have moved to {@code position}: a failure is a {@link
   * ListenerFailure} at it, and an interrupt that came before the call stays set although a listener cleared it (JDK
   * code that listeners run clears it: Java2D's font loading, behind an image log).
   */
  private static void notifyAt(java.util.function.Supplier<TrainingProgress> position, Runnable call) {
    boolean interrupted = Thread.currentThread().isInterrupted();
    try {
      call.run();
    } catch (Throwable e) { // a checked exception too: Kotlin's listeners declare none
      // the position when the call failed: a log written before the failure has reset its interval's sums
      throw new ListenerFailure(position.get(), e);
    } finally {
      if (interrupted && !Thread.currentThread().isInterrupted()) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Checks both sets against the model and the batch size against the training set; returns its size. */
  private int checkTrainingSets(Dataset train, Dataset eval) {
    checkData(train, "training");
    if (eval != null) {
      checkData(eval, "evaluation");
    }
    int n = train.size();
    if (options.batchSize() > n) {
      throw new IllegalArgumentException(
          "batch size " + options.batchSize() + " is larger than the training set (" + n + " images)");
    }
    return n;
  }


  /**
   * The mean loss over an evaluation set, with the same timesteps and noise every time it is called (the
   * tutorial's per-epoch "eval_loss").
   *
   * @param eval the evaluation set
   * @return the mean squared error against the prediction type's target
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted (the model's passes
   *     check between their layers)
   */
  public double evaluate(Dataset eval) {
    return evaluate(eval, false);
  }

  /** {@link #evaluate(Dataset)}; a training run's ends before its next batch once a stop is requested. */
  private double evaluate(Dataset eval, boolean stoppable) {
    checkData(eval, "evaluation");
    int n = eval.size();
    int bsMax = Math.min(options.batchSize(), n);
    int k = eval.imageShape().size();
    Noise root = Noise.seeded(options.seed()).split(EVAL);
    double total = 0;
    long count = 0;
    TrainingBatch x = null;
    for (int start = 0, b = 0; start < n; start += bsMax, b++) {
      if (stoppable && stopRequested) {
        throw new java.util.concurrent.CancellationException("a stop was requested during the evaluation");
      }
      int bs = Math.min(bsMax, n - start);
      x = TrainingBatch.ofSize(x, bs, k);
      for (int i = 0; i < bs; i++) {
        x.indices[i] = start + i;
      }
      eval.gather(x.indices, x.x0);
      Noise batchNoise = root.split(b);
      draw(x, batchNoise.split(0).generator(), batchNoise.split(1));
      Shape shape = Shape.batchOf(bs, eval.imageShape());
      try (TensorScope scope = tensors.openScope()) {
        Tensor diff = model.predict(tensors.fromArray(x.xt, shape), x.timesteps)
            .sub(tensors.fromArray(x.target, shape));
        total += diff.mul(diff).sum();
        count += (long) bs * k;
      }
    }
    return total / count;
  }

  /**
   * Draws a batch's timesteps from {@code timesteps} and its noise from {@code noise}, and forms {@code x_t} and the
   * target from its clean images.
   */
  private void draw(TrainingBatch x, RandomGenerator timesteps, Noise noise) {
    for (int i = 0; i < x.size; i++) {
      x.timesteps[i] = timesteps.nextInt(schedule.size());
      x.alphaBar[i] = schedule.alphaBar(x.timesteps[i]);
    }
    noise.fillNormal(x.eps, 0, x.eps.length);
    forward.noise(x.x0, x.timesteps, x.eps, x.xt);
    predictionType.target(x.x0, x.eps, x.alphaBar, x.target);
  }

  /**
   * One call of {@link #train}: the steps taken, the losses of the current epoch and log interval, the
   * evaluation losses, and the reused batch arrays.
   */
  private final class Run {
    private final TrainingProgress from;
    private final Shape image;
    private final TrainingListener listener;
    private final Noise root = Noise.seeded(options.seed());
    private final long startNanos = System.nanoTime();
    private final List<Double> evalLosses = new ArrayList<>();
    private long step;
    private long examples;
    private double lastEpochLoss = Double.NaN;
    private double epochLoss;
    private int epochSteps;
    private double intervalLoss;
    private int intervalSteps;
    /** The interval's steps taken by this call, since {@link #intervalStart} (a resumed interval's earlier ones not). */
    private int timedSteps;
    private long intervalStart = startNanos;
    private TrainingBatch batch;
    /** The run's total steps, {@code N} of the learning-rate schedule. */
    private final long totalSteps;
    /** The rate of the step taken last (NaN before the first, or where the model does not report its optimiser). */
    private double learningRate = Double.NaN;

    Run(TrainingProgress from, Shape image, TrainingListener listener, long totalSteps) {
      this.from = from;
      this.totalSteps = totalSteps;
      this.image = image;
      this.listener = listener;
      this.step = from.step();
      this.intervalLoss = from.losses().intervalSum();
      this.intervalSteps = from.losses().intervalSteps();
    }

    /** Starts an epoch's loss sums: from the position's where the run resumes within it, else from nothing. */
    void startEpoch(boolean resumed) {
      epochLoss = resumed ? from.losses().epochSum() : 0;
      epochSteps = resumed ? from.losses().epochSteps() : 0;
    }

    /**
     * The position before batch {@code batch} of {@code epoch}, with the losses summed so far: the log interval's, and
     * the epoch's within an epoch (at its first batch, nothing of it is summed yet).
     */
    TrainingProgress at(int epoch, int batch) {
      return new TrainingProgress(epoch, batch, step, new TrainingProgress.Losses(batch == 0 ? 0 : epochLoss,
          batch == 0 ? 0 : epochSteps, intervalLoss, intervalSteps));
    }

    /** One optimiser step on the images {@code perm[start .. start + size)}, then its logs. */
    void step(Dataset data, int[] perm, int start, int size, int epoch, int b) {
      batch = TrainingBatch.ofSize(batch, size, image.size());
      System.arraycopy(perm, start, batch.indices, 0, size);
      data.gather(batch.indices, batch.x0);
      noise(batch);
      Shape shape = Shape.batchOf(size, image);
      double loss;
      float[] prediction = null;
      LearningRateSchedule lrSchedule = options.learningRateSchedule();
      try (TensorScope scope = tensors.openScope()) {
        Tensor xt = tensors.fromArray(batch.xt, shape);
        Tensor target = tensors.fromArray(batch.target, shape);
        TrainingStepResult out;
        if (lrSchedule.isConstant()) { // the optimiser's own rate, exactly as before schedules existed
          learningRate = model.optimizer().map(o -> o.learningRate()).orElse(Double.NaN);
          out = model.step(xt, batch.timesteps, target);
        } else {
          learningRate = model.optimizer().orElseThrow().learningRate() * lrSchedule.factor(step, totalSteps);
          out = model.step(xt, batch.timesteps, target, learningRate);
        }
        loss = out.loss();
        if (!Double.isFinite(loss)) {
          throw new TrainingDivergedException(step + 1,
              "loss became " + loss + " at step " + (step + 1) + " (epoch " + (epoch + 1) + ", batch " + (b + 1)
                  + "): training diverged, most likely because the learning rate is too high; lower "
                  + "training.learning_rate (the tutorial uses 0.001) or set training.max_grad_norm");
        }
        if (logsAt(step + 1) || imagesAt(step + 1)) {
          prediction = out.prediction().toFloatArray();
        }
      }
      step++;
      examples += size;
      options.ema().ifPresent(e -> model.updateEma(e.decayAt(model.stepCount())));
      epochLoss += loss;
      epochSteps++;
      intervalLoss += loss;
      intervalSteps++;
      timedSteps++;
      float[] logged = prediction;
      notifyAt(() -> at(epoch, b + 1), () -> {
        listener.onStep(step, epoch, loss);
        log(epoch, loss, logged);
      });
    }

    /** Draws the step's timesteps and noise (keyed by the steps taken) and forms {@code x_t} and the target. */
    private void noise(TrainingBatch x) {
      draw(x, root.split(TIMESTEPS).split(step).generator(), root.split(NOISE).split(step));
    }

    private boolean logsAt(long s) {
      return s % options.logEvery() == 0;
    }

    private boolean imagesAt(long s) {
      return options.imageLogEvery() > 0 && s % options.imageLogEvery() == 0 && options.imagesToLog() > 0;
    }

    /** The log record every {@code logEvery} steps and the images every {@code imageLogEvery} steps. */
    private void log(int epoch, double loss, float[] prediction) {
      if (logsAt(step)) {
        long now = System.nanoTime();
        double[] pm = StepLogs.meanVar(prediction);
        double[] nm = StepLogs.meanVar(batch.xt);
        listener.onLog(new LogRecord(step, epoch, examples, loss, intervalLoss / intervalSteps, seconds(startNanos),
            timedSteps / Math.max((now - intervalStart) / 1e9, 1e-9), pm[0], pm[1], nm[0], nm[1], learningRate));
        intervalLoss = 0;
        intervalSteps = 0;
        timedSteps = 0;
        intervalStart = now;
      }
      if (prediction != null && imagesAt(step)) {
        listener.onImages(StepLogs.imageLog(
            predictionType, step, image, Math.min(options.imagesToLog(), batch.size), batch, prediction));
      }
    }

    /** The epoch's mean loss, the evaluation loss when there is an evaluation set, and the epoch's event. */
    void endEpoch(int epoch, Dataset eval) {
      lastEpochLoss = epochSteps > 0 ? epochLoss / epochSteps : Double.NaN;
      OptionalDouble evalLoss = OptionalDouble.empty();
      if (eval != null) {
        double e = evaluate(eval, true);
        evalLosses.add(e);
        evalLoss = OptionalDouble.of(e);
      }
      EpochSummary summary = new EpochSummary(epoch, step, lastEpochLoss, evalLoss, seconds(startNanos),
          at(epoch + 1, 0));
      notifyAt(summary::progress, () -> listener.onEpochEnd(summary));
    }

    /** The summary of a run stopped at {@code at}: the loss is the current epoch's so far, if any. */
    TrainingSummary stopped(TrainingProgress at) {
      return end(false, at, epochSteps > 0 ? epochLoss / epochSteps : lastEpochLoss);
    }

    /** The summary of a run that trained to the end of its last epoch. */
    TrainingSummary completed(TrainingProgress at) {
      return end(true, at, lastEpochLoss);
    }

    private TrainingSummary end(boolean complete, TrainingProgress at, double loss) {
      TrainingSummary s = new TrainingSummary(complete, at, loss, evalLosses, seconds(startNanos),
          rate(step - from.step(), startNanos));
      listener.onEnd(s);
      return s;
    }
  }


  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static double rate(long steps, long startNanos) {
    double s = seconds(startNanos);
    return s > 0 ? steps / s : 0;
  }
}
