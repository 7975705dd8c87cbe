package io.github.diffusion4j.testkit;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes {@code torch.save} files (the zip format, pickle protocol 2) for tests that need larger state dicts than
 * the fixtures PyTorch wrote ({@code io/torch/}): the same opcodes and layout as those fixtures, one float32
 * storage per tensor.
 */
public final class TorchFiles {
  private TorchFiles() {}

  /**
   * Writes a state dict, or a list of state dicts and integers (ermongroup/ddim's {@code [model, optimizer,
   * epoch, step, ema]}).
   *
   * @param file the file
   * @param root a {@link StateDict}, or a list of {@link StateDict}s and {@link Long}s
   * @throws IOException if writing fails
   */
  public static void write(Path file, Object root) throws IOException {
    List<float[]> storages = new ArrayList<>();
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x80);
    p.write(2);
    value(p, root, storages);
    p.write('.');
    try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(p.toByteArray());
      z.closeEntry();
      for (int i = 0; i < storages.size(); i++) {
        z.putNextEntry(new ZipEntry("archive/data/" + i));
        float[] f = storages.get(i);
        ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        z.write(b.array());
        z.closeEntry();
      }
      z.putNextEntry(new ZipEntry("archive/version"));
      z.write("3\n".getBytes(StandardCharsets.US_ASCII));
      z.closeEntry();
    }
  }

  private static void value(ByteArrayOutputStream p, Object v, List<float[]> storages) {
    if (v instanceof StateDict sd) {
      global(p, "collections", "OrderedDict");
      p.write(')');
      p.write('R');
      p.write('(');
      for (Map.Entry<String, FloatArray> e : sd.entries().entrySet()) {
        string(p, e.getKey());
        tensor(p, e.getValue(), storages);
      }
      p.write('u');
    } else if (v instanceof List<?> l) {
      p.write(']');
      p.write('(');
      for (Object o : l) {
        value(p, o, storages);
      }
      p.write('e');
    } else if (v instanceof Long n) {
      integer(p, n);
    } else {
      throw new IllegalArgumentException("cannot write " + v);
    }
  }

  private static void tensor(ByteArrayOutputStream p, FloatArray a, List<float[]> storages) {
    String key = Integer.toString(storages.size());
    storages.add(a.toArray());
    global(p, "torch._utils", "_rebuild_tensor_v2");
    p.write('(');
    p.write('(');
    string(p, "storage");
    global(p, "torch", "FloatStorage");
    string(p, key);
    string(p, "cpu");
    integer(p, a.size());
    p.write('t');
    p.write('Q');
    integer(p, 0);
    int[] dims = a.shape().dims();
    p.write('(');
    for (int d : dims) {
      integer(p, d);
    }
    p.write('t');
    p.write('(');
    long stride = 1;
    long[] strides = new long[dims.length];
    for (int d = dims.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= dims[d];
    }
    for (long s : strides) {
      integer(p, s);
    }
    p.write('t');
    p.write(0x89);
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');
    p.write('t');
    p.write('R');
  }

  private static void global(ByteArrayOutputStream p, String module, String name) {
    p.write('c');
    p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  private static void string(ByteArrayOutputStream p, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.write('X');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
    p.writeBytes(b);
  }

  private static void integer(ByteArrayOutputStream p, long v) {
    p.write('J');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.toIntExact(v)).array());
  }
}
