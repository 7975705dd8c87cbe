package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Times the tutorial's workload on the nd4j backend and, when Debian's PyTorch and the reference script
 * are present, PyTorch's in the same run, and prints both with the ratios.
 *
 * <p>Measures (a) {@code model.step} alone on pre-made batches of 128; (b) the loop a trainer runs:
 * gather a batch from a heap dataset, draw timesteps and portable noise, form {@code x_t} on the heap,
 * copy in, step; (c) sampling 1000 images with 100 DDPM steps and with 20 DDIM steps through the api's
 * samplers. Each figure is the median of {@code reps} repetitions after a warm-up, like the PyTorch
 * script. Run it from the repository root with
 *
 * <pre>
 *   ./mvnw -B -q -pl backend-nd4j -am verify -DskipTests -Pbench [-Dbench.threads=1]
 * </pre>
 *
 * <p>System properties: {@code bench.threads} (1); {@code bench.rounds} (1; with more, PyTorch and
 * nd4j alternate and the best figure of each side is printed last, which damps the noise of a shared
 * machine); {@code bench.trainSteps} (4000), {@code bench.reps} (3), {@code bench.samples} (1000),
 * {@code bench.ddimSteps} (20); {@code bench.torch}, the path of {@code torch_timing.py} (by default
 * the repository's {@code benchmarks/reference/torch_timing.py}, the repository being the working directory
 * or the first parent with {@code pom.xml} and {@code mvnw}; {@code none} skips PyTorch);
 * {@code bench.python}, the interpreter ({@code /usr/bin/python3}); {@code bench.torchBlas}, a BLAS library
 * to {@code LD_PRELOAD} into PyTorch, e.g. the
 * {@code libopenblas.so.0} ND4J uses: Debian's {@code python3-torch} calls the generic
 * {@code libblas.so.3}, which is the unoptimised reference BLAS unless an optimised one is installed as
 * its alternative; with the same OpenBLAS both sides do the same matrix products.
 */
public final class Nd4jBenchmark {
  private Nd4jBenchmark() {}

  /**
   * Entry point.
   *
   * @param args ignored; see the system properties
   * @throws Exception if the PyTorch run fails to start
   */
  public static void main(String[] args) throws Exception {
    int threads = Integer.getInteger("bench.threads", 1);
    int rounds = Integer.getInteger("bench.rounds", 1);
    Map<String, Double> bestNd = new LinkedHashMap<>();
    Map<String, Double> bestTorch = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      if (rounds > 1) {
        System.out.println("# round " + round + " of " + rounds);
      }
      Optional<Map<String, Double>> torch = torch(threads);
      Map<String, Double> nd = nd4j(threads);
      System.out.println("nd4j  " + json(nd));
      torch.ifPresent(t -> {
        System.out.println("torch " + json(t));
        System.out.println("ratio " + json(ratios(nd, t)) + "  # nd4j vs torch: steps/s ratios >= 1 and time ratios <= 1 meet the target");
        best(bestTorch, t);
      });
      best(bestNd, nd);
    }
    if (rounds > 1) {
      System.out.println("best nd4j  " + json(bestNd));
      if (!bestTorch.isEmpty()) {
        System.out.println("best torch " + json(bestTorch));
        System.out.println("best ratio " + json(ratios(bestNd, bestTorch)));
      }
    }
  }

  /** Keeps the better value of each figure: the higher rate, the shorter time. */
  private static void best(Map<String, Double> into, Map<String, Double> round) {
    round.forEach((k, v) -> into.merge(k, v, (a, b) -> k.contains("per_s") ? Math.max(a, b) : Math.min(a, b)));
  }

  private static Map<String, Double> ratios(Map<String, Double> nd, Map<String, Double> t) {
    Map<String, Double> ratio = new LinkedHashMap<>();
    ratio.put("train_steps_per_s", nd.get("train_steps_per_s") / t.get("train_steps_per_s"));
    ratio.put("step_only_vs_torch_train", nd.get("step_only_steps_per_s") / t.get("train_steps_per_s"));
    ratio.put("ddpm_time", nd.get("ddpm_s") / t.get("ddpm_s"));
    ratio.put("ddim_time", nd.get("ddim_s") / t.get("ddim_s"));
    return ratio;
  }

  /** Runs (a), (b) and (c) on a fresh nd4j backend. */
  private static Map<String, Double> nd4j(int threads) {
    int trainSteps = Integer.getInteger("bench.trainSteps", 4000);
    int reps = Integer.getInteger("bench.reps", 3);
    int samples = Integer.getInteger("bench.samples", 1000);
    int ddimSteps = Integer.getInteger("bench.ddimSteps", 20);
    Map<String, Double> nd = new LinkedHashMap<>();
    try (Backend backend = new Nd4jBackendProvider().create(new BackendOptions(threads));
        TutorialWorkload w = new TutorialWorkload(backend, 50_000, 0)) {
      System.out.println("# " + backend.describe());
      nd.put("step_only_steps_per_s", trainSteps / median(reps, stepOnly(w, trainSteps)));
      for (int i = 0; i < 500; i++) {
        w.trainStep(-1 - i); // warm-up
      }
      nd.put("train_steps_per_s", trainSteps / median(reps, r -> {
        long s = System.nanoTime();
        for (int i = 0; i < trainSteps; i++) {
          w.trainStep((long) r * trainSteps + i);
        }
        return seconds(s);
      }));
      Timesteps full = Timesteps.full(TutorialWorkload.T);
      Timesteps trailing = Timesteps.trailing(TutorialWorkload.T, ddimSteps);
      w.sample(w.ddpm(), samples, full, 0); // warm-up
      nd.put("ddpm_s", median(reps, r -> {
        long s = System.nanoTime();
        w.sample(w.ddpm(), samples, full, r);
        return seconds(s);
      }));
      w.sample(w.ddim(), samples, trailing, 0);
      nd.put("ddim_s", median(reps, r -> {
        long s = System.nanoTime();
        w.sample(w.ddim(), samples, trailing, r);
        return seconds(s);
      }));
    }
    return nd;
  }

  /** (a): {@code model.step} on 16 batches made before the clock starts, cycled. */
  private static IntToDoubleFunction stepOnly(TutorialWorkload w, int steps) {
    TensorFactory f = w.tensors;
    Shape shape = Shape.batchOf(TutorialWorkload.BATCH, TutorialWorkload.IMAGE);
    int n = 16;
    Tensor[] x = new Tensor[n];
    Tensor[] y = new Tensor[n];
    int[][] t = new int[n][TutorialWorkload.BATCH];
    for (int i = 0; i < n; i++) {
      Noise noise = Noise.seeded(1000 + i);
      x[i] = f.fromArray(noise.split(0).normals(shape.size()), shape);
      y[i] = f.fromArray(noise.split(1).normals(shape.size()), shape);
      RandomGenerator g = noise.split(2).generator();
      for (int j = 0; j < t[i].length; j++) {
        t[i][j] = g.nextInt(TutorialWorkload.T);
      }
    }
    TrainableModel m = w.model;
    for (int i = 0; i < 500; i++) {
      m.step(x[i % n], t[i % n], y[i % n]);
    }
    return r -> {
      long s = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        try (TensorScope scope = f.openScope()) {
          m.step(x[i % n], t[i % n], y[i % n]);
        }
      }
      return seconds(s);
    };
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static double median(int reps, IntToDoubleFunction run) {
    double[] times = new double[reps];
    for (int r = 0; r < reps; r++) {
      times[r] = run.applyAsDouble(r);
    }
    Arrays.sort(times);
    return times[reps / 2];
  }

  private static String json(Map<String, Double> values) {
    StringBuilder b = new StringBuilder("{");
    values.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "\"%s\": %.4g", k, v)));
    return b.append('}').toString();
  }

  /** Runs the PyTorch script if it and Debian's PyTorch are present. */
  private static Optional<Map<String, Double>> torch(int threads) throws IOException, InterruptedException {
    String configured = System.getProperty("bench.torch", "");
    if (configured.equals("none")) {
      return Optional.empty();
    }
    Optional<Path> script = configured.isEmpty() ? findScript() : Optional.of(Path.of(configured));
    Path python = Path.of(System.getProperty("bench.python", "/usr/bin/python3"));
    if (script.isEmpty() || !Files.isRegularFile(script.get()) || !Files.isExecutable(python)) {
      System.out.println("# PyTorch reference skipped: no " + (script.isEmpty() ? "torch_timing.py" : python));
      return Optional.empty();
    }
    ProcessBuilder pb =
        new ProcessBuilder(python.toString(), script.get().toString(), "--threads", Integer.toString(threads))
            .redirectErrorStream(true);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    String blas = System.getProperty("bench.torchBlas", "");
    if (!blas.isEmpty()) {
      pb.environment().put("LD_PRELOAD", blas);
      pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
      OpenBlasCoreType.choose(OpenBlasCoreType.cpuFlags())
          .ifPresent(core -> pb.environment().putIfAbsent("OPENBLAS_CORETYPE", core));
      System.out.println("# PyTorch with LD_PRELOAD=" + blas);
    }
    Process p = pb.start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      System.out.println("# PyTorch reference failed: " + out.strip().replace('\n', ' '));
      return Optional.empty();
    }
    Map<String, Double> m = new LinkedHashMap<>();
    Matcher matcher = Pattern.compile("\"(train_steps_per_s|ddpm_s|ddim_s)\": ([0-9.eE+-]+)").matcher(out);
    while (matcher.find()) {
      m.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
    }
    return m.size() == 3 ? Optional.of(m) : Optional.empty();
  }

  /** The repository's {@code benchmarks/reference/torch_timing.py}: walks up to the root's pom.xml and mvnw. */
  private static Optional<Path> findScript() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isRegularFile(dir.resolve("mvnw"))) {
        Path candidate = dir.resolve("benchmarks/reference/torch_timing.py");
        return Files.isRegularFile(candidate) ? Optional.of(candidate) : Optional.empty();
      }
    }
    return Optional.empty();
  }
}
