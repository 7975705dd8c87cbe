package io.github.diffusion4j.cli;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.testkit.ReferenceBackendProvider;

/**
 * The reference backend as {@code slow_load}, whose creation takes {@link #LOAD_MILLIS} and ignores interrupts, as a
 * native engine's load (libtorch's, a large model's weights) can: a command signalled while it loads a model
 * ({@link LoadInterruptTest}) is caught in the load, however fast the machine.
 */
public final class SlowLoadingBackendProvider implements BackendProvider {
  /** How long a load takes: far longer than the tests wait for a command to end after a signal. */
  static final long LOAD_MILLIS = 60_000;

  /** What a creation prints on standard error as it begins. */
  static final String STARTED = "slow_load: the backend is being created (" + LOAD_MILLIS / 1000 + " s)";

  /** Made by {@link java.util.ServiceLoader}. */
  public SlowLoadingBackendProvider() {}

  @Override
  public String name() {
    return "slow_load";
  }

  @Override
  public String description() {
    return "reference backend behind a one-minute load (tests only)";
  }

  @Override
  public String artifact() {
    return "io.github.diffusion4j:diffusion-testkit";
  }

  @Override
  public Backend create(BackendOptions options) {
    // for a test that signals a command whose backend loads (train, demo: no line of their own says so); not the
    // "loading " of a model's load, which LoadInterruptTest waits for
    System.err.println(STARTED);
    System.err.flush();
    long end = System.nanoTime() + LOAD_MILLIS * 1_000_000;
    boolean interrupted = false;
    for (long left; (left = end - System.nanoTime()) > 0; ) {
      try {
        Thread.sleep(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        interrupted = true; // as native code, which does not see it
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return new ReferenceBackendProvider().create(options);
  }
}
