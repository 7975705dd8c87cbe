package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What {@code diffusion bench} reads (the children's and the reference's JSON, the reference script) and how it
 * answers bad arguments.
 */
class CompareTest {

  /** The help names every option's value ({@code --rounds=N}), never picocli's field name ({@code =<rounds>}). */
  @Test
  void helpNamesEveryValueNotAField() {
    String help = new picocli.CommandLine(new Compare()).getUsageMessage();
    assertTrue(help.contains("--rounds=N") && help.contains("--python=FILE"), help);
    assertTrue(!help.contains("=<"), help);
  }

  @Test
  void badArgumentsAreOneLineAndExitCodeTwoBeforeAnythingIsTimed() {
    String printed = stderr(() -> {
    assertEquals(2, Compare.run("--workload", "resnet"));
    assertEquals(2, Compare.run("--reps", "0"));
    assertEquals(2, Compare.run("--workload", "ddpm", "--batch", "0"));
    assertEquals(2, Compare.run("--noise-version", "3"));
    assertEquals(2, Compare.run("--workload", "pretrained"));
    assertEquals(2, Compare.run("--no-such-option"));
    assertEquals(2, Compare.run("--backend", "no-such-backend", "--in-process"));
    assertEquals(2, Compare.run("--rounds", "0"));
    assertEquals(2, Compare.run("--workload", "cifar10", "--rounds", "2"));
    assertEquals(2, Compare.run("--sampling-warmup", "-1"));
    assertEquals(2, Compare.run("--sampling-warmup", "NaN"));
    assertEquals(2, Compare.run("--workload", "unet", "--train-warmup", "601"));
    });
    List<String> lines = printed.lines().toList();
    assertEquals(12, lines.size(), String.join("\n", lines));
    assertTrue(lines.get(0).contains("--workload resnet: use mlp, unet, ddpm, pretrained or cifar10"), lines.get(0));
    assertTrue(lines.get(2).contains("--batch and --rounds must be at least 1"), lines.get(2));
    assertTrue(lines.get(4).contains("needs --checkpoint DIR"), lines.get(4));
    assertTrue(lines.get(5).contains("--no-such-option"), lines.get(5));
    assertTrue(lines.get(6).contains("no-such-backend"), lines.get(6));
    assertTrue(lines.get(7).contains("--rounds must be at least 1"), lines.get(7));
    assertTrue(lines.get(8).contains("rounds apply to the mlp, unet and ddpm workloads"), lines.get(8));
    assertTrue(lines.get(9).contains("--sampling-warmup -1.0: use seconds from 0 to 600"), lines.get(9));
    assertTrue(lines.get(10).contains("--sampling-warmup NaN: use seconds from 0 to 600"), lines.get(10));
    assertTrue(lines.get(11).contains("--train-warmup 601.0: use seconds from 0 to 600"), lines.get(11));
    lines.forEach(l -> assertTrue(l.startsWith("diffusion bench: "), l));
  }

  @Test
  void versionSaysWhatRuns() {
    String printed = stdout(() -> {
    assertEquals(0, Compare.run("--version"));
    });
    assertTrue(printed.startsWith("diffusion bench, diffusion4j "), printed);
    assertTrue(printed.contains("Java " + System.getProperty("java.version")), printed);
  }

  /** The children get the launcher's options of newer JVMs only where the JVM knows them (Java 17 won't start). */
  /** The children get the launcher's options of newer JVMs only where the JVM knows them (Java 17 won't start). */
  @Test
  void theChildrenGetTheOptionsOfNewerJvmsOnlyFromJava24On() throws Exception {
    assertEquals(List.of(), Compare.newerJvmOptions(17));
    assertEquals(List.of(), Compare.newerJvmOptions(23));
    assertEquals(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"),
        Compare.newerJvmOptions(25));
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Compare.newerJvmOptions(Runtime.version().feature()));
    cmd.add("-version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), "this JVM starts with them: " + out);
  }

  @Test
  void optionsAWorkloadWouldIgnoreAndValuesBeyondItsRangeAreRefusedBeforeAnythingIsTimed() {
    String printed = stderr(() -> {
    assertEquals(2, Compare.run("--threads", "1025"));
    assertEquals(2, Compare.run("--ddim-steps", "101"));
    assertEquals(2, Compare.run("--workload", "unet", "--ddim-steps", "50"));
    assertEquals(2, Compare.run("--workload", "unet", "--samples", "10"));
    assertEquals(2, Compare.run("--train-warmup", "0"));
    assertEquals(2, Compare.run("--workload", "cifar10", "--reps", "1"));
    assertEquals(2, Compare.run("--workload", "pretrained", "--checkpoint", "x", "--train-steps", "1"));
    assertEquals(2, Compare.run("--workload", "ddpm", "--reference", "x.py"));
    });
    List<String> lines = printed.lines().toList();
    assertEquals(8, lines.size(), String.join("\n", lines));
    assertEquals("diffusion bench: --threads 1025: use 1 to 1024", lines.get(0));
    assertEquals("diffusion bench: --ddim-steps 101: the mlp workload has 100 timesteps; use 1 to 100", lines.get(1));
    assertEquals("diffusion bench: --ddim-steps does not apply to --workload unet (only to mlp, pretrained)",
        lines.get(2));
    assertTrue(lines.get(3).contains("--samples does not apply to --workload unet (only to mlp)"), lines.get(3));
    assertTrue(lines.get(4).contains("--train-warmup does not apply to --workload mlp (only to unet, ddpm)"),
        lines.get(4));
    assertTrue(lines.get(5).contains("--reps does not apply to --workload cifar10"), lines.get(5));
    assertTrue(lines.get(6).contains("--train-steps does not apply to --workload pretrained"), lines.get(6));
    assertTrue(lines.get(7).contains("--reference does not apply to --workload ddpm (only to mlp)"), lines.get(7));
  }

  @Test
  void aChildGetsEveryOptionWhateverItsWorkload() {
    // runChild passes --samples, --batch, --train-warmup, ... to every child: they are not refused there
    String printed = stderr(() -> {
    assertEquals(2, Compare.run("--in-process", "--workload", "unet", "--backend", "no-such-backend",
        "--samples", "10", "--ddim-steps", "20", "--noise-version", "1", "--batch", "64",
        "--sampling-warmup", "5", "--train-warmup", "0"));
    });
    assertTrue(printed.contains("no-such-backend") && !printed.contains("does not apply"), printed);
  }

  @Test
  void anInterpreterThatCannotRunIsABadArgumentAndOneWithoutTorchIsNamedInOneLine(
      @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Compare.pythonProblem(dir.resolve("no-such-python").toString()));
    assertEquals("--python " + dir.resolve("no-such-python") + ": cannot run it (No such file or directory)",
        e.getMessage());
    assertEquals(2, Compare.run("--python", dir.resolve("no-such-python").toString()));
    Path noTorch = dir.resolve("python-without-torch");
    Files.writeString(noTorch, "#!/bin/sh\necho 'Traceback (most recent call last):'\n"
        + "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
    assertTrue(noTorch.toFile().setExecutable(true));
    assertEquals("ModuleNotFoundError: No module named 'torch'", Compare.pythonProblem(noTorch.toString()));
    Path withTorch = dir.resolve("python-with-torch");
    Files.writeString(withTorch, "#!/bin/sh\nexit 0\n");
    assertTrue(withTorch.toFile().setExecutable(true));
    assertNull(Compare.pythonProblem(withTorch.toString()));
  }

  /** The system's reason a program did not start, in the message forms of Java 17 and of Java 25, on any JVM. */
  @Test
  void aStartFailureIsTheSystemsReasonOnEveryJavaVersion() {
    assertEquals("No such file or directory",
        Compare.startFailure("Cannot run program \"x\": error=2, No such file or directory"));
    assertEquals("No such file or directory",
        Compare.startFailure("Cannot run program \"x\": Exec failed, error: 2 (No such file or directory) "));
    assertEquals("Permission denied", Compare.startFailure("Cannot run program \"x\": error=13, Permission denied"));
    assertEquals("something else", Compare.startFailure("something else"));
  }

  @Test
  void aPretrainedWorkloadWithoutItsFolderIsABadArgumentBeforeAnyChildStarts(@org.junit.jupiter.api.io.TempDir Path dir) {
    String printed = stderr(() -> {
    assertEquals(2, Compare.run("--workload", "pretrained", "--checkpoint", dir.resolve("none").toString()));
    });
    assertEquals("diffusion bench: --checkpoint " + dir.resolve("none") + ": no such folder",
        printed.strip());
  }

  @Test
  void parsesTheNumbersOfAJsonObjectInOrder() {
    Map<String, Double> m = Compare.parse(
        "{\"train_steps_per_s\": 2084.5, \"ddpm_s\": 1.02e-1, \"backend\": \"nd4j\", \"ddim_s\": -0.5, \"n\": 3}");
    assertEquals(List.of("train_steps_per_s", "ddpm_s", "ddim_s", "n"), List.copyOf(m.keySet()));
    assertEquals(2084.5, m.get("train_steps_per_s"));
    assertEquals(0.102, m.get("ddpm_s"));
    assertEquals(-0.5, m.get("ddim_s"));
    assertEquals(3.0, m.get("n"));
  }

  @Test
  void malformedJsonIsAnErrorNotAnEmptyResult() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Compare.parse("{\"ddpm_s\": 0.1"));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> Compare.parse("[1, 2]"));
  }

  @Test
  void theReferenceScriptIsFoundInTheRepository() {
    Path script = Compare.inRepository(Compare.REFERENCE_SCRIPT);
    assertNotNull(script, "the tests run inside the repository, which holds " + Compare.REFERENCE_SCRIPT);
    assertTrue(Files.isRegularFile(script));
    Path root = script.getParent().getParent().getParent();
    assertTrue(Files.isRegularFile(root.resolve("mvnw")) && Files.isRegularFile(root.resolve("pom.xml")), root.toString());
    assertTrue(Path.of("").toAbsolutePath().startsWith(root), "found above the working directory");
    assertNull(Compare.inRepository("benchmarks/reference/no_such_script.py"));
  }

  /** What {@code body} printed on standard error. */
  private static String stderr(Runnable body) {
    return captured(false, body);
  }

  /** What {@code body} printed on standard output. */
  private static String stdout(Runnable body) {
    return captured(true, body);
  }

  private static String captured(boolean out, Runnable body) {
    java.io.PrintStream was = out ? System.out : System.err;
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.PrintStream to = new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8);
    if (out) {
      System.setOut(to);
    } else {
      System.setErr(to);
    }
    try {
      body.run();
    } finally {
      if (out) {
        System.setOut(was);
      } else {
        System.setErr(was);
      }
    }
    return buf.toString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
