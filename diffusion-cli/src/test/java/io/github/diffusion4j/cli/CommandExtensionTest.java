package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Optional subcommands join the command line through {@link CommandExtension}s found on the class path. */
class CommandExtensionTest {
  @TempDir
  Path dir;

  /** An extension command that echoes its argument, or refuses "bad" as bad input. */
  @Command(name = "echo-ext")
  static final class Echo implements Callable<Integer> {
    @Parameters
    String word;

    @Override
    public Integer call() {
      if (word.equals("bad")) {
        throw new BadInputException("WORD bad: not allowed (allowed: anything else)");
      }
      System.out.flush();
      return word.length();
    }
  }

  /** Registers {@link Echo}. */
  public static final class EchoExtension implements CommandExtension {
    @Override
    public String name() {
      return "echo-ext";
    }

    @Override
    public Object command() {
      return new Echo();
    }
  }

  /**
   * A command that runs out of memory for real (an array larger than any test heap: 16 GiB of longs), or overflows
   * its stack ({@code stack}).
   */
  @Command(name = "greedy-ext")
  static final class Greedy implements Callable<Integer> {
    @Parameters
    String what;

    @Override
    public Integer call() {
      if (what.equals("stack")) {
        return recurse(0);
      }
      if (what.equals("native")) {
        System.loadLibrary("diffusion4j-test-no-such-library"); // a real UnsatisfiedLinkError
      }
      if (what.equals("class")) { // as the JVM throws it where a jar of the class path is missing
        throw new NoClassDefFoundError("org/example/Missing");
      }
      long[] all = new long[Integer.MAX_VALUE - 8];
      return all.length;
    }

    private static int recurse(int depth) {
      return recurse(depth + 1) + 1;
    }
  }

  /** Registers {@link Greedy}. */
  public static final class GreedyExtension implements CommandExtension {
    @Override
    public String name() {
      return "greedy-ext";
    }

    @Override
    public Object command() {
      return new Greedy();
    }
  }

  /** An extension whose module's dependencies are missing. */
  public static final class BrokenExtension implements CommandExtension {
    @Override
    public String name() {
      return "broken-ext";
    }

    @Override
    public Object command() {
      throw new NoClassDefFoundError("org/apache/spark/SparkConf");
    }
  }

  private record Result(int code, String out, String err) {}

  /** Runs the CLI with the extensions listed in a services file visible to the context class loader. */
  private Result runWith(String services, String... args) throws IOException {
    Path file = dir.resolve("META-INF/services/" + CommandExtension.class.getName());
    Files.createDirectories(file.getParent());
    Files.writeString(file, services);
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      Thread.currentThread().setContextClassLoader(loader);
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = DiffusionCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
      return new Result(code, out.toString(), err.toString());
    } finally {
      Thread.currentThread().setContextClassLoader(before);
    }
  }

  @Test
  void anExtensionOnTheClassPathIsASubcommandWithTheCliErrorHandling() throws IOException {
    String services = EchoExtension.class.getName() + "\n";
    assertEquals(5, runWith(services, "echo-ext", "hello").code());
    Result bad = runWith(services, "echo-ext", "bad");
    assertEquals(DiffusionCli.BAD_INPUT, bad.code());
    assertEquals("diffusion: WORD bad: not allowed (allowed: anything else)", bad.err().strip());
    Result help = runWith(services, "--help");
    assertTrue(help.out().contains("echo-ext"), help.out());
  }

  /** {@code -v} is {@code --verbose}: either shows the stack trace of a command's error, which is otherwise one line. */
  @Test
  void theShortVerboseFlagShowsTheStackTraceAsVerboseDoes() throws IOException {
    String services = EchoExtension.class.getName() + "\n";
    for (String flag : new String[] {"-v", "--verbose"}) {
      Result bad = runWith(services, flag, "echo-ext", "bad");
      assertEquals(DiffusionCli.BAD_INPUT, bad.code(), bad.err());
      assertTrue(bad.err().startsWith("diffusion: WORD bad: not allowed (allowed: anything else)\n"), bad.err());
      assertTrue(bad.err().contains("BadInputException") && bad.err().contains("\tat "), flag + ": " + bad.err());
    }
  }

  /**
   * An error of the JVM during a command (out of memory, a stack overflow, a class or native library that cannot be
   * linked), which picocli's handler does not see, is one line and exit 1; its stack trace only with {@code -v}/{@code --verbose} (a stack overflow was Java's
   * {@code Exception in thread "main"} and 1,024 frames).
   */
  @Test
  void anErrorOfTheJvmIsOneLineAndItsStackTraceOnlyWhenVerbose() throws IOException {
    String services = GreedyExtension.class.getName() + "\n";
    Result oom = runWith(services, "greedy-ext", "heap");
    assertEquals(DiffusionCli.FAILURE, oom.code(), oom.err());
    assertTrue(oom.err().startsWith("diffusion: out of memory (Java heap space) with a heap of at most "), oom.err());
    assertEquals(1, oom.err().strip().lines().count(), oom.err());
    Result stack = runWith(services, "greedy-ext", "stack");
    assertEquals(DiffusionCli.FAILURE, stack.code(), stack.err());
    assertEquals("diffusion: internal error; run again with --verbose to see where", stack.err().strip());
    // a class or native library that cannot be linked: one line saying which, and what to check
    Result missing = runWith(services, "greedy-ext", "class");
    assertEquals(DiffusionCli.FAILURE, missing.code(), missing.err());
    assertEquals("diffusion: org/example/Missing: a class is missing from the class path (a jar missing or of another "
        + "version: check the installation and any command extension's dependencies); run again with --verbose to "
        + "see where", missing.err().strip());
    Result unlinked = runWith(services, "greedy-ext", "native");
    assertEquals(DiffusionCli.FAILURE, unlinked.code(), unlinked.err());
    assertTrue(unlinked.err().startsWith("diffusion: no diffusion4j-test-no-such-library in java.library.path"),
        unlinked.err());
    assertTrue(unlinked.err().contains(": a native library could not be loaded (a jar missing or of another version")
        && unlinked.err().strip().lines().count() == 1, unlinked.err());
    for (String flag : new String[] {"-v", "--verbose"}) {
      Result shown = runWith(services, flag, "greedy-ext", "heap");
      assertEquals(DiffusionCli.FAILURE, shown.code(), shown.err());
      assertTrue(shown.err().startsWith("diffusion: out of memory (Java heap space)"), shown.err());
      // the JVM's preallocated error may have no frames: the trace is its line, under the one-line message
      assertTrue(shown.err().contains("\njava.lang.OutOfMemoryError: Java heap space"), flag + ": " + shown.err());
    }
  }

  @Test
  void aBrokenExtensionIsNamedInOneLineAndTheOtherCommandsWork() throws IOException {
    Result r = runWith(BrokenExtension.class.getName() + "\n" + EchoExtension.class.getName() + "\n",
        "echo-ext", "abc");
    assertEquals(3, r.code());
    assertTrue(r.err().startsWith("diffusion: warning: the optional command 'broken-ext' cannot be loaded "
        + "(org/apache/spark/SparkConf)"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void anOptionalCommandWithoutItsModuleSaysWhatItNeeds() throws IOException {
    Result r = runWith("", "spark", "sample", "--count", "3");
    assertEquals(DiffusionCli.BAD_INPUT, r.code());
    assertTrue(r.err().startsWith("diffusion: 'spark' needs the optional module diffusion-spark with Apache Spark on "
        + "the class path; ./diffusion spark builds and runs it (docs/spark.md)"), r.err());
    Result other = runWith("", "sparkle");
    assertTrue(other.err().contains("Unmatched argument"), other.err());
  }
}
