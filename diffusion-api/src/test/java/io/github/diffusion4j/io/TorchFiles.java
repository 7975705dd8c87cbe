package io.github.diffusion4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** {@code torch.save} files of a state dict, written byte by byte as PyTorch writes them (the zip format). */
public final class TorchFiles {
  private TorchFiles() {}

  /**
   * One contiguous tensor: {@code _rebuild_tensor_v2(storage(KEY, torch.<TYPE>Storage, NUMEL), 0, SHAPE, STRIDE,
   * False, OrderedDict())}.
   *
   * @param name the state dict's key
   * @param type the storage type without "Storage": Float, Long, Int, Bool, ...
   * @param key the storage's key (its zip entry is {@code archive/data/KEY})
   * @param numel the storage's element count
   * @param shape the tensor's shape (none: a scalar)
   */
  public record Tensor(String name, String type, String key, long numel, long... shape) {}

  /**
   * The pickle of a dict of tensors, as {@code torch.save(model.state_dict())} writes it (protocol 2).
   *
   * @param tensors the tensors, in order
   * @return the pickle
   */
  public static byte[] stateDict(Tensor... tensors) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {(byte) 0x80, 2, '}', '('});
    for (Tensor t : tensors) {
      b.writeBytes(string(t.name()));
      b.writeBytes(ascii("ctorch._utils\n_rebuild_tensor_v2\n((X\u0007\0\0\0storagectorch\n" + t.type() + "Storage\n"));
      b.writeBytes(string(t.key()));
      b.writeBytes(string("cpu"));
      b.writeBytes(integer(t.numel()));
      b.writeBytes(ascii("tQ"));
      b.writeBytes(integer(0));
      long[] stride = new long[t.shape().length];
      long step = 1;
      for (int d = stride.length - 1; d >= 0; d--) {
        stride[d] = step;
        step *= Math.max(1, t.shape()[d]);
      }
      for (long[] tuple : new long[][] {t.shape(), stride}) {
        b.write('(');
        for (long v : tuple) {
          b.writeBytes(integer(v));
        }
        b.write('t');
      }
      b.writeBytes(ascii("\u0089ccollections\nOrderedDict\n)RtR"));
    }
    b.writeBytes(ascii("u."));
    return b.toByteArray();
  }

  /**
   * A zip-format file of a pickle and its storages.
   *
   * @param file the file to write
   * @param pickle {@code archive/data.pkl}
   * @param storages the bytes of {@code archive/data/KEY} by key
   * @return the file
   * @throws IOException if writing fails
   */
  public static Path zip(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(pickle);
      z.closeEntry();
      for (Map.Entry<String, byte[]> e : storages.entrySet()) {
        z.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return file;
  }

  /**
   * Little-endian bytes.
   *
   * @param bytes how many
   * @param fill writes them
   * @return the bytes
   */
  public static byte[] littleEndian(int bytes, Consumer<ByteBuffer> fill) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(b);
    return b.array();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** BINUNICODE. */
  private static byte[] string(String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    return littleEndian(5 + utf8.length, b -> b.put((byte) 'X').putInt(utf8.length).put(utf8));
  }

  /** LONG1: a little-endian two's complement integer of 8 bytes. */
  private static byte[] integer(long v) {
    return littleEndian(10, b -> b.put((byte) 0x8a).put((byte) 8).putLong(v));
  }

  /**
   * Bytes per element of a storage type.
   *
   * @param type Float, Long, Int, Bool, ...
   * @return the element size
   */
  public static int bytes(String type) {
    return switch (type) {
      case "Double", "Long" -> 8;
      case "Float", "Int" -> 4;
      case "Half", "BFloat16", "Short" -> 2;
      default -> 1;
    };
  }

  /**
   * A zip-format file of a state dict's float tensors, a tensor replaced or added by each of {@code extra} (its
   * storage all zeros).
   *
   * @param file the file to write
   * @param weights the float tensors
   * @param extra tensors replacing those of their names, or added after them
   * @return the file
   * @throws IOException if writing fails
   */
  public static Path zip(Path file, io.github.diffusion4j.model.StateDict weights, Tensor... extra) throws IOException {
    Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
    Map<String, byte[]> storages = new java.util.HashMap<>();
    weights.entries().forEach((name, a) -> {
      String key = "s" + tensors.size();
      tensors.put(name, new Tensor(name, "Float", key, a.size(),
          java.util.Arrays.stream(a.shape().dims()).asLongStream().toArray()));
      storages.put(key, littleEndian(4 * a.size(), b -> b.asFloatBuffer().put(a.toArray())));
    });
    for (Tensor t : extra) {
      tensors.put(t.name(), t);
      storages.put(t.key(), new byte[Math.toIntExact(t.numel() * bytes(t.type()))]);
    }
    return zip(file, stateDict(tensors.values().toArray(Tensor[]::new)), storages);
  }
}
