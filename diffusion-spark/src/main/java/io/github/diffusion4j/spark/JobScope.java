package io.github.diffusion4j.spark;

import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.ShutdownHookManager;
import scala.runtime.BoxedUnit;

/**
 * The jobs of one {@link SparkDiffusion} call, and what a JVM shutdown (Ctrl-C, SIGTERM) does to them.
 *
 * <p>Left alone, Spark's own shutdown hook stops the context under a running job: the job fails, but its tasks
 * go on sampling (Spark cancels without interrupting by default) until the JVM halts under them, so a local
 * run leaves its shards' temporaries behind and the driver never cleans up. Here the jobs carry a tag of their
 * own and interrupt-on-cancel, and a shutdown hook that runs before the context's (a higher priority in
 * Spark's hook manager) cancels them, which interrupts their tasks (the sampling loop ends at its next step and
 * a shard's temporary is deleted as it closes), and then holds the shutdown until this scope is closed: the
 * driver's clean-up (which waits for the tasks to end, {@link #awaitTasks}) runs before the context stops.
 *
 * <p>The caller's own job group, tags and interrupt setting are left as they were when the scope closes.
 */
class JobScope implements AutoCloseable { // not final: tests watch its calls
  /** How long a shutdown waits for the clean-up, and the clean-up for the tasks: under Hadoop's 30 s per hook. */
  private static final long WAIT_MILLIS = 25_000;

  private static final String INTERRUPT_ON_CANCEL = "spark.job.interruptOnCancel";

  private final JavaSparkContext sc;
  private final String tag = "diffusion4j-" + UUID.randomUUID();
  private final String interruptBefore;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Object hook;
  private volatile boolean cancelled;

  /**
   * Tags the calling thread's jobs from now on, and registers the shutdown hook.
   *
   * @param sc the context the jobs run on
   */
  JobScope(JavaSparkContext sc) {
    this.sc = sc;
    interruptBefore = sc.getLocalProperty(INTERRUPT_ON_CANCEL);
    sc.addJobTag(tag);
    sc.setInterruptOnCancel(true);
    hook = ShutdownHookManager.addShutdownHook(ShutdownHookManager.SPARK_CONTEXT_SHUTDOWN_PRIORITY() + 1, () -> {
      cancelForShutdown();
      return BoxedUnit.UNIT;
    });
  }

  /**
   * What the shutdown hook does: cancels the jobs, interrupting their tasks, and waits for {@link #close} and for
   * the open {@link ShutdownHold}s (25 seconds at most in all).
   * Package-private so that tests can run it without stopping their JVM.
   */
  void cancelForShutdown() {
    cancelled = true;
    if (!sc.sc().isStopped()) {
      sc.cancelJobsWithTag(tag, "the JVM is shutting down (Ctrl-C or SIGTERM?)");
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
    try {
      closed.await(WAIT_MILLIS, TimeUnit.MILLISECONDS);
      // and the caller's report of the cancelled job ({@link ShutdownHold}): the JVM halts once the hooks end
      ShutdownHold.awaitAll(deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs a Spark action of this scope ({@link SparkJobException#run}), saying so when a shutdown cancelled it.
   *
   * @param action the action
   * @param <T> its result
   * @return the result
   * @throws SparkJobException if the job failed or was cancelled
   */
  <T> T run(Supplier<T> action) {
    if (cancelled) {
      throw cancelledException(null);
    }
    try {
      return SparkJobException.run(action);
    } catch (RuntimeException e) {
      if (cancelled) {
        throw cancelledException(e);
      }
      throw e;
    }
  }

  /** The exception of a call whose jobs a shutdown cancelled (or would have: before they ran). */
  static SparkJobException cancelledException(Throwable cause) {
    return new SparkJobException("the job was cancelled: the JVM is shutting down (Ctrl-C or SIGTERM?)", cause);
  }

  /**
   * Waits, a bounded time, until no task of this scope's jobs runs: a failed or cancelled job's other tasks go
   * on until they notice (an interrupted task at its next sampling step), and must not write into a folder the
   * driver is cleaning; after a job that succeeded, the attempts Spark kills because another attempt of their task
   * succeeded (speculative copies) may still be renaming or writing, and must not after the driver checked the
   * shards and deleted the temporaries.
   */
  void awaitTasks() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
    try {
      while (activeTasks() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // a stopped context has no status to ask: nothing of it runs any more
    }
  }

  private int activeTasks() {
    int active = 0;
    for (int job : sc.sc().statusTracker().getJobIdsForTag(tag)) {
      SparkJobInfo info = sc.statusTracker().getJobInfo(job);
      if (info == null) {
        continue;
      }
      for (int stage : info.stageIds()) {
        SparkStageInfo s = sc.statusTracker().getStageInfo(stage);
        active += s == null ? 0 : s.numActiveTasks();
      }
    }
    return active;
  }

  /** Removes the tag and the hook, restores the interrupt setting, and lets a waiting shutdown go on. */
  @Override
  public void close() {
    try {
      sc.removeJobTag(tag);
      sc.setLocalProperty(INTERRUPT_ON_CANCEL, interruptBefore);
      if (!ShutdownHookManager.inShutdown()) {
        ShutdownHookManager.removeShutdownHook(hook);
      }
    } finally {
      closed.countDown();
    }
  }
}
