package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.diffusion4j.data.ImageFit.Resize;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.ChildJvm;
import io.github.diffusion4j.testkit.TestImages;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listing a folder, decoding every supported format, and every kind of bad file. */
class ImageFolderTest {
  @TempDir
  Path dir;

  private static ImageFit rgb(int h, int w) {
    return new ImageFit(Shape.of(3, h, w), Resize.CROP, false);
  }

  private static ImageFit grayFit(int h, int w) {
    return new ImageFit(Shape.of(1, h, w), Resize.CROP, false);
  }

  private static int[] read(ImageSource s, int index) {
    byte[] b = new byte[s.imageShape().size()];
    s.read(index, b, 0);
    int[] v = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      v[i] = b[i] & 0xff;
    }
    return v;
  }

  private static DataFileException bad(Path file, ImageFit fit) {
    return assertThrows(DataFileException.class, () -> ImageDecoder.read(file, fit, new byte[fit.shape().size()], 0));
  }

  @Test
  void listsSortedWithClassesFromFirstLevelFolders() throws IOException {
    BufferedImage img = TestImages.rgb(4, 4, 0, 0, 0);
    for (String f : List.of("b/2.png", "b/10.png", "a/z/1.png", "a/y.PNG", "B/x.jpg", "top.bmp", "a.png/k.gif",
        ".hidden/q.png", "a/.q.png", "a/notes.txt", "readme.md")) {
      Path p = dir.resolve(f);
      if (f.endsWith(".txt") || f.endsWith(".md")) {
        TestImages.write(p, "text".getBytes());
      } else {
        TestImages.write(p, TestImages.encode(img, f.endsWith(".jpg") ? "jpeg" : f.substring(f.lastIndexOf('.') + 1)
            .toLowerCase()));
      }
    }
    ImageFolder folder = ImageFolder.scan(dir, rgb(4, 4));
    assertEquals(List.of("B/x.jpg", "a/y.PNG", "a/z/1.png", "a.png/k.gif", "b/10.png", "b/2.png", "top.bmp"),
        folder.names(), "code-point order, name by name: 'a/...' before 'a.png/...'; hidden files passed over");
    assertEquals(List.of("B", "a", "a.png", "b"), folder.classes());
    int[] labels = new int[folder.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = folder.label(i);
    }
    assertArrayEquals(new int[] {0, 1, 1, 2, 3, 3, -1}, labels, "an image directly in the folder has no class");
    assertEquals(2, folder.ignoredCount());
    assertEquals(List.of("a/notes.txt", "readme.md"), folder.ignored().stream().sorted().toList());
    assertEquals("a/y.PNG", folder.item(1));
    assertEquals(dir.toAbsolutePath().normalize().resolve("a/y.PNG"), folder.file(1));
  }

  /**
   * Under LANG=C (a container without a locale) the JVM decodes file names as ASCII: a name with a non-ASCII
   * character became a string with replacement characters, which ImageFolder resolved again to read the file
   * ("Malformed input or input contains unmappable characters" from data check and train). Run in a JVM of
   * its own started with LC_ALL=C, which lists and reads such a folder ({@link ScanUnderC}).
   */
  @Test
  void namesThePlatformEncodingCannotShowAreStillRead() throws Exception {
    for (String[] f : new String[][] {{"k\u00e4tze/bild-\u00fc.png", "10"}, {"k\u00e4tze/bild-\u00f6.png", "20"},
        {"dog/a.png", "30"}}) {
      TestImages.write(dir.resolve(f[0]), TestImages.encode(TestImages.rgb(4, 4, Integer.parseInt(f[1]), 0, 0), "png"));
    }
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(ChildJvm.coverageAgent()); // measured under -Pcoverage, as this JVM is
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ScanUnderC.class.getName(), dir.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM ended");
    assumeTrue(out.startsWith("ascii"), "the JVM under LC_ALL=C decodes names as ASCII: " + out);
    assertEquals(0, p.exitValue(), out);
    // red 30 (dog), then the two cats in the order of their names' bytes: \u00f6 (c3 b6) before \u00fc (c3 bc)
    assertEquals("ascii 3 images: 30 20 10", out);
  }

  /** Lists the folder {@code args[0]} and prints the first red value of each image, in order. */
  static final class ScanUnderC {
    public static void main(String[] args) {
      String jnu = System.getProperty("sun.jnu.encoding", "");
      System.out.print(jnu.contains("646") || jnu.contains("ASCII") || jnu.contains("X3.4")
          ? "ascii" : "not-ascii(" + jnu + ")");
      ImageFolder f = ImageFolder.scan(Path.of(args[0]), rgb(4, 4));
      StringBuilder b = new StringBuilder(" " + f.size() + " images:");
      for (int i = 0; i < f.size(); i++) {
        b.append(' ').append(read(f, i)[0]);
      }
      System.out.println(b);
    }
  }

  @Test
  void aBrokenLinkOrAFifoNamedLikeAnImageIsListedAsIgnoredNotDroppedSilently() throws Exception {
    TestImages.write(dir.resolve("a/1.png"), TestImages.encode(TestImages.rgb(4, 4, 0, 0, 0), "png"));
    Files.createSymbolicLink(dir.resolve("a/gone.png"), dir.resolve("nowhere.png"));
    Process fifo = new ProcessBuilder("mkfifo", dir.resolve("a/pipe.png").toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(fifo.waitFor() == 0, "mkfifo is available");
    ImageFolder folder = ImageFolder.scan(dir, rgb(4, 4));
    assertEquals(List.of("a/1.png"), folder.names());
    assertEquals(List.of("a/gone.png (a broken symbolic link)", "a/pipe.png (not a regular file)"),
        folder.ignored().stream().sorted().toList());
  }

  @Test
  void theFingerprintFollowsNamesSizesAndTimesAndTheFit() throws IOException {
    Path a = TestImages.write(dir.resolve("a.png"), TestImages.rgb(4, 4, 0, 0, 0));
    TestImages.write(dir.resolve("b.png"), TestImages.rgb(4, 4, 9, 0, 0));
    byte[] first = ImageFolder.scan(dir, rgb(4, 4)).fingerprint();
    assertArrayEquals(first, ImageFolder.scan(dir, rgb(4, 4)).fingerprint(), "a listing is stable");
    assertTrue(!Arrays.equals(first, ImageFolder.scan(dir, rgb(2, 2)).fingerprint()), "another target");
    assertTrue(!Arrays.equals(first, ImageFolder.scan(dir, new ImageFit(Shape.of(3, 4, 4), Resize.PAD, false))
        .fingerprint()), "another resize");
    Files.setLastModifiedTime(a, java.nio.file.attribute.FileTime.fromMillis(Files.getLastModifiedTime(a).toMillis()
        - 5000));
    assertTrue(!Arrays.equals(first, ImageFolder.scan(dir, rgb(4, 4)).fingerprint()), "a modification time");
    byte[] moved = ImageFolder.scan(dir, rgb(4, 4)).fingerprint();
    Path b = dir.resolve("b.png");
    java.nio.file.attribute.FileTime time = Files.getLastModifiedTime(b);
    Files.move(b, dir.resolve("c.png"));
    Files.setLastModifiedTime(dir.resolve("c.png"), time);
    assertTrue(!Arrays.equals(moved, ImageFolder.scan(dir, rgb(4, 4)).fingerprint()), "a name (same size and time)");
  }

  @Test
  void decodesEveryFormatToTheSamePixels() {
    BufferedImage img = TestImages.rgb(6, 5, 40, 100, 7);
    TestImages.write(dir.resolve("p.png"), img);
    TestImages.write(dir.resolve("q.bmp"), img);
    ImageFolder f = ImageFolder.scan(dir, rgb(5, 6));
    int[] expected = new int[3 * 30];
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 6; x++) {
        expected[y * 6 + x] = 40 + x;
        expected[30 + y * 6 + x] = 100 + y;
        expected[60 + y * 6 + x] = 7;
      }
    }
    assertArrayEquals(expected, read(f, 0), "PNG, lossless");
    assertArrayEquals(expected, read(f, 1), "BMP, lossless");
  }

  @Test
  void gifPaletteAndLossyJpegsIncludingProgressive() throws IOException {
    // a 4-colour palette image: GIF keeps it exactly
    byte[] r = {0, (byte) 255, 0, 10};
    byte[] g = {0, 0, (byte) 255, 20};
    byte[] b = {0, 0, 0, 30};
    BufferedImage pal = new BufferedImage(4, 2, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 4, r, g, b));
    for (int x = 0; x < 4; x++) {
      pal.getRaster().setSample(x, 0, 0, x);
      pal.getRaster().setSample(x, 1, 0, 3 - x);
    }
    Path gif = TestImages.write(dir.resolve("a.gif"), TestImages.encode(pal, "gif"));
    byte[] out = new byte[3 * 8];
    ImageInfo info = ImageDecoder.read(gif, rgb(2, 4), out, 0);
    assertEquals(new ImageInfo(4, 2, "palette"), info);
    assertEquals(255, out[1] & 0xff, "red of pixel (1, 0)");
    assertEquals(255, out[8 + 2] & 0xff, "green of pixel (2, 0)");
    assertEquals(30, out[16 + 3] & 0xff, "blue of pixel (3, 0)");
    // a flat colour survives JPEG within a few levels, baseline and progressive
    BufferedImage flat = TestImages.rgb(16, 16, 0, 0, 0);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        flat.setRGB(x, y, (200 << 16) | (60 << 8) | 120);
      }
    }
    byte[] progressive = TestImages.progressiveJpeg(flat);
    assertTrue(new String(progressive, java.nio.charset.StandardCharsets.ISO_8859_1).contains("\u00ff\u00c2"),
        "the file really is progressive (SOF2)");
    for (byte[] jpeg : List.of(TestImages.encode(flat, "jpeg"), progressive)) {
      Path p = TestImages.write(dir.resolve("f.jpg"), jpeg);
      byte[] px = new byte[3 * 16 * 16];
      assertEquals("RGB", ImageDecoder.read(p, rgb(16, 16), px, 0).colour());
      for (int i = 0; i < 256; i++) {
        assertEquals(200, px[i] & 0xff, 3);
        assertEquals(60, px[256 + i] & 0xff, 3);
        assertEquals(120, px[512 + i] & 0xff, 3);
      }
    }
  }

  @Test
  void graySamplesAreTakenAsTheyAreNotThroughSrgb() {
    Path p = TestImages.write(dir.resolve("g.png"), TestImages.gray(4, 2, 124));
    byte[] one = new byte[8];
    assertEquals("gray", ImageDecoder.read(p, grayFit(2, 4), one, 0).colour());
    assertEquals(128, one[4] & 0xff, "sample 128 stays 128 (the JDK's getRGB would give 188)");
    byte[] three = new byte[24];
    ImageDecoder.read(p, rgb(2, 4), three, 0);
    for (int i = 0; i < 8; i++) {
      assertEquals(124 + i, one[i] & 0xff);
      assertEquals(124 + i, three[i] & 0xff);
      assertEquals(124 + i, three[8 + i] & 0xff, "gray is repeated into each channel");
      assertEquals(124 + i, three[16 + i] & 0xff);
    }
    BufferedImage g16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    g16.getRaster().setSample(0, 0, 0, 65535);
    g16.getRaster().setSample(1, 0, 0, 128 * 257);
    Path p16 = TestImages.write(dir.resolve("g16.png"), TestImages.encode(g16, "png"));
    byte[] v = new byte[2];
    ImageDecoder.read(p16, grayFit(1, 2), v, 0);
    assertEquals(255, v[0] & 0xff);
    assertEquals(128, v[1] & 0xff, "16-bit samples are scaled by 255 / 65535");
  }

  @Test
  void colourBecomesLumaAndAlphaIsDropped() {
    BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x00ff0000); // transparent red
    argb.setRGB(1, 0, 0xff102030);
    Path p = TestImages.write(dir.resolve("a.png"), TestImages.encode(argb, "png"));
    byte[] rgbOut = new byte[6];
    assertEquals("RGBA", ImageDecoder.read(p, rgb(1, 2), rgbOut, 0).colour());
    assertArrayEquals(new byte[] {(byte) 255, 0x10, 0, 0x20, 0, 0x30}, rgbOut, "alpha dropped, as PIL's convert");
    byte[] l = new byte[2];
    ImageDecoder.read(p, grayFit(1, 2), l, 0);
    assertEquals(Math.round(0.299 * 255), l[0] & 0xff);
    assertEquals(Math.round(0.299 * 16 + 0.587 * 32 + 0.114 * 48), l[1] & 0xff);
  }

  @Test
  void badFilesAreNamedWithTheirProblem() throws IOException {
    ImageFit fit = rgb(8, 8);
    byte[] png = TestImages.encode(TestImages.rgb(16, 16, 0, 0, 3), "png");
    byte[] jpeg = TestImages.encode(TestImages.rgb(64, 64, 0, 0, 3), "jpeg");
    byte[] gif = TestImages.encode(TestImages.rgb(16, 16, 0, 0, 3), "gif");
    byte[] bmp = TestImages.encode(TestImages.rgb(16, 16, 0, 0, 3), "bmp");
    Path empty = TestImages.write(dir.resolve("empty.png"), new byte[0]);
    assertEquals(empty + ": is empty (0 bytes), not an image", bad(empty, fit).getMessage());
    Path text = TestImages.write(dir.resolve("text.png"), "hello world, I am not a picture".getBytes());
    assertEquals(text + ": is not an image ImageIO can read (PNG, JPEG, BMP, GIF, or a format of an ImageIO plugin"
        + " on the class path); it begins with the text \"hello wo\"", bad(text, fit).getMessage());
    Path binary = TestImages.write(dir.resolve("bin.jpg"), new byte[] {0, 1, 2, (byte) 200});
    assertTrue(bad(binary, fit).getMessage().endsWith("it begins with the bytes 00 01 02 C8"));
    for (byte[] whole : List.of(png, jpeg, gif, bmp)) {
      for (int cut : new int[] {whole.length / 2, 30}) {
        Path p = TestImages.write(dir.resolve("cut"), TestImages.truncated(whole, cut));
        String m = bad(p, fit).getMessage();
        assertTrue(m.startsWith(p + ": is truncated or corrupt: ") || m.startsWith(p + ": is corrupt: "), m);
        assertTrue(!m.contains("\n"), m);
      }
    }
    // a JPEG missing only its end marker decodes with a warning, which is taken as damage too
    Path eoi = TestImages.write(dir.resolve("eoi.jpg"), TestImages.truncated(jpeg, jpeg.length - 2));
    assertEquals(eoi + ": is truncated or corrupt: Truncated File - Missing EOI marker", bad(eoi, fit).getMessage());
    // a TIFF named .png is refused before its header is used (its reader buffers whole strips); a JPEG named .png
    // is read as the JPEG it is
    Path tiff = TestImages.write(dir.resolve("tiff.png"), TestImages.encode(TestImages.rgb(16, 16, 0, 0, 3), "tiff"));
    assertEquals(tiff + ": holds a TIF image, not the .png its name says; a file named bmp, gif, jpeg, jpg, png must "
        + "hold PNG, JPEG, BMP or GIF (convert it, e.g. to PNG)", bad(tiff, fit).getMessage());
    Path jpegNamedPng = TestImages.write(dir.resolve("photo.png"), TestImages.encode(TestImages.rgb(64, 64, 0, 0, 3),
        "jpeg"));
    assertEquals(64, ImageDecoder.read(jpegNamedPng, fit, new byte[fit.shape().size()], 0).width());
    Path small = TestImages.write(dir.resolve("small.png"), TestImages.rgb(7, 20, 0, 0, 0));
    assertEquals(small + ": is 7x20, smaller than the target 8x8; set data.upscale: true to enlarge such images, "
        + "or data.resize: pad to pad them", bad(small, fit).getMessage());
  }

  @Test
  void aHeaderThatDeclaresAHugeImageIsRefusedOrSubsampledNotAllocated() {
    Path wide = TestImages.write(dir.resolve("wide.png"), TestImages.lyingPng(3_000_000, 10));
    assertEquals(wide + ": declares a 3000000x10 PNG image; sides longer than 1048576 pixels are not supported",
        bad(wide, rgb(8, 8)).getMessage());
    // 50,000 x 50,000 RGB would be 7.5 GB decoded; subsampled 13x it is ~44 MB, then the missing data is found
    Path big = TestImages.write(dir.resolve("big.png"), TestImages.lyingPng(50_000, 50_000));
    assertEquals(13, ImageDecoder.subsampling(50_000, 50_000, rgb(8, 8)));
    assertTrue(bad(big, rgb(8, 8)).getMessage().startsWith(big + ": is truncated or corrupt: "));
    assertEquals(1, ImageDecoder.subsampling(4000, 4000, rgb(8, 8)), "16 megapixels decode whole");
    assertEquals(2, ImageDecoder.subsampling(20_000, 20_000, rgb(10_000, 10_000)), "never below the target");
  }

  @Test
  void aLongNarrowImageToPadIsSubsampledByItsLength() {
    // pad shrinks 2^20 x 1024 by 1024 to fit 1024 x 1024: every pixel (2^30) was decoded, more than a raster holds
    // ("is corrupt: Invalid scanline stride"); every 8th is 2^24, as the documented limit says
    ImageFit pad = new ImageFit(Shape.of(3, 1024, 1024), Resize.PAD, false);
    assertEquals(8, ImageDecoder.subsampling(1 << 20, 1024, pad));
    assertEquals(8, ImageDecoder.subsampling(1024, 1 << 20, pad));
    Path strip = TestImages.write(dir.resolve("strip.png"), TestImages.lyingPng(1 << 20, 1024));
    assertTrue(bad(strip, pad).getMessage().startsWith(strip + ": is truncated or corrupt: "));
  }

  @Test
  void aLongNarrowImageToCropDecodesOnlyItsMiddle() {
    // crop takes the middle 1024 x 1024 of 2^20 x 1024 unscaled: nothing to subsample, and the whole image (2^30
    // pixels, more than a raster holds) was decoded ("is corrupt: Invalid scanline stride"); now only the middle is,
    // and the file's missing data is found
    ImageFit crop = new ImageFit(Shape.of(3, 1024, 1024), Resize.CROP, false);
    assertEquals(1, ImageDecoder.subsampling(1 << 20, 1024, crop));
    for (int[] size : new int[][] {{1 << 20, 1024}, {1024, 1 << 20}}) {
      Path strip = TestImages.write(dir.resolve("strip-" + size[0] + ".png"), TestImages.lyingPng(size[0], size[1]));
      String message = bad(strip, crop).getMessage();
      assertTrue(message.startsWith(strip + ": is truncated or corrupt: "), message);
    }
  }

  @Test
  void foldersWithoutImagesAndMissingFoldersAreErrors() throws IOException {
    assertEquals(dir.resolve("nope") + ": no such folder",
        assertThrows(DataFileException.class, () -> ImageFolder.scan(dir.resolve("nope"), rgb(4, 4))).getMessage());
    Path file = TestImages.write(dir.resolve("f.png"), new byte[] {1});
    assertTrue(assertThrows(DataFileException.class, () -> ImageFolder.scan(file, rgb(4, 4))).getMessage()
        .endsWith(": is not a folder; give the folder that holds the images"));
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertEquals(empty + ": holds no images (no *.png, *.jpg, *.jpeg, *.bmp or *.gif files, and no other files)",
        assertThrows(DataFileException.class, () -> ImageFolder.scan(empty, rgb(4, 4))).getMessage());
    TestImages.write(empty.resolve("x/notes.txt"), new byte[] {1});
    assertEquals(empty + ": holds no images (no *.png, *.jpg, *.jpeg, *.bmp or *.gif files; 1 other file, e.g. "
        + "x/notes.txt)", assertThrows(DataFileException.class, () -> ImageFolder.scan(empty, rgb(4, 4))).getMessage());
    TestImages.write(empty.resolve("y.txt"), new byte[] {1});
    String two = assertThrows(DataFileException.class, () -> ImageFolder.scan(empty, rgb(4, 4))).getMessage();
    assertTrue(two.contains("gif files; 2 other files, e.g. "), two);
  }

  /** The folder scripts/fetch-fashion-mnist.sh writes holds IDX files, which data.kind idx reads, not a folder. */
  @Test
  void aFolderOfIdxFilesSaysWhichKindReadsThem() throws IOException {
    Path idx = Files.createDirectories(dir.resolve("fashion-mnist"));
    TestImages.write(idx.resolve("train-images-idx3-ubyte.gz"), new byte[] {1});
    assertEquals(idx + ": holds no images (no *.png, *.jpg, *.jpeg, *.bmp or *.gif files; 1 other file, e.g. "
        + "train-images-idx3-ubyte.gz); train-images-idx3-ubyte.gz is an IDX file, read with data.kind: idx "
        + "(data.train_images), not as a folder of images",
        assertThrows(DataFileException.class, () -> ImageFolder.scan(idx, rgb(4, 4))).getMessage());
  }

  @Test
  void aSymbolicLinkLoopIsListedOnce() throws IOException {
    TestImages.write(dir.resolve("a/x.png"), TestImages.rgb(4, 4, 0, 0, 0));
    try {
      Files.createSymbolicLink(dir.resolve("a/loop"), dir.resolve("a"));
    } catch (UnsupportedOperationException | IOException e) {
      return; // no symbolic links on this file system
    }
    assertEquals(List.of("a/x.png"), ImageFolder.scan(dir, rgb(4, 4)).names());
  }
}
