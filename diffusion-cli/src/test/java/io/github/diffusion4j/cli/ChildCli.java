package io.github.diffusion4j.cli;

import io.github.diffusion4j.testkit.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real command in a child JVM with the test class path (so the reference backend is available). */
final class ChildCli {
  private ChildCli() {}

  /**
   * Whether {@code env --default-signal=INT} works (GNU coreutils 8.31+). A process started in the
   * background by a non-interactive shell ignores SIGINT, and its children inherit that, so a CI job could
   * otherwise run this test in a JVM that cannot receive Ctrl-C; the prefix restores the default.
   */
  private static final boolean RESET_SIGINT = resetSigintWorks();

  private static boolean resetSigintWorks() {
    try {
      Process p = new ProcessBuilder("env", "--default-signal=INT", "true").start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** Whether the launcher adds the Vector API here: a CPU with 256-bit (AVX2) or 512-bit vectors. */
  static final boolean VECTOR_CPU = vectorCpu();

  private static boolean vectorCpu() {
    try {
      String info = Files.readString(Path.of("/proc/cpuinfo"));
      return info.matches("(?s).*\\b(avx2|avx512f)\\b.*");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static ProcessBuilder builder(Path workDir, Path log, String... args) {
    return builder("512m", workDir, log, args);
  }

  /** A child JVM with the given maximum heap ({@code -Xmx}). */
  static ProcessBuilder builder(String maxHeap, Path workDir, Path log, String... args) {
    List<String> cmd = new ArrayList<>();
    if (RESET_SIGINT) {
      cmd.addAll(List.of("env", "--default-signal=INT"));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + maxHeap);
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Dai.djl.offline=true");
    if (VECTOR_CPU) {
      // as the launcher runs the command line: the Vector API's code paths (ND4J's kernels, the noise's vector
      // fill) are the ones these children exercise, as users' runs do
      cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
    }
    cmd.addAll(ChildJvm.coverageAgent()); // measured under -Pcoverage, as this JVM is
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(DiffusionCli.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    return pb;
  }

  /** Runs to completion and returns the exit code; the output is in {@code log}. */
  static int run(Path workDir, Path log, String... args) throws IOException, InterruptedException {
    Process p = builder(workDir, log, args).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("child JVM timed out: " + String.join(" ", args));
    }
    return p.exitValue();
  }

  static String read(Path log) throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** Sends a signal to a process (SIGKILL, SIGINT) with the kill command. */
  static void signal(Process p, String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
  }
}
