package io.github.diffusion4j.spark;

/**
 * A Spark job of {@link SparkDiffusion} failed: a shard failed on every attempt Spark allows
 * ({@code spark.task.maxFailures}), or the job was cancelled. The message is the task's own error (the first
 * line of the innermost cause); the cause is Spark's exception, with the remote stack trace.
 */
public class SparkJobException extends RuntimeException {
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
    } catch (RuntimeException e) {
      throw ifStopped(e);
    } catch (Error e) {
      throw e;
    } catch (Exception e) {
      throw of(e);
    }
  }

  /**
   * Spark's error for a context that stopped before the job could run, in one line; any other error as it is.
   * A standalone master that cannot be reached, or that removes the application (its executors failed to start
   * 10 times), stops the context in a thread of its own: the next call on it, wherever it is (the context's
   * start, the checkpoint's broadcast, the job), throws Spark's "Cannot call methods on a stopped SparkContext",
   * whose message is the context's whole creation stack trace.
   *
   * @param e an error of a call on the context
   * @return this exception if the context had stopped, else {@code e}
   */
  public static RuntimeException ifStopped(RuntimeException e) {
    if (e instanceof IllegalStateException
        && String.valueOf(e.getMessage()).startsWith("Cannot call methods on a stopped SparkContext")) {
      return new SparkJobException("Spark stopped before the job could run (was the master reachable, and could "
          + "its workers start executors? Spark's log above says why)", e);
    }
    return e;
  }

  /** The exception for a failed job: the innermost error's first line. */
  static SparkJobException of(Exception e) {
    // the innermost error, but not below one whose message already says what its cause says and more: the task's
    // "cannot read /shared/ck/config.yaml: file not found", not its cause's bare "/shared/ck/config.yaml"
    // (Spark's own wrappers, and the outermost exception, say only that the job failed)
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      Throwable cause = root.getCause();
      boolean wrapper = root == e || root.getClass().getName().startsWith("org.apache.spark.");
      if (!wrapper && root.getMessage() != null && cause.getMessage() != null && !cause.getMessage().isEmpty()
          && root.getMessage().contains(cause.getMessage())) {
        break;
      }
      root = cause;
    }
    String m = root.getMessage();
    String line = m == null ? root.getClass().getSimpleName() : m.lines().findFirst().orElse("").strip();
    if (line.contains("cancelled because SparkContext was shut down")) {
      // no task failed: the context stopped under the job (Ctrl-C, SIGTERM, a lost master)
      return new SparkJobException("the job was cancelled: Spark shut down while it ran (interrupted?)", e);
    }
    if (line.startsWith(JOB_CANCELLED)) {
      // no task failed either: someone cancelled the job (SparkContext.cancelAllJobs or cancelJobGroup of the program
      // that called, the kill link of Spark's UI), which Spark 4 says as "[SPARK_JOB_CANCELLED] Job 4 cancelled as
      // part of cancellation of all jobs SQLSTATE: XXKDA"
      String why = line.substring(JOB_CANCELLED.length()).replaceFirst("\\s*SQLSTATE: \\w+$", "").strip();
      return new SparkJobException("the job was cancelled: " + why, e);
    }
    String message = "a task failed on every attempt Spark allows (spark.task.maxFailures): " + line;
    // an executor's own file problem is marked, so that the command line does not take it for the user's bad input
    // (exit 2, as a missing --checkpoint); the cause is kept for callers and --verbose
    return executorFileProblem(e) ? new ExecutorFileProblem(message, e) : new SparkJobException(message, e);
  }

  /** How Spark 4 starts the message of a job that was cancelled (error condition SPARK_JOB_CANCELLED). */
  private static final String JOB_CANCELLED = "[SPARK_JOB_CANCELLED]";

  /** A task's failure that is a file an executor could not find or open: a failure, not the user's bad input. */
  static final class ExecutorFileProblem extends SparkJobException implements io.github.diffusion4j.cli.NotBadInput {
    private static final long serialVersionUID = 1L;

    ExecutorFileProblem(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Whether a failed task's error is a file an executor could not find or open ({@link
   * java.nio.file.NoSuchFileException}, {@link java.nio.file.AccessDeniedException}, {@link
   * java.io.FileNotFoundException} in its causes: a temporary folder it may not write, an output folder that is not
   * on storage it shares with the driver) rather than bad input, which the driver checked before the job; a checkpoint
   * or configuration that an executor refuses (a checkpoint changed under the job, {@code --ship path} without shared
   * storage) stays the user's to fix.
   */
  static boolean executorFileProblem(Throwable e) {
    boolean file = false;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.github.diffusion4j.io.CheckpointException
          || t instanceof io.github.diffusion4j.config.ConfigException) {
        return false;
      }
      file |= t instanceof java.nio.file.NoSuchFileException || t instanceof java.nio.file.AccessDeniedException
          || t instanceof java.io.FileNotFoundException;
    }
    return file;
  }
}
