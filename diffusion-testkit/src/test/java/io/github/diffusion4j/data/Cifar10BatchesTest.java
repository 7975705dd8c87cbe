package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.ImageFit.Resize;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CIFAR-10 binary batches: layout, checked sizes, labels, conversion. */
class Cifar10BatchesTest {
  @TempDir
  Path dir;

  static final ImageFit RGB32 = new ImageFit(Shape.of(3, 32, 32), Resize.CROP, false);

  @Test
  void recordsAreCopiedExactlyInFileOrder() {
    TestImages.cifarBatch(dir.resolve("data_batch_1.bin"), 3, 9);
    TestImages.cifarBatch(dir.resolve("data_batch_2.bin"), 0);
    TestImages.cifarBatch(dir.resolve("test_batch.bin"), 5, 5, 5);
    Cifar10Batches train = Cifar10Batches.train(dir, RGB32);
    assertEquals(3, train.size());
    assertEquals("data_batch_2.bin record 1 of 1", train.item(2));
    assertEquals(9, train.label(1));
    assertEquals("cat", train.classes().get(train.label(0)));
    byte[] img = new byte[3 * 1024];
    assertEquals(new ImageInfo(32, 32, "RGB"), train.read(1, img, 0));
    for (int c = 0; c < 3; c++) {
      for (int p = 0; p < 1024; p++) {
        assertEquals((byte) (7 + c * 50 + p / 32 + p % 32), img[c * 1024 + p]);
      }
    }
    train.read(2, img, 0);
    assertEquals((byte) 50, img[1024], "the second file's first record");
    assertEquals(3, Cifar10Batches.test(dir, RGB32).size());
  }

  @Test
  void oneChannelIsTheLumaAndOtherSizesAreResampled() {
    TestImages.cifarBatch(dir.resolve("data_batch_1.bin"), 1);
    byte[] gray = new byte[1024];
    Cifar10Batches.train(dir, new ImageFit(Shape.of(1, 32, 32), Resize.CROP, false)).read(0, gray, 0);
    assertEquals(Math.round(0.299 * 0 + 0.587 * 50 + 0.114 * 100), gray[0] & 0xff);
    byte[] half = new byte[3 * 16 * 16];
    Cifar10Batches.train(dir, new ImageFit(Shape.of(3, 16, 16), Resize.CROP, false)).read(0, half, 0);
    assertEquals(1, half[0] & 0xff, "mean of 0, 1, 1, 2");
  }

  @Test
  void theArchiveFolderIsFoundAndGapsAreRefused() throws IOException {
    Path inner = Files.createDirectories(dir.resolve(Cifar10Batches.ARCHIVE_FOLDER));
    TestImages.cifarBatch(inner.resolve("data_batch_1.bin"), 1);
    assertTrue(Cifar10Batches.isBatchFolder(dir));
    assertEquals(inner, Cifar10Batches.locate(dir));
    TestImages.cifarBatch(inner.resolve("data_batch_3.bin"), 1);
    assertEquals(inner.resolve("data_batch_2.bin") + ": missing, but data_batch_3.bin is there; the training "
        + "batches must be numbered from 1 without gaps",
        assertThrows(DataFileException.class, () -> Cifar10Batches.train(dir, RGB32)).getMessage());
    Path empty = Files.createDirectories(dir.resolve("none"));
    assertTrue(assertThrows(DataFileException.class, () -> Cifar10Batches.train(empty, RGB32)).getMessage()
        .endsWith("holds no CIFAR-10 binary batches (data_batch_1.bin ... data_batch_5.bin, test_batch.bin, here or "
            + "in cifar-10-batches-bin/); unpack cifar-10-binary.tar.gz here"));
  }

  @Test
  void sizesAreCheckedBeforeReading() throws IOException {
    Path f = TestImages.cifarBatch(dir.resolve("data_batch_1.bin"), 1, 2);
    byte[] all = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(all, all.length - 1));
    assertEquals(f + ": holds 6145 bytes, not a whole number of 3073-byte records (1 label + 3x32x32 pixels); "
        + "an official batch holds 10000 records, 30730000 bytes (truncated, or not a CIFAR-10 binary batch?)",
        assertThrows(DataFileException.class, () -> Cifar10Batches.train(dir, RGB32)).getMessage());
    Files.write(f, new byte[0]);
    assertTrue(assertThrows(DataFileException.class, () -> Cifar10Batches.train(dir, RGB32)).getMessage()
        .startsWith(f + ": is empty; an official batch"));
    TestImages.cifarBatch(f, 1);
    assertEquals(dir.resolve("test_batch.bin") + ": no such file",
        assertThrows(DataFileException.class, () -> Cifar10Batches.test(dir, RGB32)).getMessage());
  }

  @Test
  void aLabelOutsideTheTenClassesIsABadRecord() {
    TestImages.cifarBatch(dir.resolve("data_batch_1.bin"), 1, 42);
    Cifar10Batches train = Cifar10Batches.train(dir, RGB32);
    assertEquals(-1, train.label(1));
    DataFileException e = assertThrows(DataFileException.class, () -> train.read(1, new byte[3072], 0));
    assertEquals(dir.resolve("data_batch_1.bin") + ": record 2 of 2: label 42 is outside 0..9 (is this a CIFAR-100 file? "
        + "it has 2 label bytes per record)", e.getMessage());
  }

  @Test
  void theLastClassIsNineAndTenIsRefused() throws IOException {
    Path edge = Files.createDirectories(dir.resolve("edge"));
    TestImages.cifarBatch(edge.resolve("data_batch_1.bin"), 9, 10);
    Cifar10Batches train = Cifar10Batches.train(edge, RGB32);
    assertEquals(new ImageInfo(32, 32, "RGB"), train.read(0, new byte[3072], 0));
    assertEquals("truck", train.classes().get(train.label(0)));
    assertThrows(DataFileException.class, () -> train.read(1, new byte[3072], 0));
    assertEquals(-1, train.label(1));
  }

  @Test
  void aTargetLargerThanTheRecordsNeedsUpscaleOrPad() {
    TestImages.cifarBatch(dir.resolve("data_batch_1.bin"), 1);
    String m = assertThrows(DataFileException.class,
        () -> Cifar10Batches.train(dir, new ImageFit(Shape.of(3, 64, 64), Resize.CROP, false))).getMessage();
    assertTrue(m.endsWith("the CIFAR-10 images are 32x32: every one is smaller than the target 64x64; set "
        + "data.upscale: true to enlarge such images, or data.resize: pad to pad them"), m);
    byte[] big = new byte[3 * 64 * 64];
    Cifar10Batches.train(dir, new ImageFit(Shape.of(3, 64, 64), Resize.CROP, true)).read(0, big, 0);
    assertArrayEquals(new byte[] {0, 0, 1, 1}, Arrays.copyOf(big, 4), "each pixel doubled");
  }
}
