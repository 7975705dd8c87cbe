package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread of the sampling loop (here as its noise thread): every job handed over comes back to
 * {@link LoopThread#await}, whether the thread was still spinning from the last job or had parked; a job's
 * failure is rethrown there and the thread serves the next one; misuse is refused; closing lets a job in
 * progress end and stops the thread.
 */
class LoopThreadTest {

  private static Thread noiseThread(AtomicReference<Thread> seen) {
    Thread t = seen.get();
    assertNotSame(Thread.currentThread(), t, "the draw runs on the noise thread");
    assertEquals("diffusion4j-noise", t.getName());
    assertTrue(t.isDaemon());
    return t;
  }

  @Test
  void everyDrawComesBackWhetherTheThreadSpunOrParked() throws InterruptedException {
    AtomicReference<Thread> seen = new AtomicReference<>();
    LoopThread<float[]> ahead = new LoopThread<float[]>("diffusion4j-noise");
    for (int i = 0; i < 3_000; i++) {
      if (i % 1_000 == 999) {
        Thread.sleep(2 * LoopThread.SPIN_NANOS / 1_000_000 + 1); // past the spin: the thread parks
      }
      float v = i;
      ahead.submit(() -> {
        seen.set(Thread.currentThread());
        return new float[] {v, -v};
      });
      assertArrayEquals(new float[] {v, -v}, ahead.await());
    }
    Thread t = noiseThread(seen);
    ahead.close();
    t.join(5_000);
    assertFalse(t.isAlive(), "the noise thread still runs after close");
  }

  /** A checked exception from a job (Kotlin code declares none) is rethrown as it was, not dropped as a null result. */
  @Test
  void aCheckedFailureIsRethrownNotDropped() {
    try (LoopThread<float[]> ahead = new LoopThread<>("diffusion4j-noise")) {
      java.io.IOException io = new java.io.IOException("cannot read");
      ahead.submit(() -> {
        throw LoopThreadTest.<RuntimeException>sneaky(io);
      });
      assertSame(io, assertThrows(java.io.IOException.class, ahead::await));
      ahead.submit(() -> new float[] {1f});
      assertArrayEquals(new float[] {1f}, ahead.await(), "the thread serves the next job");
    }
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }

  @Test
  void aFailedDrawIsRethrownAndTheThreadGoesOn() {
    LoopThread<float[]> ahead = new LoopThread<float[]>("diffusion4j-noise");
    try {
      ahead.submit(() -> {
        throw new IllegalArgumentException("bad request");
      });
      assertEquals("bad request", assertThrows(IllegalArgumentException.class, ahead::await).getMessage());
      ahead.submit(() -> {
        throw new OutOfMemoryError("no room");
      });
      assertEquals("no room", assertThrows(OutOfMemoryError.class, ahead::await).getMessage());
      ahead.submit(() -> new float[] {1f});
      assertArrayEquals(new float[] {1f}, ahead.await());
      assertThrows(IllegalStateException.class, ahead::await, "nothing was handed over");
      ahead.submit(() -> new float[0]);
      assertThrows(IllegalStateException.class, () -> ahead.submit(() -> new float[0]), "one job at a time");
      ahead.await();
    } finally {
      ahead.close();
    }
  }

  @Test
  void closingLetsTheDrawInProgressEnd() throws InterruptedException {
    AtomicReference<Thread> seen = new AtomicReference<>();
    AtomicBoolean ended = new AtomicBoolean();
    LoopThread<float[]> ahead = new LoopThread<float[]>("diffusion4j-noise");
    ahead.submit(() -> {
      seen.set(Thread.currentThread());
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ended.set(true);
      return new float[0];
    });
    ahead.close();
    assertTrue(ended.get(), "close returned before the draw in progress ended");
    Thread t = noiseThread(seen);
    t.join(5_000);
    assertFalse(t.isAlive(), "the noise thread still runs after close");
  }

  @Test
  void anInterruptEndsTheJobInProgressAndNeverReachesTheNext() {
    try (LoopThread<String> slice = new LoopThread<>("diffusion4j-slice")) {
      java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
      slice.submit(() -> {
        started.countDown();
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) { // a long pass, checking between its layers
          if (Thread.currentThread().isInterrupted()) {
            return "interrupted";
          }
          Thread.onSpinWait();
        }
        return "ran to its end";
      });
      try {
        started.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      slice.interruptJob();
      assertEquals("interrupted", slice.await());
      slice.interruptJob(); // after the job has ended: meant for nothing
      slice.submit(() -> Thread.currentThread().isInterrupted() ? "a stale interrupt" : "clean");
      assertEquals("clean", slice.await());
    }
  }
}
