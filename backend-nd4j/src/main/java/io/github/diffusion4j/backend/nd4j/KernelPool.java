package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The backend's own threads for the Java loops of its kernels: {@code lanes - 1} daemon workers, created
 * once with the backend and stopped when it closes, plus the calling thread as lane 0. A kernel splits a
 * loop over independent outputs (items, channels, planes, chunks) into at most {@link #lanes()}
 * contiguous ranges ({@link #split}); each range is computed exactly as the one-lane loop computes it, so
 * results are bit-identical whatever the number of lanes. A loop that is a reduction keeps its order:
 * lanes write partial results per output (per item, per chunk) that the caller then adds in the one-lane
 * order.
 *
 * <p>One split runs at a time: a second thread that splits while the workers are busy (two predictions at
 * once, each with its own workspace and so its own lanes' scratch) runs all its ranges itself, in order,
 * with the same lane numbers, so it computes the same values and never waits for the other. A range must
 * not split again (its inner ranges would share the scratch of lanes in use): that throws. Between splits a
 * worker spins for {@link #SPIN_NANOS} and then parks, and a caller waiting for the workers does the same
 * (OpenBLAS runs on one thread, inside the lanes, so no other thread of the backend needs the core then).
 */
final class KernelPool implements AutoCloseable {
  /** The work of one range. */
  @FunctionalInterface
  interface Task {
    /**
     * Computes the outputs {@code [from, to)}.
     *
     * @param lane which lane runs it, {@code 0 <= lane < lanes()}: the index of its scratch
     * @param from the first index
     * @param to one past the last index
     */
    void run(int lane, int from, int to);
  }

  /** The work of one chunk of a {@link #chunks} loop. */
  @FunctionalInterface
  interface ChunkTask {
    /**
     * Computes one chunk.
     *
     * @param lane which lane runs it: the index of its scratch
     * @param index the chunk's index
     * @param offset its first element
     * @param length its element count
     */
    void run(int lane, int index, int offset, int length);
  }

  /**
   * How long a worker that finished a range, and a caller that finished its own, wait for the next range or
   * for the other lanes by spinning before they park: 300 us. A parked thread on a virtual machine sits on a
   * halted vCPU that takes ~100 us to wake; a U-Net's training step and forward pass split ~1,100 times, most
   * within a few hundred microseconds of the last, so a split that finds its worker spinning, and a caller
   * that is still spinning when the worker finishes, save a wake-up each (default U-Net at two threads,
   * alternating runs: training 7-10% faster, the forward pass 1-6%; docs/benchmarks.md). Longer spins gained
   * nothing more; the spin ends with the next split or after 300 us, and a pool of one lane never spins.
   */
  static final long SPIN_NANOS = 300_000;
  private final int lanes;
  private final long spinNanos;
  private final Worker[] workers;
  private final ReentrantLock busy = new ReentrantLock();
  private final AtomicInteger pending = new AtomicInteger();
  /** Per thread: how many {@link #confine()} confinements are open on it. */
  private final ThreadLocal<int[]> confined = ThreadLocal.withInitial(() -> new int[1]);
  private volatile Thread caller;
  private volatile Throwable failure;
  private volatile boolean closed;

  /**
   * Starts {@code lanes - 1} worker threads.
   *
   * @param lanes the number of lanes, at least 1
   * @param name the workers' name prefix
   */
  KernelPool(int lanes, String name) {
    this(lanes, name, SPIN_NANOS);
  }

  /**
   * Starts {@code lanes - 1} worker threads that spin {@code spinNanos} after each range (tests).
   *
   * @param lanes the number of lanes, at least 1
   * @param name the workers' name prefix
   * @param spinNanos how long a worker spins before it parks
   */
  KernelPool(int lanes, String name, long spinNanos) {
    if (lanes < 1) {
      throw new IllegalArgumentException("a kernel pool needs at least one lane, got " + lanes);
    }
    this.lanes = lanes;
    this.spinNanos = spinNanos;
    this.workers = new Worker[lanes - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker();
      Thread t = new Thread(workers[i], name + "-" + (i + 1));
      t.setDaemon(true);
      workers[i].thread = t;
      t.start();
    }
  }

  /**
   * The number of lanes (the backend's thread count).
   *
   * @return lanes
   */
  int lanes() {
    return lanes;
  }

  /**
   * The ranges a split of {@code n} outputs uses: as many lanes as give each at least {@code grain} outputs,
   * at most {@link #lanes()}.
   *
   * @param n the number of outputs
   * @param grain the fewest outputs worth a lane of their own
   * @return the number of ranges, at least 1
   */
  int ranges(int n, int grain) {
    if (lanes > 1 && confined.get()[0] > 0) {
      return 1;
    }
    return (int) Math.max(1, Math.min(lanes, n / Math.max(1, (long) grain)));
  }

  /**
   * Keeps the calling thread's splits on that thread until the result is closed: each runs as one range, on
   * lane 0, as {@link #split} runs a split of one range (the same values: a split's ranges never change what
   * is computed). The sampling loop walks a slice of a batch on each of {@link #lanes()} threads this way, so
   * the workers stay parked instead of taking a core a slice needs. Confinements nest; close each on its thread.
   *
   * @return the confinement
   */
  ThreadConfinement confine() {
    if (lanes == 1) {
      return ThreadConfinement.NONE;
    }
    int[] depth = confined.get();
    depth[0]++;
    return ThreadConfinement.closingOnce(() -> depth[0]--);
  }

  /**
   * Whether every worker is spinning after its last range, so that a split now costs no wake-up: true within
   * {@link #SPIN_NANOS} of the last split, false after a pause, and false for a pool of one lane. A loop whose
   * results do not depend on its ranges can take a finer grain while the workers are awake (see
   * {@link NativePass#streamGrain}).
   *
   * @return whether the workers are awake
   */
  boolean awake() {
    for (Worker w : workers) {
      if (w.parked) {
        return false;
      }
    }
    return workers.length > 0;
  }

  /**
   * Runs {@code task} over {@code [0, n)} in {@link #ranges(int, int)} contiguous ranges, range {@code i}
   * on lane {@code i}, and returns when all are done. The ranges are the same whoever runs them.
   *
   * @param n the number of outputs
   * @param grain the fewest outputs worth a lane of their own
   * @param task the work
   * @throws RuntimeException or Error: the first failure of any range, after all ranges have ended (a checked
   *     exception that a worker's range threw undeclared comes wrapped in an {@link IllegalStateException})
   */
  void split(int n, int grain, Task task) {
    if (lanes > 1 && inRange()) {
      // its ranges would use the scratch of lanes that the outer split's ranges are using
      throw new IllegalStateException("a kernel split inside a range of another split");
    }
    int r = ranges(n, grain);
    if (r == 1) {
      if (n > 0) {
        task.run(0, 0, n);
      }
      return;
    }
    if (closed || !busy.tryLock()) {
      for (int i = 0; i < r; i++) {
        task.run(i, bound(n, r, i), bound(n, r, i + 1));
      }
      return;
    }
    try {
      failure = null;
      caller = Thread.currentThread();
      pending.set(r - 1);
      for (int i = 1; i < r; i++) {
        workers[i - 1].post(task, i, bound(n, r, i), bound(n, r, i + 1));
      }
      Throwable own = null;
      try {
        task.run(0, 0, bound(n, r, 1));
      } catch (RuntimeException | Error e) {
        own = e;
      }
      long spinEnd = System.nanoTime() + spinNanos;
      while (pending.get() > 0 && System.nanoTime() < spinEnd) {
        Thread.onSpinWait();
      }
      while (pending.get() > 0) {
        LockSupport.park(this);
      }
      Throwable f = own != null ? own : failure;
      if (f instanceof RuntimeException e) {
        throw e;
      }
      if (f instanceof Error e) {
        throw e;
      }
      if (f != null) { // a checked exception thrown past the compiler on a worker
        throw new IllegalStateException("a kernel range failed: " + f, f);
      }
    } finally {
      caller = null;
      busy.unlock();
    }
  }

  /**
   * Runs {@code task} on each chunk of {@code chunk} elements of {@code [0, n)} (the last may be shorter),
   * the chunks split over the lanes as by {@link #split}.
   *
   * @param n the number of elements
   * @param chunk elements per chunk
   * @param grain the fewest chunks worth a lane of their own
   * @param task the work of one chunk
   */
  void chunks(int n, int chunk, int grain, ChunkTask task) {
    int count = (int) (((long) n + chunk - 1) / chunk);
    split(count, grain, (lane, c0, c1) -> {
      for (int c = c0; c < c1; c++) {
        int o = c * chunk;
        task.run(lane, c, o, Math.min(chunk, n - o));
      }
    });
  }

  /** Whether the calling thread runs a range of a split: it is a worker, or the caller of a split. */
  private boolean inRange() {
    Thread t = Thread.currentThread();
    if (busy.isHeldByCurrentThread()) {
      return true;
    }
    for (Worker w : workers) {
      if (w.thread == t) {
        return true;
      }
    }
    return false;
  }

  /** The start of range {@code i} of {@code r} over {@code [0, n)}. */
  static int bound(int n, int r, int i) {
    return (int) ((long) n * i / r);
  }

  private void done(Throwable t) {
    if (t != null && failure == null) {
      failure = t;
    }
    if (pending.decrementAndGet() == 0) {
      LockSupport.unpark(caller);
    }
  }

  /** Stops the workers (after the split in progress, if any). */
  @Override
  public void close() {
    closed = true;
    for (Worker w : workers) {
      LockSupport.unpark(w.thread);
    }
  }

  /** A worker thread with a one-task mailbox. */
  private final class Worker implements Runnable {
    private Thread thread;
    private volatile Task task;
    /** Parked or about to park: a split would have to wake it. Starts true (a new worker parks at once). */
    private volatile boolean parked = true;
    private int lane;
    private int from;
    private int to;

    void post(Task t, int lane, int from, int to) {
      this.lane = lane;
      this.from = from;
      this.to = to;
      this.task = t; // volatile write: publishes the fields above
      LockSupport.unpark(thread);
    }

    @Override
    public void run() {
      long spinEnd = 0;
      while (true) {
        Task t = task;
        if (t == null) {
          if (closed) {
            return;
          }
          if (System.nanoTime() < spinEnd) {
            Thread.onSpinWait();
          } else {
            parked = true;
            LockSupport.park(this);
          }
          continue;
        }
        parked = false;
        Throwable err = null;
        try {
          t.run(lane, from, to);
        } catch (Throwable e) { // handed to the caller, which rethrows it
          err = e;
        }
        task = null;
        done(err);
        spinEnd = System.nanoTime() + spinNanos;
      }
    }
  }
}
