package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSupportTest {
  @TempDir Path dir;

  /**
   * Floats are written in chunks of {@link FileSupport#CHUNK_BYTES}: a last chunk shorter than the others holds only
   * the values that are left, and of a longer array (a sample writer's batch buffer, partly filled) only the first
   * {@code length} values are written.
   */
  @Test
  void writesExactlyTheFloatsAskedForAcrossChunks() throws IOException {
    int perChunk = FileSupport.CHUNK_BYTES / 4;
    float[] values = new float[3 * perChunk];
    for (int i = 0; i < values.length; i++) {
      values[i] = i + 0.5f;
    }
    for (int length : new int[] {0, 3, perChunk, perChunk + 3, 2 * perChunk + 1}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      FileSupport.writeFloatsLittleEndian(out, values, length);
      float[] back = new float[length];
      ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(back);
      assertEquals(4 * length, out.size(), length + " values");
      assertArrayEquals(java.util.Arrays.copyOf(values, length), back, length + " values");
    }
    float[] odd = java.util.Arrays.copyOf(values, perChunk + 3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FileSupport.writeFloatsLittleEndian(out, odd);
    assertEquals(4 * odd.length, out.size());
  }

  /** Whole-file reads name a folder for what it is before they open it, as every reader of the package does. */
  @Test
  void aFolderIsNamedNotReadAsTextNorHashed() throws IOException {
    Path folder = Files.createDirectory(dir.resolve("config.json"));
    CheckpointException text = assertThrows(CheckpointException.class, () -> FileSupport.readUtf8(folder));
    assertEquals(folder + ": is a folder, not a file", text.getMessage());
    CheckpointException hash = assertThrows(CheckpointException.class, () -> FileSupport.sha256Hex(folder));
    assertEquals(folder + ": is a folder, not a file", hash.getMessage());
  }
}
