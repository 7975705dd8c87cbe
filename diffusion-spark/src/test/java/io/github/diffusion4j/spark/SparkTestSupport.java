package io.github.diffusion4j.spark;

import io.github.diffusion4j.cli.DiffusionCli;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * What the tests share: one local Spark context for the whole test JVM (starting one takes seconds; the
 * command-line tests get the same one through {@link SparkContexts}), and checkpoints trained once.
 */
public final class SparkTestSupport {
  /** Two task slots, and up to 3 attempts per task so that a failed attempt is retried as on a cluster. */
  public static final String MASTER = "local[2,3]";

  private static SparkContexts.Lease lease;
  private static Path root;
  private static Path gradientRun;

  private SparkTestSupport() {}

  /** The shared context (never stopped: Spark's shutdown hook stops it with the JVM). */
  public static synchronized JavaSparkContext context() {
    if (lease == null) {
      lease = SparkContexts.acquire(new SparkConf().setMaster(MASTER).setAppName("diffusion-spark tests")
          .set("spark.ui.enabled", "false")
          .set("spark.ui.showConsoleProgress", "false")
          .set("spark.driver.host", "127.0.0.1")
          .set("spark.driver.bindAddress", "127.0.0.1"));
    }
    return lease.context();
  }

  /** A folder for the whole test JVM, deleted at its end. */
  public static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("diffusion-spark-test-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path r = root;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          io.github.diffusion4j.io.AtomicFiles.deleteRecursively(r);
        } catch (IOException e) {
          // a temporary folder
        }
      }));
    }
    return root;
  }

  /** The gradient configuration of the tests: the tutorial's MLP, small, DDPM with 10 steps (noise at every step). */
  static final String TINY = String.join("\n",
      "backend: nd4j",
      "seed: 9",
      "data:",
      "  image_shape: [3, 5, 5]",
      "  train_size: 256",
      "  eval_size: 64",
      "model:",
      "  hidden: 16",
      "schedule:",
      "  num_train_timesteps: 30",
      "training:",
      "  epochs: 1",
      "  batch_size: 64",
      "sampling:",
      "  sampler: ddpm",
      "  num_inference_steps: 10",
      "output:",
      "  name: tiny",
      "");

  /** A run folder with one checkpoint of {@link #TINY}, trained once (on ND4J) for all the tests. */
  public static synchronized Path gradientRun() {
    if (gradientRun == null) {
      try {
        Path yaml = root().resolve("tiny.yaml");
        Files.writeString(yaml, TINY);
        try (Diffusion d = Diffusion.open(yaml);
             TrainingRun run = TrainingRun.start(d, RunFolder.under(root().resolve("runs"), "tiny"))) {
          run.run();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      gradientRun = root().resolve("runs/tiny");
    }
    return gradientRun;
  }

  /** The result of the command line run in this JVM. */
  public record Cli(int code, String out, String err) {
    public String all() {
      return out + err;
    }
  }

  public static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DiffusionCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Cli(code, out.toString(), err.toString());
  }

  /** What {@code diffusion sample --out FILE.npy} writes for a checkpoint, seed and count: the bytes after the header. */
  public static byte[] singleProcessSamples(Path checkpoint, int count, long seed, String... more) {
    Path npy = root().resolve("single-" + System.nanoTime() + ".npy");
    String[] args = {"sample", "--checkpoint", checkpoint.toString(), "--count", Integer.toString(count), "--seed",
        Long.toString(seed), "--out", npy.toString()};
    String[] all = Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    Cli r = cli(all);
    if (r.code() != 0) {
      throw new AssertionError("diffusion sample failed: " + r.all());
    }
    return npyData(npy);
  }

  /** The data of a {@code .npy} file: everything after its header. */
  public static byte[] npyData(Path npy) {
    try {
      byte[] all = Files.readAllBytes(npy);
      int headerLength = ByteBuffer.wrap(all, 8, 2).order(java.nio.ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
      return Arrays.copyOfRange(all, 10 + headerLength, all.length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data of a {@code .safetensors} file: everything after its header. */
  public static byte[] safetensorsData(Path file) {
    try {
      byte[] all = Files.readAllBytes(file);
      long headerLength = ByteBuffer.wrap(all, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
      return Arrays.copyOfRange(all, (int) (8 + headerLength), all.length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The shards of an output folder joined in order, headers removed. */
  public static byte[] joinedShards(Path out, SampleManifest m) {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (ShardResult s : m.shards()) {
      Path p = out.resolve(s.file());
      byte[] data = m.format() == SampleFormat.NPY ? npyData(p) : safetensorsData(p);
      all.writeBytes(data);
    }
    return all.toByteArray();
  }

  /** The entries of a folder, sorted. */
  public static List<String> list(Path dir) {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
