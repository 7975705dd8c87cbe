package io.github.diffusion4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Turns Ctrl-C (SIGINT, or SIGTERM) into a polite stop: the shutdown hook asks the work to stop, then
 * holds the JVM until the command has finished its clean-up, or two minutes at most: training's final
 * checkpoint and report ({@code requestStop}), or, for sampling and {@code data bench}, an interrupt of the
 * command's thread, which ends sampling and training at their next step, and the deletion of their
 * temporaries as their resources close (open the guard first, so it is released last). Inside {@link #finish}
 * (the writing of results already computed) a signal waits for the work, then stops the command; during {@link
 * #load} (a model's, before anything is written) it says the command's line at once and lets the JVM go. {@code
 * train} and {@code demo} hold one guard from before their configuration is opened to their end ({@link
 * #beforeTraining}), whose phases are loads, the data's preparation, the training and the samples. Public for the
 * commands of other modules ({@code diffusion spark sample} and {@code eval}), which say their interrupts as these do.
 */
public final class InterruptGuard implements AutoCloseable {
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook;
  /** What a signal does first (then the hook waits for {@link #close()}). */
  private final Runnable stop;

  /** Guards {@link #finishing} and the hook's decision to stop the work. */
  private final Object lock = new Object();
  /** How many {@link #finish} calls are running: while any is, a signal waits for the work instead of stopping it. */
  private int finishing;
  /** Set by the hook when a signal came, before it asks the work to stop. */
  private final java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
  /** Set by {@link #said} where it cleared an interrupt that no signal made, which {@link #close()} sets again. */
  private boolean handBack;
  /** What the last {@link #finish} work threw (its own failure: it ran uninterrupted), which {@link #said} names. */
  private volatile Throwable finishFailure;
  /** Set by {@link #nowSampling()}. */
  private final java.util.concurrent.atomic.AtomicBoolean sampling = new java.util.concurrent.atomic.AtomicBoolean();
  /** The command's thread, which a signal interrupts before it trains and once it samples; null for the other guards. */
  private Thread command;
  /** What a signal asks of the training, once {@link #nowTraining} is called; null before, and for the other guards. */
  private volatile Runnable training;
  /** Where a signal during {@link #load} says its line at once; null while no load runs. Guarded by {@link #lock}. */
  private java.io.PrintWriter loadingOut;
  /** The line a signal during {@link #load} says. Guarded by {@link #lock}. */
  private String loadingLine;
  /** Set where a signal came during {@link #load}: its line is said and the JVM let go. Guarded by {@link #lock}. */
  private boolean saidWhileLoading;

  /**
   * The guard of a command that prepares a training, trains, then samples ({@code train}, {@code demo}), opened before
   * anything else the command does, so that no signal falls between two guards: until {@link #nowTraining}, a signal
   * interrupts the command's thread (the data's preparation ends and says its line through {@link #said}), and one
   * during a {@link #load} (the configuration's opening; the backend's and the model's load, a checkpoint's read, the
   * run folder's making) says the load's line at once and lets the JVM go; once training, a signal asks the training
   * to stop ({@code stop}: its final checkpoint follows); once the command calls {@link #nowSampling()}, a signal
   * (also one that came between the training's end and that call) interrupts the command's thread (the calling one),
   * so the sampling ends at its next step and its outputs' temporaries are deleted.
   *
   * @return the guard
   */
  static InterruptGuard beforeTraining() {
    Thread command = Thread.currentThread(); // not the field: the hook can run before the constructor returns
    InterruptGuard[] guard = new InterruptGuard[1];
    guard[0] = new InterruptGuard(() -> {
      Runnable training = guard[0] == null ? null : guard[0].training;
      if (training != null) {
        training.run();
      }
      if (training == null || guard[0].sampling.get()) {
        command.interrupt();
      }
    });
    guard[0].command = command;
    return guard[0];
  }

  /**
   * The command's preparation is done and its training begins (call it on the command's thread): a signal now asks
   * the training to stop; one that came since the last {@link #load} (which interrupted the command's thread: that
   * interrupt is cleared) asks it too, so the training stops before its first step and writes its checkpoint, as for
   * a signal just after this call.
   *
   * @param stop asks the training to stop
   */
  void nowTraining(Runnable stop) {
    synchronized (lock) {
      training = stop;
      if (signalled.get()) {
        Thread.interrupted(); // the signal's, made before the training's stop was known: the stop replaces it
        stop.run();
      }
    }
  }

  /** The command has moved from training to sampling: a signal, earlier or later, now interrupts its thread. */
  void nowSampling() {
    sampling.set(true);
    if (signalled.get()) {
      command.interrupt();
    }
  }

  /**
   * Registers the guard's shutdown hook: a signal runs {@code stop} (unless a {@link #load} or a {@link #finish}
   * runs), then holds the JVM until {@link #close()}, two minutes at most.
   *
   * @param stop what a signal does first: interrupt the command's work, or nothing where something else stops it
   *     (a Spark job, cancelled by its own shutdown hook)
   */
  public InterruptGuard(Runnable stop) {
    this.stop = stop;
    hook = new Thread(() -> {
      stopOnSignal();
      try {
        finished.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "diffusion-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Says what a signal left, where one ended the command's work ({@code e}: the sampling's cancellation, or the failure
   * of a file operation that the interrupt cut short): the line {@code interrupted; WHAT} is printed and flushed while
   * the guard still holds the JVM (once it lets go, the JVM may end before a later line is printed: these commands
   * ended without a word); where neither a signal came nor the thread was interrupted, or {@code e} is bad input (not
   * made by the signal's interrupt: a file channel it closed mid-read),
   * {@code e} is rethrown. Where {@code e} is (or wraps) a failure of {@link #finish}'s work, which the signal did not
   * cause (a full disk), its message follows {@code WHAT}. The thread's interrupt flag is cleared, so the command's
   * resources still close normally; an interrupt that no signal made (a caller of {@link DiffusionCli#run} in the same
   * JVM cancelling it) is set again by {@link #close()}. Call it inside the guard, once the output's temporaries are
   * deleted. Where a signal during a {@link #load} has said its line (a command whose work itself runs a load under
   * this guard, and fails once it returns null), nothing more is said.
   *
   * @param e what ended the work
   * @param out where the command reports
   * @param what what was not done, and what stands (e.g. {@code nothing was written to FILE})
   * @return the command's exit code
   */
  public int said(RuntimeException e, java.io.PrintWriter out, String what) {
    synchronized (lock) {
      if (saidWhileLoading) {
        return DiffusionCli.FAILURE; // a load's line was said, and the JVM is ending: one line, not two
      }
    }
    boolean interrupted = Thread.interrupted();
    if (e instanceof BadInputException && !(signalled.get() && causedByInterrupt(e))
        || (!interrupted && !signalled.get())) {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      throw e; // bad input is the user's, whenever it is found (unless the signal's interrupt cut its file's read)
    }
    // an interrupt of the command's thread without a signal is its in-process caller's: handed back by close()
    handBack = interrupted && !signalled.get();
    // the finishing work's own failure (not the signal's) is said too
    out.println("interrupted; " + what + (causedBy(e, finishFailure)
        ? " (" + ErrorReporting.message(finishFailure) + ")" : ""));
    out.flush();
    return DiffusionCli.FAILURE;
  }

  /** Whether an interrupt made {@code e}: a file channel it closed, an I/O or a wait it cut short. */
  private static boolean causedByInterrupt(Throwable e) {
    return anyCause(e, t -> t instanceof java.nio.channels.ClosedByInterruptException
        || t instanceof java.io.InterruptedIOException || t instanceof InterruptedException);
  }

  private static boolean causedBy(Throwable e, Throwable failure) {
    return failure != null && anyCause(e, t -> t == failure);
  }

  /** Whether {@code e} or one of its causes is {@code which}: a bounded walk, as causes may cycle. */
  private static boolean anyCause(Throwable e, java.util.function.Predicate<Throwable> which) {
    Throwable t = e;
    for (int depth = 0; t != null && depth < 64; depth++, t = t.getCause()) {
      if (which.test(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * What the shutdown hook does first when a signal comes: for tests (which cannot send one to their own JVM), and for
   * a command that learns of the shutdown first from elsewhere (Spark's shutdown hook cancels its job, which may end
   * before this guard's hook has run), so that {@link #said} says its line.
   */
  public void signalled() {
    stopOnSignal();
  }

  private void stopOnSignal() {
    synchronized (lock) {
      signalled.set(true);
      if (loadingOut != null) { // a model is loading: said now, and the JVM goes without waiting for the load
        sayLoadingLine();
        return;
      }
      if (finishing == 0) {
        stop.run();
      }
    }
  }

  /**
   * Finishes work that must not be cut short once begun, such as writing a file from results already computed (the
   * samples' commit, a report's JSON): a signal meanwhile waits for it (an interrupted file channel closes and refuses
   * the write, so the finished work was lost and "nothing was written" said), and asks the command to stop once it is
   * done. An interrupt present before the work is kept for after it ({@link io.github.diffusion4j.io.AtomicFiles#uninterrupted(Runnable)}).
   *
   * @param work the work
   */
  public void finish(Runnable work) {
    synchronized (lock) {
      finishing++;
    }
    try {
      io.github.diffusion4j.io.AtomicFiles.uninterrupted(work);
    } catch (RuntimeException | Error e) {
      finishFailure = e;
      throw e;
    } finally {
      synchronized (lock) {
        finishing--;
        if (finishing == 0 && signalled.get()) {
          stop.run(); // the signal that came meanwhile (or before) stops what follows
        }
      }
    }
  }

  /**
   * Loads a model (a checkpoint, a diffusers folder) under the guard, before the command's work: a signal meanwhile
   * says {@code interrupted; WHAT} at once and lets the JVM go without waiting for the load, which reads and builds
   * the model for up to tens of seconds (a 256x256 model's) without heeding an interrupt; nothing is written yet, so
   * holding the JVM for it would only delay the exit (whose status is then the signal's: 130 for SIGINT, 143 for
   * SIGTERM). Without this a signal during the load ended the JVM without a word. A signal once the model is loaded
   * does what the guard's {@code stop} does.
   *
   * @param out where the command reports
   * @param what what was not done (e.g. {@code nothing was written to FILE})
   * @param loading the load
   * @param <T> the model
   * @return the model; null where a signal came meanwhile (its line is said, and the JVM is ending: the command then
   *     returns {@link DiffusionCli#FAILURE} at once; the model, if loaded, is closed)
   */
  public <T extends AutoCloseable> T load(java.io.PrintWriter out, String what, java.util.function.Supplier<T> loading) {
    boolean said;
    synchronized (lock) {
      loadingOut = out;
      loadingLine = "interrupted; " + what;
      if (signalled.get()) { // the signal came as the guard opened: its stop ran, the load is not begun
        sayLoadingLine();
      }
      said = saidWhileLoading;
    }
    T model;
    try {
      model = said ? null : loading.get();
    } catch (RuntimeException | Error e) {
      if (endLoading()) {
        return null; // said: a failure of the load as the JVM ends is not the user's to read
      }
      throw e;
    }
    if (endLoading()) {
      if (model != null) {
        try {
          model.close();
        } catch (Exception e) {
          // the JVM is ending
        }
      }
      return null;
    }
    return model;
  }

  /** Ends {@link #load}'s phase: a later signal does what {@code stop} does. @return whether its line was said */
  private boolean endLoading() {
    synchronized (lock) {
      loadingOut = null;
      return saidWhileLoading;
    }
  }

  /** Says the line of a signal during {@link #load} (holding {@link #lock}), and lets the JVM go. */
  private void sayLoadingLine() {
    if (!saidWhileLoading) {
      loadingOut.println(loadingLine);
      loadingOut.flush();
      saidWhileLoading = true;
    }
    finished.countDown(); // the hook stops waiting: nothing of the command's is to be cleaned up
  }

  /**
   * Writes {@code text} to {@code file} atomically under {@link #finish}: a signal meanwhile waits for the file, and
   * the write's own failure (a full disk) is thrown as an {@link java.io.UncheckedIOException}, which {@link #said}
   * names beside a signal that came meanwhile.
   *
   * @param file the file, replaced whole or left as it was
   * @param text what it holds
   */
  public void finishWriting(java.nio.file.Path file, String text) {
    finish(() -> {
      try {
        io.github.diffusion4j.io.AtomicFiles.writeString(file, text);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Override
  public void close() {
    finished.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running and has just been released
    }
    if (handBack) {
      Thread.currentThread().interrupt();
    }
  }
}
