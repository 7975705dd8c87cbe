package io.github.diffusion4j.backend.nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The buffers of concurrent predictions: each call takes a workspace for its exclusive use and gives it
 * back, so there are as many workspaces as calls have ever run at once; all are freed by {@link #close}.
 *
 * @param <W> the workspace type
 */
final class WorkspacePool<W extends AutoCloseable> {
  private final ConcurrentLinkedDeque<W> idle = new ConcurrentLinkedDeque<>();
  private final Set<W> all = ConcurrentHashMap.newKeySet();

  /**
   * A workspace for the calling thread until it calls {@link #give}: an idle one if it {@code fits},
   * else a new one (an idle one that does not fit is freed).
   *
   * @param fits whether an idle workspace serves this call
   * @param create makes a new one
   * @return the workspace
   */
  W take(Predicate<W> fits, Supplier<W> create) {
    W w = idle.poll();
    if (w != null && fits.test(w)) {
      return w;
    }
    if (w != null) {
      all.remove(w);
      close(w);
    }
    w = create.get();
    all.add(w);
    return w;
  }

  /**
   * Gives a workspace back.
   *
   * @param w a workspace from {@link #take}
   */
  void give(W w) {
    idle.push(w);
  }

  /**
   * Every workspace, for inspection.
   *
   * @return a copy of the set
   */
  List<W> all() {
    return new ArrayList<>(all);
  }

  /** Frees every workspace; none may be in use. */
  void close() {
    for (W w : all) {
      close(w);
    }
    all.clear();
    idle.clear();
  }

  private static void close(AutoCloseable w) {
    try {
      w.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing a workspace failed", e);
    }
  }
}
