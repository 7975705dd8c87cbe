package io.github.diffusion4j.backend.nd4j;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Chooses OpenBLAS's kernels before its library loads.
 *
 * <p>The OpenBLAS 0.3.19 that ND4J 1.0.0-M2.1 ships does not know CPUs newer than its release (for
 * example Sapphire Rapids) and falls back to its generic SSE3 kernels ("Prescott"), which made every
 * matrix product here about 4x slower. OpenBLAS reads the environment variable {@code OPENBLAS_CORETYPE}
 * once, when it loads; so unless the user set it, this class sets it in the process environment from
 * the CPU's feature flags: {@code SkylakeX} with AVX-512 (F, CD, BW, DQ, VL), {@code Haswell} with AVX2
 * and FMA, nothing otherwise. The system property {@value #PROPERTY} overrides the choice: {@code auto}
 * leaves OpenBLAS's own detection alone, any other value is used as the core type.
 */
final class OpenBlasCoreType {
  /** The system property that overrides the choice. */
  static final String PROPERTY = "diffusion4j.nd4j.openblas.coretype";

  private static final String ENV = "OPENBLAS_CORETYPE";
  private static final String AUTO = "auto";
  private static final List<String> AVX512 =
      List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

  private OpenBlasCoreType() {}

  /** The C library's {@code setenv}, through JNA. */
  interface LibC extends Library {
    /**
     * {@code setenv(3)}.
     *
     * @param name the variable
     * @param value its value
     * @param overwrite non-zero to replace an existing value
     * @return 0 on success
     */
    int setenv(String name, String value, int overwrite);
  }

  /**
   * Sets {@code OPENBLAS_CORETYPE} if appropriate (see the class comment). Must run before OpenBLAS
   * loads; later it has no effect.
   *
   * @return a description of the kernels in use, for {@code describe()}
   */
  static String configure() {
    String fromEnv = System.getenv(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv + " (from " + ENV + ")";
    }
    Optional<String> choice = choice(System.getProperty(PROPERTY, ""), OpenBlasCoreType::cpuFlags);
    if (choice.isEmpty()) {
      return "auto-detected";
    }
    try {
      LibC libc = Native.load("c", LibC.class);
      if (libc.setenv(ENV, choice.get(), 0) == 0) {
        return choice.get();
      }
    } catch (Throwable e) { // JNA missing or not loadable here: keep OpenBLAS's own detection
      if (e instanceof VirtualMachineError v && !(e instanceof OutOfMemoryError)) {
        throw v;
      }
    }
    return "auto-detected";
  }

  /**
   * The core type to set for a value of the system property {@value #PROPERTY}: none for {@code auto} (in any
   * case), the value itself for any other, and for none (blank) the one the CPU's flags call for ({@link #choose}).
   *
   * @param property the property's value, blank if unset
   * @param flags the CPU's feature flags, read only for a blank property
   * @return the core type, or empty to leave OpenBLAS's detection alone
   */
  static Optional<String> choice(String property, Supplier<Set<String>> flags) {
    String p = property.strip();
    if (p.equalsIgnoreCase(AUTO)) {
      return Optional.empty();
    }
    return p.isEmpty() ? choose(flags.get()) : Optional.of(p);
  }

  /**
   * The core type for a set of CPU feature flags.
   *
   * @param flags the flags as {@code /proc/cpuinfo} names them (lower case)
   * @return the core type, or empty to leave OpenBLAS's detection alone
   */
  static Optional<String> choose(Set<String> flags) {
    if (flags.containsAll(AVX512)) {
      return Optional.of("SkylakeX");
    }
    if (flags.contains("avx2") && flags.contains("fma")) {
      return Optional.of("Haswell");
    }
    return Optional.empty();
  }

  /**
   * The CPU feature flags of the first processor in {@code /proc/cpuinfo} (Linux on x86-64 only).
   *
   * @return the flags, empty elsewhere or if unreadable
   */
  static Set<String> cpuFlags() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return Set.of();
    }
    try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      return flags(lines);
    } catch (IOException | RuntimeException e) {
      return Set.of();
    }
  }

  /**
   * The feature flags of the first processor in the text of {@code /proc/cpuinfo}: the words after the colon of
   * its first line that starts with {@code flags}.
   *
   * @param cpuinfo the file's lines
   * @return the flags, empty if no line starts with {@code flags}
   */
  static Set<String> flags(Stream<String> cpuinfo) {
    return cpuinfo
        .filter(l -> l.startsWith("flags"))
        .findFirst()
        .map(l -> Set.<String>copyOf(Arrays.asList(l.substring(l.indexOf(':') + 1).strip().split("\\s+"))))
        .orElse(Set.of());
  }
}
