package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFileExceptionTest {
  @TempDir
  Path dir;

  @Test
  void theFileIsThePathGivenEvenWhereItsNameIsNoString() throws IOException, InterruptedException {
    // a Unix file name is bytes; one that is not in the platform encoding (here the byte 0xFF; under LANG=C any
    // non-ASCII name) reads as a string with replacement characters, and file() made a path of that string: under
    // UTF-8 another file's (U+FFFD's bytes), under LANG=C an InvalidPathException, with which the image cache,
    // recording a skipped image by file(), failed
    assumeTrue(Files.isExecutable(Path.of("/bin/sh")));
    Process p = new ProcessBuilder("/bin/sh", "-c", "printf 'not an image' > \"$(printf 'bild-\\377.png')\"")
        .directory(dir.toFile()).start();
    assumeTrue(p.waitFor() == 0, "the file system takes a name that is not UTF-8");
    List<Path> listed;
    try (Stream<Path> s = Files.list(dir)) {
      listed = s.toList();
    }
    assumeTrue(listed.size() == 1);
    Path file = listed.get(0);
    DataFileException e = assertThrows(DataFileException.class, () -> ImageDecoder.read(file, null, null, 0));
    assertEquals(file, e.file());
    assertEquals(file, new SkippedImage(e.file(), e.problem()).toException().file());
  }
}
