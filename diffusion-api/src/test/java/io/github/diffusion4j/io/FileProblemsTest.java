package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.IIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** I/O failures in words, without Java class names or the wrappers' generic messages. */
class FileProblemsTest {
  @Test
  void failuresAreDescribedByWhatWentWrong() {
    assertEquals("permission denied", FileProblems.describe(new AccessDeniedException("/x/y")));
    assertEquals("No space left on device", FileProblems.describe(
        new FileSystemException("/x/y", null, "No space left on device")));
    assertEquals("input/output error", FileProblems.describe(new IOException()));
  }

  /**
   * A file in a folder the user may not search (mode 000, another user's): the file system refuses to look the
   * file up at all, and Files.exists said false, so a checkpoint in such a folder was "model.safetensors: missing".
   * The refusal is simulated (root is refused nothing); CheckpointTest sees the real one where the tests do not run
   * as root.
   */
  @Test
  void aFileInAFolderThatCannotBeSearchedIsSaidToBeDeniedNotMissing() {
    Path file = Path.of("/x/ckpt/model.safetensors");
    assertEquals(Optional.of("cannot be read (permission denied: a folder on its path cannot be searched)"),
        FileProblems.ofReading(file, new FileProblems.Access(p -> {
          throw new AccessDeniedException(p.toString());
        }, p -> true)));
    assertEquals(Optional.of("no such file"), FileProblems.ofReading(file, new FileProblems.Access(p -> {
      throw new java.nio.file.NoSuchFileException(p.toString());
    }, p -> true)));
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

  @Test
  void everyKindOfFailureHasItsWords() {
    assertEquals("interrupted (the writing thread was interrupted, which closes its file)",
        FileProblems.describe(new java.nio.channels.ClosedByInterruptException()));
    assertEquals("no such file", FileProblems.describe(new java.nio.file.NoSuchFileException("/x/y")));
    assertEquals("already exists", FileProblems.describe(new java.nio.file.FileAlreadyExistsException("/x/y")));
    assertEquals("not a folder", FileProblems.describe(new java.nio.file.NotDirectoryException("/x/y")));
    assertEquals("folder not empty", FileProblems.describe(new java.nio.file.DirectoryNotEmptyException("/x/y")));
    assertEquals("input/output error", FileProblems.describe(new FileSystemException("/x/y", null, " ")));
    assertEquals("input/output error", FileProblems.describe(new FileSystemException("/x/y")));
    assertEquals("Stale file handle", FileProblems.describe(new IOException("Stale file handle")));
    assertEquals("input/output error", FileProblems.describe(new IOException(" ")));
  }

  @Test
  void whyAPathCannotBeRead(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("f"), "x");
    assertEquals(Optional.empty(), FileProblems.ofReading(file));
    assertEquals(Optional.of("no such file"), FileProblems.ofReading(dir.resolve("missing")));
    assertEquals(Optional.of("is a broken symbolic link"),
        FileProblems.ofReading(Files.createSymbolicLink(dir.resolve("l"), dir.resolve("missing"))));
    assertEquals(Optional.of("is a folder, not a file"), FileProblems.ofReading(dir));
    assertEquals(Optional.of("is not a regular file (a FIFO, socket or device)"),
        FileProblems.ofReading(Path.of("/dev/null")));
  }

  @Test
  void aNameLongerThanAFileSystemTakesIsFoundUpFront(@TempDir Path dir) {
    assertEquals(Optional.empty(), FileProblems.ofNameLength(dir.resolve("x".repeat(255))));
    String long300 = "o".repeat(296) + ".npy";
    assertEquals(Optional.of("the name oooooooooooooooooooo...oooooooo.npy is 300 bytes long (UTF-8), more than the 255 "
        + "a file name may have"), FileProblems.ofNameLength(dir.resolve(long300)));
    assertEquals(Optional.of("the name éééééééééééééééééééé...éééééééééééé is 256 bytes long (UTF-8), more than the "
        + "255 a file name may have"), FileProblems.ofNameLength(Path.of("é".repeat(128), "x")), "a folder on the way");
    assertTrue(FileProblems.ofWritingInto(dir.resolve("e".repeat(256))).orElseThrow().contains("256 bytes long"));
  }

  @Test
  void whyFilesCannotBeCreatedInAFolder(@TempDir Path dir) throws IOException {
    assertEquals(Optional.empty(), FileProblems.ofWritingInto(dir));
    assertEquals(Optional.empty(), FileProblems.ofWritingInto(dir.resolve("a/b")), "created later, under dir");
    Path file = Files.writeString(dir.resolve("f"), "x");
    assertEquals(Optional.of("is not a folder"), FileProblems.ofWritingInto(file));
    assertEquals(Optional.of(file + " is not a folder"), FileProblems.ofWritingInto(file.resolve("sub")));
    assertTrue(FileProblems.canCreateFilesIn(dir));
    try (var s = Files.list(dir)) {
      assertEquals(List.of(file), s.toList(), "the probe is deleted");
    }
    assertFalse(FileProblems.canCreateFilesIn(dir.resolve("missing")));
    // /proc takes no new files, whoever asks (root included)
    Path proc = Path.of("/proc");
    if (Files.isDirectory(proc) && !FileProblems.canCreateFilesIn(proc)) {
      assertEquals(Optional.of("cannot create files in /proc (read-only or permission denied)"),
          FileProblems.ofWritingInto(proc.resolve("x")));
    }
  }

  /**
   * A text Java cannot take as a path is said in words; under a locale whose character set is ASCII (LANG=C, where
   * Java's file names are ANSI_X3.4-1968) with what to run instead, not Java's "Malformed input or input contains
   * unmappable characters" alone.
   */
  @Test
  void anInvalidPathIsSaidInWordsAndAnAsciiLocaleWithItsRemedy() {
    InvalidPathException unmappable = new InvalidPathException("donn\uFFFDes",
        "Malformed input or input contains unmappable characters");
    String ascii = FileProblems.describe(unmappable, "ANSI_X3.4-1968");
    assertTrue(ascii.startsWith("not a file name this JVM can use: it encodes file names in ANSI_X3.4-1968 "), ascii);
    assertTrue(ascii.endsWith("run it under a UTF-8 locale (LC_ALL=C.UTF-8, which the ./diffusion launcher sets for "
        + "the C and POSIX locales)"), ascii);
    assertEquals("not a valid path (Malformed input or input contains unmappable characters)",
        FileProblems.describe(unmappable, "UTF-8"), "a UTF-8 JVM has no locale to blame");
    assertEquals("not a valid path (Nul character not allowed)",
        FileProblems.describe(new InvalidPathException("a\0b", "Nul character not allowed"), "ANSI_X3.4-1968"));
  }
}
