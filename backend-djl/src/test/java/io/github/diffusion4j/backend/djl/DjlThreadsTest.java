package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.ThreadConfinement;
import io.github.diffusion4j.testkit.SplitSampling;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code threads: 2} on DJL: a confinement puts libtorch's intra-op threads of the calling thread at one and
 * back; the passes of networks differentiated by hand and the updates of small stores run so; and the sampling
 * loop, which splits a batch over two threads under such confinements, gives the samples of one thread up to
 * rounding.
 */
class DjlThreadsTest {

  /** Runs {@code test} with a backend of two threads, then leaves libtorch at one, as the other tests expect. */
  private static void withTwoThreads(java.util.function.Consumer<DjlBackend> test) {
    try (DjlBackend two = DjlBackend.load(new BackendOptions(2))) {
      test.accept(two);
    } finally {
      JniUtils.setNumThreads(1);
    }
  }

  /**
   * On the calling thread and on a new one: one intra-op thread inside, the count from before after; closing
   * twice changes nothing; a one-thread backend's confinement is {@link ThreadConfinement#NONE}.
   */
  @Test
  void aConfinementPutsTheCallingThreadAtOneIntraOpThreadAndBack() throws InterruptedException {
    try (DjlBackend one = DjlBackends.create()) {
      assertSame(ThreadConfinement.NONE, one.confineToCallingThread());
    }
    withTwoThreads(two -> {
      assertEquals(2, JniUtils.getNumThreads());
      ThreadConfinement c = two.confineToCallingThread();
      assertEquals(1, JniUtils.getNumThreads());
      c.close();
      c.close();
      assertEquals(2, JniUtils.getNumThreads());
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger after = new AtomicInteger();
      Thread t = new Thread(() -> {
        int before = JniUtils.getNumThreads();
        try (ThreadConfinement own = two.confineToCallingThread()) {
          inside.set(JniUtils.getNumThreads());
        }
        after.set(JniUtils.getNumThreads() == before ? 1 : 0);
      });
      t.start();
      try {
        t.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      assertEquals(1, inside.get());
      assertEquals(1, after.get(), "a new thread gets its count back");
      assertEquals(2, JniUtils.getNumThreads(), "another thread's confinement leaves this one's count");
    });
  }

  /** Runs {@code body} on a new thread and waits for it. */
  private static void onNewThread(Runnable body) {
    Thread t = new Thread(body);
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A thread whose first libtorch operation comes while another thread is confined copies the confined thread's one
   * (libtorch's process-wide count), and takes the backend's count on its first pass, for good; confinements on two
   * threads closing out of order, and confinements nested on one thread, each leave the backend's count behind; a
   * thread that confines before its first operation runs at one inside.
   */
  @Test
  void confinementsStayOnTheirThreads() {
    withTwoThreads(two -> {
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger after = new AtomicInteger();
      CountDownLatch read = new CountDownLatch(1);
      CountDownLatch released = new CountDownLatch(1);
      AtomicInteger copied = new AtomicInteger();
      Thread starting = new Thread(() -> {
        copied.set(JniUtils.getNumThreads());
        two.useOnThisThread(); // what its first pass does
        inside.set(JniUtils.getNumThreads());
        read.countDown();
        try {
          released.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        after.set(JniUtils.getNumThreads());
      });
      try {
        try (ThreadConfinement c = two.confineToCallingThread()) {
          starting.start();
          read.await();
          assertEquals(1, JniUtils.getNumThreads());
        }
        released.countDown();
        starting.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      assertEquals(1, copied.get(), "libtorch: a thread's first operation copies the process-wide count");
      assertEquals(2, inside.get(), "a thread starting during another's confinement, after its first pass");
      assertEquals(2, after.get(), "and after it closed");
      assertEquals(2, JniUtils.getNumThreads());

      // two threads: this one confines first and closes first; the other closes last
      CountDownLatch opened = new CountDownLatch(1);
      CountDownLatch closed = new CountDownLatch(1);
      AtomicInteger otherInside = new AtomicInteger();
      AtomicInteger otherAfter = new AtomicInteger();
      ThreadConfinement mine = two.confineToCallingThread();
      Thread other = new Thread(() -> {
        try (ThreadConfinement c = two.confineToCallingThread()) {
          opened.countDown();
          closed.await();
          otherInside.set(JniUtils.getNumThreads());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        otherAfter.set(JniUtils.getNumThreads());
      });
      other.start();
      try {
        opened.await();
        mine.close();
        assertEquals(2, JniUtils.getNumThreads());
        closed.countDown();
        other.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      assertEquals(1, otherInside.get(), "the other thread stays confined after this one's confinement closed");
      assertEquals(2, otherAfter.get());
      assertEquals(2, JniUtils.getNumThreads());
      onNewThread(() -> after.set(JniUtils.getNumThreads()));
      assertEquals(2, after.get(), "a thread starting after both closed");

      // nested on one thread: the inner close keeps the thread confined
      try (ThreadConfinement outer = two.confineToCallingThread()) {
        try (ThreadConfinement inner = two.confineToCallingThread()) {
          assertEquals(1, JniUtils.getNumThreads());
        }
        assertEquals(1, JniUtils.getNumThreads(), "still inside the outer confinement");
      }
      assertEquals(2, JniUtils.getNumThreads());

      // a thread whose first operation comes inside its own confinement
      onNewThread(() -> {
        try (ThreadConfinement c = two.confineToCallingThread()) {
          inside.set(JniUtils.getNumThreads());
        }
      });
      assertEquals(1, inside.get());
    });
  }

  /**
   * A pass of a network the backend differentiates by hand (the MLP) runs at one intra-op thread on a backend of
   * two, training or not, and gives the thread its count back when it closes; a pass of a network libtorch
   * differentiates (the U-Net) keeps both threads.
   */
  @Test
  void passesOfNetworksDifferentiatedByHandRunOnTheirThreadAlone() {
    withTwoThreads(two -> {
      for (boolean training : new boolean[] {false, true}) {
        try (Pass pass = two.layers().open(new MlpSpec(Shape.of(3, 5, 5), 100, 128).network(), 8, training)) {
          assertEquals(1, JniUtils.getNumThreads(), "MLP, training " + training);
        }
        assertEquals(2, JniUtils.getNumThreads());
        try (Pass pass = two.layers().open(UNetSpec.defaults(Shape.of(1, 32, 32), 1000).network(), 8, training)) {
          assertEquals(2, JniUtils.getNumThreads(), "U-Net, training " + training);
        }
      }
    });
  }

  /**
   * The optimiser step and moving average of a store of fewer than {@link DjlParameters#CONFINED_BELOW}
   * parameters run at one intra-op thread on a backend of two; a larger store's keep both; a one-thread backend
   * confines nothing.
   */
  @Test
  void smallStoresUpdateOnTheirThreadAlone() {
    withTwoThreads(two -> {
      try (DjlParameters small = (DjlParameters) two.layers().parameters(Map.of("w", new int[] {1000}));
          DjlParameters large = (DjlParameters) two.layers().parameters(
              Map.of("w", new int[] {DjlParameters.CONFINED_BELOW}))) {
        try (ThreadConfinement c = small.updateConfinement()) {
          assertEquals(1, JniUtils.getNumThreads());
        }
        assertEquals(2, JniUtils.getNumThreads());
        assertSame(ThreadConfinement.NONE, large.updateConfinement());
      }
    });
  }

  /**
   * The samples of a two-thread backend (the batch split in two slices, each on its own thread at one intra-op
   * thread) against a one-thread backend's: equal up to rounding ({@link SplitSampling}). The MLP: 37 images,
   * DDPM-100 and DDIM-20; the U-Net: three images, DDPM-10 and DDIM-2.
   */
  @Test
  void samplingSplitsABatchOverTheThreads() {
    for (ModelSpec spec : new ModelSpec[] {new MlpSpec(Shape.of(3, 5, 5), 100, 128),
        UNetSpec.defaults(Shape.of(1, 32, 32), 1000)}) {
      boolean mlp = spec instanceof MlpSpec;
      int count = mlp ? 37 : 3;
      int steps = mlp ? 100 : 10;
      Map<String, float[]> expected;
      try (DjlBackend one = DjlBackends.create()) {
        expected = SplitSampling.samples(one, spec, count, steps);
      }
      Map<String, float[]> actual = new LinkedHashMap<>();
      withTwoThreads(two -> actual.putAll(SplitSampling.samples(two, spec, count, steps)));
      SplitSampling.assertEqualUpToRounding(spec.getClass().getSimpleName(), expected, actual);
    }
  }
}
