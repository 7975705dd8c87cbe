package io.github.diffusion4j.spark;

import io.github.diffusion4j.runtime.TrainedModel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The models of one executor JVM: a checkpoint (with its overrides) is loaded once per JVM, by the first task
 * that needs it, and shared by every task of the JVM, at the same time and later (sampling only predicts,
 * which {@link io.github.diffusion4j.model.TrainableModel} makes thread-safe on every backend; each task's
 * tensors live in its own thread's scopes). When a task of another checkpoint arrives, the models no task is
 * using are closed, so a long-lived JVM holds the current checkpoint's model and at most those still in use.
 */
final class ExecutorModels {
  private static final Map<String, Entry> MODELS = new HashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  private ExecutorModels() {}

  /** The model of one key (checkpoint and overrides), loaded by its first user. */
  private static final class Entry {
    private TrainedModel model; // guarded by this
    private int users; // guarded by MODELS
    private boolean retired; // guarded by MODELS

    /** The model, loaded from this task's source if no task has loaded it (a later job's source may differ only
     * in how it ships the same bytes). */
    synchronized TrainedModel model(ModelSource source) {
      if (model == null) {
        model = source.load();
        LOADS.incrementAndGet();
      }
      return model;
    }

    synchronized void close() {
      if (model != null) {
        model.close();
        model = null;
      }
    }
  }

  /**
   * Runs work with the JVM's model of a source, loading it if no task has.
   *
   * @param source the checkpoint
   * @param work what to do with it (sampling: the model is shared with other tasks)
   * @param <T> the result type
   * @return the work's result
   */
  static <T> T with(ModelSource source, Function<TrainedModel, T> work) {
    Entry e = acquire(source);
    try {
      return work.apply(e.model(source));
    } finally {
      release(e);
    }
  }

  private static Entry acquire(ModelSource source) {
    synchronized (MODELS) {
      Entry e = MODELS.get(source.key());
      if (e == null) {
        for (Iterator<Entry> it = MODELS.values().iterator(); it.hasNext(); ) {
          Entry old = it.next();
          old.retired = true;
          it.remove();
          if (old.users == 0) {
            old.close();
          }
        }
        e = new Entry();
        MODELS.put(source.key(), e);
      }
      e.users++;
      return e;
    }
  }

  private static void release(Entry e) {
    synchronized (MODELS) {
      e.users--;
      if (e.retired && e.users == 0) {
        e.close();
      }
    }
  }

  /**
   * How many models this JVM has loaded.
   *
   * @return the count since the JVM started
   */
  static int loads() {
    return LOADS.get();
  }
}
