package io.github.diffusion4j.spark;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.util.ShutdownHookManager;

/**
 * Holds a JVM shutdown (Ctrl-C, SIGTERM) that cancelled a {@link SparkDiffusion} job until its caller has reported
 * it: the shutdown hook that cancels the job waits for the call's clean-up and then for every open hold, so that
 * the caller's report of the {@link SparkJobException} ("the job was cancelled: ...") is printed before the JVM
 * halts. Without it the JVM could halt between the clean-up and the report. (The command line holds the JVM with
 * its {@code InterruptGuard} instead, whose hook waits for the command's {@code interrupted; ...} line.)
 *
 * <pre>{@code
 * try (ShutdownHold hold = ShutdownHold.acquire()) {
 *   SparkDiffusion.sample(sc, job);
 * } catch (SparkJobException e) { ... report it, then close the hold ... }
 * }</pre>
 */
public final class ShutdownHold implements AutoCloseable {
  private static final Set<ShutdownHold> OPEN = ConcurrentHashMap.newKeySet();

  private final CountDownLatch released = new CountDownLatch(1);

  private ShutdownHold() {}

  /**
   * Opens a hold.
   *
   * @return the hold; close it once the call's outcome is reported
   */
  public static ShutdownHold acquire() {
    ShutdownHold h = new ShutdownHold();
    OPEN.add(h);
    return h;
  }

  /**
   * Whether the JVM is shutting down (a job cancelled now was cancelled by the shutdown).
   *
   * @return true during the shutdown
   */
  public static boolean inShutdown() {
    return ShutdownHookManager.inShutdown();
  }

  /** Releases the hold. */
  @Override
  public void close() {
    OPEN.remove(this);
    released.countDown();
  }

  /** Waits until every open hold is closed, or the deadline ({@link System#nanoTime}) passes. */
  static void awaitAll(long deadline) throws InterruptedException {
    for (ShutdownHold h : OPEN) {
      h.released.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }
}
