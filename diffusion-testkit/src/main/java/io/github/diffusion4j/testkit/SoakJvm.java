package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a soak loop in a fresh JVM and reads back its result line
 * ({@code soak key=value key=value ...}, the last one printed). The child's 512 MB heap is touched up front
 * ({@code -XX:+AlwaysPreTouch}), so the heap adds nothing to the resident size later and the garbage
 * collector rarely runs (it cannot hide a leak by freeing unreachable arrays); a fresh JVM per loop keeps one
 * loop's garbage from hiding another's leak. Native memory tracking is on, so that {@link ResidentSize.Floors}
 * can leave the JIT compiler's own memory out of VmRSS.
 */
public final class SoakJvm {
  private SoakJvm() {}

  /**
   * Runs {@code main} with {@code args} in a child JVM on this JVM's class path, passing on the
   * {@code ai.djl.*} and {@code org.bytedeco.*} system properties (engine settings of the build), and returns
   * the fields of its last result line; the lines that start with {@code soak} are echoed.
   *
   * @param main a class with a {@code main} method that prints a result line
   * @param args its arguments
   * @return the fields of the result line
   * @throws IOException if the JVM cannot be started
   * @throws InterruptedException if interrupted while waiting for it
   */
  public static Map<String, String> run(Class<?> main, String... args) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(
        List.of(java, "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC",
            "-XX:NativeMemoryTracking=summary"));
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("ai.djl.") || key.startsWith("org.bytedeco.")) {
        command.add("-D" + key + "=" + System.getProperty(key));
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("OMP_NUM_THREADS", "1");
    // glibc gives each thread that mallocs (the JIT compilers above all) an arena of its own, which grows and
    // shrinks by megabytes as large methods compile; two arenas keep that noise out of VmRSS (a leak grows
    // the arena it is in all the same)
    pb.environment().put("MALLOC_ARENA_MAX", "2");
    Process p = pb.start();
    List<String> output = new ArrayList<>();
    Map<String, String> fields = new HashMap<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        output.add(line);
        if (line.startsWith("soak")) {
          System.out.println(line);
        }
        if (line.startsWith("soak ")) {
          fields.clear();
          for (String kv : line.substring(5).split(" ")) {
            int eq = kv.indexOf('=');
            fields.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
        }
      }
    }
    assertEquals(0, p.waitFor(), "soak JVM failed:\n" + String.join("\n", output));
    if (fields.isEmpty()) {
      throw new AssertionError("no result line:\n" + String.join("\n", output));
    }
    return fields;
  }
}
