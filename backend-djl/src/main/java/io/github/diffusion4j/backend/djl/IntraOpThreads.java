package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.tensor.ThreadConfinement;

/**
 * Confines libtorch's intra-op threads to the calling thread, within libtorch's semantics.
 *
 * <p>{@code at::set_num_threads(n)} does two things: it sets the calling thread's OpenMP (and MKL) count, which
 * is kept per thread, and it stores {@code n} as the process-wide count that every thread copies into its own
 * once, lazily, on its first operation. Setting one thread to 1 therefore also gives 1 to every thread that first
 * touches libtorch meanwhile, for good. Two things keep that from sticking: every thread sets its own count to the
 * backend's on its first pass ({@link #ensureOwnCount}, once per thread, which also puts the process-wide count
 * back), and a confinement's close sets the backend's count back on its thread and process-wide. What remains: a
 * thread whose first libtorch operation is not a pass of this backend (a tensor operation of its own) while another
 * thread is confined runs those operations at one thread until its first pass.
 *
 * <p>No other thread is involved: an earlier form had a helper thread put the process-wide count back at once,
 * which cost a hand-off of 6-12 us per confinement (three a training step of the MLP, about 5% of it at two
 * threads).
 *
 * <p>Confinements nest per thread: the outermost sets the thread's count and its close sets the backend's
 * count back; inner ones do nothing. Each close restores the configured count, never a value read when the
 * confinement opened, so confinements on different threads closing in any order cannot leave a stale count
 * behind.
 */
final class IntraOpThreads {
  /** How deep the calling thread's confinements nest. */
  private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
  /** Whether the calling thread has set its own count. */
  private static final ThreadLocal<boolean[]> OWN_COUNT = ThreadLocal.withInitial(() -> new boolean[1]);

  private IntraOpThreads() {}

  /**
   * Sets the calling thread's count to the backend's, once per thread, outside a confinement: a thread whose first
   * libtorch operation came while another thread was confined copied that thread's 1.
   *
   * @param threads the backend's configured count
   */
  static void ensureOwnCount(int threads) {
    boolean[] own = OWN_COUNT.get();
    if (!own[0] && DEPTH.get()[0] == 0) {
      JniUtils.getNumThreads(); // the thread's lazy first copy, before ours (as in confine)
      JniUtils.setNumThreads(threads);
      own[0] = true;
    }
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
      // a thread's first operation copies the process-wide count into its own (once, lazily): have it done before
      // setting ours, or it would overwrite our 1 later
      JniUtils.getNumThreads();
      JniUtils.setNumThreads(1);
    } catch (RuntimeException | Error e) {
      depth[0]--;
      throw e;
    }
    return ThreadConfinement.closingOnce(() -> {
      if (--depth[0] == 0) {
        JniUtils.setNumThreads(threads);
        OWN_COUNT.get()[0] = true;
      }
    });
  }
}
