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
}
