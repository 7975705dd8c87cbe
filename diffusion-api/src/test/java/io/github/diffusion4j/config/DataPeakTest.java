package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.IdxImages;
import io.github.diffusion4j.tensor.Shape;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heap the training check charges for the data is what the data really holds at its peak: the IDX reader
 * decodes into the one float array it returns, 1 MiB at a time (a plain file, or a gzip file whose size field
 * gives the length), and generated gradients are normalised in place. The check charged two copies, and so
 * refused a heap the reader alone fits (Fashion-MNIST: 359 MB for the training set, which reads in 180 MB).
 */
class DataPeakTest {
  private static final Shape FASHION = Shape.of(1, 28, 28);

  @TempDir
  Path dir;

  /** The bytes the check charges for a training and an evaluation set of images of {@code shape}. */
  private static long charged(Shape shape, long train, long eval) {
    DiffusionConfig c = ConfigLoader.loadString("model:\n  kind: unet\n", "run.yaml");
    List<Sizes.Part> parts = Sizes.memory(new Sizes.Model(c.model(), c.schedule(), c.training()), shape, train, eval);
    long bytes = 0;
    for (Sizes.Part p : parts) {
      if (p.key().equals(DataConfig.TRAIN_SIZE.path()) || p.key().equals(DataConfig.EVAL_SIZE.path())) {
        bytes += p.bytes();
      }
    }
    return bytes;
  }

  @Test
  void theDataAreChargedOneCopyOfTheirFloats() {
    assertEquals(4L * 784 * 70_000, charged(FASHION, 60_000, 10_000));
    assertEquals(4L * 1024 * 70_000, charged(Shape.of(1, 32, 32), 60_000, 10_000));
  }

  /**
   * Fashion-MNIST's 60,000 + 10,000 images (generated here, plain and gzip, unpadded and padded to 32x32) read in
   * a JVM whose heap is what the check charges for them and 16 MiB more: the JVM's own objects at start (a few
   * MiB of classes and the test's class path) and G1's rounding of each large array up to whole 1 MiB regions
   * (measured: 217 MiB of heap read the 209 MiB of unpadded floats, 279 MiB the 273 MiB padded).
   */
  @Test
  void fashionMnistReadsInTheHeapTheCheckCharges() throws Exception {
    for (boolean gzip : new boolean[] {false, true}) {
      Path train = idx(dir.resolve("train" + (gzip ? ".gz" : "")), 60_000, gzip);
      Path eval = idx(dir.resolve("eval" + (gzip ? ".gz" : "")), 10_000, gzip);
      for (int pad : new int[] {0, 32}) {
        Shape shape = pad == 0 ? FASHION : Shape.of(1, pad, pad);
        long heap = charged(shape, 60_000, 10_000) + (16L << 20);
        String out = child(heap, train, eval, pad);
        assertTrue(out.contains("read 60000 10000"), (gzip ? "gzip" : "plain") + " pad " + pad + ": " + out);
      }
    }
  }

  /** Writes an IDX file of {@code n} 28x28 images. */
  private static Path idx(Path path, int n, boolean gzip) throws IOException {
    try (OutputStream file = Files.newOutputStream(path);
        DataOutputStream o = new DataOutputStream(new BufferedOutputStream(gzip ? new GZIPOutputStream(file) : file))) {
      o.writeInt(0x803);
      o.writeInt(n);
      o.writeInt(28);
      o.writeInt(28);
      byte[] image = new byte[784];
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < image.length; p++) {
          image[p] = (byte) (i + 7 * p);
        }
        o.write(image);
      }
    }
    return path;
  }

  /** Runs {@link Read} in a JVM with a heap of {@code heap} bytes and G1 (the JVM's default); its output. */
  private static String child(long heap, Path train, Path eval, int pad) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseG1GC", "-Xmx" + (heap >> 20) + "m", "-cp", System.getProperty("java.class.path"),
        Read.class.getName(), train.toString(), eval.toString(), Integer.toString(pad)));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child ended");
    return "exit " + p.exitValue() + ": " + out;
  }

  /** Reads the two sets as training does ({@code DataSets}), the training set held while the other is read. */
  static final class Read {
    private Read() {}

    public static void main(String[] args) {
      IdxImages reader = IdxImages.reader().padTo(Integer.parseInt(args[2]));
      Dataset train = reader.read(Path.of(args[0]), Optional.empty()).images();
      Dataset eval = reader.read(Path.of(args[1]), Optional.empty()).images();
      System.out.println("read " + train.size() + " " + eval.size());
    }
  }
}
