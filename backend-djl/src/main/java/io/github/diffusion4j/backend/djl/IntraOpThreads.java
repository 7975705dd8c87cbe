package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Confines libtorch's intra-op threads to the calling thread, within libtorch's semantics.
 *
 * <p>{@code at::set_num_threads(n)} does two things: it sets the calling thread's OpenMP (and MKL) count, which
 * is kept per thread, and it stores {@code n} as the process-wide count that every thread copies into its own
 * once, lazily, on its first operation. Setting one thread to 1 therefore also makes every thread that first
 * touches libtorch meanwhile take 1 for good. So a confinement sets 1 on the calling thread and at once has
 * another thread (which owns no work) set the process-wide count back to the backend's: the calling thread
 * keeps 1, and a thread starting meanwhile takes the backend's count. The limit: a thread whose first libtorch
 * operation falls inside that hand-off (microseconds) still takes 1; libtorch offers no call that sets one
 * without the other.
 *
 * <p>Confinements nest per thread: the outermost sets the thread's count and its close sets the backend's
 * count back (on the thread and process-wide); inner ones do nothing. Each close restores the configured
 * count, never a value read when the confinement opened, so confinements on different threads closing in any
 * order cannot leave a stale count behind.
 */
final class IntraOpThreads {
  /** How deep the calling thread's confinements nest. */
  private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

  private IntraOpThreads() {}

  /** The thread that sets the process-wide count back, started on first use. */
  private static final class Restorer {
    static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "diffusion4j-djl-intra-op-count");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Puts the calling thread's intra-op count at 1 until the result is closed (on this thread).
   *
   * @param threads the backend's configured count, which closing puts back
   * @return the confinement
   */
  static ThreadConfinement confine(int threads) {
    int[] depth = DEPTH.get();
    if (depth[0]++ > 0) {
      return ThreadConfinement.closingOnce(() -> depth[0]--);
    }
    try {
      // a thread's first operation copies the process-wide count into its own: do that before setting ours
      JniUtils.getNumThreads();
      JniUtils.setNumThreads(1);
      setProcessCount(threads);
    } catch (RuntimeException | Error e) {
      depth[0]--;
      JniUtils.setNumThreads(threads);
      throw e;
    }
    return ThreadConfinement.closingOnce(() -> {
      if (--depth[0] == 0) {
        JniUtils.setNumThreads(threads);
      }
    });
  }

  /** Sets libtorch's process-wide count from another thread, leaving the calling thread's own count. */
  private static void setProcessCount(int threads) {
    Future<?> done = Restorer.THREAD.submit(() -> JniUtils.setNumThreads(threads));
    boolean interrupted = false;
    try {
      while (true) {
        try {
          done.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true; // a brief hand-off: finish it, keep the interrupt for the caller's next check
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          if (c instanceof RuntimeException r) {
            throw r;
          }
          if (c instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(c);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
