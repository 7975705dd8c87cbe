package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Sampling on Spark in local mode gives exactly the bytes of {@code diffusion sample}: for 1, 3 and 7
 * partitions, through a failed and retried task, on both backends and both ways of shipping the checkpoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkSampleTest {
  /** Eight sampling batches of 1,024 [3, 5, 5] images, the last one short. */
  static final int COUNT = 7 * 1024 + 100;

  static final long SEED = 5;

  /** Attempts seen by the test hooks, by shard (the tasks run in this JVM in local mode). */
  static final Map<Integer, List<Integer>> ATTEMPTS = new ConcurrentHashMap<>();

  private JavaSparkContext sc;
  private Path run;
  private byte[] single;

  @BeforeAll
  void setUp() {
    sc = SparkTestSupport.context();
    run = SparkTestSupport.gradientRun();
    single = SparkTestSupport.singleProcessSamples(run, COUNT, SEED);
    assertEquals((long) COUNT * 75 * 4, single.length);
  }

  private Path out(String name) {
    return SparkTestSupport.root().resolve("sample-" + name);
  }

  private SampleJob job(String name) {
    return SampleJob.of(run, COUNT, out(name)).withSeed(SEED);
  }

  @Test
  void oneThreeAndSevenPartitionsGiveTheSingleProcessBytes() {
    int loadsBefore = ExecutorModels.loads();
    // 0: the context's default parallelism (2 of local[2,3])
    for (int p : new int[] {1, 3, 7, 0}) {
      Path out = out("p" + p);
      SampleManifest m = SparkDiffusion.sample(sc, job("p" + p).withPartitions(p));
      assertEquals(p == 0 ? sc.defaultParallelism() : p, m.shards().size());
      assertEquals(COUNT, m.count());
      assertEquals(1024, m.batchSize());
      for (ShardResult s : m.shards()) {
        assertEquals(0, s.first() % 1024, "shard " + s.index() + " starts on a batch boundary");
      }
      assertArrayEquals(single, SparkTestSupport.joinedShards(out, m), p + " partitions");
      m.verify(out);
      assertEquals(m, SampleManifest.read(out));
      // the shards and the manifest, nothing else (no temporaries, no second copy of a shard)
      List<String> expected = new ArrayList<>();
      m.shards().forEach(s -> expected.add(s.file()));
      expected.add(SampleManifest.FILE);
      assertEquals(expected.stream().sorted().toList(), SparkTestSupport.list(out));
    }
    // 13 tasks, 2 at a time: the checkpoint is loaded once in this JVM (or was already), not once per task
    int loads = ExecutorModels.loads() - loadsBefore;
    assertTrue(loads <= 1, loads + " loads");
  }

  @Test
  void moreShardsThanBatchesGivesOneShardPerBatch() {
    SampleManifest m = SparkDiffusion.sample(sc, job("p20").withPartitions(20));
    assertEquals(1, m.threads(), "the tasks' threads: spark.task.cpus");
    assertEquals(2, SparkDiffusion.sample(sc, job("t2").withOverrides(List.of("threads=2"))).threads());
    assertEquals(8, m.shards().size());
    assertEquals(100, m.shards().get(7).count());
    assertArrayEquals(single, SparkTestSupport.joinedShards(out("p20"), m));
  }

  @Test
  void aTaskThatFailsPartWayIsRetriedAndTheResultIsExact() {
    Path out = out("retry");
    String stray = ".tmp-" + SampleFormat.NPY.shardName(1) + "-left-by-a-killed-attempt";
    String strayPath = out.resolve(stray).toString();
    // attempt 0 of shard 1 writes one batch, leaves a temporary as a killed JVM would, and dies
    TaskHook failOnce = (shard, done) -> {
      int attempt = TaskContext.get().attemptNumber();
      if (shard.index() == 1) {
        ATTEMPTS.computeIfAbsent(1, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(attempt);
        if (attempt == 0) {
          try {
            Files.writeString(Path.of(strayPath), "partial");
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          throw new IllegalStateException("executor lost (simulated) after " + done + " images");
        }
      }
    };
    ATTEMPTS.clear();
    SampleManifest m = SparkDiffusion.sample(sc, job("retry").withPartitions(3), failOnce);
    assertEquals(0, ATTEMPTS.get(1).get(0));
    assertTrue(ATTEMPTS.get(1).contains(1), "shard 1 ran again: " + ATTEMPTS.get(1));
    assertArrayEquals(single, SparkTestSupport.joinedShards(out, m));
    m.verify(out);
    assertFalse(Files.exists(out.resolve(stray)), "the driver deletes what dead attempts left");
    assertEquals(List.of(SampleManifest.FILE, "shard-00000.npy", "shard-00001.npy", "shard-00002.npy"),
        SparkTestSupport.list(out));
  }

  @Test
  void aShardThatFailsEveryAttemptFailsTheJobAndLeavesNoFolder() {
    Path out = out("fails");
    AtomicInteger unused = new AtomicInteger();
    TaskHook always = (shard, done) -> {
      if (shard.index() == 2) {
        throw new IllegalStateException("shard 2 cannot be sampled here");
      }
    };
    SparkJobException e = assertThrows(SparkJobException.class,
        () -> SparkDiffusion.sample(sc, job("fails").withPartitions(3), always));
    assertEquals("a task failed on every attempt Spark allows (spark.task.maxFailures): shard 2 cannot be sampled "
        + "here", e.getMessage());
    assertEquals("org.apache.spark.SparkException", e.getCause().getClass().getName());
    assertFalse(Files.exists(out), "a failed job leaves no output folder");
    assertEquals(0, unused.get());
  }

  /**
   * A shard file its task cannot put in place (here a folder that took its name while it sampled) fails every attempt
   * with one line naming the file; the attempts' temporaries and the folder the job made are removed.
   */
  @Test
  void aShardThatCannotBeWrittenFailsTheJobNamingItAndLeavesNoFolder() {
    Path out = out("unwritable");
    String target = out.toAbsolutePath().resolve(SampleFormat.NPY.shardName(0)).toString();
    TaskHook occupy = (shard, done) -> {
      try {
        Files.createDirectories(Path.of(target, "in-the-way"));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    SparkJobException e = assertThrows(SparkJobException.class, () -> SparkDiffusion.sample(sc,
        SampleJob.of(run, 16, out).withSeed(SEED).withPartitions(1), occupy));
    assertTrue(e.getMessage().startsWith("a task failed on every attempt Spark allows (spark.task.maxFailures): "
        + "cannot write " + target + ": "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertFalse(Files.exists(out), "a failed job leaves no output folder");
  }

  /**
   * A context that a standalone master stopped (unreachable, or its executors failed to start) while the driver
   * checked the checkpoint: the broadcast is the first call on it. That was Spark's "Cannot call methods on a stopped
   * SparkContext" with the context's creation stack trace as the command's message; it is one line now.
   */
  @Test
  void aContextStoppedBeforeTheJobIsOneLineAndLeavesNoFolder() {
    Path out = out("stopped");
    JavaSparkContext stopped = new JavaSparkContext(sc.sc()) {
      @Override
      public <T> org.apache.spark.broadcast.Broadcast<T> broadcast(T value) {
        throw new IllegalStateException("Cannot call methods on a stopped SparkContext.\nThis stopped SparkContext "
            + "was created at:\n\norg.apache.spark.SparkContext.<init>(SparkContext.scala:1)");
      }
    };
    SparkJobException e = assertThrows(SparkJobException.class,
        () -> SparkDiffusion.sample(stopped, job("stopped").withShipping(Shipping.BROADCAST)));
    assertTrue(e.getMessage().startsWith("Spark stopped before the job could run (was the master reachable"),
        e.getMessage());
    assertFalse(Files.exists(out), "a failed job leaves no output folder");
    SparkJobException eval = assertThrows(SparkJobException.class,
        () -> SparkDiffusion.evaluate(stopped, new EvalJob(run, List.of(), 10, 1, 0, Shipping.BROADCAST, 0)));
    assertTrue(eval.getMessage().startsWith("Spark stopped before the job could run"), eval.getMessage());
  }

  /** Counted down by the shutdown test's tasks after their first batch (tasks run in this JVM in local mode). */
  static final CountDownLatch STARTED = new CountDownLatch(2);

  /** Set by the shutdown test's tasks when their wait is interrupted. */
  static final AtomicBoolean INTERRUPTED = new AtomicBoolean();

  @Test
  void aShutdownCancelsTheJobInterruptsItsTasksAndCleansUpBeforeSparkStops() throws Exception {
    Path out = out("shutdown");
    // each task stops after its first batch, inside a PNG shard's temporary folder, for as long as it is let be
    TaskHook waitAfterFirstBatch = (shard, done) -> {
      STARTED.countDown();
      try {
        Thread.sleep(120_000);
      } catch (InterruptedException e) {
        INTERRUPTED.set(true);
        Thread.currentThread().interrupt();
      }
    };
    AtomicReference<JobScope> scope = new AtomicReference<>();
    CompletableFuture<SampleManifest> running = CompletableFuture.supplyAsync(() -> SparkDiffusion.sample(sc,
        job("shutdown").withPartitions(2).withFormat(SampleFormat.PNG), waitAfterFirstBatch, c -> {
          JobScope s = new JobScope(c);
          scope.set(s);
          return s;
        }));
    assertTrue(STARTED.await(120, TimeUnit.SECONDS), "both tasks sampled a batch");
    List<String> during = SparkTestSupport.list(out).stream().filter(n -> !n.equals(SparkDiffusion.CLAIM)).toList();
    assertEquals(2, during.size(), "two shards' temporaries: " + during);
    assertTrue(during.stream().allMatch(n -> n.startsWith(".tmp-shard-")), during.toString());

    // what the shutdown hook runs before Spark's own stops the context: it returns once the driver has cleaned up
    scope.get().cancelForShutdown();
    assertFalse(Files.exists(out), "the driver removed the folder it had created, temporaries and all, before the "
        + "shutdown went on");
    assertTrue(INTERRUPTED.get(), "the tasks were interrupted, not left to run into a halting JVM");
    ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(30, TimeUnit.SECONDS));
    assertEquals(SparkJobException.class, e.getCause().getClass());
    assertEquals("the job was cancelled: the JVM is shutting down (Ctrl-C or SIGTERM?)", e.getCause().getMessage());
  }

  /**
   * After a job that succeeded, the driver waits for the attempts Spark is still killing (a speculative copy of a
   * shard, which may rename a PNG folder over the finished one or leave a temporary) before it checks the shards and
   * deletes the temporaries; it used to wait only after a failure. Here the late attempt is played by the scope: what
   * it writes while the driver waits is a temporary, deleted before the manifest is written.
   */
  @Test
  void aSucceededJobWaitsForItsLateAttemptsBeforeCleaningUp() {
    Path out = out("late-attempts");
    List<Boolean> manifestWhileWaiting = new ArrayList<>();
    SampleManifest m = SparkDiffusion.sample(sc, SampleJob.of(run, 10, out).withSeed(SEED), TaskHook.NONE,
        c -> new JobScope(c) {
          @Override
          void awaitTasks() {
            manifestWhileWaiting.add(Files.exists(out.resolve(SampleManifest.FILE)));
            try {
              // the late attempt's temporary, left as an attempt killed while it wrote leaves it
              Files.writeString(out.resolve(".tmp-shard-00000.npy-late"), "partial");
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            super.awaitTasks();
          }
        });
    assertEquals(List.of(false), manifestWhileWaiting, "the driver waited once, before the manifest");
    assertEquals(10, m.count());
    assertFalse(Files.exists(out.resolve(".tmp-shard-00000.npy-late")), "the late temporary was deleted");
  }

  @Test
  void theCallersJobGroupTagsAndInterruptSettingAreAsTheyWereAfterAJob() {
    sc.setJobGroup("callers-group", "the caller's", false);
    sc.addJobTag("callers-tag");
    try {
      SparkDiffusion.sample(sc, SampleJob.of(run, 10, out("callers")));
      assertEquals("callers-group", sc.getLocalProperty("spark.jobGroup.id"));
      assertEquals("false", sc.getLocalProperty("spark.job.interruptOnCancel"));
      assertEquals(java.util.Set.of("callers-tag"), sc.getJobTags());
    } finally {
      sc.clearJobGroup();
      sc.clearJobTags();
    }
  }

  /** Counted down by the cancellation test's tasks after their first batch. */
  static final CountDownLatch CANCEL_STARTED = new CountDownLatch(1);

  /**
   * A job that the calling program cancels (its job group, SparkContext.cancelAllJobs, the kill link of Spark's UI) is
   * said to be cancelled, with Spark's reason: no task failed. It read "a task failed on every attempt Spark allows
   * (spark.task.maxFailures): [SPARK_JOB_CANCELLED] Job 4 cancelled part of cancelled job group ... SQLSTATE: XXKDA".
   */
  @Test
  void aJobTheCallerCancelsIsSaidToBeCancelledAndLeavesNoFolder() throws Exception {
    Path out = out("caller-cancelled");
    TaskHook waitAfterFirstBatch = (shard, done) -> {
      CANCEL_STARTED.countDown();
      try {
        Thread.sleep(120_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread caller = new Thread(() -> {
      sc.setJobGroup("callers-cancelled-group", "a group the caller cancels", true);
      try {
        SparkDiffusion.sample(sc, job("caller-cancelled").withPartitions(2), waitAfterFirstBatch);
      } catch (Throwable t) {
        failure.set(t);
      } finally {
        sc.clearJobGroup();
      }
    });
    caller.start();
    assertTrue(CANCEL_STARTED.await(120, TimeUnit.SECONDS), "a task sampled a batch");
    sc.cancelJobGroup("callers-cancelled-group");
    caller.join(60_000);
    assertFalse(caller.isAlive(), "the call returned");
    assertEquals(SparkJobException.class, failure.get().getClass(), String.valueOf(failure.get()));
    String message = failure.get().getMessage();
    assertTrue(message.startsWith("the job was cancelled: Job "), message);
    assertTrue(message.contains("callers-cancelled-group"), message);
    assertFalse(message.contains("SQLSTATE") || message.contains("[SPARK_JOB_CANCELLED]"), message);
    assertFalse(Files.exists(out), "a cancelled job leaves no output folder");
  }

  @Test
  void broadcastAndPathShippingAndSafetensorsShardsGiveTheSameSamples() {
    SampleManifest path = SparkDiffusion.sample(sc, job("path").withPartitions(3).withShipping(Shipping.PATH));
    SampleManifest broadcast = SparkDiffusion.sample(sc, job("broadcast").withPartitions(3)
        .withShipping(Shipping.BROADCAST).withFormat(SampleFormat.SAFETENSORS));
    assertArrayEquals(single, SparkTestSupport.joinedShards(out("path"), path));
    assertArrayEquals(single, SparkTestSupport.joinedShards(out("broadcast"), broadcast));
    assertEquals(path.checkpointSha256(), broadcast.checkpointSha256());
    assertTrue(path.checkpointSha256().containsKey("model.safetensors"));
    assertTrue(broadcast.shards().get(0).file().endsWith(".safetensors"));
    broadcast.verify(out("broadcast"));
  }

  /**
   * A checkpoint written on 2026-12-02 before {@code sampling.noise_version} existed keeps its noise version (2) only
   * in manifest.json, which a broadcast copy does not ship: the executors still sample what {@code diffusion sample}
   * does.
   */
  @Test
  void aCheckpointWhoseManifestHoldsTheNoiseVersionSamplesAlikeEitherWay() throws IOException {
    Path ck;
    try (java.util.stream.Stream<Path> cps = Files.list(run.resolve("checkpoints"))) {
      ck = cps.max(Path::compareTo).orElseThrow();
    }
    Path old = SparkTestSupport.root().resolve("old-checkpoint");
    Files.createDirectories(old);
    for (String f : List.of("model.safetensors", "ema.safetensors", "training_state.safetensors", "config.yaml",
        "scheduler_config.json", "manifest.json")) {
      if (Files.exists(ck.resolve(f))) {
        Files.copy(ck.resolve(f), old.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path config = old.resolve("config.yaml");
    Files.writeString(config, Files.readString(config).replaceAll("\n *noise_version: 1", ""));
    Path manifest = old.resolve("manifest.json");
    Files.writeString(manifest, Files.readString(manifest)
        .replaceAll("\"config.yaml\" : \"[0-9a-f]{64}\"", "\"config.yaml\" : \"" + Sha256.of(config) + "\"")
        .replace("\n}", ",\n  \"noise_version\" : 2\n}"));
    int count = 300;
    byte[] expected = SparkTestSupport.singleProcessSamples(old, count, SEED);
    assertFalse(java.util.Arrays.equals(SparkTestSupport.singleProcessSamples(old, count, SEED, "--set",
        "sampling.noise_version=1"), expected), "the manifest's version is what the images are drawn with");
    for (Shipping shipping : List.of(Shipping.BROADCAST, Shipping.PATH)) { // broadcast first: executors cache the model
      Path out = out("old-" + shipping);
      SampleManifest m = SparkDiffusion.sample(sc, SampleJob.of(old, count, out).withSeed(SEED).withPartitions(2)
          .withShipping(shipping));
      assertArrayEquals(expected, SparkTestSupport.joinedShards(out, m), shipping.toString());
    }
  }

  @Test
  void aThreadsOverrideIsTakenAsDiffusionSampleTakesIt() {
    // the threads split a sampling batch into slices, which round otherwise than one batch: a job's
    // --set threads=2 must reach the tasks as diffusion sample --set threads=2 takes it, not be replaced by
    // spark.task.cpus (1), or the samples are not diffusion sample's bits
    assertEquals("2", threadsOfTasks(SparkDiffusion.withThreads(sc, List.of("seed=3", "threads=2"), 0)));
    assertEquals("3", threadsOfTasks(SparkDiffusion.withThreads(sc, List.of("threads=2"), 3)), "--threads wins");
    assertEquals("1", threadsOfTasks(SparkDiffusion.withThreads(sc, List.of("seed=3"), 0)), "spark.task.cpus");
    // a context whose tasks get 2 cores each (the same context, its configuration seen with spark.task.cpus=2)
    JavaSparkContext twoCores = new JavaSparkContext(sc.sc()) {
      @Override
      public org.apache.spark.SparkConf getConf() {
        return super.getConf().set("spark.task.cpus", "2");
      }
    };
    assertEquals("2", threadsOfTasks(SparkDiffusion.withThreads(twoCores, List.of("seed=3"), 0)),
        "spark.task.cpus=2: the cores Spark gives each task");
  }

  /** The value of the last {@code threads} override: the one the tasks' configuration takes. */
  private static String threadsOfTasks(List<String> overrides) {
    String value = null;
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (o.substring(0, eq).strip().equals("threads")) {
        value = o.substring(eq + 1).strip();
      }
    }
    return value;
  }

  @Test
  void theDjlBackendOnTheExecutorsGivesDiffusionSampleOnDjl() {
    byte[] djl = SparkTestSupport.singleProcessSamples(run, COUNT, SEED, "--backend", "djl");
    SampleManifest m = SparkDiffusion.sample(sc, job("djl").withPartitions(3).withOverrides(List.of("backend=djl")));
    assertEquals("djl", m.backend());
    assertArrayEquals(djl, SparkTestSupport.joinedShards(out("djl"), m));
  }

  @Test
  void pngShardsHoldEachSampleAtItsSize() throws IOException {
    int count = 40;
    byte[] data = SparkTestSupport.singleProcessSamples(run, count, SEED);
    float[] images = new float[count * 75];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(images);
    Path out = out("png");
    SampleManifest m = SparkDiffusion.sample(sc, SampleJob.of(run, count, out).withSeed(SEED)
        .withFormat(SampleFormat.PNG).withPartitions(2));
    assertEquals(1, m.shards().size(), "40 images are one batch");
    Path folder = out.resolve("shard-00000");
    assertEquals(count, SparkTestSupport.list(folder).size());
    ImageGrid.Options one = new ImageGrid.Options(1, 0, 1, 0.0, List.of(), List.of());
    for (int i : new int[] {0, 17, 39}) {
      BufferedImage png = ImageIO.read(folder.resolve(String.format("%08d.png", i)).toFile());
      BufferedImage expected = ImageGrid.render(java.util.Arrays.copyOfRange(images, i * 75, (i + 1) * 75),
          Shape.of(1, 3, 5, 5), one);
      assertEquals(5, png.getWidth());
      assertEquals(5, png.getHeight());
      for (int y = 0; y < 5; y++) {
        for (int x = 0; x < 5; x++) {
          assertEquals(expected.getRGB(x, y), png.getRGB(x, y), "image " + i + " pixel " + x + "," + y);
        }
      }
    }
    m.verify(out);
  }

  @Test
  void theOutputFolderMustBeNewOrEmpty() throws IOException {
    Path full = out("full");
    Files.createDirectories(full);
    Files.writeString(full.resolve("other.txt"), "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparkDiffusion.sample(sc, job("full")));
    assertEquals(full.toAbsolutePath() + ": not empty; give a new or empty folder for the shards", e.getMessage());
    assertEquals(List.of("other.txt"), SparkTestSupport.list(full));
    Path file = Files.writeString(out("a-file"), "mine");
    e = assertThrows(IllegalArgumentException.class, () -> SparkDiffusion.sample(sc, job("a-file")));
    assertEquals(file.toAbsolutePath() + ": is a file; give a new or empty folder for the shards", e.getMessage());
    assertEquals("mine", Files.readString(file));
    // a folder that cannot be made (under a file) is one line naming it, as the library's callers see it
    Path under = file.resolve("shards").toAbsolutePath();
    java.io.UncheckedIOException made = assertThrows(java.io.UncheckedIOException.class,
        () -> SparkDiffusion.sample(sc, job("a-file/shards")));
    assertTrue(made.getMessage().startsWith("cannot create " + under + ": "), made.getMessage());
    assertFalse(made.getMessage().contains("\n"), made.getMessage());
    assertEquals("mine", Files.readString(file));
  }

  @Test
  void aSecondJobIntoAFolderThatAnotherJobHasClaimedIsRefusedAndTouchesNothing() throws IOException {
    // two `diffusion spark sample --out samples/` at once: both found the folder new or empty, both wrote shards
    // into it, one deleted the other's temporaries, failed, and emptied the folder after the other had printed
    // "wrote samples/manifest.json" (exit 0, no file left)
    Path out = out("claimed");
    assertTrue(SparkDiffusion.prepareOutput(out), "the first job's driver made the folder; its tasks have not started");
    List<String> claimed = SparkTestSupport.list(out);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparkDiffusion.sample(sc, job("claimed").withPartitions(1)));
    assertTrue(e.getMessage().startsWith(out.toAbsolutePath() + ": "), e.getMessage());
    assertEquals(claimed, SparkTestSupport.list(out), "the refused job left the first job's folder as it was");
  }

  /**
   * A shard its task reported written that the driver cannot see (executors writing to storage of their own, not
   * shared with the driver) fails the job with a line naming the shard and what the folder must be; no manifest, and
   * the folder the job made is removed. Made here by shard 1's task, which removes shard 0 once that is written and
   * before shard 1 is (both run at once on the two slots).
   */
  @Test
  void aShardTheDriverCannotSeeFailsTheJobNamingIt() {
    Path out = out("unshared");
    String first = out.toAbsolutePath().resolve(SampleFormat.NPY.shardName(0)).toString();
    TaskHook hideFirst = (shard, done) -> {
      if (shard.index() == 1 && done >= shard.count()) {
        Path p = Path.of(first);
        long deadline = System.nanoTime() + 120_000_000_000L; // shard 0 is as long as this one: it ends about now
        try {
          while (!Files.exists(p) && System.nanoTime() < deadline) {
            Thread.sleep(5);
          }
          Files.delete(p);
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException("shard 0 was not written within two minutes", e);
        }
      }
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SparkDiffusion.sample(sc, job("unshared").withPartitions(2), hideFirst));
    assertEquals(first + ": reported written by its task but not visible to the driver; the output folder must be on "
        + "storage the driver and every executor share", e.getMessage());
    assertFalse(Files.exists(out), "the folder the job made is removed");
  }

  @Test
  void aFailedJobIntoTheCallersEmptyFolderEmptiesItAndKeepsIt() throws IOException {
    Path out = out("given");
    Files.createDirectories(out);
    TaskHook always = (shard, done) -> {
      if (shard.index() == 1) {
        throw new IllegalStateException("shard 1 cannot be sampled here");
      }
    };
    assertThrows(SparkJobException.class, () -> SparkDiffusion.sample(sc, job("given").withPartitions(3), always));
    assertTrue(Files.isDirectory(out), "the folder the caller made is not removed");
    assertEquals(List.of(), SparkTestSupport.list(out), "nothing of the failed job is left in it, its claim neither");
  }

  /**
   * The driver loads the checkpoint before it makes or claims the output folder, through the caller's {@link
   * SparkDiffusion.DriverLoad} (the command line's interrupt guard): a Ctrl-C during that load, which heeds no
   * interrupt, has nothing to clean up and nothing to wait for (the folder and its claim were made first: a signal then
   * waited for the load, and a JVM that ended meanwhile left the claim, which the next run refused). A load that
   * returns null (a shutdown meanwhile) is the job's cancellation, with nothing written.
   */
  @Test
  void theDriverLoadsBeforeTheFolderIsClaimedAndANullLoadIsTheShutdownsCancellation() {
    Path out = out("driver-load");
    AtomicBoolean folderAtLoad = new AtomicBoolean(true);
    SampleManifest m = SparkDiffusion.sample(sc, job("driver-load").withPartitions(1), load -> {
      folderAtLoad.set(Files.exists(out));
      return load.get();
    });
    assertFalse(folderAtLoad.get(), "the folder was not yet made when the driver loaded the checkpoint");
    assertEquals(COUNT, m.count());
    Path cancelled = out("driver-load-cancelled");
    SparkJobException e = assertThrows(SparkJobException.class,
        () -> SparkDiffusion.sample(sc, job("driver-load-cancelled"), load -> null));
    assertEquals("the job was cancelled: the JVM is shutting down (Ctrl-C or SIGTERM?)", e.getMessage());
    assertFalse(Files.exists(cancelled), "nothing written");
    assertThrows(SparkJobException.class, () -> SparkDiffusion.evaluate(sc, EvalJob.of(run, 10), load -> null));
  }
}
