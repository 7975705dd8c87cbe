package io.github.diffusion4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format,
 * without any native library.
 *
 * <p>A file is: 8 bytes, an unsigned little-endian length {@code N}; {@code N} bytes of UTF-8 JSON, an
 * object that starts with <code>&#123;</code> and may be padded with trailing spaces; then the data buffer. Each
 * key of the object names a tensor, {@code {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
 * end]}}, with offsets relative to the start of the data buffer; the optional key {@code __metadata__}
 * maps strings to strings. The reader enforces every rule of the format: a header of at most
 * {@value #MAX_HEADER_BYTES} bytes, no duplicate keys, sizes that agree with dtype and shape (computed
 * without overflow), tensors that cover the data buffer exactly (no holes, no overlaps, no trailing
 * bytes). Any violation is a {@link CheckpointException} naming the file; nothing is allocated from a
 * size that has not been checked against the file's length.
 *
 * <p>Reading accepts {@code F32}, and converts {@code F16}, {@code BF16} and {@code F64} to float32.
 * A tensor of rank 0 (a scalar) is read with shape {@code [1]}; tensors with a zero dimension are
 * rejected (a {@link StateDict} cannot hold them). Writing produces {@code F32} little-endian, tensors
 * sorted by name (byte order of their UTF-8 encoding) and laid out in that order, the compact JSON
 * header of the reference implementation padded with spaces to a multiple of 8 bytes: for float32
 * tensors and at most one metadata entry, the same bytes as Python's {@code safetensors.torch.save_file}.
 * Metadata entries are written sorted by key.
 */
public final class SafeTensors {
  /** The largest header the format allows, in bytes (as the reference implementation). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The reserved key of the free-form metadata. */
  public static final String METADATA_KEY = "__metadata__";

  /** The name under which {@link #writeSamples} stores an array of images. */
  public static final String SAMPLES_KEY = "samples";

  private SafeTensors() {}

  // ------------------------------------------------------------------------------------------ read

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
   * @param sourceName a name for messages (e.g. where the bytes came from)
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

  // ----------------------------------------------------------------------------------------- write

  /**
   * Writes a safetensors file atomically (temporary sibling, fsync, rename).
   *
   * @param file the file
   * @param tensors the tensors, written as F32
   * @param metadata the {@code __metadata__} strings (may be empty; omitted from the header if so)
   * @throws CheckpointException if writing fails or a name is reserved
   */
  public static void write(Path file, StateDict tensors, Map<String, String> metadata) {
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
   * @throws IOException if the stream fails
   */
  public static void write(OutputStream out, StateDict tensors, Map<String, String> metadata)
      throws IOException {
    write(out, tensors, metadata, "<stream>");
  }

  /** As {@link #write(OutputStream, StateDict, Map)}, naming {@code file} in errors. */
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
  public static byte[] toBytes(StateDict tensors, Map<String, String> metadata) {
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
   * Writes generated images as a safetensors file with one tensor, {@value #SAMPLES_KEY}, of shape
   * {@code [N, C, H, W]}.
   *
   * @param file the file (written atomically)
   * @param samples the values, row-major
   * @param shape the shape of {@code samples}
   * @param metadata metadata strings (e.g. seed, sampler)
   * @throws CheckpointException if writing fails
   * @throws IllegalArgumentException if the length does not match the shape
   */
  public static void writeSamples(Path file, float[] samples, Shape shape, Map<String, String> metadata) {
    write(file, StateDict.builder().put(SAMPLES_KEY, FloatArray.of(shape, samples)).build(), metadata);
  }

  // -------------------------------------------------------------------------------------- parsing

  private static TensorFile parse(Source src, String name) throws IOException {
    long size = src.size();
    if (size < 8) {
      throw CheckpointException.of(
          name, "truncated: " + size + " bytes, but a safetensors file starts with an 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    src.read(0, lenBuf);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw CheckpointException.of(
          name,
          "header length " + Long.toUnsignedString(n) + " exceeds the format's limit of "
              + MAX_HEADER_BYTES + " bytes");
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
    JsonNode root = Json.parseObject(text, name, "header is ");

    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> f : root.properties()) {
      if (f.getKey().equals(METADATA_KEY)) {
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
          name, METADATA_KEY + " must be an object of strings, got " + Json.kind(node));
    }
    for (Map.Entry<String, JsonNode> m : node.properties()) {
      if (!m.getValue().isTextual()) {
        throw CheckpointException.of(
            name,
            METADATA_KEY + "." + m.getKey() + " must be a string, got " + Json.kind(m.getValue()));
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
        throw CheckpointException.of(file, where + "must be an object, got " + Json.kind(node));
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
        throw CheckpointException.of(file, where + "dtype must be a string, got " + Json.kind(dt));
      }
      String dtName = dt.textValue();
      DType dtype =
          DType.of(dtName)
              .orElseThrow(
                  () ->
                      CheckpointException.of(
                          file,
                          where + (DType.FORMAT_NAMES.contains(dtName) ? "dtype " : "unknown dtype ")
                              + "'" + Json.abbreviate(dtName) + "' is not supported; supported are "
                              + DType.supportedNames()));

      JsonNode sh = node.get("shape");
      if (sh == null || !sh.isArray()) {
        throw CheckpointException.of(file, where + "shape must be an array, got " + Json.kind(sh));
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
            file, where + "data_offsets must be an array [begin, end], got " + Json.kind(off));
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
            file, what + " must be a non-negative integer, got " + Json.kind(v));
      }
      if (!v.canConvertToLong() || v.longValue() < 0) {
        throw CheckpointException.of(
            file,
            what + " must be a non-negative integer below 2^63, got " + v.asText());
      }
      return v.longValue();
    }
  }

  // -------------------------------------------------------------------------------------- writing

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
      json.append('"').append(METADATA_KEY).append("\":{");
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
      if (name.equals(METADATA_KEY)) {
        throw CheckpointException.of(file, "'" + METADATA_KEY + "' is reserved and cannot name a tensor");
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
    if (padded > MAX_HEADER_BYTES) {
      throw CheckpointException.of(
          file, "header of " + padded + " bytes exceeds the format's limit of " + MAX_HEADER_BYTES);
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

  // --------------------------------------------------------------------------------------- sources

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
