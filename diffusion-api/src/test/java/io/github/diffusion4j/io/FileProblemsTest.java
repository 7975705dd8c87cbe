package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import javax.imageio.IIOException;
import org.junit.jupiter.api.Test;

/** I/O failures in words, without Java class names or the wrappers' generic messages. */
class FileProblemsTest {
  @Test
  void failuresAreDescribedByWhatWentWrong() {
    assertEquals("permission denied", FileProblems.describe(new AccessDeniedException("/x/y")));
    assertEquals("No space left on device", FileProblems.describe(
        new FileSystemException("/x/y", null, "No space left on device")));
    assertEquals("input/output error", FileProblems.describe(new IOException()));
  }

  @Test
  void imageIoWrappersAreDescribedByTheirCause() {
    // what ImageIO's PNG writer throws when the disk is full
    IIOException png = new IIOException("I/O error writing PNG file!", new IOException("No space left on device"));
    assertEquals("No space left on device", FileProblems.describe(png));
    assertEquals("permission denied", FileProblems.describe(
        new IIOException("I/O error writing PNG file!", new AccessDeniedException("/x/y"))));
    // without a cause, its own message
    assertEquals("Can't create an ImageOutputStream!", FileProblems.describe(
        new IIOException("Can't create an ImageOutputStream!")));
  }
}
