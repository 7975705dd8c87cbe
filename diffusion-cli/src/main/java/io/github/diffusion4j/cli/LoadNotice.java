package io.github.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One line on standard error when loading a model takes longer than a moment: a 256x256 model's load reads
 * hundreds of megabytes and builds its layers for twenty seconds or more, during which the command printed nothing.
 * A load that ends before the delay prints nothing, so small models' output is unchanged.
 */
final class LoadNotice implements AutoCloseable {
  /** How long a load runs before the line is printed. */
  static final Duration DELAY = Duration.ofSeconds(3);

  private final Object lock = new Object();
  private final Thread timer;
  private boolean closed;

  LoadNotice(PrintWriter err, Path checkpoint, Duration delay) {
    timer = new Thread(() -> {
      try {
        Thread.sleep(delay.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      synchronized (lock) {
        if (!closed) {
          err.println("loading " + checkpoint + " ...");
          err.flush();
        }
      }
    }, "diffusion-load-notice");
    timer.setDaemon(true);
    timer.start();
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    timer.interrupt();
  }
}
