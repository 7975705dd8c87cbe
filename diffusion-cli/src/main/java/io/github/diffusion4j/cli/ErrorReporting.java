package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.FileProblems;
import java.io.FileNotFoundException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Maps exceptions to one-line messages and exit codes. */
final class ErrorReporting {
  private ErrorReporting() {}

  static int exitCode(Throwable e) {
    return isBadInput(e) ? DiffusionCli.BAD_INPUT : DiffusionCli.FAILURE;
  }

  static boolean isBadInput(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NotBadInput) {
        return false;
      }
      if (t instanceof BadInputException
          || t instanceof io.github.diffusion4j.config.ConfigException
          || t instanceof io.github.diffusion4j.data.DataFileException
          || t instanceof io.github.diffusion4j.settings.InvalidPropertyException
          || t instanceof io.github.diffusion4j.io.CheckpointException
              && !(t instanceof io.github.diffusion4j.io.CheckpointWriteException) // a full disk is no bad input
          || t instanceof NoSuchFileException
          || t instanceof FileNotFoundException
          || t instanceof AccessDeniedException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /**
   * The heap option to suggest after running out of memory with at most {@code maxHeap} bytes: twice that, in whole
   * GiB, at least 1 GiB (a 256 MB heap: {@code -Xmx1g}; the launcher's 4 GiB: {@code -Xmx8g}).
   *
   * @param maxHeap the heap's limit ({@link Runtime#maxMemory()})
   * @return e.g. {@code -Xmx8g}
   */
  static String largerHeap(long maxHeap) {
    long gib = 1L << 30;
    return "-Xmx" + Math.max(1, (2 * maxHeap + gib / 2) / gib) + "g";
  }

  /**
   * The one line shown for an error: its message (the innermost that has one), I/O failures in words, and
   * never a Java class name.
   */
  static String message(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        long heap = Runtime.getRuntime().maxMemory();
        return "out of memory (" + (t.getMessage() == null ? "Java heap" : t.getMessage()) + ") with a heap of at most "
            + (heap >> 20) + " MB; give the JVM more (DIFFUSION_JAVA_OPTS=" + largerHeap(heap)
            + " for ./diffusion) or use smaller sizes";
      }
    }
    if (e instanceof LinkageError l) { // thrown out of a command; one a library caught is explained by its message
      return linkage(l);
    }
    Throwable t = e;
    // skip wrappers without a message of their own (new RuntimeException(cause) copies cause.toString(),
    // which starts with a class name)
    while (t.getCause() != null && t.getCause() != t
        && (t.getMessage() == null || t.getMessage().equals(t.getCause().toString()))) {
      t = t.getCause();
    }
    if (t instanceof java.nio.file.FileSystemException fs && fs.getFile() != null) {
      return fs.getFile() + ": " + FileProblems.describe(fs);
    }
    if (t instanceof java.io.IOException io && t.getMessage() == null) {
      return FileProblems.describe(io);
    }
    String m = t.getMessage();
    return m == null ? "internal error; run again with --verbose to see where" : oneLine(m);
  }

  /**
   * A class or native library that could not be linked: a jar missing from the class path or of another version than
   * its callers were built against (an extension's dependency, a mixed installation), or a native library that does
   * not load. What is missing, in words.
   */
  private static String linkage(LinkageError e) {
    String what = e.getMessage() == null ? "" : oneLine(e.getMessage()) + ": ";
    String kind = e instanceof UnsatisfiedLinkError ? "a native library could not be loaded"
        : e instanceof NoClassDefFoundError ? "a class is missing from the class path"
        : "a class is of another version than its callers expect";
    return what + kind + " (a jar missing or of another version: check the installation and any command extension's "
        + "dependencies); run again with --verbose to see where";
  }

  static String oneLine(String m) {
    return m.replace("\r", " ").replace('\n', ' ').trim();
  }
}
