package io.github.diffusion4j.spark;

import io.github.diffusion4j.runtime.TrainedModel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The models of one executor JVM: a checkpoint (with its overrides) is loaded once per JVM, by the first task
 * that needs it, and shared by every task of the JVM, at the same time and later (sampling only predicts,
 * which {@link io.github.diffusion4j.model.TrainableModel} makes thread-safe on every backend; each task's
 * tensors live in its own thread's scopes). When a task of another checkpoint arrives, the models no task is
 * using are closed, so a long-lived JVM holds the current checkpoint's model and at most those still in use.
 * A model no task has used for {@link #IDLE_MILLIS} is closed too, so an executor that outlives its job (a
 * long-lived application, a notebook) does not hold the model's native memory after the job; a later job of the
 * same checkpoint loads it again.
 */
final class ExecutorModels {
  private static final Map<String, Entry> MODELS = new HashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();
  /** Models loaded and not yet closed, retired ones (no longer in {@link #MODELS}, still in use) included. */
  private static final AtomicInteger OPEN = new AtomicInteger();
  /** How long a model no task uses stays loaded: longer than the gap between a job's tasks on one executor. */
  static final long IDLE_MILLIS = 60_000;
  private static long idleMillis = IDLE_MILLIS; // guarded by MODELS
  private static ScheduledThreadPoolExecutor reaper; // guarded by MODELS, created by the first idle model

  private ExecutorModels() {}

  /** The model of one key (checkpoint and overrides), loaded by its first user. */
  private static final class Entry {
    private final String key;
    private TrainedModel model; // guarded by this
    private int users; // guarded by MODELS
    private boolean retired; // guarded by MODELS
    private long idle; // guarded by MODELS: which idle period a scheduled close belongs to
    private ScheduledFuture<?> expiry; // guarded by MODELS: the close of the current idle period

    Entry(String key) {
      this.key = key;
    }

    /** The model, loaded from this task's source if no task has loaded it (a later job's source may differ only
     * in how it ships the same bytes). */
    synchronized TrainedModel model(ModelSource source) {
      if (model == null) {
        model = source.load();
        LOADS.incrementAndGet();
        OPEN.incrementAndGet();
      }
      return model;
    }

    synchronized void close() {
      if (model != null) {
        try {
          model.close();
        } finally { // a close that fails has still let the model go: it is not closed again, nor counted as open
          model = null;
          OPEN.decrementAndGet();
        }
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
          if (old.expiry != null) {
            old.expiry.cancel(false);
            old.expiry = null;
          }
          if (old.users == 0) {
            old.close();
          }
        }
        e = new Entry(source.key());
        MODELS.put(source.key(), e);
      }
      if (e.users++ == 0 && e.expiry != null) {
        e.expiry.cancel(false); // in use again: the idle period's close is dropped from the timer's queue
        e.expiry = null;
      }
      return e;
    }
  }

  private static void release(Entry e) {
    synchronized (MODELS) {
      e.users--;
      if (e.users > 0) {
        return;
      }
      if (e.retired) {
        e.close();
        return;
      }
      long period = ++e.idle;
      if (reaper == null) {
        reaper = new ScheduledThreadPoolExecutor(1, r -> {
          Thread t = new Thread(r, "diffusion4j-idle-models");
          t.setDaemon(true);
          return t;
        });
        reaper.setRemoveOnCancelPolicy(true);
      }
      e.expiry = reaper.schedule(() -> expire(e, period), idleMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Closes a model that no task has used since the idle period began. */
  private static void expire(Entry e, long period) {
    synchronized (MODELS) {
      if (e.users == 0 && !e.retired && e.idle == period && MODELS.get(e.key) == e) {
        e.expiry = null;
        MODELS.remove(e.key);
        e.retired = true;
        e.close();
      }
    }
  }

  /**
   * How many models this JVM holds loaded: the current checkpoint's and any retired one a task still uses.
   *
   * @return the models loaded and not yet closed
   */
  static int held() {
    return OPEN.get();
  }

  /**
   * Sets how long an unused model stays loaded (tests).
   *
   * @param millis the idle time
   */
  static void idleMillis(long millis) {
    synchronized (MODELS) {
      idleMillis = millis;
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
