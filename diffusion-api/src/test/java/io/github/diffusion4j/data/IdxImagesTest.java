package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IdxImages} on the committed Fashion-MNIST fixture (made by {@code scripts/fetch-fashion-mnist.sh
 * --subset 1000 --eval-subset 200}) and on broken files made here.
 */
class IdxImagesTest {
  static final Path TRAIN_IMAGES = fixture("train-images-idx3-ubyte.gz");
  static final Path TRAIN_LABELS = fixture("train-labels-idx1-ubyte.gz");
  static final Path EVAL_IMAGES = fixture("t10k-images-idx3-ubyte.gz");
  static final Path EVAL_LABELS = fixture("t10k-labels-idx1-ubyte.gz");
  /**
   * The float rounding of {@code v / 255f * 2f - 1f} against the exact value: a few ulps of 1
   * ({@code 1.2e-7} each), far below the step between two pixel values ({@code 2 / 255 = 0.0078}).
   */
  private static final double PIXEL_TOLERANCE = 1e-6;

  @TempDir
  Path dir;

  static Path fixture(String name) {
    try {
      return Path.of(IdxImagesTest.class.getResource("/fashion-mnist-1k/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the fixture ------------------------------------------------------------------------------

  @Test
  void fixtureLoadsWithBalancedLabelsAndExactPixels() throws IOException {
    IdxImages.Result r = IdxImages.reader().read(TRAIN_IMAGES, Optional.of(TRAIN_LABELS));
    assertEquals(new IdxImages.Header(1000, 28, 28), r.header());
    InMemoryDataset images = r.images();
    assertEquals(1000, images.size());
    assertEquals(Shape.of(1, 28, 28), images.imageShape());
    int[] labels = r.labels().orElseThrow();
    assertEquals(1000, labels.length);
    int[] perClass = new int[10];
    for (int l : labels) {
      perClass[l]++;
    }
    int[] hundred = new int[10];
    Arrays.fill(hundred, 100);
    assertArrayEquals(hundred, perClass);
    assertFalse(Arrays.stream(labels).limit(20).allMatch(l -> l == labels[0]), "classes are interleaved");

    // every value against the bytes read independently of the reader
    byte[] raw = gunzip(Files.readAllBytes(TRAIN_IMAGES));
    float[] all = images.head(1000);
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (int i = 0; i < all.length; i++) {
      int pixel = raw[16 + i] & 0xff;
      assertEquals(pixel / 255.0 * 2 - 1, all[i], PIXEL_TOLERANCE, "value " + i);
      min = Math.min(min, all[i]);
      max = Math.max(max, all[i]);
    }
    assertEquals(-1f, min, 0f, "black background maps to -1 exactly");
    assertEquals(1f, max, 0f, "some pixel is 255 and maps to 1 exactly");
  }

  @Test
  void evalFixtureHasTwentyPerClass() {
    IdxImages.Result r = IdxImages.reader().read(EVAL_IMAGES, Optional.of(EVAL_LABELS));
    assertEquals(200, r.images().size());
    int[] perClass = new int[10];
    for (int l : r.labels().orElseThrow()) {
      perClass[l]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(20, perClass[c], "class " + c);
    }
  }

  @Test
  void paddingCentresTheImageInMinusOneBorders() {
    InMemoryDataset plain = IdxImages.reader().read(TRAIN_IMAGES).images();
    InMemoryDataset padded = IdxImages.reader().padTo(32).read(TRAIN_IMAGES).images();
    assertEquals(Shape.of(1, 32, 32), padded.imageShape());
    assertEquals(1000, padded.size());
    float[] a = new float[28 * 28];
    float[] b = new float[32 * 32];
    for (int i : new int[] {0, 1, 499, 999}) {
      plain.copyImage(i, a, 0);
      padded.copyImage(i, b, 0);
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          boolean border = y < 2 || y >= 30 || x < 2 || x >= 30;
          float expected = border ? -1f : a[(y - 2) * 28 + (x - 2)];
          assertEquals(expected, b[y * 32 + x], 0f, "image " + i + " at " + y + "," + x);
        }
      }
    }
  }

  @Test
  void limitKeepsTheFirstImagesAndLabels() {
    IdxImages.Result all = IdxImages.reader().read(TRAIN_IMAGES, Optional.of(TRAIN_LABELS));
    IdxImages.Result some = IdxImages.reader().limit(50).read(TRAIN_IMAGES, Optional.of(TRAIN_LABELS));
    assertEquals(50, some.images().size());
    assertEquals(1000, some.header().count(), "the header still tells the whole file");
    assertArrayEquals(all.images().head(50), some.images().head(50));
    assertArrayEquals(Arrays.copyOf(all.labels().orElseThrow(), 50), some.labels().orElseThrow());
    assertEquals(1000, IdxImages.reader().limit(5000).read(TRAIN_IMAGES).images().size());
    // 0 is the documented "no limit" and "no padding", not a refused value
    assertEquals(1000, IdxImages.reader().limit(0).padTo(0).read(TRAIN_IMAGES).images().size());
    assertThrows(IllegalArgumentException.class, () -> IdxImages.reader().limit(-1));
    assertThrows(IllegalArgumentException.class, () -> IdxImages.reader().padTo(-1));
  }

  @Test
  void compressionIsToldByContentNotName() throws IOException {
    byte[] raw = gunzip(Files.readAllBytes(EVAL_IMAGES));
    Path plainNamedGz = write("plain.gz", raw);
    Path gzNamedPlain = write("compressed.idx", Files.readAllBytes(EVAL_IMAGES));
    float[] expected = IdxImages.reader().read(EVAL_IMAGES).images().head(200);
    assertArrayEquals(expected, IdxImages.reader().read(plainNamedGz).images().head(200));
    assertArrayEquals(expected, IdxImages.reader().read(gzNamedPlain).images().head(200));
    assertEquals(new IdxImages.Header(200, 28, 28), IdxImages.header(plainNamedGz));
  }

  @Test
  void bothWaysOfReadingGzipGiveTheSameImages() throws IOException {
    // the fixture's gzip trailer states its length, so it is converted as it is read; a two-member gzip
    // states only its last member's length, so it is read into a buffer first
    byte[] raw = gunzip(Files.readAllBytes(EVAL_IMAGES));
    int half = raw.length / 2;
    byte[] first = gzip(Arrays.copyOf(raw, half));
    byte[] second = gzip(Arrays.copyOfRange(raw, half, raw.length));
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    Path members = write("members.gz", both);
    IdxImages padded = IdxImages.reader().padTo(32);
    assertArrayEquals(padded.read(EVAL_IMAGES).images().head(200), padded.read(members).images().head(200));
  }

  // ---- bad input --------------------------------------------------------------------------------

  @Test
  void wrongMagicSaysWhatWasExpectedAndFound() throws IOException {
    Path png = write("image.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0, 0, 0, 0, 0});
    assertProblem(png, "expected an IDX images file (magic 0x00000803), found magic 0x89504E47: not an IDX file",
        () -> IdxImages.reader().read(png));
    Path floats = write("floats.idx", images(0x00000D03, 1, 2, 2, new byte[16]));
    assertProblem(floats, "found magic 0x00000D03 (IDX data type 0x0D with 3 dimensions); only unsigned bytes",
        () -> IdxImages.reader().read(floats));
  }

  @Test
  void labelsFileGivenAsImagesIsNamedSo() {
    assertProblem(TRAIN_LABELS, "expected an IDX images file (magic 0x00000803), found magic 0x00000801: "
        + "this looks like a labels file given as images", () -> IdxImages.reader().read(TRAIN_LABELS));
    assertProblem(TRAIN_IMAGES, "expected an IDX labels file (magic 0x00000801), found magic 0x00000803: "
        + "this looks like an images file given as labels",
        () -> IdxImages.reader().read(EVAL_IMAGES, Optional.of(TRAIN_IMAGES)));
  }

  @Test
  void truncatedPlainFileIsCaughtFromItsLength() throws IOException {
    Path p = write("short.idx", images(IdxImages.IMAGES_MAGIC, 10, 28, 28, new byte[5 * 784]));
    assertProblem(p, "truncated: the header declares 10 images of 28x28, so expected 7856 bytes "
        + "(16 header + 7840 data), found 3936", () -> IdxImages.reader().read(p));
    assertProblem(p, "truncated", () -> IdxImages.header(p));
  }

  @Test
  void longerPlainFileIsAnError() throws IOException {
    Path p = write("long.idx", images(IdxImages.IMAGES_MAGIC, 1, 2, 2, new byte[5]));
    assertProblem(p, "longer than its header declares: 1 images of 2x2 make 20 bytes (16 header + 4 data), "
        + "found 21", () -> IdxImages.reader().read(p));
  }

  @Test
  void truncatedGzipIsCaughtWhileReading() throws IOException {
    // well-formed gzip holding fewer images than its header declares
    Path fewer = write("fewer.gz", gzip(images(IdxImages.IMAGES_MAGIC, 10, 28, 28, new byte[5 * 784])));
    assertProblem(fewer, "truncated: expected 7840 bytes of pixels after the 16-byte header of the "
        + "decompressed data, found 3920", () -> IdxImages.reader().read(fewer));
    // the compressed stream itself cut in half
    byte[] whole = Files.readAllBytes(EVAL_IMAGES);
    Path cut = write("cut.gz", Arrays.copyOf(whole, whole.length / 2));
    DataFileException e = assertProblem(cut, "truncated: expected 156800 bytes of pixels",
        () -> IdxImages.reader().read(cut));
    assertTrue(e.getMessage().contains("of the decompressed data, found "), e.getMessage());
    // the cut file still serves a limit that stops before the cut
    assertEquals(10, IdxImages.reader().limit(10).read(cut).images().size());
  }

  @Test
  void gzipLongerThanItsHeaderIsAnError() throws IOException {
    Path p = write("long.gz", gzip(images(IdxImages.IMAGES_MAGIC, 1, 2, 2, new byte[6])));
    assertProblem(p, "longer than its header declares: more than 20 bytes of the decompressed data",
        () -> IdxImages.reader().read(p));
  }

  @Test
  void aGzipTrailerThatLiesIsCorruptData() throws IOException {
    // 5 images where the header declares 10, and a trailer forged to state the declared length
    byte[] forged = gzip(images(IdxImages.IMAGES_MAGIC, 10, 28, 28, new byte[5 * 784]));
    ByteBuffer.wrap(forged).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(forged.length - 4, 16 + 10 * 784);
    Path p = write("forged.gz", forged);
    assertProblem(p, "corrupt gzip data: ", () -> IdxImages.reader().read(p));
  }

  @Test
  void corruptGzipIsNamed() throws IOException {
    byte[] whole = Files.readAllBytes(EVAL_IMAGES);
    byte[] broken = whole.clone();
    for (int i = 20; i < 60; i++) {
      broken[i] = (byte) 0xff;
    }
    Path p = write("broken.gz", broken);
    assertProblem(p, "corrupt gzip data: ", () -> IdxImages.reader().read(p));
    Path header = write("header.gz", Arrays.copyOf(whole, 5));
    assertProblem(header, "truncated gzip header", () -> IdxImages.reader().read(header));
    byte[] method = whole.clone();
    method[2] = 7; // gzip's compression method byte: 8 (deflate) is the only one
    Path m = write("method.gz", method);
    assertProblem(m, "corrupt gzip data: Unsupported compression method", () -> IdxImages.reader().read(m));
  }

  @Test
  void labelsCountMustMatchImagesCount() {
    assertProblem(EVAL_LABELS, "declares 200 labels but " + TRAIN_IMAGES + " declares 1000 images; the two "
        + "files must have one label per image",
        () -> IdxImages.reader().read(TRAIN_IMAGES, Optional.of(EVAL_LABELS)));
  }

  @Test
  void labelsOutsideTheClassesAreRejected() throws IOException {
    Path imgs = write("imgs.idx", images(IdxImages.IMAGES_MAGIC, 3, 1, 1, new byte[3]));
    Path lbls = write("lbls.idx", labels(3, new byte[] {0, 9, 12}));
    assertProblem(lbls, "label 12 at index 2 is outside 0..9",
        () -> IdxImages.reader().read(imgs, Optional.of(lbls)));
    assertEquals(2, IdxImages.reader().limit(2).read(imgs, Optional.of(lbls)).labels().orElseThrow().length,
        "only the labels used are checked");
  }

  @Test
  void lyingHeaderFailsWithoutAllocatingWhatItDeclares() throws IOException {
    // one million 28x28 images (784 MB) declared in a 100-byte file, plain and compressed: both fail
    // before the data is allocated (the plain one from its length, the compressed one once the stream
    // ends after 84 bytes, its buffer having grown to 1 MiB at most)
    byte[] tiny = images(IdxImages.IMAGES_MAGIC, 1_000_000, 28, 28, new byte[84]);
    Path plain = write("liar.idx", tiny);
    assertProblem(plain, "truncated: the header declares 1000000 images of 28x28, so expected 784000016 bytes",
        () -> IdxImages.reader().padTo(32).read(plain));
    Path gz = write("liar.gz", gzip(tiny));
    assertProblem(gz, "truncated: expected 784000000 bytes of pixels after the 16-byte header of the "
        + "decompressed data, found 84", () -> IdxImages.reader().padTo(32).read(gz));
    // beyond the 1 GiB cap, and dimensions whose product overflows a long
    Path big = write("big.idx", images(IdxImages.IMAGES_MAGIC, 2_000_000, 28, 28, new byte[0]));
    assertProblem(big, "header declares 2000000 images of 28x28, 1568000000 bytes, more than the limit of "
        + "1073741824 bytes (1 GiB) of data", () -> IdxImages.header(big));
    Path huge = write("huge.gz", gzip(images(IdxImages.IMAGES_MAGIC, -1, -1, -1, new byte[0])));
    assertProblem(huge, "header declares 4294967295 images of 4294967295x4294967295, more than the limit",
        () -> IdxImages.reader().read(huge));
    Path labels = write("labels.idx", labels(-1, new byte[0]));
    assertProblem(labels, "header declares 4294967295 labels, more than the limit",
        () -> IdxImages.reader().read(TRAIN_IMAGES, Optional.of(labels)));
  }

  @Test
  void zeroDimensionsAreRejected() throws IOException {
    Path p = write("zero.idx", images(IdxImages.IMAGES_MAGIC, 5, 0, 28, new byte[0]));
    assertProblem(p, "header declares 5 images of 0x28; every dimension must be positive",
        () -> IdxImages.reader().read(p));
    Path l = write("zero-labels.idx", labels(0, new byte[0]));
    assertProblem(l, "header declares 0 labels", () -> IdxImages.reader().read(TRAIN_IMAGES, Optional.of(l)));
  }

  @Test
  void truncatedHeaderIsNamed() throws IOException {
    Path p = write("header.idx", Arrays.copyOf(images(IdxImages.IMAGES_MAGIC, 1, 1, 1, new byte[1]), 10));
    assertProblem(p, "truncated header: expected 16 bytes, found 10", () -> IdxImages.reader().read(p));
    // shorter than the magic number: said as a cut header, not as a file of another magic
    Path three = write("three.idx", Arrays.copyOf(images(IdxImages.IMAGES_MAGIC, 1, 1, 1, new byte[1]), 3));
    assertProblem(three, "truncated header: expected 16 bytes, found 3", () -> IdxImages.reader().read(three));
  }

  @Test
  void emptyFilesAreNamedEmpty() throws IOException {
    Path empty = write("empty.idx", new byte[0]);
    assertProblem(empty, "is empty; expected an IDX images file (magic 0x00000803)",
        () -> IdxImages.reader().read(empty));
    Path emptyGz = write("empty.gz", gzip(new byte[0]));
    assertProblem(emptyGz, "is empty; expected an IDX images file (magic 0x00000803)",
        () -> IdxImages.reader().read(emptyGz));
  }

  @Test
  void missingFilesAndFoldersAreNamed() {
    Path missing = dir.resolve("nope.gz");
    assertProblem(missing, "no such file", () -> IdxImages.reader().read(missing));
    assertProblem(missing, "no such file", () -> IdxImages.reader().read(TRAIN_IMAGES, Optional.of(missing)));
    assertProblem(dir, "is a directory; expected an IDX file", () -> IdxImages.header(dir));
  }

  @Test
  void imagesLargerThanThePaddingAreRejected() {
    assertProblem(TRAIN_IMAGES, "images are 28x28, larger than the padded size 16x16",
        () -> IdxImages.reader().padTo(16).read(TRAIN_IMAGES));
    assertThrows(IllegalArgumentException.class, () -> IdxImages.reader().padTo(-1));
    assertThrows(IllegalArgumentException.class, () -> IdxImages.reader().limit(-1));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static DataFileException assertProblem(Path file, String problem, Runnable action) {
    DataFileException e = assertThrows(DataFileException.class, action::run);
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    assertTrue(e.problem().contains(problem), "expected \"" + problem + "\" in: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e;
  }

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  private static byte[] images(int magic, int count, int rows, int cols, byte[] pixels) {
    return ByteBuffer.allocate(16 + pixels.length).putInt(magic).putInt(count).putInt(rows).putInt(cols)
        .put(pixels).array();
  }

  private static byte[] labels(int count, byte[] values) {
    return ByteBuffer.allocate(8 + values.length).putInt(IdxImages.LABELS_MAGIC).putInt(count).put(values)
        .array();
  }

  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] gunzip(byte[] data) throws IOException {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(data))) {
      return in.readAllBytes();
    }
  }
}
