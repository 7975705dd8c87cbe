package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.InMemoryDataset;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.DataReport;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.training.Trainer;
import io.github.diffusion4j.training.TrainerOptions;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffusion data bench}: the cost of the image cache, measured in one run against the same images
 * held in memory as floats (how IDX data is held): the time to build the cache from scratch, batches per
 * second gathered, and training steps per second of the configured model.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Times a configuration's image cache (data.kind folder or cifar10): building it from scratch "
        + "into a fresh folder, then gathering random batches and training the configured model from the "
        + "memory-mapped cache against the same images copied into memory, in the same run; prints ratios.",
        "Quiet machine wanted: other work on it changes every figure."})
final class DataBenchCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", required = true, description = "The configuration.")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--images", paramLabel = "N", defaultValue = "20000",
      description = "Images compared (spread over the training set; both sides hold the same). Default 20000.")
  int images;

  @Option(names = "--gather-batches", paramLabel = "N", defaultValue = "2000", description = "Random batches gathered per repetition.")
  int gatherBatches;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "100", description = "Training steps per repetition.")
  int steps;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "10", description = "Training steps before timing (at least 1).")
  int warmup;

  @Option(names = "--reps", paramLabel = "N", defaultValue = "3", description = "Repetitions; the median is reported.")
  int reps;

  @Option(names = "--keep-cache", description = "Keep the cache built for the timing (it is deleted otherwise).")
  boolean keepCache;

  @Override
  public Integer call() throws IOException {
    String[] names = {"--images", "--gather-batches", "--steps", "--warmup", "--reps"};
    int[] values = {images, gatherBatches, steps, warmup, reps};
    for (int i = 0; i < names.length; i++) {
      if (values[i] < 1) { // named with its value, as every option's error is (it named all five)
        throw new BadInputException(names[i] + " " + values[i] + ": must be at least 1");
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    LoadedConfig probe = TrainCommand.load(config, null, overrides);
    String kind = probe.config().data().kind().configName();
    if (!kind.equals("folder") && !kind.equals("cifar10")) {
      throw new BadInputException(config + ": data.kind is " + kind + "; the image cache is used by folder and cifar10");
    }
    Path cacheDir = probe.config().output().dir().resolve(".data-cache")
        .resolve("bench-" + Long.toHexString(System.nanoTime()));
    List<String> all = new ArrayList<>(overrides);
    all.add(ConfigLoader.stringOverride("data.cache_dir", cacheDir.toAbsolutePath().toString()));
    all.add("data.random_flip=false");
    LoadedConfig loaded = TrainCommand.load(config, null, all);
    // Ctrl-C or SIGTERM interrupts the timing (training stops at its next step), and bench deletes
    // the cache built for it (as large as the data set) before the guard lets the JVM go
    Thread timing = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(timing::interrupt)) {
      try {
        bench(out, loaded, cacheDir);
      } catch (RuntimeException e) { // the timing's cancellation, or a file operation the interrupt cut short
        // said inside the guard: past it, a signalled JVM went before the error was printed (no word, or at times
        // "diffusion: data bench: interrupted")
        return guard.said(e, out, "the bench was not finished" + (keepCache ? ""
            : " (the cache built for it is deleted)"));
      }
    }
    return DiffusionCli.OK;
  }

  /** The timing itself; the cache built for it is deleted at the end unless kept. */
  private void bench(PrintWriter out, LoadedConfig loaded, Path cacheDir) throws IOException {
    try (Diffusion d = Diffusion.open(loaded)) {
      // a line per tenth of the decoding (a live bar's thread would share the timed build's cores)
      DataReport report = d.prepareData(new DataConsole(out, false, true));
      out.printf(Locale.ROOT, "data: %s, %s images%n", report.train().source(), d.imageShape().toCompactString());
      build(out, "training set", report.train());
      report.eval().ifPresent(e -> build(out, "evaluation set", e));
      Dataset mapped = spread(d.trainingData(), images);
      int k = mapped.imageShape().size();
      checkCopy(images, mapped.size(), mapped.imageShape(), Runtime.getRuntime().maxMemory() / 2);
      checkSteps(loaded.config().training().trainerOptions(0), mapped.size(), warmup, steps);
      float[] copy = new float[mapped.size() * k];
      int[] all0 = new int[mapped.size()];
      for (int i = 0; i < all0.length; i++) {
        all0[i] = i;
      }
      mapped.gather(all0, copy);
      Dataset memory = new InMemoryDataset(mapped.imageShape(), copy);
      int batch = Math.min(loaded.config().training().batchSize(), mapped.size());
      out.printf(Locale.ROOT, "compared: %,d images (%.1f MB as floats in memory), batch %d, %d repetitions, median%n",
          mapped.size(), copy.length * 4 / 1e6, batch, reps);
      gather(mapped, batch); // warm-up of both paths, untimed
      gather(memory, batch);
      train(d, mapped);
      train(d, memory);
      double[][] g = new double[2][reps];
      double[][] t = new double[2][reps];
      for (int r = 0; r < reps; r++) {
        for (int side : r % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) { // alternate which goes first
          g[side][r] = gather(side == 0 ? mapped : memory, batch);
        }
      }
      ratio(out, "gather (random batches)", "batches/s", g);
      for (int r = 0; r < reps; r++) {
        for (int side : r % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
          t[side][r] = train(d, side == 0 ? mapped : memory);
        }
      }
      ratio(out, "training (" + loaded.config().model().kind().configName() + ", " + steps + " steps)", "steps/s", t);
    } finally {
      if (!keepCache) {
        AtomicFiles.deleteRecursively(cacheDir);
      } else {
        out.println("cache kept in " + cacheDir.toAbsolutePath());
      }
    }
  }

  /**
   * Refuses, naming {@code --images}, an in-memory copy of the compared images that one array cannot hold or that
   * would take more than half of the heap (it failed as "integer overflow" or ran out of memory).
   *
   * @param images the option's value
   * @param count the images compared (the option's value, or fewer where the data set has fewer)
   * @param image their shape
   * @param heap the bytes the copy may take
   */
  static void checkCopy(int images, int count, io.github.diffusion4j.tensor.Shape image, long heap) {
    long values = (long) count * image.size();
    long fits = Math.min(io.github.diffusion4j.tensor.Shape.MAX_ELEMENTS, heap / Float.BYTES) / image.size();
    if (count > fits) {
      throw new BadInputException(String.format(Locale.ROOT, "--images %d: %d images of %s are %d floats (%.1f GB) "
          + "in memory, more than %s; give at most %d", images, count, image.toCompactString(), values,
          values * (double) Float.BYTES / 1e9, values > io.github.diffusion4j.tensor.Shape.MAX_ELEMENTS
              ? "one Java array holds" : String.format(Locale.ROOT, "half of the heap (%.1f GB; -Xmx)", heap / 1e9),
          fits));
    }
  }

  /**
   * Refuses, naming {@code --steps}, a timing that the configured epochs cannot give: each repetition trains a fresh
   * model on the compared images for {@code warmup + steps} steps. Called before the in-memory copy and the timing.
   *
   * @param options the configured training (epochs, batch size)
   * @param count the images compared
   * @param warmup the {@code --warmup} steps
   * @param steps the {@code --steps} timed
   */
  static void checkSteps(TrainerOptions options, int count, int warmup, int steps) {
    long total = options.totalSteps(count);
    if (total < (long) warmup + steps) {
      throw new BadInputException(String.format(Locale.ROOT, "--steps %d: training.epochs %d x %d batches of %d "
          + "images (training.batch_size %d) give %d steps, fewer than --warmup %d + --steps %d; raise "
          + "training.epochs (--set training.epochs=N) or lower --steps", steps, options.epochs(),
          options.batchesPerEpoch(count), count, options.batchSize(), total, warmup, steps));
    }
  }

  /** One line: a cache's build. */
  private static void build(PrintWriter out, String what, DataReport.Part p) {
    int decoded = p.available() + p.skippedCount();
    long bytes;
    try {
      bytes = Files.size(p.cacheFile().orElseThrow());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    out.printf(Locale.ROOT, "cache build, %s (from scratch; source files in the OS cache if read before): %,d images "
        + "in %.2f s, %.0f images/s, %.1f MB%n", what, decoded, p.cacheSeconds(), decoded / p.cacheSeconds(),
        bytes / 1e6);
  }

  /** The median of the repetitions (the upper one of an even count). */
  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }

  /** One line: the medians from the cache and from memory, and their ratio. */
  private static void ratio(PrintWriter out, String what, String unit, double[][] rates) {
    double cache = median(rates[0]);
    double memory = median(rates[1]);
    out.printf(Locale.ROOT, "%s: cache %.2f %s, memory %.2f %s, ratio %.2f%n", what, cache, unit, memory, unit,
        cache / memory);
  }

  private static Dataset spread(Dataset d, int max) {
    if (d instanceof io.github.diffusion4j.data.ByteImages b) {
      return b.spread(max);
    }
    return d;
  }

  /** Random batches (a fixed sequence of draws) gathered per second. */
  private double gather(Dataset data, int batch) {
    float[] dst = new float[batch * data.imageShape().size()];
    int[] idx = new int[batch];
    io.github.diffusion4j.random.RandomGenerator r = Noise.seeded(11).generator();
    long start = System.nanoTime();
    for (int b = 0; b < gatherBatches; b++) {
      if (Thread.currentThread().isInterrupted()) { // Ctrl-C: end now (it went on through every batch, seconds)
        throw new java.util.concurrent.CancellationException("data bench: interrupted");
      }
      for (int i = 0; i < batch; i++) {
        idx[i] = r.nextInt(data.size());
      }
      data.gather(idx, dst);
    }
    return gatherBatches / ((System.nanoTime() - start) / 1e9);
  }

  /** Training steps per second after the warm-up, with a fresh model of the configuration. */
  private double train(Diffusion d, Dataset data) {
    try (TrainableModel model = d.createModel()) {
      Trainer trainer = d.trainer(model);
      long[] marks = new long[2];
      trainer.train(data, null, TrainingProgress.START, new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == warmup) {
            marks[0] = System.nanoTime();
          }
          if (step == warmup + steps) {
            marks[1] = System.nanoTime();
            trainer.requestStop();
          }
        }
      });
      if (marks[1] == 0 && Thread.currentThread().isInterrupted()) {
        throw new java.util.concurrent.CancellationException("data bench: interrupted");
      }
      if (marks[1] == 0) { // checkSteps made sure the epochs give them
        throw new IllegalStateException("training ended before step " + (warmup + steps));
      }
      return steps / ((marks[1] - marks[0]) / 1e9);
    }
  }
}
