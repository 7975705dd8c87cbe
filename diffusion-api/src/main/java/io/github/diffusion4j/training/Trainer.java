package io.github.diffusion4j.training;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StepOutput;
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

  /** Asks the loop to stop after the current step; {@link #train} then returns an incomplete summary. */
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
    return (datasetSize + options.batchSize() - 1) / options.batchSize();
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
   * Trains from a given position to the end of the last epoch, or until {@link #requestStop()}. Epoch
   * {@code e} reads its batches from {@code train.epoch(e)}, so an augmenting set draws per epoch.
   *
   * @param train the training set
   * @param eval the evaluation set, or null for none
   * @param from where to start ({@link TrainingProgress#START}, or a checkpoint's progress)
   * @param listener receives the logs
   * @return the summary
   * @throws TrainingDivergedException if a loss is NaN or infinite
   */
  public TrainingSummary train(Dataset train, Dataset eval, TrainingProgress from, TrainingListener listener) {
    checkData(train, "training");
    if (eval != null) {
      checkData(eval, "evaluation");
    }
    int n = train.size();
    int bsMax = options.batchSize();
    if (bsMax > n) {
      throw new IllegalArgumentException(
          "batch size " + bsMax + " is larger than the training set (" + n + " images)");
    }
    int batches = batchesPerEpoch(n);
    long totalSteps = (long) options.epochs() * batches;
    stopRequested = false;
    listener.onStart(from, totalSteps);

    Shape image = train.imageShape();
    int k = image.size();
    int numTimesteps = schedule.size();
    Noise root = Noise.seeded(options.seed());
    long startNanos = System.nanoTime();
    long step = from.step();
    long examples = 0;
    List<Double> evalLosses = new ArrayList<>();
    double lastEpochLoss = Double.NaN;
    double intervalLoss = 0;
    int intervalSteps = 0;
    long intervalStart = startNanos;

    int bs = -1;
    int[] idx = null;
    int[] t = null;
    float[] x0 = null;
    float[] eps = null;
    float[] xt = null;
    float[] target = null;
    double[] alphaBar = null;

    for (int epoch = from.epoch(); epoch < options.epochs(); epoch++) {
      int[] perm = permutation(n, options.seed(), epoch);
      Dataset epochData = train.epoch(epoch);
      double epochLoss = 0;
      int epochSteps = 0;
      int firstBatch = epoch == from.epoch() ? from.batchInEpoch() : 0;
      for (int b = firstBatch; b < batches; b++) {
        if (stopRequested) {
          TrainingSummary s = new TrainingSummary(false, new TrainingProgress(epoch, b, step),
              epochSteps > 0 ? epochLoss / epochSteps : lastEpochLoss, evalLosses, seconds(startNanos),
              rate(step - from.step(), startNanos));
          listener.onEnd(s);
          return s;
        }
        int size = Math.min(bsMax, n - b * bsMax);
        if (size != bs) {
          bs = size;
          idx = new int[bs];
          t = new int[bs];
          x0 = new float[bs * k];
          eps = new float[bs * k];
          xt = new float[bs * k];
          target = new float[bs * k];
          alphaBar = new double[bs];
        }
        System.arraycopy(perm, b * bsMax, idx, 0, bs);
        epochData.gather(idx, x0);
        RandomGenerator tg = root.split(TIMESTEPS).split(step).generator();
        for (int i = 0; i < bs; i++) {
          t[i] = tg.nextInt(numTimesteps);
          alphaBar[i] = schedule.alphaBar(t[i]);
        }
        root.split(NOISE).split(step).fillNormal(eps, 0, bs * k);
        forward.noise(x0, t, eps, xt);
        predictionType.target(x0, eps, alphaBar, target);
        Shape shape = Shape.batchOf(bs, image);
        double loss;
        float[] prediction = null;
        try (TensorScope scope = tensors.openScope()) {
          StepOutput out = model.step(tensors.fromArray(xt, shape), t, tensors.fromArray(target, shape));
          loss = out.loss();
          if (!Double.isFinite(loss)) {
            throw new TrainingDivergedException(step + 1,
                "loss became " + loss + " at step " + (step + 1) + " (epoch " + (epoch + 1) + ", batch " + (b + 1)
                    + "): training diverged, most likely because the learning rate is too high; lower "
                    + "training.learning_rate (the tutorial uses 0.001) or set training.max_grad_norm");
          }
          boolean log = (step + 1) % options.logEvery() == 0;
          boolean images = options.imageLogEvery() > 0 && (step + 1) % options.imageLogEvery() == 0
              && options.imagesToLog() > 0;
          if (log || images) {
            prediction = out.prediction().toFloatArray();
          }
        }
        step++;
        examples += bs;
        options.ema().ifPresent(e -> model.updateEma(e.decayAt(model.stepCount())));
        epochLoss += loss;
        epochSteps++;
        intervalLoss += loss;
        intervalSteps++;
        listener.onStep(step, epoch, loss);
        if (step % options.logEvery() == 0) {
          long now = System.nanoTime();
          double[] pm = meanVar(prediction);
          double[] nm = meanVar(xt);
          listener.onLog(new LogRecord(step, epoch, examples, loss, intervalLoss / intervalSteps, seconds(startNanos),
              intervalSteps / Math.max((now - intervalStart) / 1e9, 1e-9), pm[0], pm[1], nm[0], nm[1]));
          intervalLoss = 0;
          intervalSteps = 0;
          intervalStart = now;
        }
        if (prediction != null && options.imageLogEvery() > 0 && step % options.imageLogEvery() == 0
            && options.imagesToLog() > 0) {
          listener.onImages(imageLog(step, image, Math.min(options.imagesToLog(), bs), t, x0, xt, eps, prediction, alphaBar));
        }
      }
      lastEpochLoss = epochSteps > 0 ? epochLoss / epochSteps : Double.NaN;
      OptionalDouble evalLoss = OptionalDouble.empty();
      if (eval != null) {
        double e = evaluate(eval);
        evalLosses.add(e);
        evalLoss = OptionalDouble.of(e);
      }
      listener.onEpochEnd(new EpochSummary(epoch, step, lastEpochLoss, evalLoss, seconds(startNanos),
          new TrainingProgress(epoch + 1, 0, step)));
    }
    TrainingSummary s = new TrainingSummary(true, new TrainingProgress(options.epochs(), 0, step), lastEpochLoss,
        evalLosses, seconds(startNanos), rate(step - from.step(), startNanos));
    listener.onEnd(s);
    return s;
  }

  /**
   * The mean loss over an evaluation set, with the same timesteps and noise every time it is called (the
   * tutorial's per-epoch "eval_loss").
   *
   * @param eval the evaluation set
   * @return the mean squared error against the prediction type's target
   */
  public double evaluate(Dataset eval) {
    checkData(eval, "evaluation");
    int n = eval.size();
    int bsMax = Math.min(options.batchSize(), n);
    int k = eval.imageShape().size();
    Noise root = Noise.seeded(options.seed()).split(EVAL);
    double total = 0;
    long count = 0;
    for (int start = 0, b = 0; start < n; start += bsMax, b++) {
      int bs = Math.min(bsMax, n - start);
      int[] idx = new int[bs];
      for (int i = 0; i < bs; i++) {
        idx[i] = start + i;
      }
      float[] x0 = new float[bs * k];
      eval.gather(idx, x0);
      Noise batchNoise = root.split(b);
      RandomGenerator tg = batchNoise.split(0).generator();
      int[] t = new int[bs];
      double[] alphaBar = new double[bs];
      for (int i = 0; i < bs; i++) {
        t[i] = tg.nextInt(schedule.size());
        alphaBar[i] = schedule.alphaBar(t[i]);
      }
      float[] eps = new float[bs * k];
      batchNoise.split(1).fillNormal(eps, 0, bs * k);
      float[] xt = new float[bs * k];
      forward.noise(x0, t, eps, xt);
      float[] target = new float[bs * k];
      predictionType.target(x0, eps, alphaBar, target);
      Shape shape = Shape.batchOf(bs, eval.imageShape());
      try (TensorScope scope = tensors.openScope()) {
        Tensor diff = model.predict(tensors.fromArray(xt, shape), t).sub(tensors.fromArray(target, shape));
        total += diff.mul(diff).sum();
        count += (long) bs * k;
      }
    }
    return total / count;
  }

  private ImageLog imageLog(long step, Shape image, int m, int[] t, float[] x0, float[] xt, float[] eps,
      float[] prediction, double[] alphaBar) {
    int k = image.size();
    float[] predEps = new float[m * k];
    float[] recon = new float[m * k];
    for (int i = 0; i < m; i++) {
      double a = alphaBar[i];
      double sa = Math.sqrt(a);
      double sb = Math.sqrt(1 - a);
      for (int j = i * k; j < (i + 1) * k; j++) {
        double out = prediction[j];
        double x = xt[j];
        double e;
        double r;
        switch (predictionType) {
          case EPSILON -> {
            e = out;
            r = (x - sb * e) / sa;
          }
          case SAMPLE -> {
            r = out;
            e = (x - sa * r) / sb;
          }
          case V_PREDICTION -> {
            r = sa * x - sb * out;
            e = sa * out + sb * x;
          }
          default -> throw new AssertionError(predictionType);
        }
        predEps[j] = (float) e;
        recon[j] = (float) r;
      }
    }
    return new ImageLog(step, Shape.batchOf(m, image), java.util.Arrays.copyOf(t, m),
        Normalization.denormalize(java.util.Arrays.copyOf(x0, m * k)),
        Normalization.denormalize(java.util.Arrays.copyOf(xt, m * k)),
        Normalization.denormalize(java.util.Arrays.copyOf(eps, m * k)),
        Normalization.denormalize(predEps),
        Normalization.denormalize(recon));
  }

  private static double[] meanVar(float[] v) {
    if (v == null || v.length == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double m = 0;
    for (float x : v) {
      m += x;
    }
    m /= v.length;
    double var = 0;
    for (float x : v) {
      var += (x - m) * (x - m);
    }
    // torch.var is unbiased by default
    return new double[] {m, v.length > 1 ? var / (v.length - 1) : 0};
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static double rate(long steps, long startNanos) {
    double s = seconds(startNanos);
    return s > 0 ? steps / s : 0;
  }
}
