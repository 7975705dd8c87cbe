package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.tensor.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyWriterTest {
  @TempDir Path dir;

  /** Parses a .npy file as numpy.lib.format.read_array would, returning the header dict text. */
  static String parse(byte[] b, float[] expectedData) {
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals((byte) 0x93, buf.get());
    byte[] magic = new byte[5];
    buf.get(magic);
    assertEquals("NUMPY", new String(magic, StandardCharsets.US_ASCII));
    assertEquals(1, buf.get(), "major version");
    assertEquals(0, buf.get(), "minor version");
    int len = buf.getShort() & 0xffff;
    assertEquals(0, (10 + len) % 64, "data aligned to 64 bytes");
    byte[] header = new byte[len];
    buf.get(header);
    String h = new String(header, StandardCharsets.US_ASCII);
    assertEquals('\n', h.charAt(h.length() - 1));
    assertEquals(expectedData.length * 4, buf.remaining());
    for (float v : expectedData) {
      assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(buf.getFloat()));
    }
    return h.stripTrailing();
  }

  @Test
  void writesNumpysFormat() throws Exception {
    float[] v = new float[2 * 3 * 5 * 5];
    for (int i = 0; i < v.length; i++) {
      v[i] = i * 0.01f - 0.5f;
    }
    v[7] = Float.NaN;
    Path f = dir.resolve("samples.npy");
    NpyWriter.write(f, v, Shape.of(2, 3, 5, 5));
    String header = parse(Files.readAllBytes(f), v);
    assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 5, 5), }", header);
    try (var s = Files.list(dir)) {
      assertEquals(List.of(f), s.toList());
    }
  }

  @Test
  void oneDimensionalShapesUseAOneElementTuple() {
    float[] v = {1, 2, 3};
    assertEquals(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
        parse(NpyWriter.toBytes(v, Shape.of(3)), v));
  }

  @Test
  void aHeaderThatFillsItsBlockIsNotPadded() {
    // 20 dims of 1 and a 10: the dict is 51 + 62 + 4 = 117 characters, so magic, version, length, dict and '\n'
    // are 10 + 117 + 1 = 128 bytes, a multiple of 64: numpy adds no padding, and the data starts at byte 128
    int[] dims = new int[21];
    java.util.Arrays.fill(dims, 1);
    dims[20] = 10;
    float[] v = new float[10];
    byte[] b = NpyWriter.toBytes(v, Shape.of(dims));
    assertEquals(128 + 40, b.length);
    assertEquals(118, (b[8] & 0xff) | (b[9] & 0xff) << 8, "the header length field: dict and '\\n'");
    parse(b, v);
  }

  /**
   * The bytes are those {@code numpy.save} writes (NumPy 1.24, whose header for these shapes is 128 bytes as ours):
   * the fixtures and the script that wrote them are in {@code src/test/resources/io/github/diffusion4j/io/npy}.
   */
  @Test
  void writesTheBytesNumpySaveWrites() throws java.io.IOException {
    float[] a = new float[24];
    for (int i = 0; i < a.length; i++) {
      a[i] = i / 8f - 1.5f;
    }
    a[1] = (float) (1.0 / 3); // a[0, 0, 0, 1]
    a[12 + 2 * 4 + 1 * 2] = (float) -3e-39; // a[1, 2, 1, 0], a subnormal
    assertArrayEquals(fixture("nchw_2x3x2x2.npy"), NpyWriter.toBytes(a, Shape.of(2, 3, 2, 2)));
    assertArrayEquals(fixture("vector_3.npy"), NpyWriter.toBytes(new float[] {0.1f, -2.5f, 65504f}, Shape.of(3)));
  }

  private static byte[] fixture(String name) throws java.io.IOException {
    try (java.io.InputStream in = NpyWriterTest.class.getResourceAsStream("npy/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void rejectsAWrongLength() {
    assertThrows(IllegalArgumentException.class, () -> NpyWriter.toBytes(new float[5], Shape.of(2, 3)));
    // refused before anything is made on disk: not even the folders the file would go in
    Path folder = dir.resolve("out");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NpyWriter.write(folder.resolve("a.npy"), new float[5], Shape.of(2, 3)));
    assertEquals("shape [2, 3] needs 6 values, got 5", e.getMessage());
    assertFalse(Files.exists(folder), "nothing written");
  }
}
