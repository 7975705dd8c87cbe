package io.github.diffusion4j.spark;

import io.github.diffusion4j.config.DataConfig;
import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Sampling and evaluation on Apache Spark: the Java entry point of {@code diffusion spark}.
 *
 * <pre>{@code
 * try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("samples"))) {
 *   SampleManifest m = SparkDiffusion.sample(sc, SampleJob.of(Path.of("/shared/runs/demo"), 1_000_000,
 *       Path.of("/shared/samples")).withPartitions(200));
 *   EvalResult r = SparkDiffusion.evaluate(sc, EvalJob.of(Path.of("/shared/runs/demo"), 50_000));
 * }
 * }</pre>
 *
 * <p>The driver loads the checkpoint once to check it (one-line errors before any task starts), pins the
 * checkpoint folder (a run folder's newest checkpoint, with the SHA-256 of its files) and cuts the samples
 * into shards of whole sampling batches ({@link ShardPlan}). Each task samples its shard with the executor
 * JVM's model of the checkpoint ({@link Shipping}: read from shared storage or broadcast; loaded once per
 * executor JVM and shared by its tasks). Noise is keyed by (seed, step, sample), and every batch is a batch of the
 * single-process run, so the samples are bit-identical to {@code diffusion sample}'s for any number of
 * partitions, and a retried or speculative task writes the same bytes again.
 *
 * <p>Evaluation never brings samples to the driver: each task folds its shard into a {@link
 * QualityAccumulator} (the samples' mean and centred comoment in double precision, corner histogram,
 * residual sums) and a tree of fixed shape merges them pairwise with Chan et al.'s update ({@link #aggregate}); the reference
 * images' Gaussian is fitted on the driver meanwhile, exactly as {@code diffusion eval} fits it.
 *
 * <p>The jobs of a call are interrupt-on-cancel and carry a job tag of their own (the caller's job group, tags
 * and interrupt setting are as they were afterwards). If the JVM shuts down during a call (Ctrl-C, SIGTERM),
 * its jobs are cancelled before Spark stops the context, their tasks interrupted, and the call cleans up and
 * throws {@link SparkJobException} before the shutdown goes on (25 seconds at most). The driver loads the checkpoint
 * before it makes or claims the output folder, through a {@link DriverLoad} the caller may give.
 */
public final class SparkDiffusion {
  private SparkDiffusion() {}

  /**
   * Samples a job's images as shards into its output folder and writes the manifest last. If the job fails,
   * the output folder is emptied (removed if the job created it).
   *
   * @param sc the Spark context
   * @param job the job
   * @return the manifest written to {@code job.out()/manifest.json}
   * @throws IllegalArgumentException if the output folder is a file or not empty
   * @throws io.github.diffusion4j.io.CheckpointException if the checkpoint cannot be used
   * @throws io.github.diffusion4j.config.ConfigException if an override is wrong
   * @throws SparkJobException if a shard fails on every attempt Spark allows
   */
  public static SampleManifest sample(JavaSparkContext sc, SampleJob job) {
    return sample(sc, job, TaskHook.NONE);
  }

  /**
   * As {@link #sample(JavaSparkContext, SampleJob)}, with the driver's load of the checkpoint run by {@code driverLoad}
   * (the command line's runs it under its interrupt guard, which says a Ctrl-C meanwhile at once). The load comes
   * before the output folder is made or claimed and before the shutdown hook of the job's scope, so that a shutdown
   * during it waits for nothing and leaves nothing.
   *
   * @param sc the Spark context
   * @param job the job
   * @param driverLoad runs the load it is given and returns its model; or returns null, the load's model (if any)
   *     closed, where the JVM is shutting down: the call then throws {@link SparkJobException}, nothing written
   * @return the manifest written to {@code job.out()/manifest.json}
   */
  public static SampleManifest sample(JavaSparkContext sc, SampleJob job, DriverLoad driverLoad) {
    return sample(sc, job, TaskHook.NONE, JobScope::new, driverLoad);
  }

  static SampleManifest sample(JavaSparkContext sc, SampleJob job, TaskHook hook) {
    return sample(sc, job, hook, JobScope::new);
  }

  /** With the scope of the job's Spark jobs made by {@code scopes} (tests shut it down by hand). */
  static SampleManifest sample(JavaSparkContext sc, SampleJob job, TaskHook hook,
      Function<JavaSparkContext, JobScope> scopes) {
    return sample(sc, job, hook, scopes, DriverLoad.DIRECT);
  }

  private static SampleManifest sample(JavaSparkContext sc, SampleJob job, TaskHook hook,
      Function<JavaSparkContext, JobScope> scopes, DriverLoad driverLoad) {
    try {
      return sampleOn(sc, job, hook, scopes, driverLoad);
    } catch (RuntimeException e) {
      // the context stopped before the job, under the driver's check of the checkpoint or its broadcast
      throw SparkJobException.ifStopped(e);
    }
  }

  private static SampleManifest sampleOn(JavaSparkContext sc, SampleJob job, TaskHook hook,
      Function<JavaSparkContext, JobScope> scopes, DriverLoad driverLoad) {
    Path out = job.out().toAbsolutePath().normalize();
    List<String> overrides = withThreads(sc, job.overrides(), job.threadsPerTask());
    // the driver's load first (seconds for a large model, heeding no interrupt): a shutdown meanwhile has no folder
    // to clean and no scope to wait for
    try (TrainedModel m = loaded(driverLoad, job.checkpoint(), overrides);
        JobScope scope = scopes.apply(sc)) {
      boolean created = prepareOutput(out);
      boolean done = false;
      try {
        Diffusion d = m.diffusion();
        ShardPlan plan = ShardPlan.of(job.count(), d.samplingBatchSize(), partitions(sc, job.partitions()));
        ModelSource source =
            ModelSource.prepare(sc, m.checkpoint().directory(), withNoise(overrides, d), job.shipping());
        String sampler = d.sampler().name();
        int steps = d.plan().size();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("range", "[0, 1]");
        metadata.put("sampler", sampler);
        metadata.put("seed", Long.toString(job.seed()));
        metadata.put("steps", Integer.toString(steps));
        metadata.put("count", Integer.toString(job.count()));
        ShardTasks.Spec spec = new ShardTasks.Spec(job.count(), job.seed(), plan.batchSize(), out.toString(),
            job.format(), metadata);
        sc.setJobDescription("diffusion4j: sample " + job.count() + " images in " + plan.shards().size() + " shards");
        List<ShardResult> results;
        try {
          results = new ArrayList<>(scope.run(() -> shards(sc, plan)
              .map(shard -> ShardTasks.write(source, spec, shard, hook))
              .collect()));
        } finally {
          source.release();
        }
        // a speculative or duplicate attempt that Spark is still killing may yet rename its shard over the finished one
        // (a PNG folder is moved aside for that, the name briefly free) or write a temporary: it ends first
        scope.awaitTasks();
        results.sort(Comparator.comparingInt(ShardResult::index));
        for (ShardResult r : results) {
          Path p = out.resolve(r.file());
          if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalStateException(p + ": reported written by its task but not visible to the driver; the "
                + "output folder must be on storage the driver and every executor share");
          }
        }
        deleteTemporaries(out);
        SampleManifest manifest = new SampleManifest(job.count(), job.seed(), Arrays.stream(d.imageShape().dims())
            .boxed().toList(), job.format(), plan.batchSize(), sampler, steps, d.backend().name(), d.config().threads(),
            source.directory(),
            source.sha256(), results);
        manifest.writeTo(out);
        done = true;
        return manifest;
      } finally {
        if (!done) {
          scope.awaitTasks();
          cleanUpFailed(out, created);
        }
      }
    }
  }

  /**
   * Scores a job's samples against real images, as {@code diffusion eval} does on one machine: the Frechet
   * statistics of the samples aggregated across partitions, the reference fitted on the driver.
   *
   * @param sc the Spark context
   * @param job the job
   * @return the scores and the two Gaussians
   * @throws io.github.diffusion4j.io.CheckpointException if the checkpoint cannot be used
   * @throws io.github.diffusion4j.config.ConfigException if an override is wrong
   * @throws io.github.diffusion4j.runtime.ScoringReferences.Unavailable if the samples have no real images to be
   *     compared with (a diffusers folder without data, fewer than 2 real images), before any task runs
   * @throws io.github.diffusion4j.eval.ScoringMemoryException if the driver's heap would not hold the fits (half
   *     of it is allowed for them), before any task runs
   * @throws SparkJobException if a shard fails on every attempt Spark allows
   */
  public static EvalResult evaluate(JavaSparkContext sc, EvalJob job) {
    return evaluate(sc, job, TaskHook.NONE);
  }

  /**
   * As {@link #evaluate(JavaSparkContext, EvalJob)}, with the driver's load of the checkpoint run by {@code driverLoad},
   * before the shutdown hook of the job's scope (see {@link #sample(JavaSparkContext, SampleJob, DriverLoad)}).
   *
   * @param sc the Spark context
   * @param job the job
   * @param driverLoad runs the load it is given and returns its model, or null where the JVM is shutting down (the
   *     call then throws {@link SparkJobException})
   * @return the scores and the two Gaussians
   */
  public static EvalResult evaluate(JavaSparkContext sc, EvalJob job, DriverLoad driverLoad) {
    return evaluate(sc, job, TaskHook.NONE, driverLoad);
  }

  static EvalResult evaluate(JavaSparkContext sc, EvalJob job, TaskHook hook) {
    return evaluate(sc, job, hook, DriverLoad.DIRECT);
  }

  private static EvalResult evaluate(JavaSparkContext sc, EvalJob job, TaskHook hook, DriverLoad driverLoad) {
    try {
      return evaluateOn(sc, job, hook, driverLoad);
    } catch (RuntimeException e) {
      throw SparkJobException.ifStopped(e);
    }
  }

  private static EvalResult evaluateOn(JavaSparkContext sc, EvalJob job, TaskHook hook, DriverLoad driverLoad) {
    List<String> overrides = withThreads(sc, job.overrides(), job.threadsPerTask());
    try (TrainedModel m = loaded(driverLoad, job.checkpoint(), overrides);
        JobScope scope = new JobScope(sc)) {
      Diffusion d = m.diffusion();
      Shape shape = d.imageShape();
      // refused as diffusion eval refuses it, before any task: a diffusers folder without data, fewer than 2 real images
      io.github.diffusion4j.runtime.ScoringReferences.check(m);
      // the driver fits the real images and receives the samples' merged fit: refused before any task if they
      // would not fit its heap
      io.github.diffusion4j.eval.FrechetDistance.checkHeap(shape, job.count());
      ShardPlan plan = ShardPlan.of(job.count(), d.samplingBatchSize(), partitions(sc, job.partitions()));
      ModelSource source = ModelSource.prepare(sc, m.checkpoint().directory(), withNoise(overrides, d), job.shipping());
      int count = job.count();
      long seed = job.seed();
      int batch = plan.batchSize();
      // the real images' Gaussian on the driver, while the cluster samples: the same code and batches as
      // diffusion eval, so it is the same numbers. On a thread of its own, which a failed job interrupts and which
      // ends before the model closes (a CompletableFuture's cancel interrupted nothing: the reading went on with a
      // closed model)
      ExecutorService referenceThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, REFERENCE_THREAD);
        t.setDaemon(true);
        return t;
      });
      try {
        Future<Gaussian> reference = referenceThread.submit(() -> d.referenceGaussian(count));
        QualityAccumulator samples;
        try {
          sc.setJobDescription("diffusion4j: evaluate " + count + " samples in " + plan.shards().size() + " shards");
          int[] dims = shape.dims(); // a Shape is not serializable
          samples = scope.run(() -> aggregate(shards(sc, plan).mapPartitionsWithIndex((index, it) -> {
            QualityAccumulator acc = new QualityAccumulator(Shape.of(dims));
            while (it.hasNext()) {
              acc = ShardTasks.accumulate(source, count, seed, batch, acc, it.next(), hook);
            }
            return List.of(new Tuple2<>(index, acc)).iterator();
          }, true), plan.shards().size()));
        } finally {
          source.release();
        }
        Gaussian ref = join(reference);
        return new EvalResult(score(d, samples, ref), samples.gaussian(), ref, plan.shards().size(),
            d.referenceSource(), d.sampler().name(), d.plan().size());
      } finally {
        stop(referenceThread);
      }
    }
  }

  /**
   * Scores samples already on disk, the output folder of {@link #sample} ({@code diffusion spark eval --samples DIR}),
   * against the real images of a checkpoint, as {@link #evaluate} scores the samples it draws: the driver reads and
   * verifies the {@value SampleManifest#FILE} ({@link SampleManifest#read}, {@link SampleManifest#verify}: every
   * shard's size and SHA-256), each shard is read by a task of its own (batch by batch, {@link
   * io.github.diffusion4j.io.SampleReader}, the same code as {@code diffusion eval --samples}) into a {@link
   * QualityAccumulator}, and the tree of {@link #aggregate} merges them; the reference is fitted on the driver. The
   * folder must be on storage the executors share (where the job wrote it).
   *
   * @param sc the Spark context
   * @param checkpoint a checkpoint folder or a run folder: its configuration's real images are the reference
   * @param overrides configuration overrides
   * @param folder the output folder of a sampling job
   * @param count the first samples to score, at least 2 and at most the manifest's count, or 0 for all of them
   * @param driverLoad runs the driver's load of the checkpoint ({@link DriverLoad#DIRECT} for none of its own)
   * @return the scores and the two Gaussians; the sampler and steps are the manifest's
   * @throws IllegalArgumentException naming the manifest or the value: not a manifest, PNG shards (8 bits per channel,
   *     not the samples' values), another image shape than the model's, a count out of range
   * @throws IllegalStateException naming the first shard that is missing or differs from the manifest
   * @throws io.github.diffusion4j.runtime.ScoringReferences.Unavailable if the samples have no real images to be
   *     compared with
   * @throws io.github.diffusion4j.eval.ScoringMemoryException if the driver's heap would not hold the fits
   * @throws SparkJobException if a shard cannot be read on every attempt Spark allows
   */
  public static EvalResult evaluateSamples(JavaSparkContext sc, Path checkpoint, List<String> overrides, Path folder,
      int count, DriverLoad driverLoad) {
    try {
      return evaluateSamplesOn(sc, checkpoint, overrides, folder, count, driverLoad);
    } catch (RuntimeException e) {
      throw SparkJobException.ifStopped(e);
    }
  }

  private static EvalResult evaluateSamplesOn(JavaSparkContext sc, Path checkpoint, List<String> overrides,
      Path folder, int count, DriverLoad driverLoad) {
    Path dir = folder.toAbsolutePath().normalize();
    SampleManifest manifest = SampleManifest.read(dir);
    Path file = dir.resolve(SampleManifest.FILE);
    if (manifest.format() == SampleFormat.PNG) {
      throw new IllegalArgumentException(file + ": format png, 8 bits per channel, not the samples' values; allowed: "
          + "npy or safetensors shards (spark sample --format npy)");
    }
    if (count != 0 && (count < 2 || count > manifest.count())) {
      throw new IllegalArgumentException("count " + count + ": must be in [2, " + manifest.count() + "], the samples "
          + "in " + file);
    }
    int n = count == 0 ? manifest.count() : count;
    if (n < 2) {
      throw new IllegalArgumentException(file + ": " + n + " sample; the Frechet distance needs at least 2");
    }
    try (TrainedModel m = loaded(driverLoad, checkpoint, overrides);
        JobScope scope = new JobScope(sc)) {
      Diffusion d = m.diffusion();
      Shape shape = d.imageShape();
      if (!manifest.imageShape().equals(Arrays.stream(shape.dims()).boxed().toList())) {
        throw new IllegalArgumentException(file + ": image_shape " + manifest.imageShape() + "; the model's images are "
            + shape);
      }
      io.github.diffusion4j.runtime.ScoringReferences.check(m);
      io.github.diffusion4j.eval.FrechetDistance.checkHeap(shape, n);
      manifest.verify(dir); // every shard as the manifest says, before any task reads one
      List<Tuple2<String, Integer>> parts = new ArrayList<>();
      for (ShardResult s : manifest.shards()) {
        if (s.first() < n) {
          parts.add(new Tuple2<>(dir.resolve(s.file()).toString(), (int) Math.min(s.count(), n - s.first())));
        }
      }
      int[] dims = shape.dims(); // a Shape is not serializable
      int batch = d.samplingBatchSize();
      sc.setJobDescription("diffusion4j: evaluate " + n + " samples of " + parts.size() + " shards in " + dir);
      QualityAccumulator samples = scope.run(() -> aggregate(sc.parallelize(parts, parts.size())
          .mapPartitionsWithIndex((index, it) -> {
            QualityAccumulator acc = new QualityAccumulator(Shape.of(dims));
            while (it.hasNext()) {
              Tuple2<String, Integer> part = it.next();
              try (io.github.diffusion4j.io.SampleReader r =
                  io.github.diffusion4j.io.SampleReader.open(Path.of(part._1()), Shape.of(dims))) {
                r.forEachBatch(part._2(), batch, acc::add);
              }
            }
            return List.of(new Tuple2<>(index, acc)).iterator();
          }, true), parts.size()));
      Gaussian ref = d.referenceGaussian(n);
      return new EvalResult(score(d, samples, ref), samples.gaussian(), ref, parts.size(), d.referenceSource(),
          manifest.sampler(), manifest.steps());
    }
  }

  /**
   * Merges the partitions' accumulators in a tree whose shape and order depend only on the number of partitions, so
   * that the result is the same bits whichever order the tasks finish in (Spark's {@code treeAggregate} merges in the
   * order they finish, and its shuffle level in the order it fetches them): at each level, {@code fanIn} neighbours
   * (about the square root of the partitions, as {@code treeAggregate} with depth 2) go to one partition, sorted by
   * their index, and are merged in that order, until one is left; only that one reaches the driver.
   *
   * @param parts each partition's accumulator, keyed by the partition's index
   * @param n the number of partitions
   * @return the merged accumulator
   */
  static QualityAccumulator aggregate(JavaRDD<Tuple2<Integer, QualityAccumulator>> parts, int n) {
    JavaPairRDD<Integer, QualityAccumulator> level = JavaPairRDD.fromJavaRDD(parts);
    int fanIn = Math.max(2, (int) Math.ceil(Math.sqrt(n)));
    while (n > 1) {
      int next = (n + fanIn - 1) / fanIn;
      level = JavaPairRDD.fromJavaRDD(level.repartitionAndSortWithinPartitions(new Neighbours(next, fanIn))
          .mapPartitionsWithIndex((index, it) -> {
            QualityAccumulator acc = null;
            while (it.hasNext()) {
              QualityAccumulator a = it.next()._2();
              acc = acc == null ? a : acc.merge(a);
            }
            return acc == null ? java.util.Collections.<Tuple2<Integer, QualityAccumulator>>emptyIterator()
                : List.of(new Tuple2<>(index, acc)).iterator();
          }, true));
      n = next;
    }
    List<Tuple2<Integer, QualityAccumulator>> last = level.collect();
    if (last.size() != 1) {
      throw new IllegalStateException("the evaluation's merge ended with " + last.size() + " accumulators, not 1");
    }
    return last.get(0)._2();
  }

  /** Sends partition {@code i}'s accumulator to partition {@code i / fanIn} of the next level. */
  private static final class Neighbours extends org.apache.spark.Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;
    private final int fanIn;

    Neighbours(int partitions, int fanIn) {
      this.partitions = partitions;
      this.fanIn = fanIn;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key / fanIn;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Neighbours other && other.partitions == partitions && other.fanIn == fanIn;
    }

    @Override
    public int hashCode() {
      return 31 * partitions + fanIn;
    }
  }

  /**
   * How the driver's load of a job's checkpoint runs: the command line's runs it under its interrupt guard, which says
   * a Ctrl-C or SIGTERM meanwhile at once and lets the JVM go, without waiting for the load.
   */
  @FunctionalInterface
  public interface DriverLoad {
    /** The load itself, as it is. */
    DriverLoad DIRECT = java.util.function.Supplier::get;

    /**
     * Runs the load.
     *
     * @param load the driver's load of the checkpoint
     * @return its model; or null where the JVM is shutting down (a model loaded meanwhile is closed)
     */
    TrainedModel load(java.util.function.Supplier<TrainedModel> load);
  }

  /** The driver's model, loaded by {@code driverLoad}; a shutdown during the load is the job's cancellation. */
  private static TrainedModel loaded(DriverLoad driverLoad, Path checkpoint, List<String> overrides) {
    TrainedModel m = driverLoad.load(() -> TrainedModel.load(checkpoint, overrides));
    if (m == null) {
      throw JobScope.cancelledException(null);
    }
    return m;
  }

  /** The name of the driver's thread that fits the real images during an evaluation. */
  static final String REFERENCE_THREAD = "diffusion4j-reference";

  /** The reference fit's result; its failure as it was thrown. */
  private static Gaussian join(Future<Gaussian> reference) {
    try {
      return reference.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SparkJobException("the evaluation was interrupted while the real images were read", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Interrupts the reference fit if it still runs (a failed job: it stops at a read that an interrupt ends, else at
   * its end) and waits for it, so that the model it reads with is closed only after it.
   */
  private static void stop(ExecutorService referenceThread) {
    referenceThread.shutdownNow();
    boolean interrupted = false;
    while (true) {
      try {
        if (referenceThread.awaitTermination(1, TimeUnit.DAYS)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true; // the model must not close under the reading; the caller's interrupt is kept
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The report of {@code diffusion eval}: the gradient residual and corner uniformity describe the
   * colour-gradient data only, and are left out (NaN) for other data.
   */
  private static QualityReport score(Diffusion d, QualityAccumulator samples, Gaussian reference) {
    QualityReport r = samples.report(reference);
    return d.config().data().kind() == DataConfig.Kind.GRADIENTS ? r
        : r.frechetOnly();
  }

  private static JavaRDD<ShardPlan.Shard> shards(JavaSparkContext sc, ShardPlan plan) {
    // one shard per partition: parallelize cuts a list of n into n slices of one
    return sc.parallelize(plan.shards(), plan.shards().size());
  }

  private static int partitions(JavaSparkContext sc, int requested) {
    return requested > 0 ? requested : Math.max(1, sc.defaultParallelism());
  }

  /**
   * The overrides with {@code threads} set: the job's threads per task; else the job's own {@code threads=N}
   * override, as {@code diffusion sample --set threads=N} takes it (the samples' bits depend on it); else
   * {@code spark.task.cpus} (the cores Spark gives each task), so that a task's native backend uses the cores it
   * owns.
   */
  static List<String> withThreads(JavaSparkContext sc, List<String> overrides, int threadsPerTask) {
    List<String> all = new ArrayList<>(overrides);
    if (threadsPerTask <= 0 && io.github.diffusion4j.config.ConfigLoader.overridesTouch(overrides, "threads")) {
      return all;
    }
    int threads = threadsPerTask > 0 ? threadsPerTask : Math.max(1, sc.getConf().getInt("spark.task.cpus", 1));
    all.add("threads=" + threads);
    return all;
  }

  /**
   * The overrides with the driver's noise version pinned, so that every executor draws the noise the driver's
   * {@code diffusion sample} would: a broadcast copy leaves {@code manifest.json} behind (it lists files that are not
   * shipped), and a checkpoint written on 2026-12-02 before {@code sampling.noise_version} existed records its noise
   * version only there.
   */
  static List<String> withNoise(List<String> overrides, Diffusion d) {
    List<String> all = new ArrayList<>(overrides);
    all.add("sampling.noise_version=" + d.noiseVersion().number());
    return all;
  }

  /**
   * The file by which a job claims its output folder before any task writes there: created exclusively, so of two
   * jobs given one new or empty folder at once (two commands, or a scheduler's retry beside the first), only one
   * writes into it; the other is refused without touching it (it used to write there too, delete the first job's
   * temporaries and, failing, empty the folder after the first had written its manifest). A temporary name: the
   * driver deletes it with the dead attempts' leftovers before the manifest is written, and one left by a
   * {@code kill -9} marks the folder as an interrupted run's.
   */
  public static final String CLAIM = AtomicFiles.TEMP_PREFIX + "job";

  /** Checks that the output folder is new or empty, creates it and claims it; true if it was created here. */
  static boolean prepareOutput(Path out) {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new IllegalArgumentException(out + ": is a file; give a new or empty folder for the shards");
    }
    boolean existed = Files.isDirectory(out);
    if (existed) {
      requireEmpty(out, null);
    }
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + out + ": " + FileProblems.describe(e), e);
    }
    Path claim = out.resolve(CLAIM);
    try {
      Files.writeString(claim, "process " + ProcessHandle.current().pid() + " since " + java.time.Instant.now() + "\n",
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      throw new IllegalArgumentException(out + ": another job is writing into it; give a new or empty folder for "
          + "the shards");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + claim + ": " + FileProblems.describe(e), e);
    }
    // another job may have passed its look, claimed, written and finished in between: then its result is there
    try {
      requireEmpty(out, claim);
    } catch (RuntimeException e) {
      try {
        Files.deleteIfExists(claim);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return !existed;
  }

  /** Refuses a folder that holds anything but {@code except} (null: anything at all). */
  private static void requireEmpty(Path out, Path except) {
    try (Stream<Path> entries = Files.list(out)) {
      if (entries.anyMatch(p -> !p.equals(except))) {
        throw new IllegalArgumentException(out + ": not empty; give a new or empty folder for the shards");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + out + ": " + FileProblems.describe(e), e);
    }
  }

  /** Deletes what attempts that died left: their temporaries. */
  private static void deleteTemporaries(Path out) {
    try (Stream<Path> entries = Files.list(out)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        if (AtomicFiles.isTemporary(p.getFileName().toString())) {
          AtomicFiles.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + out + ": " + FileProblems.describe(e), e);
    }
  }

  /** After a failed job: nothing is left that looks like a result (the folder, if the job created it). */
  private static void cleanUpFailed(Path out, boolean created) {
    try {
      if (created) {
        AtomicFiles.deleteRecursively(out);
      } else if (Files.isDirectory(out)) {
        try (Stream<Path> entries = Files.list(out)) {
          for (Path p : (Iterable<Path>) entries::iterator) {
            AtomicFiles.deleteRecursively(p);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // best effort: without a manifest the folder is not a result anyway
    }
  }
}
