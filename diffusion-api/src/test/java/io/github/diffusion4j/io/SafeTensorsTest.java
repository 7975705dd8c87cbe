package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  private static final String SRC = "test.safetensors";

  @TempDir Path dir;

  // ------------------------------------------------------------------------------------ crafting

  /** A file: 8-byte little-endian N, the header padded with spaces to N bytes, the data. */
  static byte[] craft(String header, int padding, byte[] data) {
    byte[] h = (header + " ".repeat(padding)).getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + h.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(h.length)
        .put(h)
        .put(data)
        .array();
  }

  /** As the reference writer: padded so that N is a multiple of 8. */
  static byte[] craftAligned(String header, byte[] data) {
    int len = header.getBytes(StandardCharsets.UTF_8).length;
    return craft(header, (8 - len % 8) % 8, data);
  }

  static byte[] f32(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static byte[] u16(int... v) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int s : v) {
      b.putShort((short) s);
    }
    return b.array();
  }

  static byte[] f64(double... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double d : v) {
      b.putDouble(d);
    }
    return b.array();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static String entry(String name, String dtype, String shape, long begin, long end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":["
        + begin + "," + end + "]}";
  }

  /** A tensor for {@link #file}: its safetensors dtype, its shape as JSON and its little-endian bytes. */
  record Raw(String name, String dtype, String shape, byte[] data) {}

  /**
   * A file of {@code weights} as F32, each of {@code raw} replacing the tensor of its name or added after them, laid
   * out in that order.
   */
  static byte[] file(StateDict weights, Raw... raw) {
    Map<String, Raw> all = new java.util.LinkedHashMap<>();
    weights.entries().forEach((n, a) ->
        all.put(n, new Raw(n, "F32", java.util.Arrays.toString(a.shape().dims()), f32(a.toArray()))));
    for (Raw r : raw) {
      all.put(r.name(), r);
    }
    StringBuilder header = new StringBuilder();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Raw r : all.values()) {
      header.append(header.length() == 0 ? "{" : ",")
          .append(entry(r.name(), r.dtype(), r.shape(), data.size(), data.size() + r.data().length));
      data.writeBytes(r.data());
    }
    return craftAligned(header.append('}').toString(), data.toByteArray());
  }

  static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  static byte[] littleEndian(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(b);
    return b.array();
  }

  static CheckpointException rejects(byte[] file, String expectedFragment) {
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> SafeTensors.read(file, SRC));
    assertTrue(e.getMessage().startsWith(SRC + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(expectedFragment), "'" + expectedFragment + "' in: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e;
  }

  static StateDict sample() {
    return StateDict.builder()
        .put("net.2.weight", new int[] {2, 3}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f})
        .put("net.0.bias", new int[] {3}, new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1})
        .put("t", new int[] {1, 1, 2, 2}, new float[] {0.25f, 0.5f, 0.75f, 1})
        .build();
  }

  // ------------------------------------------------------------------------------------ round trip

  @Test
  void roundTripInMemoryAndOnDisk() throws Exception {
    StateDict sd = sample();
    Map<String, String> meta = Map.of("format", "pt", "step", "100");
    TensorFile back = SafeTensors.read(SafeTensors.toBytes(sd, meta), SRC);
    assertEquals(sd, back.tensors());
    assertEquals(meta, back.metadata());
    // the file order is by name (bytes of UTF-8), as the reference writer lays tensors out
    assertEquals(List.of("net.0.bias", "net.2.weight", "t"), List.copyOf(back.tensors().names()));

    Path file = dir.resolve("sub/model.safetensors");
    SafeTensors.write(file, sd, meta);
    TensorFile fromDisk = SafeTensors.read(file);
    assertEquals(sd, fromDisk.tensors());
    assertEquals(meta, fromDisk.metadata());
    assertArrayEquals(SafeTensors.toBytes(sd, meta), Files.readAllBytes(file));
    try (Stream<Path> s = Files.list(file.getParent())) {
      assertEquals(List.of(file), s.toList(), "no temporary left behind");
    }
  }

  @Test
  void emptyStateDictAndNoMetadata() {
    byte[] bytes = SafeTensors.toBytes(StateDict.builder().build(), Map.of());
    assertArrayEquals(craft("{}", 6, new byte[0]), bytes);
    TensorFile back = SafeTensors.read(bytes, SRC);
    assertEquals(0, back.tensors().size());
    assertTrue(back.metadata().isEmpty());
  }

  @Test
  void writesExactlyWhatTheReferenceImplementationWrites() {
    // safetensors.torch.save_file({"weight": [[1, 2], [3, 4]], "bias": [0.5, -1]}, f,
    // metadata={"format": "pt"}) sorts the tensors by name, writes compact JSON (__metadata__ first,
    // then dtype, shape, data_offsets) and pads the header with spaces to a multiple of 8 bytes
    String header =
        "{\"__metadata__\":{\"format\":\"pt\"}," + entry("bias", "F32", "[2]", 0, 8) + ","
            + entry("weight", "F32", "[2,2]", 8, 24) + "}";
    int len = header.length(); // ASCII
    byte[] expected = craft(header, (8 - len % 8) % 8, f32(0.5f, -1, 1, 2, 3, 4));
    assertEquals(0, (expected.length - 24) % 8, "header length is a multiple of 8");
    StateDict sd =
        StateDict.builder()
            .put("weight", new int[] {2, 2}, new float[] {1, 2, 3, 4})
            .put("bias", new int[] {2}, new float[] {0.5f, -1})
            .build();
    assertArrayEquals(expected, SafeTensors.toBytes(sd, Map.of("format", "pt")));

    TensorFile read = SafeTensors.read(expected, SRC);
    assertEquals(sd, read.tensors());
    assertEquals(Map.of("format", "pt"), read.metadata());
  }

  @Test
  void readsTheHalfPrecisionAndDoubleDtypesThatPyTorchUsersSave() {
    // F16: 1.0, -2.0, 0.5, 65504 (max), 2^-24 (smallest subnormal), +inf
    // BF16: 1.0, -1.5, 3.140625; F64: 0.1, -1e300 (overflows float to -inf)
    String header =
        "{" + entry("h", "F16", "[2,3]", 0, 12) + "," + entry("b", "BF16", "[3]", 12, 18) + ","
            + entry("d", "F64", "[2]", 18, 34) + "}";
    byte[] data =
        concat(
            u16(0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00),
            u16(0x3F80, 0xBFC0, 0x4049),
            f64(0.1, -1e300));
    TensorFile f = SafeTensors.read(craftAligned(header, data), SRC);
    assertArrayEquals(
        new float[] {1, -2, 0.5f, 65504, 0x1p-24f, Float.POSITIVE_INFINITY}, f.tensors().get("h").toArray());
    assertEquals(Shape.of(2, 3), f.tensors().get("h").shape());
    assertArrayEquals(new float[] {1, -1.5f, 3.140625f}, f.tensors().get("b").toArray());
    assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, f.tensors().get("d").toArray());
  }

  @Test
  void halfToFloatIsExactOnEveryPattern() {
    // cross-check every binary16 pattern against a direct evaluation of the IEEE formula
    for (int bits = 0; bits < 0x10000; bits++) {
      int exp = (bits >> 10) & 0x1f;
      int mant = bits & 0x3ff;
      double sign = (bits & 0x8000) != 0 ? -1 : 1;
      float v = DType.halfToFloat((short) bits);
      if (exp == 0x1f) {
        assertTrue(mant == 0 ? Float.isInfinite(v) : Float.isNaN(v));
      } else {
        double expected = exp == 0 ? sign * mant * Math.pow(2, -24) : sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
        assertEquals((float) expected, v, 0.0f, "bits " + Integer.toHexString(bits));
        assertEquals(bits >= 0x8000, (Float.floatToRawIntBits(v) & 0x80000000) != 0, "sign of " + bits);
      }
    }
  }

  @Test
  void readsTensorsInDataOrderWhateverTheHeaderOrder() {
    String header =
        "{" + entry("second", "F32", "[1]", 4, 8) + ",\"__metadata__\":{\"a\":\"b\"},"
            + entry("first", "F32", "[]", 0, 4) + "}";
    TensorFile f = SafeTensors.read(craft(header, 3, f32(7, 9)), SRC);
    assertEquals(List.of("first", "second"), List.copyOf(f.tensors().names()));
    assertEquals(Shape.of(1), f.tensors().get("first").shape(), "a rank-0 scalar is read as [1]");
    assertEquals(7f, f.tensors().get("first").get(0));
    assertEquals(Map.of("a", "b"), f.metadata());
  }

  @Test
  void acceptsWhitespacePaddingAndNullMetadata() {
    String header = "{\"__metadata__\":null," + entry("x", "F32", "[1]", 0, 4) + "}";
    TensorFile f = SafeTensors.read(craft(header, 13, f32(1)), SRC);
    assertTrue(f.metadata().isEmpty());
  }

  // ---------------------------------------------------------------------------------- violations

  @Test
  void rejectsATruncatedFile() {
    rejects(new byte[] {16, 0, 0}, "truncated: 3 bytes");
    byte[] good = SafeTensors.toBytes(sample(), Map.of());
    rejects(java.util.Arrays.copyOf(good, good.length - 1), "ends past the data buffer");
  }

  @Test
  void rejectsAHeaderLengthLargerThanTheFile() {
    byte[] f = craft("{}", 6, new byte[0]);
    f[0] = 9; // N = 9, but only 8 bytes follow
    rejects(f, "header length 9 exceeds the 8 bytes that follow it");
  }

  /** A torch.save file under a .safetensors name: what it is, not its first 8 bytes as a header length. */
  @Test
  void aTorchSaveFileIsNamedForWhatItIs() {
    byte[] zip = {'P', 'K', 3, 4, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0};
    rejects(zip, "not a safetensors file: a torch.save file (a zip archive, as torch.save writes since PyTorch 1.6)");
    byte[] pickle = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20};
    rejects(pickle, "not a safetensors file: a torch.save file (a pickle, torch.save's format before PyTorch 1.6)");
  }

  @Test
  void rejectsAHeaderOverTheLimitWithoutAllocatingIt() {
    byte[] f = craft("{}", 6, new byte[0]);
    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100_000_001L);
    rejects(f, "header length 100000001 exceeds the format's limit of 100000000 bytes");
    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L); // 2^64 - 1 unsigned
    rejects(f, "header length 18446744073709551615 exceeds");
  }

  @Test
  void rejectsAHeaderThatIsNotJson() {
    rejects(craft("{\"a\": ", 2, new byte[0]), "header is not valid JSON");
    rejects(craft("{} {}", 3, new byte[0]), "header is not valid JSON");
    rejects(craft("{'a': 1}", 0, new byte[0]), "header is not valid JSON");
  }

  @Test
  void rejectsAHeaderThatIsNotAnObject() {
    rejects(craft("[1, 2]", 2, new byte[0]), "header must be a JSON object starting with '{'");
    rejects(craft(" {}", 5, new byte[0]), "starting with '{'");
    rejects(craft("", 0, new byte[0]), "starting with '{'");
    rejects(craft("{\"x\": 1}", 0, new byte[0]), "tensor 'x': must be an object");
  }

  @Test
  void rejectsInvalidUtf8() {
    byte[] f = craft("{\"ab\":1}", 0, new byte[0]);
    f[8 + 2] = (byte) 0xC3; // a lead byte followed by 'b': malformed
    rejects(f, "header is not valid UTF-8");
  }

  @Test
  void rejectsDuplicateKeys() {
    String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}";
    rejects(craftAligned(header, f32(1, 2)), "Duplicate");
    rejects(
        craftAligned("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", new byte[0]), "Duplicate");
  }

  @Test
  void rejectsUnknownDtypes() {
    rejects(
        craftAligned("{" + entry("a", "F33", "[1]", 0, 4) + "}", f32(1)),
        "tensor 'a': unknown dtype 'F33'; the format's dtypes are [F32, F16, BF16, F64, I64, I32, I16, I8, U64, U32, "
            + "U16, U8, BOOL, F8_E5M2, F8_E4M3, F8_E8M0, F6_E2M3, F6_E3M2, F4, C64]");
    rejects(craftAligned("{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "dtype must be a string");
    // a shape given as its element count, or missing, is not taken for a one-dimensional tensor
    rejects(craftAligned("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", f32(1)),
        "tensor 'a': shape must be an array, got a number (1)");
    rejects(craftAligned("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", f32(1)),
        "tensor 'a': shape must be an array, got missing");
  }

  /**
   * Every integer dtype and BOOL is read as torch reads it (a BatchNorm's {@code num_batches_tracked}, a mask): named
   * as torch names it, each value the nearest float32 (a bool 0 or 1); the old reader refused the file whole.
   */
  @Test
  void readsEveryIntegerAndBoolDtypeWithTorchsNames() {
    byte[] file = file(StateDict.builder().put("bn.weight", new int[] {2}, new float[] {1.5f, -2f}).build(),
        new Raw("bn.num_batches_tracked", "I64", "[]", littleEndian(8, b -> b.putLong(1234))),
        new Raw("i32", "I32", "[3]", littleEndian(12, b -> b.putInt(-7).putInt(0).putInt((1 << 24) + 1))),
        new Raw("i16", "I16", "[2]", littleEndian(4, b -> b.putShort((short) -300).putShort((short) 300))),
        new Raw("i8", "I8", "[2]", bytes(-128, 127)),
        new Raw("u8", "U8", "[2]", bytes(200, 255)),
        new Raw("u16", "U16", "[1]", littleEndian(2, b -> b.putShort((short) 0xffff))),
        new Raw("u32", "U32", "[1]", littleEndian(4, b -> b.putInt(0xffffffff))),
        new Raw("mask", "BOOL", "[1,3]", bytes(1, 0, 1)));
    try (SafeTensorsReader r = SafeTensors.open(file, SRC)) {
      assertEquals(List.of("bn.weight", "bn.num_batches_tracked", "i32", "i16", "i8", "u8", "u16", "u32", "mask"),
          List.copyOf(r.dtypes().keySet()));
      assertEquals(List.of("float32", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "bool"),
          List.copyOf(r.dtypes().values()));
      assertArrayEquals(new int[] {1, 3}, r.shapes().get("mask"));
    }
    StateDict sd = SafeTensors.read(file, SRC).tensors();
    assertArrayEquals(new float[] {1.5f, -2f}, sd.get("bn.weight").toArray());
    assertEquals(Shape.of(1), sd.get("bn.num_batches_tracked").shape(), "a scalar, as every scalar, is [1]");
    assertArrayEquals(new float[] {1234}, sd.get("bn.num_batches_tracked").toArray());
    // 2^24 + 1 has no float32: the nearest (a tie, to even) is 2^24
    assertArrayEquals(new float[] {-7, 0, 1 << 24}, sd.get("i32").toArray());
    assertArrayEquals(new float[] {-300, 300}, sd.get("i16").toArray());
    assertArrayEquals(new float[] {-128, 127}, sd.get("i8").toArray());
    assertArrayEquals(new float[] {200, 255}, sd.get("u8").toArray(), "unsigned");
    assertArrayEquals(new float[] {65535}, sd.get("u16").toArray(), "unsigned");
    assertArrayEquals(new float[] {4294967295f}, sd.get("u32").toArray(), "unsigned");
    assertArrayEquals(new float[] {1, 0, 1}, sd.get("mask").toArray());
  }

  /**
   * U64 values at and above 2^63 are unsigned and rounded to the nearest float32 as a whole: 2^63 + 2^39 is halfway
   * between 2^63 and the next float (2^63 + 2^40) and goes to the even one, 2^63; one more goes up (a conversion that
   * halved the value first and dropped its lowest bit would round it down too).
   */
  @Test
  void readsU64UnsignedAndRoundedToTheNearestFloat() {
    long[] v = {5, -1L, Long.MIN_VALUE, Long.MIN_VALUE + (1L << 39), Long.MIN_VALUE + (1L << 39) + 1};
    byte[] file = file(StateDict.builder().build(), new Raw("u", "U64", "[5]", littleEndian(40, b -> {
      for (long x : v) {
        b.putLong(x);
      }
    })));
    assertArrayEquals(new float[] {5, 0x1p64f, 0x1p63f, 0x1p63f, 0x1p63f + 0x1p40f},
        SafeTensors.read(file, SRC).tensors().get("u").toArray());
  }

  /** The float8 dtypes, exactly: e5m2 (the upper byte of a float16), e4m3fn (bias 7, no infinities), e8m0 (2^(e-127)). */
  @Test
  void readsTheFloat8Dtypes() {
    byte[] file = file(StateDict.builder().build(),
        new Raw("e5m2", "F8_E5M2", "[5]", bytes(0x3c, 0xc0, 0x7b, 0x01, 0x7c)),
        new Raw("e4m3", "F8_E4M3", "[7]", bytes(0x38, 0xc0, 0x7e, 0x08, 0x01, 0x7f, 0x80)),
        new Raw("e8m0", "F8_E8M0", "[4]", bytes(0x7f, 0x80, 0x00, 0xff)));
    try (SafeTensorsReader r = SafeTensors.open(file, SRC)) {
      assertEquals(Map.of("e5m2", "float8_e5m2", "e4m3", "float8_e4m3fn", "e8m0", "float8_e8m0fnu"), r.dtypes());
    }
    StateDict sd = SafeTensors.read(file, SRC).tensors();
    assertArrayEquals(new float[] {1, -2, 57344, 0x1p-16f, Float.POSITIVE_INFINITY}, sd.get("e5m2").toArray());
    assertArrayEquals(new float[] {1, -2, 448, 0x1p-6f, 0x1p-9f, Float.NaN, -0f}, sd.get("e4m3").toArray());
    assertArrayEquals(new float[] {1, 2, 0x1p-127f, Float.NaN}, sd.get("e8m0").toArray());
  }

  /**
   * complex64 and the packed 4- and 6-bit floats: their sizes are checked (a packed tensor fills whole bytes) and
   * they are described, but their values are not read as float32, which reading says, naming the tensor.
   */
  @Test
  void complexAndPackedFloatsAreDescribedButNotRead() {
    byte[] file = file(StateDict.builder().build(), new Raw("c", "C64", "[1]", f32(1, 2)),
        new Raw("q", "F4", "[2,3]", bytes(0, 0, 0)), new Raw("s", "F6_E2M3", "[4]", bytes(0, 0, 0)));
    try (SafeTensorsReader r = SafeTensors.open(file, SRC)) {
      assertEquals(Map.of("c", "complex64", "q", "float4_e2m1fn", "s", "float6_e2m3fn"), r.dtypes());
      assertArrayEquals(new int[] {2, 3}, r.shapes().get("q"));
      CheckpointException e = assertThrows(CheckpointException.class, r::tensors);
      assertEquals(SRC + ": tensor 'c' is complex64 (C64), whose values are not read as float32; read are the float, "
          + "integer and bool types [F32, F16, BF16, F64, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E5M2, "
          + "F8_E4M3, F8_E8M0]", e.getMessage());
    }
    rejects(craftAligned("{" + entry("q", "F4", "[3]", 0, 1) + "}", bytes(0)),
        "tensor 'q': shape [3] has 3 elements of 4 bits each, which do not fill whole bytes");
    rejects(craftAligned("{" + entry("q", "F6_E3M2", "[4]", 0, 4) + "}", bytes(0, 0, 0, 0)),
        "hold 4 bytes, but dtype F6_E3M2 and shape [4] need 3");
  }

  /**
   * A tensor where a model needs a parameter must be floating-point: an integer one is refused with the file, the
   * tensor, its dtype and the dtypes allowed, as {@link TorchCheckpoint#parameters} refuses one; the names and shapes
   * were described before.
   */
  @Test
  void aParameterMustBeFloatingPoint() {
    byte[] floats = file(StateDict.builder().build(), new Raw("a", "F64", "[1]", f64(0.25)),
        new Raw("b", "F16", "[1]", u16(0x3c00)), new Raw("c", "BF16", "[1]", u16(0x3f80)));
    try (SafeTensorsReader r = SafeTensors.open(floats, SRC)) {
      StateDict p = r.parameters();
      assertArrayEquals(new float[] {0.25f, 1, 1}, new float[] {p.get("a").get(0), p.get("b").get(0), p.get("c").get(0)});
    }
    for (String dtype : List.of("I64", "BOOL", "F8_E4M3", "C64")) {
      DType t = DType.of(dtype).orElseThrow();
      byte[] file = file(StateDict.builder().build(), new Raw("a", "F32", "[1]", f32(1)),
          new Raw("conv.weight", dtype, "[1,1,1,1]", new byte[t.bytes()]));
      try (SafeTensorsReader r = SafeTensors.open(file, SRC)) {
        assertArrayEquals(new int[] {1, 1, 1, 1}, r.shapes().get("conv.weight"));
        CheckpointException e = assertThrows(CheckpointException.class, r::parameters);
        assertEquals(SRC + ": tensor 'conv.weight' is " + t.torchName() + "; a model parameter must be float32, "
            + "float64, float16 or bfloat16", e.getMessage());
      }
    }
  }

  /**
   * A tensor with a zero dimension (and no bytes) keeps its shape, whatever the order of its dimensions (a zero after
   * two whose product exceeds an array's size too); it has no values to read, which reading says; a dimension larger
   * than an array is refused even beside a zero.
   */
  @Test
  void anEmptyTensorKeepsItsShape() {
    String header = "{" + entry("w", "F32", "[2]", 0, 8) + "," + entry("empty", "F32", "[0,3]", 8, 8) + ","
        + entry("ids", "I64", "[4,0]", 8, 8) + "," + entry("a", "F16", "[0,65536,65536]", 8, 8) + ","
        + entry("b", "BOOL", "[65536,65536,0]", 8, 8) + "}";
    byte[] file = craftAligned(header, f32(1, 2));
    try (SafeTensorsReader r = SafeTensors.open(file, SRC)) {
      assertEquals(List.of("w", "empty", "ids", "a", "b"), List.copyOf(r.shapes().keySet()));
      assertArrayEquals(new int[] {0, 3}, r.shapes().get("empty"));
      assertArrayEquals(new int[] {4, 0}, r.shapes().get("ids"));
      assertArrayEquals(new int[] {0, 65536, 65536}, r.shapes().get("a"));
      assertArrayEquals(new int[] {65536, 65536, 0}, r.shapes().get("b"));
      assertEquals("int64", r.dtypes().get("ids"));
    }
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(file, SRC));
    assertEquals(SRC + ": tensor 'empty' has shape [0, 3]: an empty tensor (a zero dimension) has no values "
        + "to read; a tensor read needs every dimension at least 1", e.getMessage());
    rejects(craftAligned("{" + entry("x", "I64", "[0,1099511627776]", 0, 0) + "}", new byte[0]),
        "tensor 'x': shape [0,1099511627776]: dimension 1 is 1099511627776; dimensions must be between 0 and "
            + (Integer.MAX_VALUE - 8));
    // the zero last: the product of the others overflows, yet the tensor is empty and its too large dimension named
    rejects(craftAligned("{" + entry("x", "I64", "[1099511627776,1099511627776,0]", 0, 0) + "}", new byte[0]),
        "tensor 'x': shape [1099511627776,1099511627776,0]: dimension 0 is 1099511627776; dimensions must be between "
            + "0 and " + (Integer.MAX_VALUE - 8));
  }

  /**
   * The data ranges are checked in the order of their offsets, an empty range before a full one that begins where it
   * does (as the reference's validate sorts them), whatever the order of the header: a valid file listed otherwise is
   * read, not refused as having a gap or an overlap.
   */
  @Test
  void rangesAreCheckedInTheOrderOfTheirOffsetsWhateverTheHeadersOrder() {
    String header = "{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("e", "F32", "[0]", 4, 4) + ","
        + entry("a", "F32", "[1]", 0, 4) + "}";
    try (SafeTensorsReader r = SafeTensors.open(craftAligned(header, f32(1, 2)), SRC)) {
      assertEquals(List.of("a", "e", "b"), List.copyOf(r.shapes().keySet()));
    }
  }

  /** A reader closes its file when closed, and when the file is refused as it is opened. */
  @Test
  void aReaderLeavesNoFileOpenWhetherItReadsOrRefuses() throws java.io.IOException {
    Path good = dir.resolve("good.safetensors");
    SafeTensors.write(good, sample(), Map.of());
    try (SafeTensorsReader r = SafeTensors.open(good)) {
      assertEquals(1, OpenFiles.in(dir), "open while read");
      r.tensors();
    }
    assertEquals(0, OpenFiles.in(dir), "closed");
    assertEquals(sample(), SafeTensors.read(good).tensors());
    assertEquals(0, OpenFiles.in(dir), "closed after a whole read");
    Path bad = dir.resolve("bad.safetensors");
    Files.write(bad, craftAligned("{" + entry("a", "F32", "[1]", 0, 8) + "}", f32(1, 2)));
    assertThrows(CheckpointException.class, () -> SafeTensors.open(bad));
    assertEquals(0, OpenFiles.in(dir), "closed when refused");
  }

  /**
   * A U8 tensor (one byte a value in the file, four as float32) larger than a quarter of the heap is refused before
   * its values are allocated, naming the heap; the file is sparse, so the test costs no disk.
   */
  @Test
  void aTensorLargerThanTheHeapAsFloat32IsRefusedBeforeItIsAllocated() throws java.io.IOException {
    long heap = Runtime.getRuntime().maxMemory();
    long n = heap / 4 + 1;
    org.junit.jupiter.api.Assumptions.assumeTrue(n <= Integer.MAX_VALUE - 8, "needs a heap below 8 GB");
    byte[] head = craftAligned("{" + entry("u", "U8", "[" + n + "]", 0, n) + "}", new byte[0]);
    Path p = dir.resolve("sparse.safetensors");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
      f.write(head);
      f.setLength(head.length + n);
    }
    try (SafeTensorsReader r = SafeTensors.open(p)) {
      assertEquals(Map.of("u", "uint8"), r.dtypes());
      CheckpointException e = assertThrows(CheckpointException.class, r::tensors);
      assertEquals(p + ": tensor 'u' has " + n + " elements (" + (4 * n >> 20) + " MB as float32), more than this "
          + "JVM's heap of at most " + (heap >> 20) + " MB holds; give it a larger heap (-Xmx)", e.getMessage());
    }
  }

  /**
   * Two U8 tensors, each of whose float32 values fits in the heap (so each passes the check above), but not both
   * together: 0.55 of the heap each. The file promises more float32 values than the heap holds, which can be said
   * before anything is allocated; reading them one by one ended in an OutOfMemoryError instead (a U8, I8, BOOL or
   * float8 file of a third of the heap is enough, as each byte becomes four). The file is sparse.
   */
  @Test
  void tensorsTogetherLargerThanTheHeapAsFloat32AreRefusedBeforeTheyAreAllocated() throws java.io.IOException {
    long heap = Runtime.getRuntime().maxMemory();
    long n = heap * 55 / 100 / 4; // 0.55 of the heap as float32 each: 1.1 of it together
    org.junit.jupiter.api.Assumptions.assumeTrue(n <= Integer.MAX_VALUE - 8, "needs a heap below 14 GB");
    byte[] head = craftAligned("{" + entry("a", "U8", "[" + n + "]", 0, n) + "," + entry("b", "U8", "[" + n + "]",
        n, 2 * n) + "}", new byte[0]);
    Path p = dir.resolve("sparse2.safetensors");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
      f.write(head);
      f.setLength(head.length + 2 * n);
    }
    try (SafeTensorsReader r = SafeTensors.open(p)) {
      CheckpointException e = assertThrows(CheckpointException.class, r::tensors);
      assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
      assertTrue(e.getMessage().contains("heap"), e.getMessage());
    }
  }

  @Test
  void rejectsNegativeOverflowingAndOversizedShapes() {
    rejects(craftAligned("{" + entry("a", "F32", "[-1,2]", 0, 4) + "}", f32(1)), "shape[0] must be a non-negative integer");
    rejects(
        craftAligned("{" + entry("a", "F32", "[4611686018427387904,4]", 0, 4) + "}", f32(1)),
        "element count overflows");
    rejects(
        craftAligned("{" + entry("a", "F32", "[18446744073709551616]", 0, 4) + "}", f32(1)),
        "below 2^63");
    rejects(
        craftAligned("{" + entry("a", "F32", "[65536,65536]", 0, 4) + "}", f32(1)),
        "more than a Java array holds");
    rejects(craftAligned("{" + entry("a", "F32", "[1.5]", 0, 4) + "}", f32(1)), "non-negative integer");
    rejects(
        craftAligned("{" + entry("a", "I64", "[65536,65536]", 0, 4) + "}", f32(1)),
        "more than a Java array holds");
  }

  @Test
  void rejectsAHugeTensorInASmallFileBeforeAllocating() {
    // 10^9 floats would be 4 GB: the offsets agree with the shape, but the file has 4 bytes of data
    rejects(
        craftAligned("{" + entry("a", "F32", "[1000000000]", 0, 4_000_000_000L) + "}", f32(1)),
        "ends past the data buffer, which has 4 bytes");
    // and so for the integer and bool dtypes: 10^9 int64 would be 8 GB, 2 * 10^9 bools 8 GB as float32
    rejects(
        craftAligned("{" + entry("a", "I64", "[1000000000]", 0, 8_000_000_000L) + "}", f32(1)),
        "ends past the data buffer, which has 4 bytes");
    rejects(
        craftAligned("{" + entry("a", "BOOL", "[2000000000]", 0, 2_000_000_000L) + "}", f32(1)),
        "ends past the data buffer, which has 4 bytes");
  }

  @Test
  void rejectsOffsetsThatDisagreeWithTheShape() {
    rejects(craftAligned("{" + entry("a", "F32", "[2]", 0, 4) + "}", f32(1)), "hold 4 bytes, but dtype F32 and shape [2] need 8");
    rejects(craftAligned("{" + entry("a", "F32", "[1]", 8, 4) + "}", f32(1)), "end before they begin");
    rejects(craftAligned("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", f32(1)), "data_offsets must be an array [begin, end]");
  }

  @Test
  void rejectsOverlappingOffsets() {
    String header = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
    rejects(craftAligned(header, f32(1, 2, 3)), "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a'");
  }

  @Test
  void rejectsHoles() {
    String middle = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
    rejects(craftAligned(middle, f32(1, 2, 3)), "bytes [4, 8) of the data buffer belong to no tensor (a hole between 'a' and 'b')");
    String start = "{" + entry("a", "F32", "[1]", 4, 8) + "}";
    rejects(craftAligned(start, f32(1, 2)), "bytes [0, 4) of the data buffer belong to no tensor (a hole before 'a')");
  }

  @Test
  void rejectsOffsetsThatDoNotCoverTheBuffer() {
    String header = "{" + entry("a", "F32", "[2]", 0, 8) + "}";
    rejects(craftAligned(header, f32(1)), "ends past the data buffer, which has 4 bytes");
    // metadata only, but data present
    rejects(craftAligned("{}", f32(1)), "4 trailing bytes after the last tensor");
  }

  @Test
  void rejectsExtraTrailingBytes() {
    byte[] good = SafeTensors.toBytes(sample(), Map.of());
    rejects(concat(good, new byte[] {0}), "1 trailing bytes after the last tensor");
  }

  @Test
  void rejectsBadMetadata() {
    rejects(craftAligned("{\"__metadata__\":{\"step\":100}}", new byte[0]), "__metadata__.step must be a string");
    rejects(craftAligned("{\"__metadata__\":[\"a\"]}", new byte[0]), "__metadata__ must be an object of strings");
  }

  @Test
  void rejectsUnknownFieldsInATensorEntry() {
    rejects(
        craftAligned("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", f32(1)),
        "unknown field 'x'");
  }

  @Test
  void namesTheFileOnDisk() throws Exception {
    Path f = dir.resolve("bad.safetensors");
    Files.write(f, new byte[] {1, 2});
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f));
    assertEquals(f + ": truncated: 2 bytes, but a safetensors file starts with an 8-byte header length", e.getMessage());
    CheckpointException missing =
        assertThrows(CheckpointException.class, () -> SafeTensors.read(dir.resolve("none.safetensors")));
    assertEquals(dir.resolve("none.safetensors") + ": no such file", missing.getMessage());
  }

  // -------------------------------------------------------------------------------------- writing

  @Test
  void refusesTheReservedName() {
    StateDict sd = StateDict.builder().put("__metadata__", new int[] {1}, new float[] {1}).build();
    assertThrows(CheckpointException.class, () -> SafeTensors.toBytes(sd, Map.of()));
  }

  @Test
  void escapesNamesAsSerdeJsonDoes() {
    StateDict sd = StateDict.builder().put("a\"b\\c\n\u0001é", new int[] {1}, new float[] {2}).build();
    byte[] bytes = SafeTensors.toBytes(sd, Map.of());
    String header = new String(bytes, 8, bytes.length - 12, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"a\\\"b\\\\c\\n\\u0001é\":"), header);
    assertEquals(sd, SafeTensors.read(bytes, SRC).tensors());
  }

  /**
   * Tensors are laid out in the byte order of their UTF-8 names (Rust's {@code String} order), not in Java's UTF-16
   * order: U+FB01 (UTF-8 {@code EF AC 81}) comes before U+1F600 (UTF-8 {@code F0 9F 98 80}), although its UTF-16
   * unit {@code FB01} is above the surrogate {@code D83D}. The expected bytes are written out by hand.
   */
  @Test
  void tensorsAreOrderedByTheBytesOfTheirUtf8Names() {
    String ligature = "\uFB01";
    String emoji = "\uD83D\uDE00";
    StateDict sd =
        StateDict.builder().put(emoji, new int[] {1}, new float[] {2}).put(ligature, new int[] {1}, new float[] {1}).build();
    byte[] expected =
        craftAligned("{" + entry(ligature, "F32", "[1]", 0, 4) + "," + entry(emoji, "F32", "[1]", 4, 8) + "}", f32(1, 2));
    assertArrayEquals(expected, SafeTensors.toBytes(sd, Map.of()));
  }

  /**
   * serde_json escapes control characters with lower-case hex digits ({@code \u001f}, not {@code \u001F}), and only
   * them: a space, the first character after them, is written as it is.
   */
  @Test
  void controlCharactersAreEscapedWithLowerCaseHex() {
    StateDict sd = StateDict.builder().put("a\u001fb c", new int[] {1}, new float[] {2}).build();
    byte[] bytes = SafeTensors.toBytes(sd, Map.of());
    String header = new String(bytes, 8, bytes.length - 12, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"a\\u001fb c\":"), header);
  }

  /**
   * Metadata is written first and sorted by key whatever the map's order, so that equal content gives equal bytes;
   * the expected header is written out by hand.
   */
  @Test
  void metadataIsWrittenSortedByKey() {
    Map<String, String> meta = new java.util.LinkedHashMap<>();
    meta.put("step", "7");
    meta.put("format", "pt");
    StateDict sd = StateDict.builder().put("w", new int[] {1}, new float[] {3}).build();
    byte[] expected =
        craftAligned("{\"__metadata__\":{\"format\":\"pt\",\"step\":\"7\"}," + entry("w", "F32", "[1]", 0, 4) + "}", f32(3));
    assertArrayEquals(expected, SafeTensors.toBytes(sd, meta));
  }

  @Test
  void headerIsAlwaysPaddedToAMultipleOfEight() {
    for (int len = 1; len <= 9; len++) {
      StateDict sd = StateDict.builder().put("x".repeat(len), new int[] {1}, new float[] {1}).build();
      byte[] b = SafeTensors.toBytes(sd, Map.of());
      long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      assertEquals(0, n % 8);
      String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
      String json = header.stripTrailing();
      assertTrue(json.endsWith("}"), header);
      assertTrue(header.length() - json.length() < 8, "at most 7 spaces of padding: '" + header + "'");
      assertEquals(header.length() - json.length(), header.substring(json.length()).chars().filter(c -> c == ' ').count());
    }
  }

  @Test
  void writesSamplesUnderOneKey() {
    Path f = dir.resolve("samples.safetensors");
    float[] v = new float[2 * 3 * 5 * 5];
    for (int i = 0; i < v.length; i++) {
      v[i] = i / 150f;
    }
    SafeTensors.writeSamples(f, v, Shape.of(2, 3, 5, 5), Map.of("seed", "42"));
    TensorFile t = SafeTensors.read(f);
    FloatArray s = t.tensors().get(SafeTensors.SAMPLES_KEY);
    assertEquals(Shape.of(2, 3, 5, 5), s.shape());
    assertArrayEquals(v, s.toArray());
    assertEquals("42", t.metadata().get("seed"));
  }

  /**
   * Tensors larger than the reader's 64 KiB chunk, of 4- and 2-byte types, after a first tensor: each chunk is read
   * from where the previous one ended, and the last, partial one is as long as what is left.
   */
  @Test
  void tensorsSpanningSeveralChunksAreReadWhole() throws java.io.IOException {
    int n32 = 40_000; // 2.4 chunks of 16384 floats
    int n16 = 81_920; // 2.5 chunks of 32768 bfloat16s
    float[] a = new float[n32];
    ByteBuffer data = ByteBuffer.allocate(4 + 4 * n32 + 2 * n16).order(ByteOrder.LITTLE_ENDIAN);
    data.putFloat(-1f);
    for (int i = 0; i < n32; i++) {
      a[i] = i;
      data.putFloat(i);
    }
    float[] b = new float[n16];
    for (int i = 0; i < n16; i++) {
      b[i] = i % 251; // integers below 256 are exact in bfloat16: the upper half of their float32 bits
      data.putShort((short) (Float.floatToIntBits(b[i]) >>> 16));
    }
    String header = "{" + entry("first", "F32", "[]", 0, 4) + "," + entry("a", "F32", "[" + n32 + "]", 4, 4 + 4L * n32)
        + "," + entry("b", "BF16", "[" + n16 + "]", 4 + 4L * n32, 4 + 4L * n32 + 2L * n16) + "}";
    byte[] file = craftAligned(header, data.array());
    Path p = dir.resolve("big.safetensors");
    Files.write(p, file);
    for (TensorFile t : List.of(SafeTensors.read(file, SRC), SafeTensors.read(p))) {
      assertArrayEquals(new float[] {-1f}, t.tensors().get("first").toArray());
      assertArrayEquals(a, t.tensors().get("a").toArray());
      assertArrayEquals(b, t.tensors().get("b").toArray());
    }
  }

  @Test
  void anEightByteFileHasAnEmptyHeaderAndFewerBytesAreTruncated() {
    rejects(new byte[8], "header must be a JSON object starting with '{'");
    rejects(new byte[7], "truncated: 7 bytes, but a safetensors file starts with an 8-byte header length");
  }

  @Test
  void offsetsAreCheckedAgainstTheBytesTheShapeNeeds() {
    // begin == end: an empty range, not one that ends before it begins
    rejects(craftAligned("{" + entry("w", "F32", "[]", 4, 4) + "}", new byte[8]),
        "data_offsets [4, 4] hold 0 bytes, but dtype F32 and shape [] need 4");
    rejects(craftAligned("{" + entry("w", "F32", "[]", 4, 2) + "}", new byte[8]),
        "data_offsets [4, 2] end before they begin");
    rejects(craftAligned("{" + entry("w", "F32", "[2]", 4, 8) + "}", new byte[8]),
        "data_offsets [4, 8] hold 4 bytes, but dtype F32 and shape [2] need 8");
    // the largest array Java holds has 2^31 - 9 elements: such a shape is no error of its own
    CheckpointException e = rejects(craftAligned("{" + entry("w", "F32", "[2147483639]", 0, 4) + "}", new byte[8]),
        "hold 4 bytes, but dtype F32 and shape [2147483639] need 8589934556");
    assertFalse(e.getMessage().contains("more than a Java array holds"), e.getMessage());
    rejects(craftAligned("{" + entry("w", "F32", "[2147483640]", 0, 4) + "}", new byte[8]),
        "has 2147483640 elements, more than a Java array holds (2147483639)");
  }

  @Test
  void aFolderIsNamedAsOne() {
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(dir));
    assertTrue(e.getMessage().startsWith(dir + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("folder"), e.getMessage());
  }
}
