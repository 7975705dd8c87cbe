package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher's choice of binding the driver to the loopback address ({@code SPARK_LOCAL_IP=127.0.0.1}) for
 * {@code diffusion spark}: only for a local master, wherever the master is given. Its function {@code
 * spark_master_is_local}, taken from the launcher itself, run by bash.
 */
class LauncherMasterTest {
  private static final Path LAUNCHER = Path.of("..", "diffusion").toAbsolutePath().normalize();

  /** "local" or "cluster" for the arguments, with {@code env} added to the environment. */
  private static String decision(Map<String, String> env, String... args) throws IOException, InterruptedException {
    assumeTrue(Files.isRegularFile(LAUNCHER), "the launcher is beside the module");
    List<String> command = new ArrayList<>(List.of("bash", "-c",
        "eval \"$(sed -n '/^spark_master_is_local() (/,/^)/p' \"$1\")\"\nshift\n"
            + "if spark_master_is_local \"$@\"; then echo local; else echo cluster; fi",
        "bash", LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    for (String name : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "DIFFUSION_JAVA_OPTS"}) {
      pb.environment().remove(name);
    }
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      assumeTrue(false, "no bash: " + e.getMessage());
      throw e;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bash ended");
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  private static String decision(String... args) throws IOException, InterruptedException {
    return decision(Map.of(), args);
  }

  @Test
  void localMastersAndNoneBindToLoopback() throws Exception {
    assertEquals("local", decision("spark", "sample", "--checkpoint", "c", "--out", "o"));
    assertEquals("local", decision("spark", "sample", "--master", "local[2]"));
    assertEquals("local", decision("spark", "sample", "--master=local[*,4]"));
    assertEquals("local", decision("spark", "eval", "--conf", "spark.master=local[2]"));
  }

  /**
   * A standalone master given with --conf or with -Dspark.master in the JVM's options is a cluster: the driver bound
   * to 127.0.0.1 could not be reached by its executors (the launcher used to look at --master only).
   */
  @Test
  void aClusterMasterGivenAnyWayIsNotLocal() throws Exception {
    assertEquals("cluster", decision("spark", "sample", "--master", "spark://head:7077"));
    assertEquals("cluster", decision("spark", "sample", "--master=spark://head:7077"));
    assertEquals("cluster", decision("spark", "sample", "--conf", "spark.master=spark://head:7077"));
    assertEquals("cluster", decision("spark", "sample", "--conf=spark.master=spark://head:7077"));
    assertEquals("cluster", decision(Map.of("DIFFUSION_JAVA_OPTS", "-Xmx2g -Dspark.master=spark://head:7077"),
        "spark", "eval"));
    // as ClusterOptions takes them: --conf over --master over -D
    assertEquals("cluster", decision("spark", "sample", "--master", "local[2]", "--conf", "spark.master=spark://h:7077"));
    assertEquals("local", decision("spark", "sample", "--conf", "spark.master=local[2]", "--master", "spark://h:7077"));
    assertEquals("local", decision(Map.of("DIFFUSION_JAVA_OPTS", "-Dspark.master=spark://head:7077"),
        "spark", "sample", "--master", "local[*]"));
    assertEquals("cluster", decision(Map.of("DIFFUSION_JAVA_OPTS", "-Dspark.master=local[*]"),
        "spark", "sample", "--master", "spark://head:7077"));
  }
}
