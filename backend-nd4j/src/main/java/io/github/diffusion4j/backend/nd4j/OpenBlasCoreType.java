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
    String property = System.getProperty(PROPERTY, "").strip();
    if (property.equalsIgnoreCase(AUTO)) {
      return "auto-detected";
    }
    Optional<String> choice = property.isEmpty() ? choose(cpuFlags()) : Optional.of(property);
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
      return lines
          .filter(l -> l.startsWith("flags"))
          .findFirst()
          .map(l -> Set.<String>copyOf(Arrays.asList(l.substring(l.indexOf(':') + 1).strip().split("\\s+"))))
          .orElse(Set.of());
    } catch (IOException | RuntimeException e) {
      return Set.of();
    }
  }
}
