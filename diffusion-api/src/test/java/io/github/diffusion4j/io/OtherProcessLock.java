package io.github.diffusion4j.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Another process (a second JVM running {@link #main}) that holds the operating-system lock of a file, as a writer
 * in another process does, and optionally writes a line into it ({@code PID} replaced by its process id); it lets go
 * when closed. In this JVM the lock cannot be asked for a second time without {@code OverlappingFileLockException},
 * so only another process shows what a refused {@code tryLock} does.
 */
final class OtherProcessLock implements AutoCloseable {
  private final Process process;

  /** Starts the process and returns once it holds the lock. */
  OtherProcessLock(Path file, String... line) throws IOException {
    String javaCmd = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(javaCmd, "-cp", System.getProperty("java.class.path"),
        OtherProcessLock.class.getName(), file.toString()));
    cmd.addAll(List.of(line));
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String first = out.readLine();
    if (!"locked".equals(first)) {
      close();
      throw new IllegalStateException("the other process did not take the lock: " + first);
    }
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() throws IOException {
    process.getOutputStream().close();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The other process: locks {@code args[0]}, writes {@code args[1]} if given, says "locked", waits for its input
   * to close.
   *
   * @param args the file and the line
   * @throws IOException if the file cannot be opened
   */
  public static void main(String[] args) throws IOException {
    try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      if (ch.tryLock() == null) {
        System.out.println("busy");
        return;
      }
      if (args.length > 1) {
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(args[1].replace("PID", Long.toString(ProcessHandle.current().pid()))
            .getBytes(StandardCharsets.UTF_8)));
      }
      System.out.println("locked");
      System.out.flush();
      System.in.read();
    }
  }
}
