package io.github.diffusion4j.benchmarks.compare;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.training.Trainer;
import io.github.diffusion4j.training.TrainerOptions;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import java.util.Arrays;
import java.util.Optional;

/**
 * The reference workload of {@code benchmarks/reference/torch_timing.py}, on one backend, through the same
 * public code paths a user runs (the {@link Trainer} and the samplers): images 3x5x5, MLP
 * Linear(76,128)-ReLU-Linear(128,75), Adam lr 1e-3, MSE on the noise, batch 128, T = 100 linear betas
 * 1e-4..0.02. Each figure is the median of {@code reps} repetitions after a warm-up.
 */
final class Workloads {
  private Workloads() {}

  /** The figures of one backend. */
  record Result(String backend, int threads, double trainStepsPerS, double ddpmS, double ddimS, int samples, int ddimSteps) {
    String toJson() {
      return String.format(java.util.Locale.ROOT,
          "{\"backend\":\"%s\",\"threads\":%d,\"train_steps_per_s\":%.2f,\"ddpm_s\":%.5f,\"ddim_s\":%.5f,"
              + "\"n_samples\":%d,\"ddim_steps\":%d}",
          backend, threads, trainStepsPerS, ddpmS, ddimS, samples, ddimSteps);
    }
  }

  /**
   * The U-Net workload of {@code docs/unet_reference.py bench}: the default U-Net (1x32x32, base 32, mult
   * [1, 2, 2], attention) trained with Adam on one fixed random batch of 64, and the time of one forward
   * pass of 64 images (a sampling step), each the median of {@code reps} blocks of {@code steps}, the training
   * after {@code trainWarmupSeconds} of training.
   *
   * @return a JSON line with {@code unet_train_steps_per_s} and {@code unet_forward_s}
   */
  static String runUNet(Backend backend, int threads, int steps, int reps, double trainWarmupSeconds) {
    return runModel(backend, unetSpec(), UNET_BATCH, threads, steps, reps, UNET_DDIM_STEPS, trainWarmupSeconds);
  }

  /**
   * The DDPM workload of {@code docs/ddpm_reference.py bench}: the DDPM authors' CIFAR-10 model
   * ({@code DdpmUNetSpec.cifar10()}, 35.7 M parameters) timed as {@link #runUNet} times the default U-Net, at
   * {@code batch}.
   *
   * @return a JSON line with {@code unet_train_steps_per_s} and {@code unet_forward_s}
   */
  static String runDdpm(Backend backend, int threads, int batch, int steps, int reps, double trainWarmupSeconds) {
    return runModel(backend, io.github.diffusion4j.model.DdpmUNetSpec.cifar10(), batch, threads, steps, reps,
        UNET_DDIM_STEPS, trainWarmupSeconds);
  }

  /**
   * A model trained with Adam on one fixed random batch, and the time of one forward pass of that batch, each
   * the median of {@code reps} blocks of {@code steps} after unmeasured ones: training for
   * {@code trainWarmupSeconds} (at least one step; ND4J's U-Net trained at 1.0 steps/s through its first 20 steps
   * at one thread, at 1.15-1.2 from then on: the JIT compiler's work on its kernels), one forward pass; with
   * {@code ddimSteps > 0} also the median time of {@code reps} deterministic DDIM samplings of a batch of the same
   * size in that many steps, after one unmeasured ({@code unet_ddim_s}: the sampling loop's own time, which at
   * several threads splits the batch, where the forward pass shares each operation).
   */
  private static String runModel(Backend backend, io.github.diffusion4j.model.ModelSpec spec, int size, int threads,
      int steps, int reps, int ddimSteps, double trainWarmupSeconds) {
    Shape image = spec.imageShape();
    Shape batch = Shape.batchOf(size, image);
    float[] x = new float[batch.size()];
    float[] y = new float[batch.size()];
    Noise.seeded(0).fillNormal(x, 0, x.length);
    Noise.seeded(1).fillNormal(y, 0, y.length);
    int[] t = new int[size];
    for (int i = 0; i < size; i++) {
      t[i] = i * 997 % 1000;
    }
    double[] train = new double[reps];
    double[] forward = new double[reps];
    String ddimField = "";
    try (TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1);
        TensorScope outer = backend.tensors().openScope()) {
      io.github.diffusion4j.tensor.Tensor xt = backend.tensors().fromArray(x, batch);
      io.github.diffusion4j.tensor.Tensor target = backend.tensors().fromArray(y, batch);
      Runnable step = () -> {
        try (TensorScope s = backend.tensors().openScope()) {
          model.step(xt, t, target);
        }
      };
      Runnable predict = () -> {
        try (TensorScope s = backend.tensors().openScope()) {
          model.predict(xt, t);
        }
      };
      timeTrainingAndForward(step, predict, steps, trainWarmupSeconds, train, forward);
      if (ddimSteps > 0) {
        int n = spec.numTrainTimesteps();
        Sampler ddim = new DdimSampler(Schedule.of(ScheduleSpec.linear(n)), PredictionType.EPSILON, 0.0, true,
            SampleClipping.NONE, backend.tensors());
        SamplingRequest request = SamplingRequest.of(size, image, 3, Timesteps.trailing(n, ddimSteps));
        ddimField = String.format(java.util.Locale.ROOT, ",\"unet_ddim_s\":%.5f",
            timeSampling(model, backend, ddim, request, reps, 0));
      }
    }
    return String.format(java.util.Locale.ROOT,
        "{\"backend\":\"%s\",\"threads\":%d,\"unet_train_steps_per_s\":%.4f,\"unet_forward_s\":%.5f%s}",
        backend.name(), threads, median(train), median(forward), ddimField);
  }

  /**
   * Memory, not speed: the DDPM authors' CIFAR-10 model ({@code DdpmUNetSpec.cifar10()}, 35.7 M parameters)
   * trained at {@code batch} on random images for {@code steps} steps; the resident size once the model exists,
   * and after each step the step's time and the process's peak resident size (VmHWM).
   *
   * @return a JSON line with {@code model_rss_mb}, {@code step<i>_s} and {@code step<i>_peak_rss_mb}
   */
  static String runCifar10Memory(Backend backend, int threads, int batch, int steps) {
    io.github.diffusion4j.model.DdpmUNetSpec spec = io.github.diffusion4j.model.DdpmUNetSpec.cifar10();
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    StringBuilder json = new StringBuilder(String.format(java.util.Locale.ROOT,
        "{\"backend\":\"%s\",\"threads\":%d,\"batch\":%d", backend.name(), threads, batch));
    try (TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(2e-4), 0)) {
      json.append(String.format(java.util.Locale.ROOT, ",\"model_rss_mb\":%.0f", statusKb("VmRSS") / 1024.0));
      int[] t = new int[batch];
      for (int i = 0; i < batch; i++) {
        t[i] = i * 997 % 1000;
      }
      for (int i = 1; i <= steps; i++) {
        long start = System.nanoTime();
        try (TensorScope s = backend.tensors().openScope()) {
          model.step(backend.tensors().normal(shape, Noise.seeded(i)), t,
              backend.tensors().normal(shape, Noise.seeded(-i)));
        }
        json.append(String.format(java.util.Locale.ROOT, ",\"step%d_s\":%.1f,\"step%d_peak_rss_mb\":%.0f", i,
            (System.nanoTime() - start) / 1e9, i, statusKb("VmHWM") / 1024.0));
      }
    }
    return json.append('}').toString();
  }

  /** A figure of /proc/self/status in kB (VmRSS, VmHWM), or -1 where there is none (not Linux). */
  private static long statusKb(String key) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      return -1;
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  /** The U-Net workload's batch. */
  static final int UNET_BATCH = 64;

  /**
   * The steps of the U-Net and DDPM workloads' DDIM sampling (a trailing plan over 1,000 timesteps, as the
   * reference's {@code ddim_seconds} in docs/unet_reference.py).
   */
  static final int UNET_DDIM_STEPS = 5;

  /** The MLP workload's training batch. */
  static final int MLP_BATCH = 128;

  /** The MLP workload's timesteps (its DDPM sampling runs all of them). */
  static final int MLP_TIMESTEPS = 100;

  /**
   * The U-Net workload's model: the default U-Net on 1x32x32 images.
   *
   * @return its spec
   */
  static io.github.diffusion4j.model.UNetSpec unetSpec() {
    return io.github.diffusion4j.model.UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
  }

  /**
   * The MLP workload's model: the tutorial's MLP (128 hidden) on 3x5x5 images.
   *
   * @return its spec
   */
  static MlpSpec mlpSpec() {
    return new MlpSpec(Shape.of(3, 5, 5), MLP_TIMESTEPS, 128);
  }

  /**
   * The MLP workload: training steps per second, then each sampler's time after {@code warmupSeconds} of
   * sampling with it (at least one call).
   */
  static Result run(Backend backend, int threads, int trainSteps, int samples, int ddimSteps, int reps,
      NoiseVersion noise, double warmupSeconds) {
    MlpSpec spec = mlpSpec();
    Shape image = spec.imageShape();
    int numT = MLP_TIMESTEPS;
    int batch = MLP_BATCH;
    Schedule schedule = Schedule.of(ScheduleSpec.linear(numT));
    Dataset data = GradientImages.dataset(50_000, image, Noise.seeded(0));
    int warmup = 200;
    long total = warmup + (long) reps * trainSteps;
    int epochs = (int) (total / ((data.size() + batch - 1) / batch)) + 2;
    try (TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(1e-3), 0)) {
      Trainer trainer = new Trainer(model, backend.tensors(), schedule, PredictionType.EPSILON,
          new TrainerOptions(epochs, batch, 0, Integer.MAX_VALUE, 0, 0, Optional.empty()));
      long[] marks = new long[reps + 1];
      trainer.train(data, null, TrainingProgress.START,
          blockMarks(marks, warmup, trainSteps, System::nanoTime, trainer::requestStop));
      double[] rates = rates(marks, trainSteps);
      Sampler ddpm = new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.NONE,
          backend.tensors());
      Sampler ddim = new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, backend.tensors());
      double ddpmS = timeSampling(model, backend, ddpm,
          SamplingRequest.of(samples, image, 1, Timesteps.full(numT)).withNoise(noise), reps, warmupSeconds);
      double ddimS = timeSampling(model, backend, ddim,
          SamplingRequest.of(samples, image, 2, Timesteps.trailing(numT, ddimSteps)).withNoise(noise), reps,
          warmupSeconds);
      return new Result(backend.name(), threads, median(rates), ddpmS, ddimS, samples, ddimSteps);
    }
  }

  /**
   * Fills {@code train} with steps per second and {@code forward} with seconds per call, each over a block of
   * {@code steps} calls, after calls of {@code step} for {@code warmupSeconds} (at least one) and one of
   * {@code predict}.
   */
  static void timeTrainingAndForward(Runnable step, Runnable predict, int steps, double warmupSeconds,
      double[] train, double[] forward) {
    repeatFor(warmupSeconds, step);
    repeatFor(0, predict);
    for (int r = 0; r < train.length; r++) {
      train[r] = steps / seconds(step, steps);
      forward[r] = seconds(predict, steps) / steps;
    }
  }

  /**
   * A listener that marks the time ({@code clock}, nanoseconds) at which each block of {@code steps} training
   * steps after the first {@code warmup} begins, {@code marks[i]} for block {@code i}, and asks for the stop
   * once the last block has ended.
   */
  static TrainingListener blockMarks(long[] marks, int warmup, int steps, java.util.function.LongSupplier clock,
      Runnable stop) {
    return new TrainingListener() {
      @Override
      public void onStep(long step, int epoch, double loss) {
        if (step >= warmup && (step - warmup) % steps == 0) {
          int i = (int) ((step - warmup) / steps);
          marks[i] = clock.getAsLong();
          if (i == marks.length - 1) {
            stop.run();
          }
        }
      }
    };
  }

  /**
   * Steps per second between consecutive marks: {@code marks[i]} is the time in nanoseconds at which block
   * {@code i} of {@code steps} steps began, {@code marks[i + 1]} when it ended.
   */
  static double[] rates(long[] marks, int steps) {
    double[] rates = new double[marks.length - 1];
    for (int i = 0; i < rates.length; i++) {
      rates[i] = steps / ((marks[i + 1] - marks[i]) / 1e9);
    }
    return rates;
  }

  /**
   * The median time of {@code reps} calls, after calls for {@code warmupSeconds} (at least one): the JIT compiles
   * the sampler's code, and the Java heap's young generation grows over fresh memory, in a process's first
   * seconds of sampling (two threads: 2x the steady time in the first calls on a 2-vCPU VM, and with the batch
   * split over both threads DJL's DDPM-100 took 0.08-0.13 s in the first second and 0.04-0.06 s after two;
   * docs/benchmarks.md).
   * The PyTorch reference warms up the same way.
   */
  private static double timeSampling(TrainableModel model, Backend backend, Sampler sampler, SamplingRequest request,
      int reps, double warmupSeconds) {
    Runnable once = () -> sampleOnce(model, backend, sampler, request);
    repeatFor(warmupSeconds, once);
    double[] times = new double[reps];
    for (int r = 0; r < reps; r++) {
      times[r] = seconds(once, 1);
    }
    return median(times);
  }

  /** Calls {@code call} once, then again until {@code seconds} have passed since the first call began. */
  static void repeatFor(double seconds, Runnable call) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    do {
      call.run();
    } while (System.nanoTime() < end);
  }

  /** The seconds {@code times} calls of {@code call} take. */
  static double seconds(Runnable call, int times) {
    long start = System.nanoTime();
    for (int i = 0; i < times; i++) {
      call.run();
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static void sampleOnce(TrainableModel model, Backend backend, Sampler sampler, SamplingRequest request) {
    try (TensorScope s = backend.tensors().openScope()) {
      sampler.sample(model, backend.tensors(), request).toFloatArray();
    }
  }

  /**
   * The median; of an even number of values, the upper of the two middle ones (docs/benchmarks.md).
   *
   * @param v the values
   * @return their median
   */
  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
