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
    Path file = theOnlyFileAfter("printf 'not an image' > \"$(printf 'bild-\\377.png')\"");
    DataFileException e = assertThrows(DataFileException.class, () -> ImageDecoder.read(file, null, null, 0));
    assertEquals(file, e.file());
    assertEquals(file, new SkippedImage(e.file(), e.problem()).toException().file());
  }

  @Test
  void aLargeFileWhoseNameIsNoStringIsDecoded() throws IOException, InterruptedException {
    // a file over IN_MEMORY_BYTES was opened through Path.toFile(), the File of the path's string: for a name not in
    // the platform encoding, another file's name (U+FFFD's bytes under UTF-8; '?' under LANG=C), so ImageIO failed
    // ("Can't create cache file!" or no such file) on an image that the smaller files' path reads
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.util.Random random = new java.util.Random(7);
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        img.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    Path png = dir.resolve("small.png");
    javax.imageio.ImageIO.write(img, "png", png.toFile());
    ImageFit fit = new ImageFit(io.github.diffusion4j.tensor.Shape.of(3, 8, 8), ImageFit.Resize.CROP, false);
    byte[] inMemory = new byte[3 * 8 * 8];
    ImageDecoder.read(png, fit, inMemory, 0);
    // a PNG ends at its IEND chunk: a zero after 64 MiB (a sparse file) makes it large without another pixel
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(png, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.allocate(1), ImageDecoder.IN_MEMORY_BYTES);
    }
    Path file = theOnlyFileAfter("mv small.png \"$(printf 'gro\\337-\\377.png')\"");
    assumeTrue(Files.size(file) > ImageDecoder.IN_MEMORY_BYTES);
    byte[] fromChannel = new byte[3 * 8 * 8];
    ImageInfo info = ImageDecoder.read(file, fit, fromChannel, 0);
    assertEquals(40, info.width());
    assertEquals(30, info.height());
    org.junit.jupiter.api.Assertions.assertArrayEquals(inMemory, fromChannel, "the same pixels as read from memory");
  }

  /**
   * Runs a shell command in the test folder that leaves one file there with a name that is not UTF-8, and returns
   * it; skips the test where there is no shell or the file system refuses such a name.
   */
  private Path theOnlyFileAfter(String command) throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(Path.of("/bin/sh")));
    Process p = new ProcessBuilder("/bin/sh", "-c", command).directory(dir.toFile()).start();
    assumeTrue(p.waitFor() == 0, "the file system takes a name that is not UTF-8");
    List<Path> listed;
    try (Stream<Path> s = Files.list(dir)) {
      listed = s.toList();
    }
    assumeTrue(listed.size() == 1);
    return listed.get(0);
  }
}
