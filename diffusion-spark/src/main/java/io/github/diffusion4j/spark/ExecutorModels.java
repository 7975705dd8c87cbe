package io.github.diffusion4j.spark;

import io.github.diffusion4j.runtime.TrainedModel;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The models of one executor JVM: a checkpoint is loaded once per task slot and kept for every later task
 * of the JVM, so that a job of many partitions loads it as often as the executor runs tasks at once (once,
 * with one task per executor), not once per partition. A model is used by one task at a time (backends'
 * models are not thread-safe); when a task of another checkpoint (or other overrides) arrives, the idle
 * models of the previous one are closed, so a long-lived JVM holds one checkpoint's models at most. A model
 * whose task failed is closed rather than reused.
 */
final class ExecutorModels {
  private static final Deque<TrainedModel> IDLE = new ArrayDeque<>();
  private static final AtomicInteger LOADS = new AtomicInteger();
  private static String current;

  private ExecutorModels() {}

  /**
   * Runs work with a model of the source, loading one only if none is idle.
   *
   * @param source the checkpoint
   * @param work what to do with it
   * @param <T> the result type
   * @return the work's result
   */
  static <T> T with(ModelSource source, Function<TrainedModel, T> work) {
    TrainedModel m = borrow(source);
    boolean ok = false;
    try {
      T result = work.apply(m);
      ok = true;
      return result;
    } finally {
      giveBack(source, m, ok);
    }
  }

  private static TrainedModel borrow(ModelSource source) {
    synchronized (IDLE) {
      if (!source.key().equals(current)) {
        closeIdle();
        current = source.key();
      }
      if (!IDLE.isEmpty()) {
        return IDLE.pop();
      }
    }
    TrainedModel m = source.load();
    LOADS.incrementAndGet();
    return m;
  }

  private static void giveBack(ModelSource source, TrainedModel m, boolean ok) {
    synchronized (IDLE) {
      if (ok && source.key().equals(current)) {
        IDLE.push(m);
        return;
      }
    }
    m.close();
  }

  private static void closeIdle() {
    while (!IDLE.isEmpty()) {
      IDLE.pop().close();
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
