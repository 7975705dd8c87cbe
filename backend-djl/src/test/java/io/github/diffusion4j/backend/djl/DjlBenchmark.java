package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.InMemoryDataset;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
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
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.UNetReference;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Times a workload on the DJL backend through the api only ({@code Backend.createModel}, the samplers), so the
 * same program times any build of the backend (scripts/djl-ab-bench.sh runs it on two builds alternately).
 * Not a test (surefire skips {@code *Benchmark}).
 *
 * <p><b>{@code bench.workload=mlp}</b> (the default): the tutorial's workload (3x5x5 images, hidden 128,
 * T = 100, batch 128, Adam 1e-3); when given the path of {@code torch_timing.py}, runs it first so the ratios
 * compare two measurements of the same run on the same machine.
 *
 * <p>Workloads: (a) {@code model.step} on pre-generated batches; (b) the loop a trainer runs: gather a
 * batch from a float[] dataset, draw timesteps and noise with {@link Noise}, form {@code x_t} on the heap,
 * {@code fromArray}, {@code step}; (c) DDPM with 100 steps and DDIM with 20 steps for 1000 images through the
 * api's samplers. Each figure is the median of {@code bench.reps} repetitions after a warm-up, like the
 * torch script.
 *
 * <p><b>{@code bench.workload=unet}</b>: the default U-Net ({@code UNetSpec.defaults}: 1x32x32, base 32, mult
 * [1, 2, 2], one block per level, attention in the middle, T = 1000) at batch {@code bench.batch} (64): a
 * training step (forward, MSE, backward, Adam) on one fixed batch, a forward pass alone (what a sampler calls),
 * and a deterministic DDIM run of {@code bench.ddimSteps} steps for one batch of images, each the median of
 * {@code bench.reps} blocks ({@code bench.unetSteps} steps or forward passes per block, one DDIM run) after
 * a warm-up block.
 *
 * <p>Run from the repository root (one thread, offline):
 *
 * <pre>
 * ./mvnw -B -q -pl backend-djl -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * java -Dai.djl.offline=true \
 *     -cp backend-djl/target/test-classes:backend-djl/target/classes:$(cat backend-djl/target/test.classpath) \
 *     io.github.diffusion4j.backend.djl.DjlBenchmark
 * </pre>
 *
 * <p><b>{@code bench.workload=cifar10}</b>: memory, not speed: the DDPM authors' CIFAR-10 model (35.7 M
 * parameters, 3x32x32) training at batch {@code bench.batch} (64) for {@code bench.unetSteps} (2) steps, with the
 * peak resident size of the process after each (about a minute and a half per step on one thread of the
 * 2-core machine).
 *
 * <p>System properties: {@code bench.workload} ({@code mlp}), {@code bench.threads} (1), {@code
 * bench.trainSteps} (4000), {@code bench.reps} (3), {@code bench.samples} (1000), {@code bench.ddimSteps} (20),
 * {@code bench.torch} (path of the torch script; by default the repository's
 * {@code benchmarks/reference/torch_timing.py}, the repository being the working directory or the first parent
 * with {@code pom.xml} and {@code mvnw}; {@code none} skips it), {@code bench.python}
 * ({@code /usr/bin/python3}); for the U-Net {@code bench.batch} (64) and {@code bench.unetSteps} (3). The last
 * line printed is one JSON object with every figure.
 */
public final class DjlBenchmark {
  private static final Shape IMAGE = Shape.of(3, 5, 5);
  private static final int T = 100;
  private static final int HIDDEN = 128;
  private static final int BATCH = 128;

  private DjlBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args unused; see the class comment for the system properties
   * @throws Exception if the torch script fails
   */
  public static void main(String[] args) throws Exception {
    int threads = Integer.getInteger("bench.threads", 1);
    int trainSteps = Integer.getInteger("bench.trainSteps", 4000);
    int reps = Integer.getInteger("bench.reps", 3);
    int samples = Integer.getInteger("bench.samples", 1000);
    int ddimSteps = Integer.getInteger("bench.ddimSteps", 20);
    String script = System.getProperty("bench.torch", "");
    if (script.isEmpty()) {
      script = findScript();
    } else if (script.equals("none")) {
      script = null;
    }
    String workload = System.getProperty("bench.workload", "mlp");
    if (workload.equals("unet")) {
      unet(threads, reps, Integer.getInteger("bench.batch", 64), Integer.getInteger("bench.unetSteps", 3), ddimSteps);
      return;
    }
    if (workload.equals("cifar10")) {
      cifar10(threads, Integer.getInteger("bench.batch", 64), Integer.getInteger("bench.unetSteps", 2));
      return;
    }
    if (!workload.equals("mlp")) {
      throw new IllegalArgumentException("bench.workload: '" + workload + "' is not one of mlp, unet, cifar10");
    }

    Map<String, Double> torch = new LinkedHashMap<>();
    if (script != null) {
      torch = runTorch(System.getProperty("bench.python", "/usr/bin/python3"), script, threads, trainSteps,
          samples, ddimSteps, reps);
    }

    Map<String, Double> djl = new LinkedHashMap<>();
    try (Backend backend = new DjlBackendProvider().create(new BackendOptions(threads))) {
      System.out.println("# " + backend.describe());
      MlpSpec spec = new MlpSpec(IMAGE, T, HIDDEN);
      TensorFactory tensors = backend.tensors();
      Schedule schedule = Schedule.of(ScheduleSpec.linear(T));
      try (TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(1e-3), 0)) {
        djl.put("train_steps_per_s", trainSteps / median(reps, stepOnly(model, tensors, trainSteps)));
        djl.put("train_loop_steps_per_s", trainSteps / median(reps, trainerLoop(model, tensors, schedule, trainSteps)));
        Sampler ddpm = new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE,
            SampleClipping.NONE, tensors);
        Sampler ddim = new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, tensors);
        djl.put("ddpm_s", median(reps, sampling(model, tensors, ddpm, Timesteps.full(T), IMAGE, samples)));
        djl.put("ddim_s", median(reps, sampling(model, tensors, ddim, Timesteps.trailing(T, ddimSteps), IMAGE, samples)));
      }
    }
    report(djl, torch, trainSteps, samples, ddimSteps, threads);
  }

  /** A line of {@code /proc/self/status} in kB, e.g. {@code VmHWM} (the peak resident size). */
  private static long statusKb(String key) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return -1;
  }

  /**
   * The memory of the DDPM authors' CIFAR-10 model ({@code DdpmUNetSpec.cifar10()}, 35.7 M parameters)
   * training at batch {@code bench.batch}: the peak resident size of the process (VmHWM) after each of
   * {@code bench.unetSteps} steps, and the time of each step; prints a JSON line.
   */
  private static void cifar10(int threads, int batch, int steps) {
    io.github.diffusion4j.model.DdpmUNetSpec spec = io.github.diffusion4j.model.DdpmUNetSpec.cifar10();
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    StringBuilder json = new StringBuilder("{\"backend\": \"djl\", \"workload\": \"cifar10\", \"threads\": "
        + threads + ", \"batch\": " + batch);
    try (Backend backend = new DjlBackendProvider().create(new BackendOptions(threads));
        TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(2e-4), 0)) {
      System.out.println("# " + backend.describe());
      long perItem = 4L * spec.network().activationFloatsPerItem(true);
      long passItems = Math.max(1, backend.layers().passMemoryBytes() / perItem);
      System.out.printf(Locale.ROOT, "# %d parameters; %.0f MB of activations per image (the api's estimate); pass memory"
          + " %d MiB: passes of at most %d images%n", spec.network().parameterCount(), perItem / 1e6,
          backend.layers().passMemoryBytes() >> 20, passItems);
      json.append(String.format(Locale.ROOT, ", \"model_rss_mb\": %.0f", statusKb("VmRSS") / 1024.0));
      TensorFactory tensors = backend.tensors();
      int[] ts = Batches.timesteps(batch, 1000, 1);
      for (int i = 0; i < steps; i++) {
        long start = System.nanoTime();
        try (TensorScope s = tensors.openScope()) {
          model.step(tensors.normal(shape, Noise.seeded(i)), ts, tensors.normal(shape, Noise.seeded(-1 - i)));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double peak = statusKb("VmHWM") / 1024.0;
        System.out.printf(Locale.ROOT, "step %d: %.1f s, peak resident size %.0f MB%n", i + 1, seconds, peak);
        json.append(String.format(Locale.ROOT, ", \"step%d_s\": %.1f, \"step%d_peak_rss_mb\": %.0f", i + 1, seconds, i + 1, peak));
      }
    }
    System.out.println(json.append('}'));
  }

  /** The U-Net workload; prints a table and a JSON line. */
  private static void unet(int threads, int reps, int batch, int steps, int ddimSteps) {
    UNetSpec spec = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    Map<String, Double> djl = new LinkedHashMap<>();
    try (Backend backend = new DjlBackendProvider().create(new BackendOptions(threads));
        TrainableModel model = backend.createModel(spec, OptimizerSpec.adam(1e-4), 0);
        TensorScope data = backend.tensors().openScope()) {
      System.out.println("# " + backend.describe());
      TensorFactory tensors = backend.tensors();
      model.loadStateDict(UNetReference.testWeights(spec, 1));
      Tensor x = tensors.normal(shape, Noise.seeded(1));
      Tensor y = tensors.normal(shape, Noise.seeded(2));
      int[] ts = Batches.timesteps(batch, 1000, 3);
      Runnable train = () -> {
        for (int i = 0; i < steps; i++) {
          try (TensorScope s = tensors.openScope()) {
            model.step(x, ts, y);
          }
        }
      };
      Runnable forward = () -> {
        for (int i = 0; i < steps; i++) {
          try (TensorScope s = tensors.openScope()) {
            model.predict(x, ts).toFloatArray();
          }
        }
      };
      Schedule schedule = Schedule.of(ScheduleSpec.linear(1000));
      Sampler ddim = new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.clip(1), tensors);
      djl.put("unet_train_steps_per_s", steps / median(reps, timed(train, train)));
      djl.put("unet_forward_s", median(reps, timed(forward, forward)) / steps);
      djl.put("unet_ddim_s", median(reps,
          sampling(model, tensors, ddim, Timesteps.trailing(1000, ddimSteps), spec.imageShape(), batch)));
    }
    System.out.printf(Locale.ROOT, "%-52s %12s%n", "U-Net 1x32x32, batch " + batch + " (" + threads + " thread)", "djl");
    System.out.printf(Locale.ROOT, "%-52s %12.3f%n", "train steps/s", djl.get("unet_train_steps_per_s"));
    System.out.printf(Locale.ROOT, "%-52s %12.3f%n", "forward pass s", djl.get("unet_forward_s"));
    System.out.printf(Locale.ROOT, "%-52s %12.3f%n", "ddim s, " + batch + " images x " + ddimSteps + " steps", djl.get("unet_ddim_s"));
    StringBuilder json = new StringBuilder("{\"backend\": \"djl\", \"workload\": \"unet\", \"threads\": " + threads
        + ", \"batch\": " + batch);
    djl.forEach((k, v) -> json.append(String.format(Locale.ROOT, ", \"%s\": %.4f", k, v)));
    System.out.println(json.append('}'));
  }

  /** (a) {@code step} alone, on 32 batches made beforehand and reused round-robin. */
  private static DoubleSupplier stepOnly(TrainableModel model, TensorFactory tensors, int steps) {
    int n = 32;
    Shape shape = Shape.batchOf(BATCH, IMAGE);
    Tensor[] x = new Tensor[n];
    Tensor[] eps = new Tensor[n];
    int[][] t = new int[n][BATCH];
    RandomGenerator g = Noise.seeded(1).generator();
    for (int i = 0; i < n; i++) {
      x[i] = tensors.normal(shape, Noise.seeded(2).split(i));
      eps[i] = tensors.normal(shape, Noise.seeded(3).split(i));
      for (int j = 0; j < BATCH; j++) {
        t[i][j] = g.nextInt(T);
      }
    }
    Runnable run = () -> {
      for (int s = 0; s < steps; s++) {
        try (TensorScope scope = tensors.openScope()) {
          model.step(x[s % n], t[s % n], eps[s % n]);
        }
      }
    };
    return timed(run, () -> {
      for (int s = 0; s < 500; s++) {
        try (TensorScope scope = tensors.openScope()) {
          model.step(x[s % n], t[s % n], eps[s % n]);
        }
      }
    });
  }

  /** (b) what a trainer does per step, heap side included. */
  private static DoubleSupplier trainerLoop(TrainableModel model, TensorFactory tensors, Schedule schedule, int steps) {
    InMemoryDataset data = GradientImages.dataset(50_000, IMAGE, Noise.seeded(7));
    ForwardProcess forward = new ForwardProcess(schedule);
    int k = IMAGE.size();
    Shape shape = Shape.batchOf(BATCH, IMAGE);
    float[] x0 = new float[BATCH * k];
    float[] eps = new float[BATCH * k];
    float[] xt = new float[BATCH * k];
    int[] t = new int[BATCH];
    int[] order = new int[data.size()];
    Arrays.setAll(order, i -> i);
    Noise root = Noise.seeded(11);
    RandomGenerator shuffle = root.split(0).generator();
    long[] step = {0};
    Runnable one = () -> {
      long s = step[0]++;
      int batchesPerEpoch = data.size() / BATCH;
      int b = (int) (s % batchesPerEpoch);
      if (b == 0) {
        shuffle.shuffle(order);
      }
      for (int i = 0; i < BATCH; i++) {
        data.copyImage(order[b * BATCH + i], x0, i * k);
      }
      Noise stepNoise = root.split(1 + s);
      RandomGenerator g = stepNoise.split(-1).generator();
      for (int i = 0; i < BATCH; i++) {
        t[i] = g.nextInt(T);
      }
      stepNoise.fillPerItem(eps, BATCH, k, 0);
      forward.noise(x0, t, eps, xt);
      try (TensorScope scope = tensors.openScope()) {
        model.step(tensors.fromArray(xt, shape), t, tensors.fromArray(eps, shape));
      }
    };
    return timed(() -> {
      for (int s = 0; s < steps; s++) {
        one.run();
      }
    }, () -> {
      for (int s = 0; s < 500; s++) {
        one.run();
      }
    });
  }

  /** (c) one sampling run of {@code count} images. */
  private static DoubleSupplier sampling(
      TrainableModel model, TensorFactory tensors, Sampler sampler, Timesteps plan, Shape image, int count) {
    Runnable run = () -> {
      try (TensorScope scope = tensors.openScope()) {
        sampler.sample(model, tensors, SamplingRequest.of(count, image, 5, plan)).toFloatArray();
      }
    };
    return timed(run, run);
  }

  /** Times {@code run}, after running {@code warmUp} once before the first timing. */
  private static DoubleSupplier timed(Runnable run, Runnable warmUp) {
    boolean[] warm = {false};
    return () -> {
      if (!warm[0]) {
        warmUp.run();
        warm[0] = true;
      }
      long start = System.nanoTime();
      run.run();
      return (System.nanoTime() - start) / 1e9;
    };
  }

  /** The median of {@code reps} timings in seconds. */
  private static double median(int reps, DoubleSupplier seconds) {
    double[] s = new double[reps];
    for (int i = 0; i < reps; i++) {
      s[i] = seconds.getAsDouble();
    }
    Arrays.sort(s);
    return s[reps / 2];
  }

  private static Map<String, Double> runTorch(
      String python, String script, int threads, int trainSteps, int samples, int ddimSteps, int reps)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(python, script, "--threads", Integer.toString(threads),
        "--train-steps", Integer.toString(trainSteps), "--n-samples", Integer.toString(samples),
        "--ddim-steps", Integer.toString(ddimSteps), "--reps", Integer.toString(reps));
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String json = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("{")) {
          json = line;
        }
      }
    }
    if (p.waitFor() != 0 || json == null) {
      throw new IllegalStateException("torch script " + script + " failed (exit " + p.exitValue() + ")");
    }
    System.out.println("# torch: " + json);
    Map<String, Double> m = new LinkedHashMap<>();
    Matcher mt = Pattern.compile("\"(\\w+)\":\\s*(-?[0-9.eE+-]+)").matcher(json);
    while (mt.find()) {
      m.put(mt.group(1), Double.parseDouble(mt.group(2)));
    }
    return m;
  }

  private static void report(
      Map<String, Double> djl, Map<String, Double> torch, int trainSteps, int samples, int ddimSteps, int threads) {
    System.out.printf(Locale.ROOT, "%-44s %12s %12s %10s%n", "workload (" + threads + " thread)", "djl", "torch",
        "djl/torch");
    row("train steps/s, step only (a)", djl.get("train_steps_per_s"), torch.get("train_steps_per_s"));
    row("train steps/s, trainer loop (b)", djl.get("train_loop_steps_per_s"), torch.get("train_steps_per_s"));
    row("ddpm s, " + samples + " images x 100 steps (c)", djl.get("ddpm_s"), torch.get("ddpm_s"));
    row("ddim s, " + samples + " images x " + ddimSteps + " steps (c)", djl.get("ddim_s"), torch.get("ddim_s"));
    StringBuilder json = new StringBuilder("{\"backend\": \"djl\", \"workload\": \"mlp\", \"threads\": " + threads
        + ", \"train_steps\": " + trainSteps);
    djl.forEach((k, v) -> json.append(String.format(Locale.ROOT, ", \"%s\": %.4f", k, v)));
    torch.forEach((k, v) -> json.append(String.format(Locale.ROOT, ", \"torch_%s\": %.4f", k, v)));
    System.out.println(json.append('}'));
  }

  private static void row(String name, Double djl, Double torch) {
    String t = torch == null ? "-" : String.format(Locale.ROOT, "%.3f", torch);
    String r = torch == null ? "-" : String.format(Locale.ROOT, "%.2f", djl / torch);
    System.out.printf(Locale.ROOT, "%-44s %12.3f %12s %10s%n", name, djl, t, r);
  }

  /** The repository's {@code benchmarks/reference/torch_timing.py}: walks up to the root's pom.xml and mvnw. */
  private static String findScript() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isRegularFile(dir.resolve("mvnw"))) {
        Path candidate = dir.resolve("benchmarks/reference/torch_timing.py");
        return Files.isRegularFile(candidate) ? candidate.toString() : null;
      }
    }
    return null;
  }
}
