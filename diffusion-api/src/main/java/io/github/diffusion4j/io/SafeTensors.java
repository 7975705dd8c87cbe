package io.github.diffusion4j.io;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;

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
 * <p>Every dtype of the format is read ({@link #open}): {@link SafeTensorsReader#dtypes} names it (in torch's
 * names: {@code I64} is {@code int64}) and {@link SafeTensorsReader#shapes} gives its shape, an empty tensor's with
 * its zero dimensions, without reading values. Values are read as float32: {@code F16}, {@code BF16}, {@code F64}
 * and the float8 types converted, the integer types to the nearest float, {@code BOOL} to 0 or 1; complex64 and the
 * packed 4- and 6-bit floats are described but their values are not read. As with {@link TorchCheckpoint}, whether a
 * tensor fits a model is the loader's question, asked of the names and shapes before the values
 * ({@link SafeTensorsReader#parameters} refuses a tensor that is not floating-point). A tensor of rank 0 (a scalar)
 * is read with shape {@code [1]}; an empty tensor has no values to read (a {@link StateDict} cannot hold it), so
 * {@link #read} refuses it, naming it. Writing produces {@code F32} little-endian, tensors
 * sorted by name (byte order of their UTF-8 encoding) and laid out in that order, the compact JSON
 * header of the reference implementation padded with spaces to a multiple of 8 bytes: for float32
 * tensors and at most one metadata entry, the same bytes as Python's {@code safetensors.torch.save_file}.
 * Metadata entries are written sorted by key.
 *
 * <p>This class is the entry point; {@link SafeTensorsReader} (an open file) and the package-private
 * {@code SafeTensorsWriter} hold the two halves.
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
   * Opens a safetensors file and checks its header, without reading its tensors: to judge the names, dtypes and
   * shapes before reading the values.
   *
   * @param file the file
   * @return the open file; close it when done
   * @throws CheckpointException if the file is missing, unreadable, or its header violates the format
   */
  public static SafeTensorsReader open(Path file) {
    return SafeTensorsReader.open(file);
  }

  /**
   * Opens safetensors bytes held in memory, as {@link #open(Path)}.
   *
   * @param bytes the content of a file
   * @param sourceName a name for messages (e.g. where the bytes came from)
   * @return the open content
   * @throws CheckpointException if the header violates the format
   */
  public static SafeTensorsReader open(byte[] bytes, String sourceName) {
    return SafeTensorsReader.open(bytes, sourceName);
  }

  /**
   * Reads a safetensors file: every tensor as float32 ({@link SafeTensorsReader#tensors}) and the metadata.
   *
   * @param file the file
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the file is missing, unreadable, or violates the format, or a tensor has no
   *     float32 values (an empty one, complex64, a packed 4- or 6-bit float)
   */
  public static TensorFile read(Path file) {
    return SafeTensorsReader.read(file);
  }

  /**
   * Reads safetensors bytes held in memory.
   *
   * @param bytes the content of a file
   * @param sourceName a name for messages (e.g. where the bytes came from)
   * @return the tensors (float32) and metadata
   * @throws CheckpointException if the bytes violate the format, or a tensor has no float32 values
   */
  public static TensorFile read(byte[] bytes, String sourceName) {
    return SafeTensorsReader.read(bytes, sourceName);
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
    SafeTensorsWriter.write(file, tensors, metadata);
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
    SafeTensorsWriter.write(out, tensors, metadata, file);
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
    return SafeTensorsWriter.toBytes(tensors, metadata);
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
}
