package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.runtime.TrainedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The commit of a shard, attempt by attempt as Spark may run them: a speculative duplicate running at the same
 * time as the original, an attempt that dies part-way; and the pinning of the checkpoint's bytes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardCommitTest {
  static final int COUNT = 1024 + 10;
  static final long SEED = 11;

  private Path checkpoint;
  private byte[] single;

  @BeforeAll
  void setUp() {
    Path run = SparkTestSupport.gradientRun();
    try (TrainedModel m = TrainedModel.load(run, List.of())) {
      checkpoint = m.checkpoint().directory();
    }
    single = SparkTestSupport.singleProcessSamples(run, COUNT, SEED);
  }

  @Test
  void speculativeDuplicatesAndADeadAttemptLeaveOneCompleteShard() throws Exception {
    ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("threads=1"), Shipping.PATH);
    Path out = SparkTestSupport.root().resolve("commit");
    Files.createDirectories(out);
    ShardTasks.Spec spec = new ShardTasks.Spec(COUNT, SEED, 1024, out.toString(), SampleFormat.NPY, Map.of());
    ShardPlan.Shard shard = ShardPlan.of(COUNT, 1024, 2).shards().get(0);
    Path target = out.resolve("shard-00000.npy");

    // an attempt that dies after its first batch leaves nothing under the shard's name
    TaskHook dies = (s, done) -> {
      throw new IllegalStateException("killed");
    };
    assertThrows(IllegalStateException.class, () -> ShardTasks.write(source, spec, shard, dies));
    assertEquals(List.of(), SparkTestSupport.list(out));

    // two attempts of the same shard at the same time (the original and a speculative copy): both are half-way
    // through their temporaries together, both commit, and the shard is complete and exact
    CyclicBarrier together = new CyclicBarrier(2);
    TaskHook meet = (s, done) -> {
      try {
        together.await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<ShardResult> a = pool.submit(() -> ShardTasks.write(source, spec, shard, meet));
      Future<ShardResult> b = pool.submit(() -> ShardTasks.write(source, spec, shard, meet));
      ShardResult ra = a.get(60, TimeUnit.SECONDS);
      ShardResult rb = b.get(60, TimeUnit.SECONDS);
      assertEquals(ra, rb);
      assertEquals(Files.size(target), ra.bytes());
      assertEquals(Sha256.of(target), ra.sha256());
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of("shard-00000.npy"), SparkTestSupport.list(out));
    assertArrayEquals(Arrays.copyOf(single, 1024 * 75 * 4), SparkTestSupport.npyData(target));
  }

  /**
   * A speculative copy of a PNG shard starts while the original attempt is in a batch that has run for longer than
   * AtomicFiles.STALE_TEMP_MILLIS (a large model: no file is written while a batch samples; here the time is simulated
   * by setting the folder's times back). The copy's writeDirectory deleted the original's temporary folder as a killed
   * writer's leftover, and the original failed at its next file; now the original's folder is touched at every step,
   * and both attempts commit the same shard.
   */
  @Test
  void aSpeculativeCopyOfAPngShardLeavesTheFolderOfAnAttemptInALongBatch() throws Exception {
    ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("threads=1"), Shipping.PATH);
    Path out = SparkTestSupport.root().resolve("commit-png");
    Files.createDirectories(out);
    ShardTasks.Spec spec = new ShardTasks.Spec(COUNT, SEED, 1024, out.toString(), SampleFormat.PNG, Map.of());
    ShardPlan.Shard shard = ShardPlan.of(COUNT, 1024, 1).shards().get(0); // two batches
    ExecutorService pool = Executors.newFixedThreadPool(1);
    java.util.concurrent.atomic.AtomicReference<ShardResult> copy = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean firstBatchDone = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean copied = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean touched = new java.util.concurrent.atomic.AtomicBoolean();
    TaskHook original = new TaskHook() {
      @Override
      public void afterBatch(ShardPlan.Shard s, long done) {
        firstBatchDone.set(true);
      }

      @Override
      public void afterStep(ShardPlan.Shard s, int step) {
        if (!firstBatchDone.get()) {
          return;
        }
        try {
          if (step == 0) {
            // the second batch has run for 11 minutes so far: nothing in the folder has changed since its first files
            java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - io.github.diffusion4j.io.AtomicFiles.STALE_TEMP_MILLIS - 60_000);
            try (java.util.stream.Stream<Path> all = Files.walk(out)) {
              for (Path p : (Iterable<Path>) all::iterator) {
                if (!p.equals(out)) {
                  Files.setLastModifiedTime(p, old);
                }
              }
            }
          } else if (step == 1 && !copied.getAndSet(true)) {
            // the attempt's own step 0 touched its folder again: another process, which does not share this JVM's
            // record of live temporaries, judges it by that time alone
            try (java.util.stream.Stream<Path> tmp = Files.list(out)) {
              long now = System.currentTimeMillis();
              List<Path> folders = tmp.filter(p -> p.getFileName().toString().startsWith(".tmp-shard-00000-")).toList();
              boolean fresh = folders.size() == 1;
              for (Path p : folders) {
                fresh &= now - Files.getLastModifiedTime(p).toMillis() < io.github.diffusion4j.io.AtomicFiles.STALE_TEMP_MILLIS;
              }
              touched.set(fresh);
            }
            // a speculative copy starts (on another executor) and finishes while this attempt samples
            copy.set(pool.submit(() -> ShardTasks.write(source, spec, shard, TaskHook.NONE)).get(120, TimeUnit.SECONDS));
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
    try {
      ShardResult first = ShardTasks.write(source, spec, shard, original);
      assertTrue(copied.get(), "the copy ran during the original's second batch");
      assertTrue(touched.get(), "the attempt's folder was touched by its step after the times were set back");
      assertEquals(copy.get(), first);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of("shard-00000"), SparkTestSupport.list(out));
    assertEquals(COUNT, SparkTestSupport.list(out.resolve("shard-00000")).size());
  }

  /**
   * A PNG shard after the first names its files by the run's sample numbers (those {@code diffusion sample} gives
   * them), holds those samples, and reports the bytes and SHA-256 of all its files in name order (what {@link
   * SampleManifest#verify} reads back). The single-shard PNG test of {@code SparkSampleTest} cannot tell the run's
   * numbers from the shard's own.
   */
  @Test
  void aLaterPngShardNamesItsFilesByTheRunsSampleNumbers() throws Exception {
    ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("threads=1"), Shipping.PATH);
    Path out = SparkTestSupport.root().resolve("commit-png-later");
    Files.createDirectories(out);
    ShardTasks.Spec spec = new ShardTasks.Spec(COUNT, SEED, 1024, out.toString(), SampleFormat.PNG, Map.of());
    ShardPlan.Shard shard = ShardPlan.of(COUNT, 1024, 2).shards().get(1); // samples 1024 .. 1033
    ShardResult r = ShardTasks.write(source, spec, shard, TaskHook.NONE);
    Path folder = out.resolve("shard-00001");
    List<String> expected = new java.util.ArrayList<>();
    for (int i = 1024; i < COUNT; i++) {
      expected.add(String.format(java.util.Locale.ROOT, "%08d.png", i));
    }
    assertEquals(expected, SparkTestSupport.list(folder));
    assertEquals(new ShardResult(1, 1024, COUNT - 1024, "shard-00001", r.bytes(), r.sha256()), r);
    java.security.MessageDigest md = Sha256.digest();
    long bytes = 0;
    for (String f : expected) {
      bytes += Sha256.update(md, folder.resolve(f));
    }
    assertEquals(bytes, r.bytes(), "the bytes of all the shard's files");
    assertEquals(Sha256.hex(md), r.sha256(), "the SHA-256 of the shard's files in name order");
    // sample 1030 is the single-process run's sample 1030 (8-bit pixels of its [0, 1] values)
    float[] images = new float[COUNT * 75];
    java.nio.ByteBuffer.wrap(single).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(images);
    java.awt.image.BufferedImage want = io.github.diffusion4j.io.ImageGrid.render(
        Arrays.copyOfRange(images, 1030 * 75, 1031 * 75), io.github.diffusion4j.tensor.Shape.of(1, 3, 5, 5),
        new io.github.diffusion4j.io.ImageGrid.Options(1, 0, 1, 0.0, List.of(), List.of()));
    java.awt.image.BufferedImage got = javax.imageio.ImageIO.read(folder.resolve("00001030.png").toFile());
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 5; x++) {
        assertEquals(want.getRGB(x, y), got.getRGB(x, y), "sample 1030, pixel " + x + "," + y);
      }
    }
  }

  /**
   * By default ({@link Shipping#AUTO}) a checkpoint of at most 64 MiB travels as a broadcast, so that executors without
   * the driver's storage can sample it; and an executor's model is that of the job's overrides, not only of the
   * checkpoint's files: a later job of the same checkpoint with another sampler, in the same executor JVM, samples
   * with its own sampler.
   */
  @Test
  void aSmallCheckpointIsBroadcastByDefaultAndAnExecutorsModelIsThatOfTheOverrides() {
    assertTrue(ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("threads=1"), Shipping.AUTO)
        .broadcast(), "the gradient checkpoint (under 1 MB) is broadcast by default");
    for (String sampler : new String[] {"ddpm", "ddim", "ddpm"}) {
      ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint,
          List.of("threads=1", "sampling.sampler=" + sampler), Shipping.PATH);
      assertEquals(sampler, ExecutorModels.with(source, m -> m.diffusion().sampler().name()));
    }
  }

  /**
   * An executor whose sampling batch differs from the driver's plan (another diffusion4j version) refuses the shard,
   * for sampling and for evaluation, and writes nothing: its batches would not be the single-process run's, and the
   * samples not its bits.
   */
  @Test
  void anExecutorThatSamplesInOtherBatchesThanThePlanRefusesTheShard() throws IOException {
    ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("threads=1"), Shipping.PATH);
    Path out = SparkTestSupport.root().resolve("commit-other-batch");
    Files.createDirectories(out);
    ShardTasks.Spec spec = new ShardTasks.Spec(COUNT, SEED, 512, out.toString(), SampleFormat.NPY, Map.of());
    ShardPlan.Shard shard = ShardPlan.of(COUNT, 512, 3).shards().get(2);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ShardTasks.write(source, spec, shard, TaskHook.NONE));
    assertEquals("this executor samples in batches of 1024 but the driver planned 512; the executors and the driver "
        + "must run the same diffusion4j version", e.getMessage());
    assertEquals(List.of(), SparkTestSupport.list(out));
    assertThrows(IllegalStateException.class, () -> ShardTasks.accumulate(source, COUNT, SEED, 512,
        new io.github.diffusion4j.eval.QualityAccumulator(io.github.diffusion4j.tensor.Shape.of(3, 5, 5)), shard,
        TaskHook.NONE));
  }

  @Test
  void anExecutorRefusesACheckpointThatChangedAfterTheDriverReadIt() throws IOException {
    Path copy = SparkTestSupport.root().resolve("changing-checkpoint");
    Files.createDirectories(copy);
    for (String f : SparkTestSupport.list(checkpoint)) {
      Files.copy(checkpoint.resolve(f), copy.resolve(f));
    }
    for (Shipping shipping : new Shipping[] {Shipping.PATH, Shipping.BROADCAST}) {
      ModelSource source = ModelSource.prepare(SparkTestSupport.context(), copy, List.of(), shipping);
      assertEquals(shipping == Shipping.BROADCAST, source.broadcast());
      source.load().close();
    }
    ModelSource pinned = ModelSource.prepare(SparkTestSupport.context(), copy, List.of(), Shipping.PATH);
    ModelSource shipped = ModelSource.prepare(SparkTestSupport.context(), copy, List.of(), Shipping.BROADCAST);
    Files.write(copy.resolve("config.yaml"), "\n# edited\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    CheckpointException e = assertThrows(CheckpointException.class, pinned::load);
    assertTrue(e.getMessage().startsWith(copy.resolve("config.yaml") + ": not the file the driver checked"),
        e.getMessage());
    // the broadcast bytes are those the driver read: the edit does not reach the executors
    shipped.load().close();
    // an executor that does not see the driver's folder (--ship path without shared storage): says what to do, where
    // the task's error was the bare path of the file
    Files.delete(copy.resolve("model.safetensors"));
    CheckpointException gone = assertThrows(CheckpointException.class, pinned::load);
    assertEquals(copy.resolve("model.safetensors") + ": not found on this executor (--ship path reads the checkpoint "
        + "at the driver's path on every executor: put it on storage they all see, or use --ship broadcast)",
        gone.getMessage());
  }
  /**
   * A backend the driver has and an executor lacks (the job's jars left out of spark.jars): the executor's error names
   * its class path and how to fix it, not the dependency to add or the {@code --set} of a {@code --backend}.
   */
  @Test
  void anExecutorWithoutTheJobsBackendNamesItsClassPath() {
    for (Shipping shipping : new Shipping[] {Shipping.PATH, Shipping.BROADCAST}) {
      ModelSource source = ModelSource.prepare(SparkTestSupport.context(), checkpoint, List.of("backend=elsewhere"),
          shipping);
      io.github.diffusion4j.config.ConfigException e =
          assertThrows(io.github.diffusion4j.config.ConfigException.class, source::load);
      assertEquals("backend: 'elsewhere' is not on this executor's class path (it has: djl, nd4j), though the driver "
          + "has it: give the executors the backend's jars (spark.jars, spark-submit --jars or "
          + "spark.executor.extraClassPath; docs/spark.md, \"The executors' class path\")", e.getMessage());
      // and the command line says that line, not the api's error under it (a failed job names its innermost error)
      assertEquals("a task failed on every attempt Spark allows (spark.task.maxFailures): " + e.getMessage(),
          SparkJobException.of(new Exception("Job aborted", e)).getMessage());
    }
  }
}
