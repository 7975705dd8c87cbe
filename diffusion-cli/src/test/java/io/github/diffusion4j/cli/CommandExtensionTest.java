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
