package io.github.diffusion4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The file descriptors this process holds open in a folder, read from {@code /proc/self/fd} (Linux): what a reader or
 * writer left open after it was closed or failed (on Windows such a file can then be neither deleted nor replaced).
 */
final class OpenFiles {
  private static final Path FDS = Path.of("/proc/self/fd");

  private OpenFiles() {}

  /**
   * How many of this process's descriptors are open on files in {@code folder} (deleted ones included); the test is
   * skipped where there is no {@code /proc/self/fd}.
   */
  static long in(Path folder) throws IOException {
    Assumptions.assumeTrue(Files.isDirectory(FDS), "no /proc/self/fd here");
    String prefix = folder.toRealPath() + "/";
    long n = 0;
    try (Stream<Path> list = Files.list(FDS)) {
      for (Path fd : (Iterable<Path>) list::iterator) {
        try {
          if (Files.readSymbolicLink(fd).toString().startsWith(prefix)) {
            n++;
          }
        } catch (IOException e) {
          // the descriptor of the listing itself, closed since
        }
      }
    }
    return n;
  }
}
