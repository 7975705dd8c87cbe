package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.tensor.ThreadConfinement;
import io.github.diffusion4j.testkit.SplitSampling;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code threads: 2}: the kernels split their Java loops and share their matrix products (cut into fixed
 * pieces, OpenBLAS on one thread) over the backend's own threads ({@link KernelPool}), and every output,
 * gradient and optimiser state comes out bit for bit as with {@code threads: 1} (splits are over
 * independent outputs or fixed pieces; reductions keep their order). OpenBLAS itself stays on one thread
 * whatever the backend's count: its threaded {@code sgemm} rounds differently from its single-threaded one
 * (a third of the elements of a 32x1024x288 product differ in their last bits). Checked on the default
 * U-Net (group norm with fused SiLU, size-keeping convolutions over several chunks and over one, attention,
 * upsampling, concatenation, slices, broadcast adds) and a miniature of the DDPM authors' U-Net (strided and
 * asymmetrically padded convolutions: the general columns and col2im), at batches that do not divide evenly
 * between the lanes, plus Adam with clipping and the moving average. Sampling splits a batch over the threads
 * instead ({@link #samplingSplitsABatchOverTheThreads}).
 */
class Nd4jThreadsTest {

  /**
   * Everything a backend of {@code threads} threads computes for a spec: outputs, gradients, the loss of two
   * Adam steps (with clipping and weight decay), the states after them and the moving average.
   */
  private static Map<String, float[]> run(int threads, ModelSpec spec, int batch) {
    Map<String, float[]> out = new LinkedHashMap<>();
    Shape shape = Shape.batchOf(batch, spec.imageShape());
    int[] ts = new int[batch];
    for (int i = 0; i < batch; i++) {
      ts[i] = (i * 397 + 11) % spec.numTrainTimesteps();
    }
    OptimizerSpec adam = new OptimizerSpec(1e-3, 0.9, 0.999, 1e-8, 0.01, 0.5);
    try (Backend b = new Nd4jBackend(NativeRuntime.load(threads), Nd4jLayers.PASS_BYTES, threads);
        TrainableModel m = b.createModel(spec, adam, 7);
        TensorScope scope = b.tensors().openScope()) {
      TensorFactory f = b.tensors();
      Tensor x = f.fromArray(Noise.seeded(1).normals(shape.size()), shape);
      Tensor y = f.fromArray(Noise.seeded(2).normals(shape.size()), shape);
      out.put("predict", m.predict(x, ts).toFloatArray());
      put(out, "grad.", m.gradients(x, ts, y));
      out.put("loss1", new float[] {(float) m.step(x, ts, y).loss()});
      out.put("loss2", new float[] {(float) m.step(x, ts, y).loss()});
      m.updateEma(0.9);
      put(out, "weights.", m.stateDict());
      put(out, "adam.", m.optimizerState());
      put(out, "ema.", m.emaStateDict());
      out.put("predict2", m.predict(x, ts).toFloatArray());
    } finally {
      NativeRuntime.load(1); // the native thread count is process-wide: leave it as the other tests expect
    }
    return out;
  }

  private static void put(Map<String, float[]> out, String prefix, StateDict sd) {
    for (Map.Entry<String, FloatArray> e : sd.entries().entrySet()) {
      out.put(prefix + e.getKey(), e.getValue().toArray());
    }
  }

  private static void assertBitIdentical(ModelSpec spec, int batch) {
    Map<String, float[]> one = run(1, spec, batch);
    Map<String, float[]> two = run(2, spec, batch);
    assertEquals(one.keySet(), two.keySet());
    List<String> differ = new ArrayList<>();
    for (String k : one.keySet()) {
      float[] a = one.get(k);
      float[] c = two.get(k);
      boolean same = a.length == c.length;
      for (int i = 0; same && i < a.length; i++) {
        same = Float.floatToRawIntBits(a[i]) == Float.floatToRawIntBits(c[i]);
      }
      if (!same) {
        differ.add(k);
      }
    }
    assertTrue(differ.isEmpty(), "differ between 1 and 2 threads: " + differ);
    // the comparison compares something: a loss that is not zero
    assertNotEquals(0f, one.get("loss1")[0]);
  }

  @Test
  void defaultUNetIsBitIdenticalWithTwoThreads() {
    assertBitIdentical(UNetSpec.defaults(Shape.of(1, 32, 32), 1000), 5);
  }

  @Test
  void oneImageIsBitIdenticalWithTwoThreads() {
    // one image: every convolution is one chunk, its products cut into pieces of columns and rows
    assertBitIdentical(UNetSpec.defaults(Shape.of(1, 32, 32), 1000), 1);
  }

  @Test
  void mlpIsBitIdenticalWithTwoThreads() {
    // 1100 rows: the linear layers' products in two pieces of rows
    assertBitIdentical(new MlpSpec(Shape.of(3, 5, 5), 100, 128), 1100);
  }

  /**
   * The attention's backward split over the two lanes (36 positions, two heads: at least 12 of the 64 items a lane),
   * each lane with its own scratch of the softmax's gradient; the U-Nets above are too small a batch for the split.
   */
  @Test
  void attentionSplitOverTheLanesIsBitIdentical() {
    assertBitIdentical(io.github.diffusion4j.testkit.LayerCases.get("attention_two_heads").spec(), 64);
  }

  @Test
  void ddpmUNetIsBitIdenticalWithTwoThreads() {
    assertBitIdentical(new DdpmUNetSpec(Shape.of(3, 16, 16), 1000, 32, List.of(1, 2), 1, List.of(8), 0.0), 3);
  }

  /** {@link SplitSampling#samples} on a backend of {@code threads} threads. */
  private static Map<String, float[]> sample(int threads, ModelSpec spec, int count, int steps) {
    try (Backend b = new Nd4jBackend(NativeRuntime.load(threads), Nd4jLayers.PASS_BYTES, threads)) {
      return SplitSampling.samples(b, spec, count, steps);
    } finally {
      NativeRuntime.load(1);
    }
  }

  /**
   * Sampling at {@code threads: 2}: the loop splits a batch of several images into two slices walked on two
   * threads, each slice's kernels confined to its thread; the samples equal one thread's up to rounding
   * ({@link SplitSampling}: OpenBLAS rounds the MLP's products of 18 and 19 rows differently from those of 37,
   * and a convolution takes its images in chunks sized by the batch). The MLP: 37 images, DDPM-100 and DDIM-20;
   * the U-Net: three images (slices of one and two), DDPM-10 and DDIM-2.
   */
  @Test
  void samplingSplitsABatchOverTheThreads() {
    ModelSpec mlp = new MlpSpec(Shape.of(3, 5, 5), 100, 128);
    SplitSampling.assertEqualUpToRounding("MLP", sample(1, mlp, 37, 100), sample(2, mlp, 37, 100));
    ModelSpec unet = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    SplitSampling.assertEqualUpToRounding("U-Net", sample(1, unet, 3, 10), sample(2, unet, 3, 10));
  }

  /**
   * A split while another thread's split holds the workers (two passes at once), and a split after the pool is
   * closed, run every range on the calling thread, each once and with its own lane (whose scratch it uses): the
   * ranges a split on the workers runs, so the results are the same. The other split is held inside its range by a
   * latch, not by time.
   */
  @Test
  void aSplitWhileTheWorkersAreBusyRunsItsRangesOnItsCaller() throws Exception {
    KernelPool pool = new KernelPool(2, "test-busy");
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    List<String> free = ranges(pool, threads);
    assertEquals(2, threads.size(), "a free pool's split runs on the caller and a worker");
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread other = new Thread(() -> pool.split(100, 1, (lane, from, to) -> {
      if (lane == 0) {
        inside.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }));
    other.start();
    try {
      inside.await();
      threads.clear();
      assertEquals(free, ranges(pool, threads), "while another split runs");
      assertEquals(Set.of(Thread.currentThread()), threads, "while another split runs");
    } finally {
      release.countDown();
      other.join();
    }
    pool.close();
    threads.clear();
    assertEquals(free, ranges(pool, threads), "after close");
    assertEquals(Set.of(Thread.currentThread()), threads, "after close");
  }

  /**
   * The ranges of a split of 101 outputs, as {@code lane:from-to} in lane order, with the threads that ran them
   * added to {@code threads}; asserts that every output was covered once.
   */
  private static List<String> ranges(KernelPool pool, Set<Thread> threads) {
    Map<Integer, String> byLane = new ConcurrentHashMap<>();
    int[] covered = new int[101];
    pool.split(101, 10, (lane, from, to) -> {
      threads.add(Thread.currentThread());
      byLane.put(lane, lane + ":" + from + "-" + to);
      for (int i = from; i < to; i++) {
        covered[i]++;
      }
    });
    for (int c : covered) {
      assertEquals(1, c);
    }
    return new ArrayList<>(new java.util.TreeMap<>(byLane).values());
  }

  @Test
  void poolSplitsOverItsLanesAndRethrows() {
    try (KernelPool pool = new KernelPool(2, "test-kernels")) {
      Set<Thread> seen = ConcurrentHashMap.newKeySet();
      int[] covered = new int[101];
      pool.split(101, 10, (lane, from, to) -> {
        seen.add(Thread.currentThread());
        for (int i = from; i < to; i++) {
          covered[i]++;
        }
      });
      assertEquals(2, seen.size(), "two lanes run on two threads");
      for (int c : covered) {
        assertEquals(1, c);
      }
      // too little work for two lanes: the caller runs it alone
      Set<Thread> small = ConcurrentHashMap.newKeySet();
      pool.split(15, 10, (lane, from, to) -> small.add(Thread.currentThread()));
      assertEquals(Set.of(Thread.currentThread()), small);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.split(100, 1, (lane, from, to) -> {
        if (lane == 1) {
          throw new IllegalStateException("lane 1 failed");
        }
      }));
      assertEquals("lane 1 failed", e.getMessage());
      // a checked exception thrown past the compiler on a worker is wrapped, not dropped
      IOException io = new IOException("lane 1 read nothing");
      IllegalStateException wrapped = assertThrows(IllegalStateException.class,
          () -> pool.split(100, 1, (lane, from, to) -> {
            if (lane == 1) {
              Nd4jThreadsTest.<RuntimeException>sneaky(io);
            }
          }));
      assertSame(io, wrapped.getCause());
      // a range that splits again would share lanes' scratch: refused, on the caller and on a worker
      IllegalStateException nested = assertThrows(IllegalStateException.class,
          () -> pool.split(100, 1, (lane, from, to) -> pool.split(100, 1, (l, f, t) -> { })));
      assertTrue(nested.getMessage().contains("inside a range"), nested.getMessage());
      // the pool still works after a failure
      int[] sum = new int[2];
      pool.split(100, 1, (lane, from, to) -> sum[lane] = to - from);
      assertEquals(100, sum[0] + sum[1]);
    }
  }

  /** Throws {@code t} whatever its type, as code compiled without checked exceptions may. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneaky(Throwable t) throws T {
    throw (T) t;
  }

  /**
   * A thread under {@link KernelPool#confine()} runs its splits as one range on lane 0, itself, while another
   * thread's splits still use both lanes; confinements nest, closing twice does nothing, and after the last
   * is closed the thread's splits use both lanes again.
   */
  @Test
  void aConfinedThreadRunsItsSplitsAlone() throws Exception {
    try (KernelPool pool = new KernelPool(2, "test-confine")) {
      Set<Thread> seen = ConcurrentHashMap.newKeySet();
      Set<Integer> lanes = ConcurrentHashMap.newKeySet();
      KernelPool.Task record = (lane, from, to) -> {
        seen.add(Thread.currentThread());
        lanes.add(lane);
      };
      ThreadConfinement outer = pool.confine();
      ThreadConfinement inner = pool.confine();
      pool.split(100, 1, record);
      assertEquals(Set.of(Thread.currentThread()), seen);
      assertEquals(Set.of(0), lanes);
      inner.close();
      inner.close();
      seen.clear();
      pool.split(100, 1, record);
      assertEquals(Set.of(Thread.currentThread()), seen, "the outer confinement still holds");
      Thread other = new Thread(() -> pool.split(100, 1, record));
      seen.clear();
      other.start();
      other.join();
      assertEquals(2, seen.size(), "another thread's split uses both lanes");
      outer.close();
      seen.clear();
      lanes.clear();
      pool.split(100, 1, record);
      assertEquals(2, seen.size());
      assertEquals(Set.of(0, 1), lanes);
    }
  }

  /**
   * Splits back to back, as a network's kernels make them, find the worker still spinning from the last one
   * ({@link KernelPool#SPIN_NANOS}) or parked after a pause longer than the spin: either way every range runs
   * once, on its lane's thread, and a worker that is still spinning stops when the pool closes.
   */
  @Test
  void backToBackSplitsRunEveryRangeOnceAndASpinningWorkerStops() throws InterruptedException {
    KernelPool pool = new KernelPool(2, "test-spin");
    long[] covered = new long[64];
    Set<Thread> workers = ConcurrentHashMap.newKeySet();
    for (int round = 0; round < 2_000; round++) {
      if (round % 500 == 499) {
        Thread.sleep(2 * KernelPool.SPIN_NANOS / 1_000_000 + 1); // past the spin: the worker parks
      }
      pool.split(64, 8, (lane, from, to) -> {
        if (lane == 1) {
          workers.add(Thread.currentThread());
        }
        for (int i = from; i < to; i++) {
          covered[i]++;
        }
      });
    }
    for (long c : covered) {
      assertEquals(2_000, c);
    }
    assertEquals(1, workers.size(), "lane 1 is always the pool's one worker");
    Thread worker = workers.iterator().next();
    assertFalse(worker == Thread.currentThread());
    pool.split(64, 8, (lane, from, to) -> { }); // the worker is spinning now
    pool.close();
    worker.join(5000);
    assertFalse(worker.isAlive(), "the worker still runs after the pool closed");
  }

  /**
   * A pool's workers are awake (spinning from the last split) until their spin ends and they park; a streaming
   * loop takes the finer grain only then, and only in training (a sampling loop's noise thread may hold the
   * other core in prediction). A pool of one lane is never awake.
   */
  @Test
  void streamingLoopsTakeTheFinerGrainOnlyInTrainingWhileTheWorkersSpin() throws InterruptedException {
    try (KernelPool spinning = new KernelPool(2, "test-awake", 60_000_000_000L);
        KernelPool parking = new KernelPool(2, "test-parked", 0);
        KernelPool one = new KernelPool(1, "test-one")) {
      assertFalse(spinning.awake(), "a new worker parks until its first range");
      assertEquals(NativePass.STREAM_GRAIN, NativePass.streamGrain(spinning, true));
      spinning.split(64, 8, (lane, from, to) -> { });
      assertTrue(spinning.awake(), "the worker spins after its range");
      assertEquals(NativePass.GRAIN, NativePass.streamGrain(spinning, true));
      assertEquals(NativePass.GRAIN / Workspace.CHUNK, NativePass.streamChunks(spinning, true));
      assertEquals(NativePass.STREAM_GRAIN, NativePass.streamGrain(spinning, false), "prediction keeps the coarse grain");
      parking.split(64, 8, (lane, from, to) -> { });
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (parking.awake() && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertFalse(parking.awake(), "a worker that does not spin parks after its range");
      assertEquals(NativePass.STREAM_GRAIN, NativePass.streamGrain(parking, true));
      one.split(64, 8, (lane, from, to) -> { });
      assertFalse(one.awake());
      assertEquals(NativePass.STREAM_GRAIN, NativePass.streamGrain(one, true));
    }
  }

  /**
   * A backend's thread count (what the sampling loop splits a batch by) and description are its own, though
   * the native counts it applied are process-wide and a backend made later replaces them.
   */
  @Test
  void aBackendKeepsItsThreadCountWhenAnotherIsMade() {
    try (Backend two = new Nd4jBackendProvider().create(new BackendOptions(2))) {
      try (Backend one = Nd4jTests.createBackend()) {
        assertEquals(2, two.tensors().threads());
        assertTrue(two.describe().endsWith("2 threads"), two.describe());
        assertEquals(1, one.tensors().threads());
      }
    } finally {
      NativeRuntime.load(1);
    }
  }

  @Test
  void backendThreadsAreDaemonsStoppedOnClose() throws InterruptedException {
    Backend b = new Nd4jBackendProvider().create(new BackendOptions(2));
    List<Thread> workers;
    try {
      workers = kernelThreads();
      assertFalse(workers.isEmpty());
      for (Thread t : workers) {
        assertTrue(t.isDaemon(), t.getName());
      }
    } finally {
      b.close();
      NativeRuntime.load(1);
    }
    for (Thread t : workers) {
      t.join(5000);
      assertFalse(t.isAlive(), t.getName() + " still runs after the backend closed");
    }
    Backend one = Nd4jTests.createBackend();
    try {
      assertEquals(1, ((Nd4jBackend) one).nd4jLayers().threads().lanes());
    } finally {
      one.close();
    }
  }

  private static List<Thread> kernelThreads() {
    List<Thread> out = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("diffusion4j-nd4j-kernels") && t.isAlive()) {
        out.add(t);
      }
    }
    return out;
  }

  @AfterAll
  static void restoreNativeThreads() {
    NativeRuntime.load(1);
  }
}
