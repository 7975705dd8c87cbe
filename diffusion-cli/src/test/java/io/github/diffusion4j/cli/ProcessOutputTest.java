package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real process writes everything before it exits (output printed without a line end was once lost). */
class ProcessOutputTest {
  @TempDir
  Path dir;

  @Test
  void printedConfigurationReachesStandardOutput() throws Exception {
    Path log = dir.resolve("config.log");
    assertEquals(0, ChildCli.run(dir, log, "config", "--bundled", "tutorial"));
    String out = ChildCli.read(log);
    assertTrue(out.contains("num_train_timesteps: 100"), out);
    assertTrue(out.strip().endsWith("use_ema: false"), "the last line arrives too: " + out);
  }

  /** Output that cannot be written (a full disk) fails the command: it exited 0 with nothing written. */
  @Test
  void standardOutputOnAFullDiskFailsTheCommand() throws Exception {
    assumeTrue(Files.exists(Path.of("/dev/full")), "Linux's /dev/full");
    Path log = dir.resolve("err.log");
    ProcessBuilder pb = ChildCli.builder(dir, log, "config", "--bundled", "tutorial");
    pb.redirectErrorStream(false);
    pb.redirectOutput(new File("/dev/full"));
    pb.redirectError(log.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the child ended");
    String err = ChildCli.read(log);
    assertEquals(DiffusionCli.FAILURE, p.exitValue(), err);
    assertTrue(err.contains("diffusion: cannot write to standard output: No space left on device"), err);
  }

  /**
   * {@code diffusion config --bundled tutorial | head -1}: the reader goes before the output is written; the command
   * ends quietly (no error, no stack trace), as Unix tools do, with its own exit code.
   */
  @Test
  void aReaderThatGoesFirstIsABrokenPipeAndQuiet() throws Exception {
    Path log = dir.resolve("pipe.log");
    ProcessBuilder pb = ChildCli.builder(dir, log, "config", "--bundled", "tutorial");
    pb.redirectErrorStream(false);
    pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
    pb.redirectError(log.toFile());
    Process p = pb.start();
    p.getInputStream().close(); // long before the child's JVM has started and written a line
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the child ended");
    String err = ChildCli.read(log);
    assertEquals(DiffusionCli.OK, p.exitValue(), err);
    // the JVM's own notice of the Vector API, which ChildCli adds on AVX2 CPUs as the launcher does, aside
    assertEquals("", err.replace("WARNING: Using incubator modules: jdk.incubator.vector\n", ""),
        "nothing on standard error");
  }

  /** Every way of writing through the stream records its first error, which {@link DiffusionCli#afterOutput} says. */
  @Test
  void theRecordingStreamKeepsTheFirstErrorOfEachKindOfWrite() {
    class Failing extends java.io.OutputStream {
      int calls;

      @Override
      public void write(int b) throws IOException {
        throw new IOException("write " + ++calls);
      }

      @Override
      public void flush() throws IOException {
        throw new IOException("flush " + ++calls);
      }
    }
    DiffusionCli.RecordingStream single = new DiffusionCli.RecordingStream(new Failing());
    assertEquals(null, single.failure());
    assertEquals("write 1", assertThrows(IOException.class,
        () -> single.write('x')).getMessage());
    assertThrows(IOException.class, single::flush);
    assertEquals("write 1", single.failure().getMessage(), "the first error is kept");
    DiffusionCli.RecordingStream flushed = new DiffusionCli.RecordingStream(new Failing());
    assertThrows(IOException.class, flushed::flush);
    assertEquals("flush 1", flushed.failure().getMessage());
    DiffusionCli.RecordingStream array = new DiffusionCli.RecordingStream(new Failing());
    assertThrows(IOException.class, () -> array.write(new byte[] {1, 2}, 0, 2));
    assertEquals("write 1", array.failure().getMessage());
  }

  @Test
  void aBrokenPipeIsQuietAndOtherWriteErrorsAreReported() {
    StringWriter text = new StringWriter();
    PrintWriter err = new PrintWriter(text);
    assertEquals(DiffusionCli.OK, DiffusionCli.afterOutput(DiffusionCli.OK, null, false, err));
    assertEquals(DiffusionCli.OK, DiffusionCli.afterOutput(DiffusionCli.OK, new IOException("Broken pipe"), false, err));
    assertEquals(DiffusionCli.OK, DiffusionCli.afterOutput(DiffusionCli.OK,
        new IOException("Datenübergabe unterbrochen (broken pipe)"), true, err), "a pipe's failure in other words");
    assertEquals("", text.toString(), "| head -1 prints nothing more");
    assertEquals(DiffusionCli.FAILURE,
        DiffusionCli.afterOutput(DiffusionCli.OK, new IOException("Bad file descriptor"), false, err));
    assertEquals(DiffusionCli.BAD_INPUT,
        DiffusionCli.afterOutput(DiffusionCli.BAD_INPUT, new IOException("No space left on device"), false, err));
    assertTrue(text.toString().startsWith("diffusion: cannot write to standard output: Bad file descriptor"),
        text.toString());
  }

  /** A user without a passwd entry has user.home "?": natives were unpacked into ./?/ (HOME is taken there). */
  @Test
  void anUnknownHomeFolderIsTakenFromHome() {
    String before = System.getProperty("user.home");
    try {
      System.setProperty("user.home", "?");
      DiffusionCli.configureHome(null);
      assertEquals("?", System.getProperty("user.home"), "no HOME: nothing better to take");
      DiffusionCli.configureHome("/home/me");
      assertEquals("/home/me", System.getProperty("user.home"));
      DiffusionCli.configureHome("/elsewhere");
      assertEquals("/home/me", System.getProperty("user.home"), "a known home folder stays");
    } finally {
      System.setProperty("user.home", before);
    }
  }
}
