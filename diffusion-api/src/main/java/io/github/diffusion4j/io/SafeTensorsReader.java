package io.github.diffusion4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reading half of {@link SafeTensors}: parses a header, checks every rule of the format (see the
 * class comment there) and decodes the tensors to float32, from a file or from bytes in memory.
 */
final class SafeTensorsReader {
  private SafeTensorsReader() {}

  /**
   * Reads a safetensors file.
   *
   * @param file the file
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the file is missing, unreadable, or violates the format
   */
  public static TensorFile read(Path file) {
    FileSupport.requireReadable(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return parse(new ChannelSource(ch), file.toString());
    } catch (NoSuchFileException e) {
      throw CheckpointException.of(file, "no such file");
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
  }


  /**
   * Reads safetensors bytes held in memory.
   *
   * @param bytes the content of a file
   * @param sourceName a name for messages
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the bytes violate the format
   */
  public static TensorFile read(byte[] bytes, String sourceName) {
    try {
      return parse(new ArraySource(bytes), sourceName);
    } catch (IOException e) {
      throw CheckpointException.of(sourceName, "cannot read: " + FileProblems.describe(e), e);
    }
  }

  private static TensorFile parse(Source src, String name) throws IOException {
    long size = src.size();
    if (size < 8) {
      throw CheckpointException.of(
          name, "truncated: " + size + " bytes, but a safetensors file starts with an 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    src.read(0, lenBuf);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > SafeTensors.MAX_HEADER_BYTES) {
      throw CheckpointException.of(
          name,
          "header length " + Long.toUnsignedString(n) + " exceeds the format's limit of "
              + SafeTensors.MAX_HEADER_BYTES + " bytes");
    }
    if (n > size - 8) {
      throw CheckpointException.of(
          name,
          "header length " + n + " exceeds the " + (size - 8) + " bytes that follow it (truncated file?)");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
    src.read(8, headerBuf);
    byte[] header = headerBuf.array();
    if (n == 0 || header[0] != '{') {
      throw CheckpointException.of(name, "header must be a JSON object starting with '{'");
    }
    String text;
    try {
      text = FileSupport.decodeUtf8(header);
    } catch (CharacterCodingException e) {
      throw CheckpointException.of(name, "header is not valid UTF-8");
    }
    JsonNode root = StrictJson.parseObject(text, name, "header is ");

    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> f : root.properties()) {
      if (f.getKey().equals(SafeTensors.METADATA_KEY)) {
        readMetadata(f.getValue(), metadata, name);
      } else {
        entries.add(Entry.parse(f.getKey(), f.getValue(), name));
      }
    }

    long bufferLength = size - 8 - n;
    checkCoverage(entries, bufferLength, name);

    StateDict.Builder tensors = StateDict.builder();
    ByteBuffer chunk = ByteBuffer.allocate(FileSupport.CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (Entry e : entries) {
      float[] values = new float[e.elements]; // e.elements * dtype size <= bufferLength: checked
      long pos = 8 + n + e.begin;
      int done = 0;
      int perChunk = FileSupport.CHUNK_BYTES / e.dtype.bytes();
      while (done < e.elements) {
        int count = Math.min(perChunk, e.elements - done);
        chunk.clear().limit(count * e.dtype.bytes());
        src.read(pos, chunk);
        chunk.flip();
        e.dtype.decode(chunk, values, done, count);
        pos += (long) count * e.dtype.bytes();
        done += count;
      }
      tensors.put(e.name, FloatArray.wrap(e.shape, values));
    }
    return new TensorFile(tensors.build(), metadata);
  }

  private static void readMetadata(JsonNode node, Map<String, String> out, String name) {
    if (node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw CheckpointException.of(
          name, SafeTensors.METADATA_KEY + " must be an object of strings, got " + StrictJson.kind(node));
    }
    for (Map.Entry<String, JsonNode> m : node.properties()) {
      if (!m.getValue().isTextual()) {
        throw CheckpointException.of(
            name,
            SafeTensors.METADATA_KEY + "." + m.getKey() + " must be a string, got " + StrictJson.kind(m.getValue()));
      }
      out.put(m.getKey(), m.getValue().textValue());
    }
  }

  /**
   * Sorts the entries by offset and checks that they tile {@code [0, bufferLength)} exactly, as the
   * reference implementation's {@code validate}.
   */
  private static void checkCoverage(List<Entry> entries, long bufferLength, String name) {
    entries.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
    long expected = 0;
    Entry previous = null;
    for (Entry e : entries) {
      if (e.begin > expected) {
        throw CheckpointException.of(
            name,
            "bytes [" + expected + ", " + e.begin + ") of the data buffer belong to no tensor (a hole "
                + (previous == null ? "before" : "between '" + previous.name + "' and") + " '" + e.name
                + "')");
      }
      if (e.begin < expected) {
        throw CheckpointException.of(
            name,
            "tensor '" + e.name + "' " + e.offsets() + " overlaps tensor '" + previous.name + "' "
                + previous.offsets());
      }
      expected = e.end;
      previous = e;
    }
    if (expected > bufferLength) {
      throw CheckpointException.of(
          name,
          "tensor '" + previous.name + "' " + previous.offsets() + " ends past the data buffer, which has "
              + bufferLength + " bytes (truncated file?)");
    }
    if (expected < bufferLength) {
      throw CheckpointException.of(
          name,
          (bufferLength - expected) + " trailing bytes after the last tensor: the tensors cover "
              + expected + " of the data buffer's " + bufferLength + " bytes");
    }
  }

  /** One tensor of a header, checked. */
  private static final class Entry {
    final String name;
    final DType dtype;
    final Shape shape;
    final int elements;
    final long begin;
    final long end;

    private Entry(String name, DType dtype, Shape shape, long begin, long end) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
      this.elements = shape.size();
      this.begin = begin;
      this.end = end;
    }

    String offsets() {
      return "(data_offsets [" + begin + ", " + end + "])";
    }

    static Entry parse(String key, JsonNode node, String file) {
      String where = "tensor '" + key + "': ";
      if (!node.isObject()) {
        throw CheckpointException.of(file, where + "must be an object, got " + StrictJson.kind(node));
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!f.equals("dtype") && !f.equals("shape") && !f.equals("data_offsets")) {
          throw CheckpointException.of(
              file, where + "unknown field '" + f + "'; allowed are dtype, shape, data_offsets");
        }
      }
      JsonNode dt = node.get("dtype");
      if (dt == null || !dt.isTextual()) {
        throw CheckpointException.of(file, where + "dtype must be a string, got " + StrictJson.kind(dt));
      }
      String dtName = dt.textValue();
      DType dtype =
          DType.of(dtName)
              .orElseThrow(
                  () ->
                      CheckpointException.of(
                          file,
                          where + (DType.FORMAT_NAMES.contains(dtName) ? "dtype " : "unknown dtype ")
                              + "'" + StrictJson.abbreviate(dtName) + "' is not supported; supported are "
                              + DType.supportedNames()));

      JsonNode sh = node.get("shape");
      if (sh == null || !sh.isArray()) {
        throw CheckpointException.of(file, where + "shape must be an array, got " + StrictJson.kind(sh));
      }
      long[] raw = new long[sh.size()];
      long elements = 1;
      for (int i = 0; i < raw.length; i++) {
        raw[i] = nonNegative(sh.get(i), file, where + "shape[" + i + "]");
        if (raw[i] == 0) {
          throw CheckpointException.of(
              file, where + "shape " + sh + " has a zero dimension; empty tensors are not supported");
        }
      }
      for (long d : raw) {
        try {
          elements = Math.multiplyExact(elements, d);
        } catch (ArithmeticException e) {
          throw CheckpointException.of(file, where + "shape " + sh + ": element count overflows 64 bits");
        }
      }
      if (elements > Integer.MAX_VALUE - 8) {
        throw CheckpointException.of(
            file,
            where + "shape " + sh + " has " + elements + " elements, more than a Java array holds ("
                + (Integer.MAX_VALUE - 8) + ")");
      }
      int[] dims = new int[Math.max(raw.length, 1)];
      dims[0] = 1; // rank 0 (a scalar) is read as [1]
      for (int i = 0; i < raw.length; i++) {
        dims[i] = (int) raw[i]; // each dimension <= elements < 2^31
      }
      long bytes = elements * dtype.bytes(); // elements < 2^31, bytes < 2^34: no overflow

      JsonNode off = node.get("data_offsets");
      if (off == null || !off.isArray() || off.size() != 2) {
        throw CheckpointException.of(
            file, where + "data_offsets must be an array [begin, end], got " + StrictJson.kind(off));
      }
      long begin = nonNegative(off.get(0), file, where + "data_offsets[0]");
      long end = nonNegative(off.get(1), file, where + "data_offsets[1]");
      if (end < begin) {
        throw CheckpointException.of(
            file, where + "data_offsets [" + begin + ", " + end + "] end before they begin");
      }
      if (end - begin != bytes) {
        throw CheckpointException.of(
            file,
            where + "data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes, but dtype "
                + dtype + " and shape " + sh + " need " + bytes);
      }
      return new Entry(key, dtype, Shape.of(dims), begin, end);
    }

    private static long nonNegative(JsonNode v, String file, String what) {
      if (v == null || !v.isIntegralNumber()) {
        throw CheckpointException.of(
            file, what + " must be a non-negative integer, got " + StrictJson.kind(v));
      }
      if (!v.canConvertToLong() || v.longValue() < 0) {
        throw CheckpointException.of(
            file,
            what + " must be a non-negative integer below 2^63, got " + v.asText());
      }
      return v.longValue();
    }
  }

  /** Random-access bytes: a file or an array. */
  private interface Source {
    long size() throws IOException;

    /** Fills {@code dst} (position to limit) from {@code position}. */
    void read(long position, ByteBuffer dst) throws IOException;
  }

  private record ChannelSource(FileChannel channel) implements Source {
    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public void read(long position, ByteBuffer dst) throws IOException {
      long pos = position;
      while (dst.hasRemaining()) {
        int n = channel.read(dst, pos);
        if (n < 0) {
          throw new EOFException("file shrank while it was read");
        }
        pos += n;
      }
    }
  }

  private record ArraySource(byte[] bytes) implements Source {
    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public void read(long position, ByteBuffer dst) {
      dst.put(bytes, (int) position, dst.remaining());
    }
  }
}
