package io.github.diffusion4j.sampling;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The sampling loop's second thread ({@code diffusion4j-noise}): it draws the next step's noise while the model
 * runs. One draw at a time: {@link #submit} hands it over, {@link #await} takes its result.
 *
 * <p>Both sides spin for {@link #SPIN_NANOS} before they park: the thread after a draw, for the next one, and
 * the loop in {@link #await}, for the draw. Waking a parked thread costs the waker tens of microseconds and the
 * sleeper a halted vCPU's wake-up on a virtual machine, and a small model's step is shorter than that: the
 * tutorial MLP's DDPM step takes about 0.5 ms, and a thread pool's hand-over (a parked worker woken every step)
 * cost the loop ~38 us a step in the waker alone (a profile at two threads, docs/benchmarks.md). A large
 * model's step is long, so the thread spins 300 us after each draw and then parks.
 */
final class NoiseAhead implements AutoCloseable {
  /** How long each side spins before it parks. */
  static final long SPIN_NANOS = 300_000;

  private final Thread thread;
  private volatile Supplier<float[]> job;
  /** Set by the thread when the draw handed over last has ended; publishes {@link #result} and {@link #failure}. */
  private volatile boolean finished;
  private float[] result;
  private Throwable failure;
  private volatile Thread waiter;
  private volatile boolean closed;
  /** Whether a draw was handed over and not yet awaited (the loop's thread only). */
  private boolean inFlight;

  NoiseAhead() {
    thread = new Thread(this::run, "diffusion4j-noise");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Hands a draw over; the previous one must have been {@linkplain #await awaited}.
   *
   * @param draw the draw
   */
  void submit(Supplier<float[]> draw) {
    if (inFlight) {
      throw new IllegalStateException("the previous draw was not awaited");
    }
    inFlight = true;
    finished = false;
    job = draw; // volatile write: publishes the reset above
    LockSupport.unpark(thread);
  }

  /**
   * Waits for the draw handed over last.
   *
   * @return its values
   * @throws RuntimeException or Error: the draw's failure
   */
  float[] await() {
    waitFinished();
    Throwable f = failure;
    float[] r = result;
    failure = null;
    result = null;
    if (f instanceof RuntimeException e) {
      throw e;
    }
    if (f instanceof Error e) {
      throw e;
    }
    return r;
  }

  private void waitFinished() {
    if (!inFlight) {
      throw new IllegalStateException("no draw was handed over");
    }
    inFlight = false;
    long end = System.nanoTime() + SPIN_NANOS;
    while (!finished && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    if (finished) {
      return;
    }
    boolean interrupted = false;
    waiter = Thread.currentThread();
    while (!finished) { // the thread sets finished before it reads waiter: one of the two sees the other
      LockSupport.park(this);
      interrupted |= Thread.interrupted();
    }
    waiter = null;
    if (interrupted) {
      Thread.currentThread().interrupt(); // a draw takes microseconds: finish it, keep the interrupt
    }
  }

  private void run() {
    long spinEnd = 0;
    while (true) {
      Supplier<float[]> draw = job;
      if (draw == null) {
        if (closed) {
          return;
        }
        if (System.nanoTime() < spinEnd) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
        continue;
      }
      job = null;
      try {
        result = draw.get();
      } catch (Throwable t) { // handed to the loop, which rethrows it
        failure = t;
      }
      finished = true;
      Thread w = waiter;
      if (w != null) {
        LockSupport.unpark(w);
      }
      spinEnd = System.nanoTime() + SPIN_NANOS;
    }
  }

  /** Lets a draw in progress end (its result unused), then stops the thread. */
  @Override
  public void close() {
    if (inFlight) {
      waitFinished();
      result = null;
      failure = null;
    }
    closed = true;
    LockSupport.unpark(thread);
  }
}
