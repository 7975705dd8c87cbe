package io.github.diffusion4j.io;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The writing half of {@link SafeTensors}: lays out float32 tensors sorted by name behind the compact,
 * padded JSON header of the reference implementation, to a file (atomically), a stream or bytes.
 */
final class SafeTensorsWriter {
  private SafeTensorsWriter() {}

  /**
   * Writes a safetensors file atomically (temporary sibling, fsync, rename).
   *
   * @param file the file
   * @param tensors the tensors, written as F32
   * @param metadata the {@code __metadata__} strings (may be empty; omitted from the header if so)
   * @throws CheckpointException if writing fails or a name is reserved
   */
  static void write(Path file, StateDict tensors, Map<String, String> metadata) {
    Layout layout = Layout.of(tensors, metadata, file.toString());
    try {
      AtomicFiles.write(file, layout::writeTo);
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot write: " + FileProblems.describe(e), e);
    }
  }

  /**
   * Writes safetensors content to a stream (not atomic by itself; see {@link AtomicFiles}).
   *
   * @param out the stream (not closed)
   * @param tensors the tensors
   * @param metadata the metadata
   * @param file what to name in errors
   * @throws IOException if the stream fails
   */
  static void write(OutputStream out, StateDict tensors, Map<String, String> metadata, Object file)
      throws IOException {
    Layout.of(tensors, metadata, file.toString()).writeTo(out);
  }

  /**
   * The bytes of a safetensors file holding {@code tensors}.
   *
   * @param tensors the tensors
   * @param metadata the metadata
   * @return the file content
   * @throws CheckpointException if the content would exceed 2 GB or a name is reserved
   */
  static byte[] toBytes(StateDict tensors, Map<String, String> metadata) {
    Layout layout = Layout.of(tensors, metadata, "<memory>");
    if (layout.fileLength() > Integer.MAX_VALUE - 8) {
      throw CheckpointException.of(
          "<memory>", "content of " + layout.fileLength() + " bytes does not fit in a byte array");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) layout.fileLength());
    try {
      layout.writeTo(out);
    } catch (IOException e) {
      throw new AssertionError(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  /**
   * The padded JSON header of F32 tensors laid out one after another in the given order: the compact
   * form of the reference implementation, metadata first and sorted by key.
   *
   * @param shapes the tensors' names and shapes, in file order
   * @param metadata the metadata (may be null or empty)
   * @param file the file, for messages
   * @return the header bytes, padded with spaces to a multiple of 8
   */
  static byte[] headerBytes(Map<String, long[]> shapes, Map<String, String> metadata, String file) {
    StringBuilder json = new StringBuilder("{");
    if (metadata != null && !metadata.isEmpty()) {
      json.append('"').append(SafeTensors.METADATA_KEY).append("\":{");
      boolean first = true;
      for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
        if (m.getValue() == null) {
          throw CheckpointException.of(file, "metadata '" + m.getKey() + "' has no value");
        }
        if (!first) {
          json.append(',');
        }
        first = false;
        quote(json, m.getKey()).append(':');
        quote(json, m.getValue());
      }
      json.append('}');
      if (!shapes.isEmpty()) {
        json.append(',');
      }
    }
    long offset = 0;
    boolean firstTensor = true;
    for (Map.Entry<String, long[]> t : shapes.entrySet()) {
      String name = t.getKey();
      if (name.equals(SafeTensors.METADATA_KEY)) {
        throw CheckpointException.of(file, "'" + SafeTensors.METADATA_KEY + "' is reserved and cannot name a tensor");
      }
      long[] dims = t.getValue();
      long bytes = 4;
      for (long d : dims) {
        bytes = Math.multiplyExact(bytes, d);
      }
      if (!firstTensor) {
        json.append(',');
      }
      firstTensor = false;
      quote(json, name).append(":{\"dtype\":\"F32\",\"shape\":[");
      for (int d = 0; d < dims.length; d++) {
        json.append(d > 0 ? "," : "").append(dims[d]);
      }
      json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
      offset += bytes;
    }
    json.append('}');
    byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (raw.length + 7) / 8 * 8; // the reference pads to a multiple of 8 bytes
    if (padded > SafeTensors.MAX_HEADER_BYTES) {
      throw CheckpointException.of(
          file, "header of " + padded + " bytes exceeds the format's limit of " + SafeTensors.MAX_HEADER_BYTES);
    }
    byte[] header = Arrays.copyOf(raw, padded);
    Arrays.fill(header, raw.length, padded, (byte) ' ');
    return header;
  }

  /**
   * The 8-byte little-endian header length that starts a file.
   *
   * @param header the header
   * @return the 8 bytes
   */
  static byte[] headerLength(byte[] header) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
  }

  /** A header and the tensors in file order. */
  private record Layout(byte[] header, List<Map.Entry<String, FloatArray>> tensors, long dataLength) {

    static Layout of(StateDict tensors, Map<String, String> metadata, String file) {
      List<Map.Entry<String, FloatArray>> sorted = new ArrayList<>(tensors.entries().entrySet());
      sorted.sort((a, b) -> compareUtf8(a.getKey(), b.getKey()));
      Map<String, long[]> shapes = new LinkedHashMap<>();
      long offset = 0;
      for (Map.Entry<String, FloatArray> e : sorted) {
        int[] dims = e.getValue().shape().dims();
        shapes.put(e.getKey(), Arrays.stream(dims).asLongStream().toArray());
        offset += 4L * e.getValue().size();
      }
      return new Layout(headerBytes(shapes, metadata, file), sorted, offset);
    }

    long fileLength() {
      return 8L + header.length + dataLength;
    }

    void writeTo(OutputStream out) throws IOException {
      out.write(headerLength(header));
      out.write(header);
      for (Map.Entry<String, FloatArray> t : tensors) {
        FileSupport.writeFloatsLittleEndian(out, t.getValue().toArray());
      }
    }
  }

  /** Byte-wise comparison of UTF-8 encodings, the order of Rust's {@code String}. */
  private static int compareUtf8(String a, String b) {
    return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /** Appends a JSON string as serde_json writes it (short escapes, lower-case {@code \\u00xx}). */
  private static StringBuilder quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"');
  }
}
