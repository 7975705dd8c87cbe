package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.Cifar10Batches;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data set larger than the heap trains: the real command in a child JVM with a deliberately small heap
 * ({@value #HEAP_MB} MiB) trains a full epoch from CIFAR-10-format batches whose decoded cache is more than
 * twice the heap, so neither the images as floats (4 bytes a value) nor even as bytes could be held in it.
 * The cache is built streaming (a chunk of images at a time) and read through a memory mapping.
 */
class StreamingMemoryTest {
  static final int HEAP_MB = 48;
  /** Records in the batch: 3,072 bytes each in the cache, 2.5 times the heap. */
  static final int RECORDS = (int) (2.5 * HEAP_MB * (1 << 20) / 3072);
  /**
   * Images per step: a step's working set (the batch as floats, its noise, the network's values and
   * gradients, each 0.75 MiB at 64 images of 3x32x32) must fit the heap beside the JVM's own use.
   */
  static final int BATCH = 64;

  @TempDir
  Path dir;

  @Test
  void trainsFromACacheLargerThanTheHeap() throws IOException, InterruptedException {
    Path batches = Files.createDirectories(dir.resolve("cifar"));
    writeBatch(batches.resolve("data_batch_1.bin"), RECORDS);
    Path yaml = dir.resolve("big.yaml");
    Files.writeString(yaml, String.join("\n",
        "backend: reference",
        "seed: 1",
        "data:",
        "  kind: cifar10",
        "  root: " + batches,
        "model:",
        "  hidden: 4",
        "schedule:",
        "  num_train_timesteps: 10",
        "training:",
        "  epochs: 1",
        "  batch_size: " + BATCH,
        "  log_every: 50",
        "  image_log_every: 0",
        "sampling:",
        "  num_inference_steps: 5",
        "output:",
        "  dir: " + dir.resolve("runs"),
        "  name: big",
        ""));
    Path log = dir.resolve("child.log");
    Process p = ChildCli.builder(HEAP_MB + "m", dir, log, "train", "-c", yaml.toString(), "--no-samples")
        .start();
    assertTrue(p.waitFor(600, java.util.concurrent.TimeUnit.SECONDS), "the child finishes");
    String out = ChildCli.read(log);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains(String.format(java.util.Locale.ROOT, "data train: %,d images from 1 CIFAR-10 batch file(s)",
        RECORDS)), out);
    int steps = (RECORDS + BATCH - 1) / BATCH;
    assertTrue(out.contains("finished at step " + steps), "a whole epoch over every image: " + out);
    Path cache;
    try (Stream<Path> files = Files.list(dir.resolve("runs/.data-cache"))) {
      cache = files.filter(f -> f.toString().endsWith(".cache")).findFirst().orElseThrow();
    }
    long heap = (long) HEAP_MB << 20;
    assertTrue(Files.size(cache) > 2 * heap, "the cache (" + Files.size(cache) + " bytes) is more than twice the "
        + "heap (" + heap + " bytes)");
  }

  /** A CIFAR-10 batch of {@code n} records with varied labels and pixels, written in chunks. */
  private static void writeBatch(Path file, int n) throws IOException {
    byte[] record = new byte[Cifar10Batches.RECORD_BYTES];
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      for (int r = 0; r < n; r++) {
        record[0] = (byte) (r % 10);
        for (int i = 1; i < record.length; i++) {
          record[i] = (byte) (r + i * 31);
        }
        out.write(record);
      }
    }
  }
}
