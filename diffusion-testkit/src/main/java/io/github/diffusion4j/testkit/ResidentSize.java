package io.github.diffusion4j.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The resident set size (VmRSS) of this process, and its floor over a window of steps right after warm-up
 * and over the last steps of a loop: what the soak tests of every backend measure.
 */
public final class ResidentSize {
  private ResidentSize() {}

  /**
   * Whether this system reports the resident size ({@code /proc/self/status}, Linux).
   *
   * @return true where {@link #kb()} works
   */
  public static boolean measurable() {
    return Files.isReadable(Path.of("/proc/self/status"));
  }

  /**
   * The resident set size of this process.
   *
   * @return VmRSS in kB, from {@code /proc/self/status}
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalStateException if it has no VmRSS line
   */
  public static long kb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/self/status", e);
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  /**
   * The resident set size less what the JIT compiler holds: the C heap is first made to return its free memory
   * to the system (the JVM's {@code System.trim_native_heap} command, glibc's {@code malloc_trim}), then the
   * compiler's own memory as native memory tracking reports it (categories {@code Compiler}, {@code Arena Chunk}
   * and {@code Code}, committed) is taken from VmRSS. Both are the JVM's, bounded, and no leak of the code under
   * test: with native memory tracking, DJL's training soak showed the compiler's arenas at 10-20 MB for the
   * seconds a large method compiles, then freed but kept resident by the allocator, which raised VmRSS by 24 MB
   * around step 270 in one run and not in another; the code cache adds a few MB over a long run. Anything the
   * code under test allocates natively (libtorch, JavaCPP, direct buffers) stays in the figure, so a leak shows
   * all the same. Without native memory tracking ({@code -XX:NativeMemoryTracking=summary}, which
   * {@link SoakJvm} sets) nothing is taken off; without the trim command (not HotSpot, not glibc) nothing is
   * trimmed.
   *
   * @return VmRSS in kB after trimming, less the JIT compiler's committed memory
   */
  public static long withoutJitKb() {
    Jvm.trim();
    long rss = kb();
    return rss - jitKb();
  }

  /** The JIT compiler's committed memory that {@link #withoutJitKb()} leaves out, in kB; 0 without tracking. */
  static long jitKb() {
    return Jvm.jitKb();
  }

  /** The JVM's diagnostic commands that {@link #withoutJitKb()} uses, looked up once. */
  private static final class Jvm {
    private static final Pattern JIT_CATEGORY =
        Pattern.compile("^-\\s+(?:Compiler|Arena Chunk|Code) \\(reserved=\\d+KB, committed=(\\d+)KB",
            Pattern.MULTILINE);
    private static final ObjectName COMMANDS = name();
    private static final boolean TRIM = has("systemTrimNativeHeap");
    private static final boolean TRACKING = has("vmNativeMemory");

    static void trim() {
      if (TRIM) {
        invoke("systemTrimNativeHeap");
      }
    }

    /** The committed kB of the JIT's categories in the native memory summary; 0 when tracking is off. */
    static long jitKb() {
      if (!TRACKING) {
        return 0;
      }
      String summary = invoke("vmNativeMemory", "summary");
      long kb = 0;
      for (Matcher m = JIT_CATEGORY.matcher(summary); m.find(); ) {
        kb += Long.parseLong(m.group(1));
      }
      return kb;
    }

    private static String invoke(String operation, String... args) {
      try {
        return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(COMMANDS, operation,
            new Object[] {args}, new String[] {String[].class.getName()}));
      } catch (JMException e) {
        throw new IllegalStateException("the JVM's " + operation + " command failed", e);
      }
    }

    private static ObjectName name() {
      try {
        return new ObjectName("com.sun.management:type=DiagnosticCommand");
      } catch (JMException e) {
        throw new IllegalStateException(e);
      }
    }

    private static boolean has(String operation) {
      try {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (var op : server.getMBeanInfo(COMMANDS).getOperations()) {
          if (op.getName().equals(operation)) {
            return true;
          }
        }
      } catch (JMException e) {
        // no diagnostic commands on this JVM
      }
      return false;
    }
  }

  /**
   * The lowest VmRSS without the JIT compiler's memory ({@link #withoutJitKb()}) over a window of iterations
   * right after warm-up and over the last iterations. The floor leaves out what is left of transient peaks (a
   * sample taken while the allocator has not yet reused freed memory); a leak raises the floor like any sample.
   */
  public static final class Floors {
    private final int warmFrom;
    private final int warmTo;
    private final int endFrom;
    private long warm = Long.MAX_VALUE;
    private long end = Long.MAX_VALUE;

    /**
     * Floors of a loop of {@code steps} iterations whose first {@code warmup} are warm-up; each window is a
     * tenth of the measured iterations, at most 20.
     *
     * @param warmup the iterations of warm-up, fewer than {@code steps}
     * @param steps the iterations of the loop
     */
    public Floors(int warmup, int steps) {
      int window = Math.max(1, Math.min(20, (steps - warmup) / 10));
      this.warmFrom = warmup;
      this.warmTo = warmup + window;
      this.endFrom = steps - window;
    }

    /**
     * Reads VmRSS after iteration {@code i} if it falls in one of the two windows.
     *
     * @param i the iteration just done, from 0
     */
    public void sample(long i) {
      if (i >= warmFrom && i < warmTo) {
        warm = Math.min(warm, withoutJitKb());
      }
      if (i >= endFrom) {
        end = Math.min(end, withoutJitKb());
      }
    }

    /**
     * The floor of the window after warm-up.
     *
     * @return kB
     */
    public long warm() {
      return warm;
    }

    /**
     * The floor of the last window.
     *
     * @return kB
     */
    public long end() {
      return end;
    }
  }
}
