package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.FileProblems;
import java.io.FileNotFoundException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Maps exceptions to one-line messages and exit codes. */
final class ErrorReporting {
  /** JavaCPP's refusal at its limit on the process's resident memory (all of it: heap, native arrays, code). */
  private static final Pattern PHYSICAL =
      Pattern.compile("physicalBytes \\((\\S+)\\) > maxPhysicalBytes \\((\\S+)\\)");
  /** JavaCPP's refusal at its limit on the native memory its pointers hold. */
  private static final Pattern BYTES =
      Pattern.compile("totalBytes \\((\\S+)\\) \\+ size \\((\\S+)\\) > maxBytes \\((\\S+)\\)");

  /**
   * How a run takes less native memory: a batch's activations are computed in passes of at most the backend's pass
   * budget (2 GiB unless set), so a smaller budget bounds them whatever the batch, and a batch under it takes less.
   */
  static final String LESS_NATIVE = "a lower -Ddiffusion4j.nd4j.passMemoryMb (MiB per pass of a batch, "
      + io.github.diffusion4j.nn.PassMemory.DEFAULT_MB + " unless set) or a smaller training.batch_size";

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
        String offHeap = nativeLimit(t);
        if (offHeap != null) {
          return offHeap;
        }
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
   * The line for an {@link OutOfMemoryError} that JavaCPP threw at one of its limits, not for want of Java heap: the
   * nd4j backend's arrays live in native memory, which JavaCPP caps by {@code org.bytedeco.javacpp.maxPhysicalBytes}
   * (the process's resident size, heap included) and {@code org.bytedeco.javacpp.maxBytes} (what its pointers hold).
   * Both follow {@code -Xmx} unless set (JavaCPP 1.5.7: maxBytes the heap, maxPhysicalBytes maxBytes and three
   * heaps), so the remedy names the limit that was reached, twice its value, and keeps the heap the JVM has
   * ({@code DIFFUSION_JAVA_OPTS} replaces the launcher's options, its {@code -Xmx4g} too).
   *
   * @param oom the error (JavaCPP's own, or a pointer's "Cannot allocate" with JavaCPP's as its cause)
   * @return the line, or null where the error is not JavaCPP's
   */
  static String nativeLimit(Throwable oom) {
    String limit = null;
    String value = null;
    String detail = null;
    boolean javacpp = false;
    for (Throwable t = oom; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      Matcher p = PHYSICAL.matcher(m);
      Matcher b = BYTES.matcher(m);
      if (p.find()) {
        limit = "maxPhysicalBytes";
        value = p.group(2);
        detail = "the process's resident memory, heap included, was " + p.group(1) + ", over its limit "
            + "org.bytedeco.javacpp.maxPhysicalBytes of " + value;
      } else if (b.find()) {
        limit = "maxBytes";
        value = b.group(3);
        detail = "its native arrays held " + b.group(1) + " and needed " + b.group(2) + " more, over its limit "
            + "org.bytedeco.javacpp.maxBytes of " + value;
      }
      javacpp |= m.startsWith("Cannot allocate new ") && m.contains("physicalBytes = ");
    }
    if (limit == null) {
      // a pointer JavaCPP could not allocate under its limits: the system's allocator refused it
      return javacpp ? "out of native memory (the backend's arrays, outside the Java heap: " + oneLine(oom.getMessage())
          + "): the system refused it (the machine's memory, or a container's or ulimit's limit); free memory or use "
          + "less: " + LESS_NATIVE : null;
    }
    String xmx = currentXmx().orElse("-Xmx" + (Runtime.getRuntime().maxMemory() >> 20) + "m");
    return "out of native memory (the backend's arrays, outside the Java heap: " + detail
        + "; JavaCPP's limits follow -Xmx unless set, and this JVM has " + xmx + "): raise the limit "
        + "(DIFFUSION_JAVA_OPTS=\"" + xmx + " -Dorg.bytedeco.javacpp." + limit + "=" + twice(value)
        + "\" for ./diffusion, where the machine has the memory) or use less: " + LESS_NATIVE;
  }

  /** The {@code -Xmx} this JVM was given (its last), if any. */
  private static java.util.Optional<String> currentXmx() {
    String last = null;
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Xmx")) {
        last = a;
      }
    }
    return java.util.Optional.ofNullable(last);
  }

  /** Twice a size as JavaCPP writes it ({@code 2048M}, {@code 1G}, {@code 123456}): {@code 4g}, {@code 2g}. */
  static String twice(String size) {
    try {
      long bytes = parseBytes(size);
      long mib = 2 * bytes >> 20;
      return mib % 1024 == 0 && mib > 0 ? mib / 1024 + "g" : Math.max(1, mib) + "m";
    } catch (NumberFormatException e) {
      return "...";
    }
  }

  private static long parseBytes(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    long unit = 1;
    int cut = t.length();
    while (cut > 0 && Character.isLetter(t.charAt(cut - 1))) {
      cut--;
    }
    switch (t.substring(cut)) {
      case "" , "b" -> unit = 1;
      case "k", "kb" -> unit = 1L << 10;
      case "m", "mb" -> unit = 1L << 20;
      case "g", "gb" -> unit = 1L << 30;
      case "t", "tb" -> unit = 1L << 40;
      default -> throw new NumberFormatException(s);
    }
    return Long.parseLong(t.substring(0, cut)) * unit;
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
