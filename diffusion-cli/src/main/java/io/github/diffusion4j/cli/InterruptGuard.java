package io.github.diffusion4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Turns Ctrl-C (SIGINT, or SIGTERM) into a polite stop: the shutdown hook asks the work to stop, then
 * holds the JVM until the command has finished its clean-up, or two minutes at most: training's final
 * checkpoint and report ({@code requestStop}), or, for sampling and {@code data bench}, an interrupt of the
 * command's thread, which ends sampling and training at their next step, and the deletion of their
 * temporaries as their resources close (open the guard first, so it is released last).
 */
final class InterruptGuard implements AutoCloseable {
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook;

  /**
   * The guard of a command that trains, then samples: a signal during training asks it to stop ({@code stop}: its
   * final checkpoint follows), one once {@code sampling} is set interrupts the command's thread (the calling one), so
   * the sampling ends at its next step and its outputs' temporaries are deleted.
   *
   * @param stop asks the training to stop
   * @param sampling set when the command has moved on to sampling
   * @return the guard
   */
  static InterruptGuard stoppingThenInterrupting(Runnable stop, java.util.concurrent.atomic.AtomicBoolean sampling) {
    Thread command = Thread.currentThread();
    return new InterruptGuard(() -> {
      stop.run();
      if (sampling.get()) {
        command.interrupt();
      }
    });
  }

  InterruptGuard(Runnable stop) {
    hook = new Thread(() -> {
      stop.run();
      try {
        finished.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "diffusion-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  @Override
  public void close() {
    finished.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running and has just been released
    }
  }
}
