package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reader of {@code torch.save} files, against files written by PyTorch 1.13 ({@code docs/diffusers_reference.py
 * fixtures}: float32, float64, float16 and bfloat16 tensors, a non-contiguous view, a shared storage, a scalar, in
 * the zip and the legacy format, and ermongroup/ddim's {@code [model, optimizer, epoch, step, ema]} list), and
 * against hostile and damaged files.
 */
class TorchCheckpointTest {
  @TempDir
  Path dir;

  private Path resource(String name) throws IOException {
    Path p = dir.resolve(name);
    try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("torch/" + name)) {
      Files.copy(in, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return p;
  }

  private static JsonNode expected() throws IOException {
    try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("torch/expected.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"state_dict_zip.pt", "state_dict_legacy.pt"})
  void readsWhatTorchSaveWrites(String name) throws IOException {
    JsonNode expected = expected();
    try (TorchCheckpoint c = TorchCheckpoint.open(resource(name))) {
      assertEquals(List.of(""), c.stateDictNames());
      StateDict sd = c.stateDict("");
      assertEquals(expected.size(), sd.size());
      for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        int[] shape = e.getValue().get("shape").isEmpty() ? new int[] {1} : new ObjectMapper().convertValue(
            e.getValue().get("shape"), int[].class);
        assertEquals(Shape.of(shape), sd.get(e.getKey()).shape(), e.getKey());
        float[] want = new float[e.getValue().get("values").size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = (float) e.getValue().get("values").get(i).asDouble();
        }
        assertArrayEquals(want, sd.get(e.getKey()).toArray(), e.getKey());
        assertArrayEquals(shape, c.shapes("").get(e.getKey()), e.getKey());
      }
    }
  }

  /**
   * {@code torch.save(..., pickle_protocol=4)} of a Lightning-style {@code {'state_dict', 'ema', 'epoch'}} dict
   * ({@code torch/make_checkpoint_v4.py}): FRAME, MEMOIZE, STACK_GLOBAL and LONG_BINGET; 40 views of one storage, a
   * dimension of 200, a stride of 0, half subnormals, infinities and NaN, bfloat16 and a transposed float64. Every
   * value must have the bits of PyTorch's own {@code tensor.float()} (NaN payloads aside).
   */
  @Test
  void readsProtocol4AsTorchSaveWritesIt() throws IOException {
    JsonNode expected;
    try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("torch/checkpoint_v4.json")) {
      expected = new ObjectMapper().readTree(in);
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(resource("checkpoint_v4.pt"))) {
      assertEquals(List.of("state_dict", "ema"), c.stateDictNames());
      assertEquals("a dict with 3 keys [state_dict, ema, epoch]", c.describeRoot());
      for (String name : List.of("state_dict", "ema")) {
        StateDict sd = c.stateDict(name);
        JsonNode want = expected.get(name);
        assertEquals(List.copyOf(iterable(want.fieldNames())), List.copyOf(sd.names()), name);
        for (Iterator<Map.Entry<String, JsonNode>> it = want.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          String where = name + "/" + e.getKey();
          int[] shape = e.getValue().get("shape").isEmpty() ? new int[] {1}
              : new ObjectMapper().convertValue(e.getValue().get("shape"), int[].class);
          assertArrayEquals(shape, c.shapes(name).get(e.getKey()), where);
          float[] got = sd.get(e.getKey()).toArray();
          JsonNode bits = e.getValue().get("bits");
          assertEquals(bits.size(), got.length, where);
          for (int i = 0; i < got.length; i++) {
            assertEquals(Float.floatToIntBits(Float.intBitsToFloat(bits.get(i).asInt())), Float.floatToIntBits(got[i]),
                where + "[" + i + "] = " + got[i]);
          }
        }
      }
    }
  }

  private static <T> List<T> iterable(Iterator<T> it) {
    List<T> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  @Test
  void findsTheModelAndTheAverageInTheDdimAuthorsList() throws IOException {
    Path file = resource("ddim_list.pth");
    try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
      assertEquals(List.of("[0]", "[4]"), c.stateDictNames(), "the optimizer state is no state dict of tensors");
      StateDict ema = c.stateDict("[4]");
      assertEquals(List.of("module.conv.weight", "module.conv.bias"), List.copyOf(ema.names()));
      assertEquals(1f, ema.get("module.conv.bias").get(2));
      assertEquals(0.5f, ema.get("module.conv.weight").get(0), "base[1][0][0] = 12 / 8 - 1");
      assertEquals("a list of 5 items", c.describeRoot());
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict("[1]"));
      assertEquals(file + ": holds no state dict at '[1]'; state dicts are at [[0], [4]]", e.getMessage(),
          "the place asked for, and those there are");
    }
  }

  private Path zipWith(byte[] pickle, Map<String, byte[]> storages) throws IOException {
    return TorchFiles.zip(Files.createTempFile(dir, "x", ".pt"), pickle, storages);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void namesOutsideTheStateDictVocabularyAreNeverCalled() throws IOException {
    Path marker = dir.resolve("pwned");
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {(byte) 0x80, 2});
    b.writeBytes(ascii("cposix\nsystem\n"));
    String cmd = "touch " + marker;
    b.write(0x8c);
    b.write(cmd.length());
    b.writeBytes(ascii(cmd));
    b.writeBytes(new byte[] {(byte) 0x85, 'R', '.'});
    Path p = zipWith(b.toByteArray(), Map.of());
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(List.of(), c.stateDictNames());
      assertEquals("a posix.system(...)", c.describeRoot());
      assertThrows(CheckpointException.class, () -> c.stateDict(""));
    }
    assertTrue(Files.notExists(marker));
  }

  /**
   * The pickle of {@code {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), OFFSET, SIZE, STRIDE,
   * False, OrderedDict())}}, with the pickle opcodes of the offset, size and stride given.
   */
  private static byte[] oneTensor(String offsetSizeStride) {
    return oneTensor("K\u0002", offsetSizeStride);
  }

  /** {@link #oneTensor(String)} with the opcodes of the storage's element count given too. */
  private static byte[] oneTensor(String storageElements, String offsetSizeStride) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {(byte) 0x80, 2, '}'});
    b.write(0x8c);
    b.write(1);
    b.write('w');
    b.writeBytes(ascii("ctorch._utils\n_rebuild_tensor_v2\n("));
    b.writeBytes(ascii("(X\u0007\0\0\0storagectorch\nFloatStorage\nX\u0001\0\0\0" + "0" + "X\u0003\0\0\0cpu"
        + storageElements + "tQ"));
    b.writeBytes(ascii(offsetSizeStride + "\u0089ccollections\nOrderedDict\n)Rt"));
    b.writeBytes(ascii("Rs."));
    return b.toByteArray();
  }

  /**
   * Two views that repeat one stored element, each of whose float32 values fits in the heap (0.55 of it), but not
   * both: the state dict promises more float32 values than the heap holds, said before any is allocated, naming the
   * file (read one by one, the second ended in an {@code OutOfMemoryError}; an int8 or bool file of a third of the
   * heap does the same, as each byte becomes four).
   */
  @Test
  void tensorsTogetherLargerThanTheHeapAreRefusedBeforeAnyIsAllocated() throws IOException {
    long heap = Runtime.getRuntime().maxMemory();
    long n = heap * 55 / 100 / 4;
    org.junit.jupiter.api.Assumptions.assumeTrue(n <= Integer.MAX_VALUE - 8, "needs a heap below 14 GB");
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {(byte) 0x80, 2, '}'});
    for (String name : new String[] {"a", "b"}) {
      // 'NAME': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 0, (n,), (0,), False, OrderedDict())
      b.writeBytes(new byte[] {(byte) 0x8c, 1, (byte) name.charAt(0)});
      b.writeBytes(ascii("ctorch._utils\n_rebuild_tensor_v2\n((X\u0007\0\0\0storagectorch\nFloatStorage\nX\u0001\0\0\0"
          + "0X\u0003\0\0\0cpuK\u0002tQK\0J"));
      b.writeBytes(TorchFiles.littleEndian(4, buf -> buf.putInt((int) n)));
      b.writeBytes(ascii("\u0085K\0\u0085\u0089ccollections\nOrderedDict\n)RtRs"));
    }
    b.write('.');
    Path p = zipWith(b.toByteArray(), Map.of("0", new byte[8]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertArrayEquals(new int[] {(int) n}, c.shapes("").get("b"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertEquals(p + ": its 2 tensors have " + 2 * n + " elements together (" + (2 * n >> 18) + " MB as float32), "
          + "more than this JVM's heap of at most " + (heap >> 20) + " MB holds; give it a larger heap (-Xmx)",
          e.getMessage());
    }
  }

  /**
   * A view with strides of 0 repeats one stored element as often as its shape says: 8 bytes of storage asking for
   * 2,147,418,112 float32 values (8 GB, more than the tests' 2 GB heap) is refused before the array is allocated,
   * naming the tensor and the heap (it was an {@code OutOfMemoryError}, or with a larger heap gigabytes taken and
   * filled one element at a time).
   */
  @Test
  void aRepeatingViewLargerThanTheHeapIsRefusedBeforeItIsAllocated() throws IOException {
    long n = 65536L * 32767;
    org.junit.jupiter.api.Assumptions.assumeTrue(4 * n > Runtime.getRuntime().maxMemory(), "needs a heap below 8 GB");
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 0, (65536, 32767), (0, 0), False, ...)}
    Path p = zipWith(oneTensor("K\0J\0\0\u0001\0M\u00ff\u007f\u0086K\0K\0\u0086"), Map.of("0", new byte[8]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertArrayEquals(new int[] {65536, 32767}, c.shapes("").get("w"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertEquals(p + ": tensor 'w' has " + n + " elements (" + (4 * n >> 20) + " MB as float32), more than this "
          + "JVM's heap of at most " + (Runtime.getRuntime().maxMemory() >> 20) + " MB holds; give it a larger heap "
          + "(-Xmx)", e.getMessage());
    }
  }

  /**
   * A view repeating one stored value (a stride of 0, as {@code expand()} makes) is read as the values it shows, but
   * is no model parameter: {@code parameters} refuses it, naming the dimension, whatever the heap (a tiny file could
   * otherwise fill gigabytes of a large one).
   */
  @Test
  void aRepeatingViewIsReadButIsNoParameter() throws IOException {
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 1, (3, 1), (0, 1), False, OrderedDict())}
    Path p = zipWith(oneTensor("K\u0001K\u0003K\u0001\u0086K\0K\u0001\u0086"),
        Map.of("0", TorchFiles.littleEndian(8, b -> b.putFloat(1f).putFloat(2.5f))));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, c.stateDict("").get("w").toArray());
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.parameters(""));
      assertEquals(p + ": tensor 'w' repeats its values along dimension 0 (a stride of 0: an expanded view); a model "
          + "parameter is stored whole (save it after .contiguous())", e.getMessage());
    }
  }

  @Test
  void aTensorOutsideItsStorageIsRefused() throws IOException {
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 0, (1000,), (1,), False, OrderedDict())}
    Path p = zipWith(oneTensor("K\0M\u00e8\u0003\u0085K\u0001\u0085"), Map.of("0", new byte[8]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(List.of(""), c.stateDictNames());
      assertArrayEquals(new int[] {1000}, c.shapes("").get("w"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertTrue(e.getMessage().contains("reaches element 999 of storage '0', which has 2"), e.getMessage());
    }
  }

  /** The last element of a storage is in it, the one after is not (an off-by-one would read the next storage). */
  @Test
  void aTensorMayEndAtTheLastElementOfItsStorageAndNoFurther() throws IOException {
    byte[] storage = {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}; // 1f, 2f
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 1, (1,), (1,), ...)}: the last element
    try (TorchCheckpoint c = TorchCheckpoint.open(zipWith(oneTensor("K\u0001K\u0001\u0085K\u0001\u0085"),
        Map.of("0", storage)))) {
      assertArrayEquals(new float[] {2f}, c.stateDict("").get("w").toArray());
    }
    // offset 1, size (2,): elements 1 and 2 of a 2-element storage
    Path p = zipWith(oneTensor("K\u0001K\u0002\u0085K\u0001\u0085"), Map.of("0", storage));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertEquals(p + ": tensor 'w' reaches element 2 of storage '0', which has 2", e.getMessage());
    }
  }

  /** A storage entry longer than its element count is as malformed as a shorter one, or a missing one. */
  @Test
  void aStorageEntryOfAnotherSizeThanItsElementsIsRefused() throws IOException {
    for (int bytes : new int[] {4, 12}) {
      Path p = zipWith(oneTensor("K\0K\u0002\u0085K\u0001\u0085"), Map.of("0", new byte[bytes]));
      try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
        assertEquals(p + ": storage '0' holds " + bytes + " bytes but its 2 elements need 8", e.getMessage());
      }
    }
    // a storage the pickle names with no entry at all (a zip cut before it, or an entry renamed) is named too
    Path p = zipWith(oneTensor("K\0K\u0002\u0085K\u0001\u0085"), Map.of());
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertEquals(p + ": storage '0' has no entry archive/data/0", e.getMessage());
    }
  }

  /** Tensors of rank 8 (the most read) are read; rank 9 is no tensor of a state dict. */
  @Test
  void tensorsUpToRank8AreRead() throws IOException {
    byte[] storage = {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}; // 1f, 2f
    String ones8 = "(" + "K\u0001".repeat(8) + "t";
    try (TorchCheckpoint c = TorchCheckpoint.open(zipWith(oneTensor("K\u0001" + ones8 + ones8), Map.of("0", storage)))) {
      assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1}, c.shapes("").get("w"));
      assertArrayEquals(new float[] {2f}, c.stateDict("").get("w").toArray());
    }
    String ones9 = "(" + "K\u0001".repeat(9) + "t";
    try (TorchCheckpoint c = TorchCheckpoint.open(zipWith(oneTensor("K\u0000" + ones9 + ones9), Map.of("0", storage)))) {
      assertEquals(List.of(), c.stateDictNames());
    }
  }

  /** torch.save writes one pickle per archive: two data.pkl entries leave it unknown which is the checkpoint. */
  @Test
  void aZipWithTwoPicklesIsRefused() throws IOException {
    byte[] pickle = oneTensor("K\0K\u0002\u0085K\u0001\u0085");
    Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("a/data.pkl", pickle);
    entries.put("a/data/0", new byte[8]);
    entries.put("b/data.pkl", pickle);
    Path p = zipWithEntries(entries);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": a zip archive with 2 data.pkl entries; torch.save writes exactly one", e.getMessage());
  }

  /**
   * The legacy fixture's system-info pickle (bytes 21 to 137) holds {@code 'little_endian': True} as NEWTRUE at byte
   * 73 ({@code python3 -m pickletools}); NEWFALSE there is a file from a big-endian machine, whose storages are not
   * little-endian.
   */
  @Test
  void aLegacyFileFromABigEndianMachineIsRefused() throws IOException {
    byte[] legacy = Files.readAllBytes(resource("state_dict_legacy.pt"));
    assertEquals((byte) 0x88, legacy[73]);
    legacy[73] = (byte) 0x89;
    Path p = dir.resolve("big.pt");
    Files.write(p, legacy);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": written on a big-endian machine; only little-endian files are read", e.getMessage());
  }

  /** Each dimension fits an int, their product does not: named with the file, not a bare "shape ... has more". */
  @Test
  void aShapeWithTooManyElementsIsNamedWithItsFile() throws IOException {
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, 2 elements), 0, (65536, 65536), (65536, 1), ...)}
    Path p = zipWith(oneTensor("K\0J\0\0\u0001\0J\0\0\u0001\0\u0086J\0\0\u0001\0K\u0001\u0086"),
        Map.of("0", new byte[8]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(List.of(""), c.stateDictNames());
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.shapes(""));
      assertEquals(p + ": tensor 'w' has shape [65536, 65536], more than the 2147483639 elements an array holds",
          e.getMessage());
      assertThrows(CheckpointException.class, () -> c.stateDict(""));
    }
  }

  /** 64 MiB of zeros deflate to 64 KB: refused before the storage is allocated, naming the entry. */
  @Test
  void aStorageThatInflatesFarBeyondItsSizeIsRefused() throws IOException {
    int n = 16 << 20;
    // {'w': _rebuild_tensor_v2(storage('0', FloatStorage, n), 0, (n,), (1,), False, OrderedDict())}
    Path p = zipWith(oneTensor("J\0\0\0\u0001", "K\0J\0\0\0\u0001\u0085K\u0001\u0085"), Map.of("0", new byte[4 * n]));
    assertTrue(Files.size(p) < 1 << 20, "deflated: " + Files.size(p));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertArrayEquals(new int[] {n}, c.shapes("").get("w"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertTrue(e.getMessage().startsWith(p + ": archive/data/0 inflates from "), e.getMessage());
      assertTrue(e.getMessage().endsWith("torch.save stores entries uncompressed (a zip bomb?)"), e.getMessage());
    }
  }

  @Test
  void aHugeDeclaredLengthIsRefusedBeforeAnythingIsAllocated() throws IOException {
    byte[] pickle = {(byte) 0x80, 2, 'X', (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, '.'};
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(zipWith(pickle, Map.of())));
    assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
  }

  /** A dict key whose hash recurses forever (a list holding itself) or takes 2^60 steps (a tuple of a tuple ...). */
  @Test
  void nestedDictKeysAreRefusedWithoutHashingThem() throws IOException {
    // {([L],): 1} with L = [L]
    byte[] cyclic = {(byte) 0x80, 2, '}', ']', 'q', 1, 'h', 1, 'a', (byte) 0x85, 'K', 1, 's', '.'};
    // {t60: 1} with t0 = () and t(i+1) = (ti, ti), each built from the memo
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {(byte) 0x80, 2, '}', ')', 'q', 1, '0'});
    for (int i = 0; i < 60; i++) {
      b.writeBytes(new byte[] {'h', 1, 'h', 1, (byte) 0x86, 'q', 1, '0'});
    }
    b.writeBytes(new byte[] {'h', 1, 'K', 1, 's', '.'});
    for (byte[] pickle : List.of(cyclic, b.toByteArray())) {
      Path p = zipWith(pickle, Map.of());
      CheckpointException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p)));
      assertTrue(e.getMessage().startsWith(p + ": archive/data.pkl: pickle at byte "), e.getMessage());
      assertTrue(e.getMessage().contains("a dict key that is a "), e.getMessage());
    }
  }

  /** Each MARK is a stack entry: a compressed data.pkl of 200 MB of '(' took more than 2 GB of heap. */
  @Test
  void deeplyNestedMarksAreRefused() throws IOException {
    byte[] pickle = new byte[Pickle.MAX_MARKS + 10];
    java.util.Arrays.fill(pickle, (byte) '(');
    pickle[0] = (byte) 0x80;
    pickle[1] = 2;
    Path p = zipWith(pickle, Map.of());
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().contains("more than " + Pickle.MAX_MARKS + " nested MARKs"), e.getMessage());
  }

  /** Messages about the legacy pickles never print a value, which may nest deeper than the Java stack. */
  @Test
  void aDeeplyNestedLegacyPickleFailsWithAMessage() throws IOException {
    byte[] legacy = Files.readAllBytes(resource("state_dict_legacy.pt"));
    int n = 200_000;
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    // the legacy file's first pickle (the magic number, protocol 2: 0x80 0x02 0x8a 0x0a and 10 bytes, '.')
    b.write(legacy, 0, 15);
    b.writeBytes(new byte[] {(byte) 0x80, 2});
    b.writeBytes(("]".repeat(n) + "a".repeat(n - 1) + ".").getBytes(StandardCharsets.ISO_8859_1));
    Path p = dir.resolve("deep.pt");
    Files.write(p, b.toByteArray());
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": legacy protocol list; only 1001 is known", e.getMessage());
  }

  /** A safetensors file under a torch.save name (diffusion_pytorch_model.bin) is named for what it is. */
  @Test
  void aSafetensorsFileIsNamedForWhatItIs() throws IOException {
    Path p = dir.resolve("diffusion_pytorch_model.bin");
    Files.write(p, SafeTensorsTest.craft("{\"__metadata__\":{\"format\":\"pt\"}}", 4, new byte[0]));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": not a PyTorch checkpoint but a safetensors file (torch.save writes a zip archive or, before "
        + "PyTorch 1.6, a pickle)", e.getMessage());
  }

  @Test
  void otherFilesAreNamedForWhatTheyAreNot() throws IOException {
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "hello");
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(text));
    assertTrue(e.getMessage().startsWith(text + ": not a PyTorch checkpoint"), e.getMessage());
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(dir.resolve("missing.pt")));
    assertTrue(e.getMessage().endsWith("file not found"), e.getMessage());
    Path trunc = dir.resolve("truncated.pt");
    byte[] legacy = Files.readAllBytes(resource("state_dict_legacy.pt"));
    Files.write(trunc, java.util.Arrays.copyOf(legacy, legacy.length - 20));
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(trunc));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  /** A folder or a FIFO under the name is refused in words, before it is opened: a FIFO used to block forever. */
  @Test
  void aFolderOrAFifoIsNamedAndNeverBlocksTheReader() throws Exception {
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(dir));
    assertEquals(dir + ": is a folder, not a file", e.getMessage());
    Path fifo = dir.resolve("model.pt");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)
        && mk.exitValue() == 0, "mkfifo is available");
    e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
        () -> assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(fifo)));
    assertEquals(fifo + ": is not a regular file (a FIFO, socket or device)", e.getMessage());
  }

  /** Random damage gives a state dict or a CheckpointException, never another exception, a hang or a huge allocation. */
  @Test
  void damagedFilesFailCleanly() throws IOException {
    byte[] legacy = Files.readAllBytes(resource("state_dict_legacy.pt"));
    byte[] pickle;
    try (ZipFile z = new ZipFile(resource("state_dict_zip.pt").toFile())) {
      pickle = z.getInputStream(z.getEntry("state_dict_zip/data.pkl")).readAllBytes();
    }
    Map<String, byte[]> storages = new java.util.HashMap<>();
    try (ZipFile z = new ZipFile(resource("state_dict_zip.pt").toFile())) {
      z.stream().filter(e -> e.getName().contains("/data/")).forEach(e -> {
        try {
          storages.put(e.getName().substring(e.getName().lastIndexOf('/') + 1), z.getInputStream(e).readAllBytes());
        } catch (IOException x) {
          throw new java.io.UncheckedIOException(x);
        }
      });
    }
    Random r = new Random(1);
    int ok = 0;
    for (int i = 0; i < 600; i++) {
      boolean zip = i % 2 == 0;
      byte[] b = (zip ? pickle : legacy).clone();
      int changes = 1 + r.nextInt(3);
      for (int j = 0; j < changes; j++) {
        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      }
      if (r.nextInt(8) == 0) {
        b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
      }
      Path p;
      if (zip) {
        p = zipWith(b, storages);
      } else {
        p = Files.createTempFile(dir, "l", ".pt");
        try (OutputStream out = Files.newOutputStream(p)) {
          out.write(b);
        }
      }
      try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
        for (String name : c.stateDictNames()) {
          c.stateDict(name);
        }
        ok++;
      } catch (CheckpointException expectedFailure) {
        assertTrue(expectedFailure.getMessage().startsWith(p.toString()), expectedFailure.getMessage());
      }
      Files.delete(p);
    }
    assertTrue(ok > 0 && ok < 600, ok + " of 600 damaged files still read");
  }

  /** Telling a FIFO's kind used to open and read it, blocking until a writer came: it is no torch file. */
  @Test
  void aFifoDoesNotLookLikeATorchFileAndIsNotRead() throws Exception {
    Path fifo = dir.resolve("weights.bin");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)
        && mk.exitValue() == 0, "mkfifo is available");
    assertFalse(assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
        () -> TorchCheckpoint.looksLikeTorchFile(fifo)));
  }

  @Test
  void looksLikeTorchFileByItsFirstFourBytes() throws IOException {
    assertTrue(TorchCheckpoint.looksLikeTorchFile(resource("state_dict_zip.pt")));
    assertTrue(TorchCheckpoint.looksLikeTorchFile(resource("state_dict_legacy.pt")));
    Path p = dir.resolve("x.bin");
    Files.write(p, new byte[] {(byte) 0x80, 2, 0, 0});
    assertTrue(TorchCheckpoint.looksLikeTorchFile(p), "a pickle");
    Files.write(p, new byte[] {(byte) 0x80, 2, 0});
    assertFalse(TorchCheckpoint.looksLikeTorchFile(p), "three bytes");
    Files.write(p, new byte[] {'P', 'K', 3, 5});
    assertFalse(TorchCheckpoint.looksLikeTorchFile(p), "not the zip magic");
    Files.writeString(p, "hello");
    assertFalse(TorchCheckpoint.looksLikeTorchFile(p));
    assertFalse(TorchCheckpoint.looksLikeTorchFile(dir.resolve("missing.pt")));
  }

  @Test
  void shortAndTarFilesAreNamedForWhatTheyAre() throws IOException {
    Path p = dir.resolve("x.pt");
    Files.write(p, new byte[0]);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().startsWith(p + ": not a PyTorch checkpoint"), e.getMessage());
    // just the zip magic: read as a zip archive, which it is not
    Files.write(p, new byte[] {'P', 'K', 3, 4});
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().startsWith(p + ": not a readable zip archive"), e.getMessage());
    // a tar header is 512 bytes with "ustar" at 257: 262 bytes are enough to tell
    byte[] tar = new byte[262];
    System.arraycopy(ascii("ustar"), 0, tar, 257, 5);
    Files.write(p, tar);
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().startsWith(p + ": a tar archive (PyTorch before 0.4)"), e.getMessage());
    Files.write(p, java.util.Arrays.copyOf(tar, 261));
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().startsWith(p + ": not a PyTorch checkpoint"), e.getMessage());
  }

  private Path zipWithEntries(Map<String, byte[]> entries) throws IOException {
    Path p = Files.createTempFile(dir, "x", ".pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return p;
  }

  /** The byteorder entry takes at most 16 bytes, surrounding blanks ignored; "big" is refused. */
  @Test
  void theByteOrderEntryIsRead() throws IOException {
    byte[] pickle = oneTensor("K\0K\u0002\u0085K\u0001\u0085");
    byte[] storage = {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}; // 1f, 2f
    Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("archive/data.pkl", pickle);
    entries.put("archive/data/0", storage);
    entries.put("archive/byteorder", ascii("          little"));
    try (TorchCheckpoint c = TorchCheckpoint.open(zipWithEntries(entries))) {
      assertArrayEquals(new float[] {1f, 2f}, c.stateDict("").get("w").toArray());
    }
    entries.put("archive/byteorder", ascii("           little"));
    Path p = zipWithEntries(entries);
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": archive/byteorder holds 17 bytes, more than the 16 a state dict's pickle needs", e.getMessage());
    entries.put("archive/byteorder", ascii("big"));
    Path big = zipWithEntries(entries);
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(big));
    assertEquals(big + ": byte order 'big'; only little-endian files are read", e.getMessage());
  }

  /**
   * Compressed entries up to 1 MiB, or expanding at most 100 times, are read; a compressed pickle that expands more
   * is refused like a compressed storage.
   */
  @Test
  void compressedEntriesAreReadUnlessTheyExpandTooMuch() throws IOException {
    int n = (1 << 20) / 4; // exactly 1 MiB of float zeros: deflates about 1000 times, still read
    Path p = zipWith(oneTensor("J\0\0\u0004\0", "K\0J\0\0\u0004\0\u0085K\u0001\u0085"), Map.of("0", new byte[4 * n]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(0f, c.stateDict("").get("w").get(n - 1));
    }
    // 2 MiB of random floats do not deflate: read
    int m = 2 * n;
    byte[] noise = new byte[4 * m];
    new Random(3).nextBytes(noise);
    for (int i = 3; i < noise.length; i += 4) {
      noise[i] &= 0x3f; // finite floats
    }
    Path q = zipWith(oneTensor("J\0\0\u0008\0", "K\0J\0\0\u0008\0\u0085K\u0001\u0085"), Map.of("0", noise));
    try (TorchCheckpoint c = TorchCheckpoint.open(q)) {
      assertEquals(java.nio.ByteBuffer.wrap(noise).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat(4 * (m - 1)),
          c.stateDict("").get("w").get(m - 1));
    }
    Path bomb = zipWith(new byte[2 << 20], Map.of());
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(bomb));
    assertTrue(e.getMessage().startsWith(bomb + ": archive/data.pkl inflates from "), e.getMessage());
  }

  @Test
  void aTruncatedPickleIsNamedWithItsEntry() throws IOException {
    byte[] pickle = oneTensor("K\0K\u0002\u0085K\u0001\u0085");
    Path p = zipWith(java.util.Arrays.copyOf(pickle, pickle.length - 1), Map.of("0", new byte[8]));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertTrue(e.getMessage().startsWith(p + ": archive/data.pkl: the pickle ends before its STOP opcode"),
        e.getMessage());
  }

  /**
   * A legacy file holding {@code {'w': _rebuild_tensor_v2(storage '0' of 4 floats 10, 11, 12, 13 [viewed as
   * VIEW], 0, (2,), (1,), False, OrderedDict())}}: the header pickles of the fixture, the body, the storage list
   * ['0'], then the storage's element count and floats.
   */
  private Path legacyWithView(String view) throws IOException {
    byte[] fixture = Files.readAllBytes(resource("state_dict_legacy.pt"));
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(fixture, 0, 137); // magic number, protocol 1001, system info
    b.writeBytes(oneTensor("K\u0004" + view, "K\0K\u0002\u0085K\u0001\u0085"));
    b.writeBytes(new byte[] {(byte) 0x80, 2, ']', 'X', 1, 0, 0, 0, '0', 'a', '.'});
    java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(8 + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    data.putLong(4).putFloat(10).putFloat(11).putFloat(12).putFloat(13);
    b.writeBytes(data.array());
    Path p = Files.createTempFile(dir, "legacy", ".pt");
    Files.write(p, b.toByteArray());
    return p;
  }

  /** A legacy storage id may name a view (key, offset, size) of a larger storage: the tensor starts at its offset. */
  @Test
  void legacyStorageViewsAreReadWithinTheirStorage() throws IOException {
    try (TorchCheckpoint c = TorchCheckpoint.open(legacyWithView("N"))) {
      assertArrayEquals(new float[] {10, 11}, c.stateDict("").get("w").toArray());
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(legacyWithView("(X\u0001\0\0\0vK\u0000K\u0002t"))) {
      assertArrayEquals(new float[] {10, 11}, c.stateDict("").get("w").toArray(), "a view from the storage's start");
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(legacyWithView("(X\u0001\0\0\0vK\u0001K\u0002t"))) {
      assertArrayEquals(new float[] {11, 12}, c.stateDict("").get("w").toArray());
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(legacyWithView("(X\u0001\0\0\0vK\u0002K\u0002t"))) {
      assertArrayEquals(new float[] {12, 13}, c.stateDict("").get("w").toArray(), "a view up to the storage's end");
    }
    for (String bad : List.of("(X\u0001\0\0\0vK\u0003K\u0002t", "(X\u0001\0\0\0vJ\u00ff\u00ff\u00ff\u00ffK\u0002t",
        "(X\u0001\0\0\0vK\u0000J\u00ff\u00ff\u00ff\u00fft", "(X\u0001\0\0\0vK\u0001t", "K\u0001")) {
      Path p = legacyWithView(bad);
      CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p), bad);
      assertEquals(p + ": a malformed storage view of '0'", e.getMessage());
    }
  }

  /**
   * A checkpoint closes its file when closed, and when the file is refused as it is opened: in both formats (on
   * Windows a file left open can be neither deleted nor replaced, and a long-lived process runs out of descriptors).
   */
  @Test
  void aCheckpointLeavesNoFileOpenWhetherItReadsOrRefuses() throws IOException {
    for (Path p : List.of(resource("state_dict_zip.pt"), resource("state_dict_legacy.pt"))) {
      try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
        assertEquals(1, OpenFiles.in(dir), p + " open while read");
        for (String name : c.stateDictNames()) {
          c.stateDict(name);
        }
      }
      assertEquals(0, OpenFiles.in(dir), p + " closed");
    }
    byte[] pickle = oneTensor("K\0K\u0002\u0085K\u0001\u0085");
    Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("a/data.pkl", pickle);
    entries.put("b/data.pkl", pickle);
    Path twoPickles = zipWithEntries(entries);
    Path badView = legacyWithView("K\u0001");
    for (Path p : List.of(twoPickles, badView)) {
      assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
      assertEquals(0, OpenFiles.in(dir), p + " closed when refused");
    }
  }

  /** Truncation named by where it cuts: in the pickles, in a storage's element count, in its data. */
  @Test
  void truncatedLegacyFilesSayWhatIsMissing() throws IOException {
    byte[] legacy = Files.readAllBytes(resource("state_dict_legacy.pt"));
    // the fixture's last storage, '856978144' (24 floats), has its element count at byte 1026 and ends the file
    assertEquals(1130, legacy.length);
    Path p = dir.resolve("cut.pt");
    Files.write(p, java.util.Arrays.copyOf(legacy, 500));
    CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": the pickle ends before its STOP opcode at byte 500 (truncated)", e.getMessage());
    Files.write(p, java.util.Arrays.copyOf(legacy, 1034));
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": truncated: storage '856978144' runs past the end of the file", e.getMessage());
    Files.write(p, java.util.Arrays.copyOf(legacy, 1033));
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": truncated: storage '856978144' is missing", e.getMessage());
    Files.write(p, java.util.Arrays.copyOf(legacy, 1129));
    e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p));
    assertEquals(p + ": truncated: storage '856978144' runs past the end of the file", e.getMessage());
  }

  /** The argument tuple of {@code _rebuild_tensor_v2}: the 2-float storage '0', offset 0, size (2,), stride (1,). */
  private static final String TENSOR_ARGS = "((X\u0007\0\0\0storagectorch\nFloatStorage\nX\u0001\0\0\0"
      + "0X\u0003\0\0\0cpuK\u0002tQK\0K\u0002\u0085K\u0001\u0085\u0089ccollections\nOrderedDict\n)Rt";

  /**
   * An {@code nn.Parameter} is pickled as {@code _rebuild_parameter(tensor, requires_grad, hooks)}, a tensor
   * subclass as {@code _rebuild_from_type_v2(function, type, args, state)}: both are read as the tensor inside.
   */
  @Test
  void parametersAndTensorSubclassesAreReadAsTheirTensors() throws IOException {
    byte[] storage = {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}; // 1f, 2f
    // {'w': _rebuild_parameter(_rebuild_tensor_v2(ARGS), True, OrderedDict())}
    String parameter = "\u0080\u0002}\u008c\u0001wctorch._utils\n_rebuild_parameter\n(ctorch._utils\n_rebuild_tensor_v2\n"
        + TENSOR_ARGS + "R\u0088ccollections\nOrderedDict\n)RtRs.";
    // {'w': _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, ARGS, {})}
    String subclass = "\u0080\u0002}\u008c\u0001wctorch._tensor\n_rebuild_from_type_v2\n(ctorch._utils\n"
        + "_rebuild_tensor_v2\nctorch\nTensor\n" + TENSOR_ARGS + "}tRs.";
    for (String pickle : List.of(parameter, subclass)) {
      Path p = zipWith(ascii(pickle), Map.of("0", storage));
      try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
        assertEquals("a dict with 1 key [w]", c.describeRoot());
        assertArrayEquals(new float[] {1f, 2f}, c.stateDict("").get("w").toArray(), pickle);
      }
    }
  }

  /**
   * A BatchNorm's state dict holds an int64 scalar, {@code num_batches_tracked}, beside its float parameters and
   * buffers; integer and bool buffers are read (as float32 values), with their dtypes, and a file holding one is
   * readable, not refused whole.
   */
  @Test
  void integerAndBoolTensorsAreReadWithTheirDtypes() throws IOException {
    Map<String, byte[]> storages = new java.util.LinkedHashMap<>();
    storages.put("0", TorchFiles.littleEndian(8, b -> b.putFloat(1.5f).putFloat(-2f)));
    storages.put("1", TorchFiles.littleEndian(8, b -> b.putLong(1234)));
    storages.put("2", TorchFiles.littleEndian(12, b -> b.putInt(-7).putInt(0).putInt(1 << 24)));
    storages.put("3", TorchFiles.littleEndian(2, b -> b.put((byte) 1).put((byte) 0)));
    storages.put("4", TorchFiles.littleEndian(2, b -> b.put((byte) 200).put((byte) -3)));
    Path p = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("bn.weight", "Float", "0", 2, 2),
        new TorchFiles.Tensor("bn.num_batches_tracked", "Long", "1", 1), new TorchFiles.Tensor("step", "Int", "2", 3, 3),
        new TorchFiles.Tensor("mask", "Bool", "3", 2, 2), new TorchFiles.Tensor("bytes", "Byte", "4", 2, 2)), storages);
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(List.of(""), c.stateDictNames());
      assertEquals(Map.of("bn.weight", "float32", "bn.num_batches_tracked", "int64", "step", "int32", "mask", "bool",
          "bytes", "uint8"), c.dtypes(""));
      StateDict sd = c.stateDict("");
      assertEquals(List.of("bn.weight", "bn.num_batches_tracked", "step", "mask", "bytes"), List.copyOf(sd.names()));
      assertArrayEquals(new float[] {1.5f, -2f}, sd.get("bn.weight").toArray());
      assertEquals(Shape.of(1), sd.get("bn.num_batches_tracked").shape(), "a scalar, as every scalar, is [1]");
      assertArrayEquals(new float[] {1234f}, sd.get("bn.num_batches_tracked").toArray());
      assertArrayEquals(new float[] {-7f, 0f, 1 << 24}, sd.get("step").toArray());
      assertArrayEquals(new float[] {1f, 0f}, sd.get("mask").toArray());
      assertArrayEquals(new float[] {200f, 253f}, sd.get("bytes").toArray(), "uint8, unsigned");
    }
  }

  /**
   * An integer tensor where a model needs a parameter is refused, naming the file, the tensor, its dtype and the
   * dtypes allowed; float tensors of each precision are parameters.
   */
  @Test
  void aParameterMustBeFloatingPoint() throws IOException {
    Map<String, byte[]> storages = Map.of("0", TorchFiles.littleEndian(8, b -> b.putDouble(0.25)),
        "1", TorchFiles.littleEndian(2, b -> b.putShort((short) 0x3c00)), "2", new byte[8]);
    TorchFiles.Tensor f64 = new TorchFiles.Tensor("a", "Double", "0", 1, 1);
    TorchFiles.Tensor f16 = new TorchFiles.Tensor("b", "Half", "1", 1, 1);
    try (TorchCheckpoint c = TorchCheckpoint.open(zipWith(TorchFiles.stateDict(f64, f16), storages))) {
      assertArrayEquals(new float[] {0.25f}, c.parameters("").get("a").toArray());
      assertArrayEquals(new float[] {1f}, c.parameters("").get("b").toArray());
    }
    Path p = zipWith(TorchFiles.stateDict(f64, new TorchFiles.Tensor("conv.weight", "Long", "2", 1, 1, 1, 1, 1)),
        storages);
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(Map.of("a", new int[] {1}, "conv.weight", new int[] {1, 1, 1, 1}).keySet(), c.shapes("").keySet());
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.parameters(""));
      assertEquals(p + ": tensor 'conv.weight' is int64; a model parameter must be float32, float64, float16 or "
          + "bfloat16", e.getMessage());
    }
  }

  /**
   * A tensor with a zero dimension (its storage empty, or holding other tensors) keeps its shape; it has no values
   * to read, which stateDict says; the other tensors of the file are read.
   */
  @Test
  void anEmptyTensorKeepsItsShape() throws IOException {
    Map<String, byte[]> storages = Map.of("0", TorchFiles.littleEndian(8, b -> b.putFloat(1).putFloat(2)),
        "1", new byte[0]);
    Path p = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("w", "Float", "0", 2, 2),
        new TorchFiles.Tensor("empty", "Float", "0", 2, 0, 3), new TorchFiles.Tensor("ids", "Long", "1", 0, 4, 0)),
        storages);
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertArrayEquals(new int[] {0, 3}, c.shapes("").get("empty"));
      assertArrayEquals(new int[] {4, 0}, c.shapes("").get("ids"));
      assertEquals("int64", c.dtypes("").get("ids"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
      assertEquals(p + ": tensor 'empty' has shape [0, 3]: an empty tensor (a zero dimension) has no values "
          + "to read; a tensor read needs every dimension at least 1", e.getMessage());
    }
    // a zero dimension beside one larger than an array: still refused by its size, not read as empty
    Path huge = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("x", "Long", "1", 0, 0, 1L << 40)), storages);
    try (TorchCheckpoint c = TorchCheckpoint.open(huge)) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> c.shapes(""));
      assertEquals(huge + ": tensor 'x' has shape [0, 1099511627776]; dimensions must be between 0 and "
          + (Integer.MAX_VALUE - 8), e.getMessage());
    }
  }

  /**
   * An empty tensor is empty whatever the order of its dimensions: a zero after two dimensions whose product is
   * above an array's size is still 0 elements, as a zero before them is.
   */
  @Test
  void anEmptyTensorIsEmptyWhateverTheOrderOfItsDimensions() throws IOException {
    Path p = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("a", "Float", "0", 0, 0, 65536, 65536),
        new TorchFiles.Tensor("b", "Float", "0", 0, 65536, 65536, 0)), Map.of("0", new byte[0]));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      Map<String, int[]> shapes = c.shapes("");
      assertArrayEquals(new int[] {0, 65536, 65536}, shapes.get("a"));
      assertArrayEquals(new int[] {65536, 65536, 0}, shapes.get("b"));
    }
  }

  /**
   * An integer tensor's sizes are checked as a float's before anything is allocated: a storage claiming 2^27 int64
   * elements (1 GiB) over 8 bytes in the file, a tensor of 2^28 of them (2 GiB), a shape of more elements than an
   * array holds.
   */
  @Test
  void aHostileIntegerTensorIsRefusedBeforeItIsAllocated() throws IOException {
    Map<String, byte[]> storages = Map.of("0", new byte[8]);
    Path lying = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("n", "Long", "0", 1L << 27, 1L << 27)), storages);
    Path wide = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("n", "Long", "0", 1L << 28, 1L << 28)), storages);
    Path many = zipWith(TorchFiles.stateDict(new TorchFiles.Tensor("n", "Int", "0", 1L << 40, 1L << 20, 1L << 20)),
        storages);
    assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
      for (Path p : List.of(lying, wide, many)) {
        try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
          assertEquals(p == many ? "int32" : "int64", c.dtypes("").get("n"));
          CheckpointException e = assertThrows(CheckpointException.class, () -> c.stateDict(""));
          String expected = p == lying ? "storage '0' holds 8 bytes but its 134217728 elements need 1073741824"
              : p == wide ? "tensor 'n' spans more than 2 GB of its storage"
              : "tensor 'n' has shape [1048576, 1048576], more than the " + (Integer.MAX_VALUE - 8)
                  + " elements an array holds";
          assertEquals(p + ": " + expected, e.getMessage());
        }
      }
    });
  }
}
