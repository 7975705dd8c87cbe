package io.github.diffusion4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * One Spark context per JVM, shared by whoever asks for it here: the first {@link #acquire} creates it, later
 * ones (with the same master) get the same context, and it stops when the last lease is closed. For a
 * program that runs several jobs one after another, or tests that share one local context (Spark allows
 * one per JVM, and starting one takes seconds).
 */
public final class SparkContexts {
  private static JavaSparkContext active;
  private static int leases;

  private SparkContexts() {}

  /** A hold on the shared context; closing it releases the hold. */
  public static final class Lease implements AutoCloseable {
    private final JavaSparkContext context;
    private boolean closed;

    private Lease(JavaSparkContext context) {
      this.context = context;
    }

    /**
     * The context.
     *
     * @return the shared context
     */
    public JavaSparkContext context() {
      return context;
    }

    /** Releases the hold; the last release stops the context. */
    @Override
    public void close() {
      synchronized (SparkContexts.class) {
        if (closed) {
          return;
        }
        closed = true;
        if (--leases == 0 && active == context) {
          active = null;
          context.stop();
        }
      }
    }
  }

  /**
   * The shared context: the running one if its master is the configuration's, else a new one.
   *
   * @param conf the configuration of a new context (its {@code spark.master} must be set)
   * @return a lease on the context
   * @throws IllegalStateException if a context with another master runs here
   */
  public static synchronized Lease acquire(SparkConf conf) {
    if (active != null && active.sc().isStopped()) {
      active = null;
      leases = 0;
    }
    if (active != null) {
      String running = active.sc().master();
      String wanted = conf.get("spark.master", running);
      if (!running.equals(wanted)) {
        throw new IllegalStateException("a Spark context with master " + running + " is running in this JVM; "
            + "cannot start one with master " + wanted + " beside it");
      }
    } else {
      active = new JavaSparkContext(conf);
    }
    leases++;
    return new Lease(active);
  }
}
