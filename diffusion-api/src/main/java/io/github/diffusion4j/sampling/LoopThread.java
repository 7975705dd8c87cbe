package io.github.diffusion4j.sampling;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A thread of the sampling loop's own: it runs one job at a time, handed over by {@link #submit} and taken
 * back by {@link #await}. The loop uses one ({@code diffusion4j-noise}) to draw the next step's noise while the
 * model runs, and one per slice after the first ({@code diffusion4j-slice-K}) when it splits a batch over
 * threads.
 *
 * <p>Both sides spin for {@link #SPIN_NANOS} before they park: the thread after a job, for the next one, and
 * the loop in {@link #await}, for the job. Waking a parked thread costs the waker tens of microseconds and the
 * sleeper a halted vCPU's wake-up on a virtual machine, and a small model's step is shorter than that: the
 * tutorial MLP's DDPM step takes about 0.5 ms, and a thread pool's hand-over (a parked worker woken every step)
 * cost the loop ~38 us a step in the waker alone (a profile at two threads, docs/benchmarks.md). A large
 * model's step is long, so the thread spins 300 us after each job and then parks.
 *
 * @param <T> what a job returns
 */
final class LoopThread<T> implements AutoCloseable {
  /** How long each side spins before it parks. */
  static final long SPIN_NANOS = 300_000;

  private final Thread thread;
  private volatile Supplier<T> job;
  /** Set by the thread when the job handed over last has ended; publishes {@link #result} and {@link #failure}. */
  private volatile boolean finished;
  private T result;
  private Throwable failure;
  private volatile Thread waiter;
  private volatile boolean closed;
  /** Whether a job was handed over and not yet awaited (the loop's thread only). */
  private boolean inFlight;

  /**
   * Starts the thread (a daemon).
   *
   * @param name its name
   */
  LoopThread(String name) {
    thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Hands a job over; the previous one must have been {@linkplain #await awaited}.
   *
   * @param work the job
   */
  void submit(Supplier<T> work) {
    if (inFlight) {
      throw new IllegalStateException("the previous job was not awaited");
    }
    inFlight = true;
    finished = false;
    job = work; // volatile write: publishes the reset above
    LockSupport.unpark(thread);
  }

  /**
   * Waits for the job handed over last.
   *
   * @return its result
   * @throws Throwable the job's failure as it was thrown, a checked exception too (code in Kotlin declares none)
   */
  T await() {
    waitFinished();
    Throwable f = failure;
    T r = result;
    failure = null;
    result = null;
    if (f != null) {
      throw LoopThread.<RuntimeException>rethrow(f);
    }
    return r;
  }

  /**
   * Throws a failure as it was, a checked exception too, where the signature declares none: a sampler, model or
   * listener in Kotlin (or Java code that throws one sneakily) may throw one through the api's interfaces.
   *
   * @param failure what to throw
   * @param <E> inferred as {@code RuntimeException}
   * @return never returns ({@code throw rethrow(f)} tells the compiler so)
   * @throws E always: {@code failure}
   */
  @SuppressWarnings("unchecked")
  static <E extends Throwable> E rethrow(Throwable failure) throws E {
    throw (E) failure;
  }

  private void waitFinished() {
    if (!inFlight) {
      throw new IllegalStateException("no job was handed over");
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
      Thread.currentThread().interrupt(); // a job is one step: finish it, keep the interrupt
    }
  }

  private void run() {
    long spinEnd = 0;
    while (true) {
      Supplier<T> work = job;
      if (work == null) {
        if (closed) {
          return;
        }
        if (System.nanoTime() < spinEnd) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
          Thread.interrupted(); // one meant for a job that has ended (else park would return at once, again)
        }
        continue;
      }
      job = null;
      Thread.interrupted(); // one meant for an earlier job
      try {
        result = work.get();
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

  /**
   * Interrupts the job in progress, if any (the model's passes end between two layers): for a loop whose own thread
   * was interrupted. An interrupt that comes after the job has ended is dropped before the next.
   */
  void interruptJob() {
    thread.interrupt();
  }

  /** Lets a job in progress end (its result unused), then stops the thread. */
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
