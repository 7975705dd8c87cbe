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
