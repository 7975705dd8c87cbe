package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JobScopeTest {
  /**
   * Ctrl-C or SIGTERM under {@code diffusion spark sample} on a standalone cluster: the shutdown hook let the JVM
   * halt as soon as the driver had cleaned up, before the command printed "the job was cancelled: ...", so the run
   * ended with exit 143 and no word. The hook now waits for the caller's hold too.
   */
  @Test
  void aShutdownWaitsForTheCallersReportOfTheCancelledJob() throws Exception {
    JobScope scope = new JobScope(SparkTestSupport.context());
    ShutdownHold hold = ShutdownHold.acquire();
    CompletableFuture<Void> hook;
    try {
      scope.close(); // the call has cleaned up; its caller has not yet reported
      hook = CompletableFuture.runAsync(scope::cancelForShutdown);
      Thread.sleep(500);
      assertFalse(hook.isDone(), "the shutdown went on before the caller had reported the cancelled job");
    } finally {
      hold.close();
    }
    hook.get(10, TimeUnit.SECONDS);
  }

  /**
   * Two calls of one program (two threads) hold the shutdown until both have reported, whichever reports first: the
   * shutdown waited for one of them only (the first in its set), in either order once.
   */
  @Test
  void aShutdownWaitsForEveryCallersReport() throws Exception {
    for (boolean firstFirst : new boolean[] {true, false}) {
      JobScope scope = new JobScope(SparkTestSupport.context());
      ShutdownHold first = ShutdownHold.acquire();
      ShutdownHold second = ShutdownHold.acquire();
      CompletableFuture<Void> hook;
      try {
        scope.close();
        hook = CompletableFuture.runAsync(scope::cancelForShutdown);
        Thread.sleep(300); // the hook waits for the holds by now
        (firstFirst ? first : second).close();
        Thread.sleep(300);
        assertFalse(hook.isDone(), "the shutdown went on while a caller had not reported");
      } finally {
        first.close();
        second.close();
      }
      hook.get(10, TimeUnit.SECONDS);
    }
  }
}
