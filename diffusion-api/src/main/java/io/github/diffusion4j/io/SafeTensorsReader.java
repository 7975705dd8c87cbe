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
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading ({@link SafeTensors#open}): its header parsed and checked against every rule
 * of the format (see {@link SafeTensors}), its tensors read only when asked for. As {@link TorchCheckpoint}, every
 * element type is described ({@link #dtypes}, {@link #shapes}: an empty tensor with its zero dimensions), and whether
 * a tensor fits a model is the loader's question: check the names and shapes first, then read the values with
 * {@link #parameters} (a model's weights) or {@link #tensors} (any float32 values).
 *
 * <pre>{@code
 * try (SafeTensorsReader f = SafeTensors.open(Path.of("diffusion_pytorch_model.safetensors"))) {
 *   StateDict.requireShapes(f.shapes(), layout, "weights");
 *   StateDict weights = f.parameters();
 * }
 * }</pre>
 */
public final class SafeTensorsReader implements AutoCloseable {
  private final String name;
  private final Source src;
  private final long dataStart;
  private final List<Entry> entries;
  private final Map<String, String> metadata;

  private SafeTensorsReader(String name, Source src, long dataStart, List<Entry> entries, Map<String, String> metadata) {
    this.name = name;
    this.src = src;
    this.dataStart = dataStart;
    this.entries = entries;
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /**
   * Opens a safetensors file and checks its header.
   *
   * @param file the file
   * @return the open file; close it when done
   * @throws CheckpointException if the file is missing, unreadable, or violates the format
   */
  static SafeTensorsReader open(Path file) {
    FileSupport.requireReadable(file);
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw CheckpointException.of(file, "no such file");
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
    try {
      return parse(new ChannelSource(ch), file.toString());
    } catch (IOException e) {
      FileSupport.closeQuietly(ch);
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    } catch (RuntimeException e) {
      FileSupport.closeQuietly(ch);
      throw e;
    }
  }

  /**
   * Opens safetensors bytes held in memory and checks their header.
   *
   * @param bytes the content of a file
   * @param sourceName a name for messages
   * @return the open content
   * @throws CheckpointException if the bytes violate the format
   */
  static SafeTensorsReader open(byte[] bytes, String sourceName) {
    try {
      return parse(new ArraySource(bytes), sourceName);
    } catch (IOException e) {
      throw CheckpointException.of(sourceName, "cannot read: " + FileProblems.describe(e), e);
    }
  }

  /**
   * Reads a whole file: its tensors as {@link #tensors} and its metadata.
   *
   * @param file the file
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the file is missing, unreadable, violates the format, or holds a tensor without
   *     float32 values (an empty one, a complex or packed sub-byte one)
   */
  static TensorFile read(Path file) {
    try (SafeTensorsReader r = open(file)) {
      return new TensorFile(r.tensors(), r.metadata());
    }
  }

  /**
   * Reads safetensors bytes held in memory, as {@link #read(Path)}.
   *
   * @param bytes the content of a file
   * @param sourceName a name for messages
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the bytes violate the format or hold a tensor without float32 values
   */
  static TensorFile read(byte[] bytes, String sourceName) {
    try (SafeTensorsReader r = open(bytes, sourceName)) {
      return new TensorFile(r.tensors(), r.metadata());
    }
  }

  /** The torch.save format whose first bytes these are (zip or pickle), or null. */
  private static String torchSaveFormat(byte[] first8) {
    if (first8[0] == 'P' && first8[1] == 'K' && first8[2] == 3 && first8[3] == 4) {
      return "a zip archive, as torch.save writes since PyTorch 1.6";
    }
    // a pickle of protocol 2 to 5 (PROTO opcode), as torch.save wrote before PyTorch 1.6
    return (first8[0] & 0xFF) == 0x80 && first8[1] >= 2 && first8[1] <= 5
        ? "a pickle, torch.save's format before PyTorch 1.6" : null;
  }

  private static SafeTensorsReader parse(Source src, String name) throws IOException {
    long size = src.size();
    if (size < 8) {
      throw CheckpointException.of(
          name, "truncated: " + size + " bytes, but a safetensors file starts with an 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    src.read(0, lenBuf);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > SafeTensors.MAX_HEADER_BYTES || n > size - 8 || n == 0) {
      // a torch.save file under a .safetensors name: said as what it is, not as a header length
      String torch = torchSaveFormat(lenBuf.array());
      if (torch != null) {
        throw CheckpointException.of(name, "not a safetensors file: a torch.save file (" + torch + ")");
      }
    }
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
    return new SafeTensorsReader(name, src, 8 + n, List.copyOf(entries), metadata);
  }

  /**
   * The {@code __metadata__} strings.
   *
   * @return the map, empty if the file has none, unmodifiable
   */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The names and shapes of the tensors, without reading them.
   *
   * @return the shapes by name, in the order of their data in the file (a scalar as {@code [1]}, an empty tensor with
   *     its zero dimensions)
   */
  public Map<String, int[]> shapes() {
    Map<String, int[]> out = new LinkedHashMap<>();
    entries.forEach(e -> out.put(e.name, e.shape.clone()));
    return Collections.unmodifiableMap(out);
  }

  /**
   * Where a tensor's data start in the file (its header checked, every tensor's bytes within the file): for a reader
   * of a part of one ({@link SampleReader}, batch by batch).
   *
   * @param tensor the tensor's name
   * @return the offset of its first byte from the file's start
   * @throws IllegalArgumentException if the file has no such tensor
   */
  long dataOffset(String tensor) {
    for (Entry e : entries) {
      if (e.name.equals(tensor)) {
        return dataStart + e.begin;
      }
    }
    throw new IllegalArgumentException(name + ": no tensor '" + tensor + "'");
  }

  /**
   * The names and element types of the tensors, without reading them, in torch's names (as
   * {@link TorchCheckpoint#dtypes}): {@code F32} is {@code "float32"}, {@code I64} {@code "int64"}, {@code BOOL}
   * {@code "bool"}, {@code F8_E4M3} {@code "float8_e4m3fn"}, ...
   *
   * @return the dtypes by tensor name, in the order of {@link #shapes}
   */
  public Map<String, String> dtypes() {
    Map<String, String> out = new LinkedHashMap<>();
    entries.forEach(e -> out.put(e.name, e.dtype.torchName()));
    return Collections.unmodifiableMap(out);
  }

  /**
   * Reads every tensor as float32: float16, bfloat16, float64 and the float8 types are converted, and so are integer
   * and bool tensors (to the nearest float, bool to 0 or 1), so that a model's layout check names one it does not
   * expect as it names any other entry. To load a model's parameters, check the names and shapes ({@link #shapes})
   * first, then read with {@link #parameters}.
   *
   * @return the tensors, in the order of their data in the file
   * @throws CheckpointException naming the file and tensor if one is empty (a zero dimension: {@link #shapes} and
   *     {@link #dtypes} describe it), has no float32 values (complex64, the packed F4 and F6 types), or would not fit
   *     in the heap as float32; naming the file if all of them together would not
   */
  public StateDict tensors() {
    long total = 0;
    for (Entry e : entries) {
      DType.requireValues(name, e.name, e.shape);
      if (!e.dtype.readable()) {
        throw CheckpointException.of(name, "tensor '" + e.name + "' is " + e.dtype.torchName() + " (" + e.dtype
            + "), whose values are not read as float32; read are the float, integer and bool types "
            + Arrays.stream(DType.values()).filter(DType::readable).map(Enum::name).toList());
      }
      DType.requireHeapFor(name, e.name, e.elements);
      total += e.elements;
    }
    DType.requireHeapForAll(name, entries.size(), total); // each fits, not all: a byte of U8 is four of float32
    StateDict.Builder tensors = StateDict.builder();
    ByteBuffer chunk = ByteBuffer.allocate(FileSupport.CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (Entry e : entries) {
      float[] values = new float[(int) e.elements]; // elements * dtype size <= the data buffer: checked
      long pos = dataStart + e.begin;
      int done = 0;
      int perChunk = FileSupport.CHUNK_BYTES / e.dtype.bytes();
      try {
        while (done < values.length) {
          int count = Math.min(perChunk, values.length - done);
          chunk.clear().limit(count * e.dtype.bytes());
          src.read(pos, chunk);
          chunk.flip();
          e.dtype.decode(chunk, values, done, count);
          pos += (long) count * e.dtype.bytes();
          done += count;
        }
      } catch (IOException x) {
        throw CheckpointException.of(name, "cannot read: " + FileProblems.describe(x), x);
      }
      tensors.put(e.name, FloatArray.wrap(Shape.of(e.shape), values));
    }
    return tensors.build();
  }

  /**
   * Reads tensors that are all model parameters (the caller has checked the names and shapes of {@link #shapes}
   * against the model's, refusing the entries it does not expect): as {@link #tensors}, but a tensor that is not
   * float32, float64, float16 or bfloat16 is refused.
   *
   * @return the tensors as float32, in the order of their data in the file
   * @throws CheckpointException naming the file, the tensor, its dtype and the dtypes allowed
   *     ({@code tensor 'conv_in.weight' is int64; a model parameter must be float32, float64, float16 or bfloat16}),
   *     or as {@link #tensors}
   */
  public StateDict parameters() {
    for (Entry e : entries) {
      if (!e.dtype.isParameterType()) {
        throw e.dtype.notAParameter(name, "'" + e.name + "'");
      }
    }
    return tensors();
  }

  @Override
  public void close() {
    if (src instanceof ChannelSource c) {
      FileSupport.closeQuietly(c.channel());
    }
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
    final int[] shape;
    final long elements;
    final long begin;
    final long end;

    private Entry(String name, DType dtype, int[] shape, long elements, long begin, long end) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
      this.elements = elements;
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
                          where + "unknown dtype '" + StrictJson.abbreviate(dtName) + "'; the format's dtypes are "
                              + DType.formatNames()));

      JsonNode sh = node.get("shape");
      if (sh == null || !sh.isArray()) {
        throw CheckpointException.of(file, where + "shape must be an array, got " + StrictJson.kind(sh));
      }
      long[] raw = new long[sh.size()];
      boolean empty = false;
      for (int i = 0; i < raw.length; i++) {
        raw[i] = nonNegative(sh.get(i), file, where + "shape[" + i + "]");
        empty |= raw[i] == 0;
      }
      long elements = empty ? 0 : 1; // an empty tensor whatever its other dimensions (their product may overflow)
      for (long d : empty ? new long[0] : raw) {
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
      for (int i = 0; i < raw.length; i++) {
        if (raw[i] > Integer.MAX_VALUE - 8) { // only an empty tensor gets here with one: the others' product is smaller
          throw CheckpointException.of(
              file,
              where + "shape " + sh + ": dimension " + i + " is " + raw[i] + "; dimensions must be between 0 and "
                  + (Integer.MAX_VALUE - 8));
        }
      }
      int[] dims = new int[Math.max(raw.length, 1)];
      dims[0] = 1; // rank 0 (a scalar) is read as [1]
      for (int i = 0; i < raw.length; i++) {
        dims[i] = (int) raw[i]; // each dimension <= 2^31 - 9: checked
      }
      long bits = elements * dtype.bits(); // elements < 2^31, bits < 2^38: no overflow
      if (bits % 8 != 0) {
        throw CheckpointException.of(
            file,
            where + "shape " + sh + " has " + elements + " elements of " + dtype.bits() + " bits each, which do not "
                + "fill whole bytes");
      }
      long bytes = bits / 8;

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
      return new Entry(key, dtype, dims, elements, begin, end);
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
