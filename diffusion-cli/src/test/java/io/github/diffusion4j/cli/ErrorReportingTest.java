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
   * JavaCPP's limits on the nd4j backend's native memory, reached (a U-Net batch of 2,048 under -Xmx512m: resident
   * 2205M over maxPhysicalBytes 2048M) are said as native memory, not as the heap, with the limit that was reached,
   * twice its value and the -Xmx this JVM has (DIFFUSION_JAVA_OPTS replaces the launcher's). The errors are built as
   * JavaCPP 1.5.7 builds them: a pointer's "Cannot allocate" whose cause is Pointer's refusal at a limit.
   */
  @Test
  void javacppsLimitsAreSaidAsNativeMemoryWithThePropertyThatRaisesThem() {
    String xmx = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-Xmx")).reduce((a, b) -> b)
        .orElse("-Xmx" + (Runtime.getRuntime().maxMemory() >> 20) + "m");
    OutOfMemoryError physical = new OutOfMemoryError("Cannot allocate new LongPointer(1): totalBytes = 0, "
        + "physicalBytes = 2205M");
    physical.initCause(new OutOfMemoryError("Physical memory usage is too high: physicalBytes (2205M) > "
        + "maxPhysicalBytes (2048M)"));
    String said = shown(new IllegalStateException("training step", physical));
    assertEquals("out of native memory (the backend's arrays, outside the Java heap: the process's resident memory, "
        + "heap included, was 2205M, over its limit org.bytedeco.javacpp.maxPhysicalBytes of 2048M; JavaCPP's limits "
        + "follow -Xmx unless set, and this JVM has " + xmx + "): raise the limit (DIFFUSION_JAVA_OPTS=\"" + xmx
        + " -Dorg.bytedeco.javacpp.maxPhysicalBytes=4g\" for ./diffusion, where the machine has the memory) or use "
        + "less: a lower -Ddiffusion4j.nd4j.passMemoryMb (MiB per pass of a batch, 2048 unless set) or a smaller "
        + "training.batch_size", said);
    assertFalse(said.contains("heap of at most"), said);

    OutOfMemoryError bytes = new OutOfMemoryError("Cannot allocate new FloatPointer(1048576): totalBytes = 510M, "
        + "physicalBytes = 700M");
    bytes.initCause(new OutOfMemoryError("Failed to allocate memory within limits: totalBytes (510M) + size (4M) > "
        + "maxBytes (512M)"));
    assertTrue(shown(bytes).contains("its native arrays held 510M and needed 4M more, over its limit "
        + "org.bytedeco.javacpp.maxBytes of 512M;"), shown(bytes));
    assertTrue(shown(bytes).contains(xmx + " -Dorg.bytedeco.javacpp.maxBytes=1g\""), shown(bytes));

    // the system's allocator refused it (no JavaCPP limit reached): none of its properties would help
    OutOfMemoryError malloc = new OutOfMemoryError("Cannot allocate new FloatPointer(4): totalBytes = 1M, "
        + "physicalBytes = 90M");
    malloc.initCause(new OutOfMemoryError("Native allocator returned address == 0"));
    assertTrue(shown(malloc).startsWith("out of native memory (the backend's arrays, outside the Java heap: Cannot "
        + "allocate new FloatPointer(4)"), shown(malloc));
    assertTrue(shown(malloc).contains("the system refused it"), shown(malloc));
    assertFalse(shown(malloc).contains("org.bytedeco"), shown(malloc)); // no JavaCPP limit to raise

    // JavaCPP writes sizes in bytes, K, M, G, T
    assertEquals("4g", ErrorReporting.twice("2048M"));
    assertEquals("2g", ErrorReporting.twice("1G"));
    assertEquals("1m", ErrorReporting.twice("12345"));
    assertEquals("200m", ErrorReporting.twice("102400K"));
    // the heap's own is still the heap's
    assertTrue(shown(new OutOfMemoryError("Java heap space")).contains("with a heap of at most"));
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
