package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.spark.SparkTestSupport;
import io.github.diffusion4j.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C or SIGTERM to {@code diffusion spark sample} in a JVM of its own (a test cannot signal its own): it says one
 * line, as the single-machine commands do, naming what was written.
 */
class SparkInterruptTest {
  @TempDir
  Path dir;

  /**
   * A signal while the job runs, once its first shard is written and the others are not: the job is cancelled, the
   * shard deleted with the folder the job made, and the command says {@code interrupted; nothing was written to DIR
   * (the job was cancelled ...)} with the signal's status (it said {@code diffusion: the job was cancelled: the JVM is
   * shutting down (Ctrl-C or SIGTERM?)}, on its error stream, unlike every other command).
   */
  @Test
  void aSignalDuringTheJobSaysNothingWasWrittenAndLeavesNoFolder() throws Exception {
    Path checkpoint = SparkTestSupport.gradientRun().resolve("checkpoints");
    try (Stream<Path> steps = Files.list(checkpoint)) {
      checkpoint = steps.sorted().reduce((a, b) -> b).orElseThrow();
    }
    Path out = dir.resolve("out");
    Path log = dir.resolve("out.txt");
    // standard error apart: Spark's own logging goes there (through the test class path's SLF4J provider, not the
    // launcher's log4j set-up), and Spark's shutdown may log a task it launched on the stopping executor with its
    // stack trace (a race inside Spark), which is not the command's
    Path errors = dir.resolve("err.txt");
    // one task at a time, 32 shards of one sampling batch (1,024 images) each: the job runs long after its first shard
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Dai.djl.offline=true", "-Dspark.driver.bindAddress=127.0.0.1", "-Dspark.ui.enabled=false"));
    // the test JVM's own module options (the --add-opens Spark needs on Java 17)
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens") || a.startsWith("-Dio.netty")) {
        command.add(a);
      }
    }
    command.addAll(ChildJvm.coverageAgent()); // measured under -Pcoverage, as this JVM is
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.github.diffusion4j.cli.DiffusionCli",
        "spark", "sample", "--checkpoint", checkpoint.toString(), "--count", Integer.toString(32 * 1024),
        "--partitions", "32", "--out", out.toString(), "--master", "local[1]"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(log.toFile()).redirectError(errors.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    try {
      Path first = out.resolve("shard-00000.npy");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (p.isAlive() && !Files.exists(first) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(p.isAlive() && Files.exists(first), "signalled with a shard written: " + read(log) + read(errors));
      assertFalse(Files.exists(out.resolve("manifest.json")), "the job had not finished: " + read(log) + read(errors));
      assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
      // a generous bound for the cancellation, the tasks' end and the clean-up on a loaded machine
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "ended: " + read(log) + read(errors));
      String text = read(log);
      String err = read(errors);
      assertTrue(text.contains("interrupted; " + SparkSampleCommand.cancelled(out)), text + err);
      // the command's own error line and its stack trace would be on standard error, starting the line
      assertFalse(err.lines().anyMatch(l -> l.startsWith("diffusion: ")), "no error beside the line: " + err);
      assertFalse(err.contains("Exception in thread \"main\""), "no uncaught failure: " + err);
      assertFalse(text.contains("\tat "), "no stack trace: " + text);
      assertEquals(130, p.exitValue(), "SIGINT's status: " + text + err);
      assertFalse(Files.exists(out), "the folder the job made is deleted, its finished shard with it");
    } finally {
      p.destroyForcibly();
    }
  }

  private static String read(Path log) throws java.io.IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }
}
