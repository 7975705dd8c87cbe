package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader of sample files: what {@link SampleWriter} wrote, batch by batch; anything else refused in one line. */
class SampleReaderTest {
  @TempDir Path dir;

  private static final Shape IMAGE = Shape.of(3, 5, 5);

  private static float[] values(int n) {
    float[] v = new float[n * IMAGE.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.abs(Math.sin(i * 0.37));
    }
    return v;
  }

  private Path written(String name, int n) {
    Path f = dir.resolve(name);
    try (SampleWriter w = SampleWriter.create(f, IMAGE, n, Map.of("seed", "1"))) {
      w.write(values(n));
      w.commit();
    }
    return f;
  }

  private static float[] read(Path f, long n, int batch, List<Integer> sizes) {
    float[] all = new float[Math.toIntExact(n * IMAGE.size())];
    int[] at = {0};
    try (SampleReader r = SampleReader.open(f, IMAGE)) {
      r.forEachBatch(n, batch, b -> {
        sizes.add(b.length / IMAGE.size());
        System.arraycopy(b, 0, all, at[0], b.length);
        at[0] += b.length;
      });
    }
    return all;
  }

  @Test
  void readsBackWhatTheWriterWroteInBatches() {
    for (String name : new String[] {"s.npy", "s.safetensors"}) {
      Path f = written(name, 7);
      try (SampleReader r = SampleReader.open(f, IMAGE)) {
        assertEquals(7, r.count());
      }
      List<Integer> sizes = new ArrayList<>();
      assertArrayEquals(values(7), read(f, 7, 3, sizes), name);
      assertEquals(List.of(3, 3, 1), sizes);
      sizes.clear();
      assertArrayEquals(Arrays.copyOf(values(7), 5 * IMAGE.size()), read(f, 5, 4, sizes), name + ": the first 5");
      assertEquals(List.of(4, 1), sizes);
    }
  }

  private String refused(Path f) {
    return assertThrows(IllegalArgumentException.class, () -> SampleReader.open(f, IMAGE).close()).getMessage();
  }

  private Path edited(Path from, String name, String old, String now) throws IOException {
    byte[] b = Files.readAllBytes(from);
    String s = new String(b, StandardCharsets.ISO_8859_1);
    assertTrue(s.contains(old) && old.length() == now.length());
    Path f = dir.resolve(name);
    Files.write(f, s.replaceFirst(java.util.regex.Pattern.quote(old), now).getBytes(StandardCharsets.ISO_8859_1));
    return f;
  }

  @Test
  void aFolderIsRefusedNamingTheCommandThatScoresOne() throws IOException {
    // a folder of shards (diffusion spark sample's output) given where a file goes: it said "not a samples file"
    Path shards = Files.createDirectories(dir.resolve("spark-out"));
    assertEquals(shards + ": a folder, not a samples file; give the .npy or .safetensors file diffusion sample --out "
        + "wrote (diffusion spark eval --samples DIR scores the folder diffusion spark sample wrote)", refused(shards));
    Path named = Files.createDirectories(dir.resolve("folder.npy"));
    assertTrue(refused(named).startsWith(named + ": a folder, not a samples file;"), refused(named));
  }

  @Test
  void otherLayoutsAreRefusedNamingTheFileWhatWasFoundAndWhatIsAllowed() throws IOException {
    Path npy = written("a.npy", 4);
    Path st = written("a.safetensors", 4);
    Path f8 = edited(npy, "f8.npy", "<f4", "<f8");
    assertEquals(f8 + ": dtype '<f8'; allowed: '<f4' (float32, little-endian), as diffusion sample --out writes",
        refused(f8));
    Path fortran = edited(npy, "fortran.npy", "False", "True ");
    assertTrue(refused(fortran).startsWith(fortran + ": fortran_order True; allowed: False"), refused(fortran));
    // a well-formed file of float16 samples: the header, then 4 x 3 x 5 x 5 two-byte values
    Path f16 = dir.resolve("f16.safetensors");
    byte[] header = "{\"samples\":{\"dtype\":\"F16\",\"shape\":[4,3,5,5],\"data_offsets\":[0,600]}}"
        .getBytes(StandardCharsets.US_ASCII);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + header.length + 600).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    Files.write(f16, b.array());
    assertEquals(f16 + ": tensor 'samples' is float16; allowed: F32 (float32), as diffusion sample --out writes",
        refused(f16));
    // a header that does not fit its data is the safetensors reader's refusal
    Path halved = edited(st, "halved.safetensors", "\"F32\"", "\"F16\"");
    assertTrue(refused(halved).startsWith(halved + ": tensor 'samples': data_offsets [0, 1200] hold 1200 bytes, but "
        + "dtype F16 and shape [4,3,5,5] need 600"), refused(halved));
    Path other = edited(st, "other.safetensors", "\"samples\"", "\"weights\"");
    assertTrue(refused(other).startsWith(other + ": 1 tensor, none named 'samples'; allowed: one F32 tensor"),
        refused(other));
    assertEquals(npy + ": samples of shape [4, 3, 5, 5]; the model's are [N, 1, 5, 5]",
        assertThrows(IllegalArgumentException.class, () -> SampleReader.open(npy, Shape.of(1, 5, 5))).getMessage());
    Path longer = dir.resolve("longer.safetensors");
    Files.write(longer, Arrays.copyOf(Files.readAllBytes(st), (int) Files.size(st) + 4));
    assertEquals(longer + ": 4 trailing bytes after the last tensor: the tensors cover 1200 of the data buffer's 1204 "
        + "bytes", refused(longer));
    Path longerNpy = dir.resolve("longer.npy");
    Files.write(longerNpy, Arrays.copyOf(Files.readAllBytes(npy), (int) Files.size(npy) + 4));
    assertTrue(refused(longerNpy).startsWith(longerNpy + ": " + (Files.size(npy) + 4) + " bytes, but its header's "
        + "[4, 3, 5, 5] float32 samples make " + Files.size(npy)), refused(longerNpy));
    Path cut = dir.resolve("cut.npy");
    Files.write(cut, Arrays.copyOf(Files.readAllBytes(npy), 60));
    assertEquals(cut + ": 60 bytes, too short for its header (truncated)", refused(cut));
    Path noise = dir.resolve("noise.npy");
    Files.write(noise, new byte[200]);
    assertTrue(refused(noise).startsWith(noise + ": not a NumPy .npy file"), refused(noise));
  }

  /**
   * Values outside [0, 1] (another tool's [-1, 1] or 0..255 samples) are refused where they are read, naming the
   * sample; a NaN passes, as sample --out writes a diverged model's and eval scores it.
   */
  @Test
  void valuesOutsideTheUnitRangeAreRefusedNamingTheSample() {
    for (String name : new String[] {"r.npy", "r.safetensors"}) {
      Path f = dir.resolve(name);
      float[] v = values(6);
      v[4 * IMAGE.size() + 10] = 255f;
      v[IMAGE.size()] = Float.NaN;
      try (SampleWriter w = SampleWriter.create(f, IMAGE, 6, Map.of())) {
        w.write(v);
        w.commit();
      }
      assertArrayEquals(Arrays.copyOf(v, 4 * IMAGE.size()), read(f, 4, 3, new ArrayList<>()), "the first 4 read");
      assertEquals(f + ": sample 4 holds 255.0 (value 10 of its 75), outside [0, 1]; allowed: values in [0, 1], as "
          + "diffusion sample --out writes (map other ranges first: (x + 1) / 2 for [-1, 1], x / 255 for 0..255)",
          assertThrows(IllegalArgumentException.class, () -> read(f, 6, 3, new ArrayList<>())).getMessage());
    }
  }
}
