package io.github.diffusion4j.spark;

/**
 * A Spark job of {@link SparkDiffusion} failed: a shard failed on every attempt Spark allows
 * ({@code spark.task.maxFailures}), or the job was cancelled. The message is the task's own error (the first
 * line of the innermost cause); the cause is Spark's exception, with the remote stack trace.
 */
public final class SparkJobException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Wraps Spark's exception.
   *
   * @param message one line: what failed
   * @param cause Spark's exception
   */
  public SparkJobException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Runs a Spark action, turning Spark's checked exception (which Scala throws undeclared) into this one.
   *
   * @param action the action
   * @param <T> its result
   * @return the result
   */
  static <T> T run(java.util.function.Supplier<T> action) {
    try {
      return action.get();
    } catch (IllegalStateException e) {
      if (String.valueOf(e.getMessage()).startsWith("Cannot call methods on a stopped SparkContext")) {
        // a standalone master that could not be reached stops the context before the job starts; Spark's
        // message is its whole creation stack trace
        throw new SparkJobException("Spark stopped before the job could run (was the master reachable? Spark's "
            + "log above says why)", e);
      }
      throw e;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw of(e);
    }
  }

  /** The exception for a failed job: the innermost error's first line. */
  static SparkJobException of(Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    String line = m == null ? root.getClass().getSimpleName() : m.lines().findFirst().orElse("").strip();
    if (line.contains("cancelled because SparkContext was shut down")) {
      // no task failed: the context stopped under the job (Ctrl-C, SIGTERM, a lost master)
      return new SparkJobException("the job was cancelled: Spark shut down while it ran (interrupted?)", e);
    }
    return new SparkJobException("a task failed on every attempt Spark allows (spark.task.maxFailures): " + line, e);
  }
}
