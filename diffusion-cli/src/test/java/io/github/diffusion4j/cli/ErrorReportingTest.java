package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.DataFileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Errors are one line in words: no Java class names, whatever wraps what. */
class ErrorReportingTest {
  private static String shown(Throwable t) {
    String m = ErrorReporting.message(t);
    assertFalse(m.contains("java.") || m.contains("Exception") || m.contains("Error:"), m);
    assertFalse(m.contains("\n"), m);
    return m;
  }

  @Test
  void ioFailuresAreNamedInWordsWithTheirFile() {
    // new UncheckedIOException(cause) copies cause.toString(), which starts with a class name
    assertEquals("/x/model.safetensors: no such file",
        shown(new UncheckedIOException(new NoSuchFileException("/x/model.safetensors"))));
    assertEquals("/y: permission denied", shown(new RuntimeException(new AccessDeniedException("/y"))));
    assertEquals("/z: Is a directory", shown(new FileSystemException("/z", null, "Is a directory")));
    assertEquals("cannot write a.png: No space left on device",
        shown(new UncheckedIOException("cannot write a.png: No space left on device", new IOException("x"))));
    assertEquals("input/output error", shown(new IOException()));
  }

  @Test
  void aCheckpointThatCannotBeReadIsBadInputOneThatCannotBeWrittenIsAFailure() {
    assertEquals(DiffusionCli.BAD_INPUT, ErrorReporting.exitCode(
        new io.github.diffusion4j.io.CheckpointException("ck/model.safetensors: checksum mismatch")));
    assertEquals(DiffusionCli.FAILURE, ErrorReporting.exitCode(new io.github.diffusion4j.io.CheckpointWriteException(
        "out: cannot write checkpoint: No space left on device", new IOException("No space left on device"))));
    assertEquals(DiffusionCli.BAD_INPUT, ErrorReporting.exitCode(new io.github.diffusion4j.io.CheckpointWriteException(
        "out: cannot write checkpoint: permission denied", new AccessDeniedException("out"))), "the user's folder");
  }

  @Test
  void outOfMemoryAndInternalErrorsSayWhatToDo() {
    long heap = Runtime.getRuntime().maxMemory();
    assertEquals("out of memory (Java heap space) with a heap of at most " + (heap >> 20) + " MB; give the JVM more "
        + "(DIFFUSION_JAVA_OPTS=" + ErrorReporting.largerHeap(heap) + " for ./diffusion) or use smaller sizes",
        shown(new OutOfMemoryError("Java heap space")));
    // twice the heap it ran out of, in whole GiB: never a size the user already has (a 2 GB heap was told -Xmx8g
    // as much as a 4 GB one, and 8 GB was told 8)
    assertEquals("-Xmx8g", ErrorReporting.largerHeap(4L << 30));
    assertEquals("-Xmx8g", ErrorReporting.largerHeap((4L << 30) - (170L << 20))); // -Xmx4g less a survivor space
    assertEquals("-Xmx4g", ErrorReporting.largerHeap(2L << 30));
    assertEquals("-Xmx16g", ErrorReporting.largerHeap(8L << 30));
    assertEquals("-Xmx1g", ErrorReporting.largerHeap(256L << 20));
    assertTrue(shown(new IllegalStateException(new OutOfMemoryError())).startsWith("out of memory"));
    assertEquals("internal error; run again with --verbose to see where", shown(new NullPointerException()));
  }

  /**
   * A class or native library that cannot be linked, thrown out of a command, says so in one line; one that a library
   * caught and explained (a backend whose native engine does not load) keeps that explanation.
   */
  @Test
  void aLinkageErrorIsSaidAsOneAndOneExplainedByItsCatcherKeepsTheExplanation() {
    assertTrue(ErrorReporting.message(new NoClassDefFoundError("org/example/Missing"))
        .startsWith("org/example/Missing: a class is missing from the class path"));
    String explained = "nd4j: cannot load the native library (no jnind4jcpu in java.library.path); check the jars";
    assertEquals(explained, ErrorReporting.message(new io.github.diffusion4j.spi.BackendUnavailableException(explained,
        new UnsatisfiedLinkError("no jnind4jcpu in java.library.path"))));
  }

  @Test
  void exitCodes() {
    assertEquals(DiffusionCli.BAD_INPUT,
        ErrorReporting.exitCode(new DataFileException(Path.of("t.idx"), "truncated")));
    assertEquals(DiffusionCli.FAILURE, ErrorReporting.exitCode(new IllegalStateException("in use")));
    // a -Ddiffusion4j... switch with a value it does not allow is bad input, also where a backend wraps it
    IllegalArgumentException property = assertThrows(IllegalArgumentException.class,
        () -> io.github.diffusion4j.settings.SystemSwitch.parse("diffusion4j.nd4j.vector", "ture", true));
    assertEquals(DiffusionCli.BAD_INPUT, ErrorReporting.exitCode(property));
    assertEquals(DiffusionCli.BAD_INPUT, ErrorReporting.exitCode(new IllegalStateException("backend", property)));
    assertEquals(DiffusionCli.FAILURE, ErrorReporting.exitCode(new IllegalArgumentException("a bug's argument")));
    // a failure marked NotBadInput is one whatever its causes say (an executor's missing temporary file)
    class ExecutorFailure extends RuntimeException implements NotBadInput {
      ExecutorFailure(Throwable cause) {
        super("a task failed", cause);
      }
    }
    java.nio.file.NoSuchFileException missing = new java.nio.file.NoSuchFileException("/tmp/x");
    assertEquals(DiffusionCli.BAD_INPUT, ErrorReporting.exitCode(new IllegalStateException("a task failed", missing)));
    assertEquals(DiffusionCli.FAILURE, ErrorReporting.exitCode(new ExecutorFailure(missing)));
    assertEquals(DiffusionCli.FAILURE, ErrorReporting.exitCode(new IllegalStateException(new ExecutorFailure(missing))));
  }
}
