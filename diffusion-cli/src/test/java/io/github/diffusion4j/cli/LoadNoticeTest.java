package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoadNoticeTest {
  @Test
  void aSlowLoadIsAnnouncedOnce() throws InterruptedException {
    StringWriter err = new StringWriter();
    try (LoadNotice notice = new LoadNotice(new PrintWriter(err), Path.of("runs", "big"), Duration.ofMillis(20))) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (err.toString().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    }
    assertEquals("loading " + Path.of("runs", "big") + " ..."
        + System.lineSeparator(), err.toString());
  }

  @Test
  void aLoadThatEndsBeforeTheDelayPrintsNothing() throws InterruptedException {
    StringWriter err = new StringWriter();
    new LoadNotice(new PrintWriter(err), Path.of("small"), Duration.ofMillis(200)).close();
    Thread.sleep(400); // past the delay: a notice closed in time never prints
    assertEquals("", err.toString());
  }
}
