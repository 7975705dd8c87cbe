package io.github.diffusion4j.examples;

import io.github.diffusion4j.io.NpyWriter;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One model, two backends: train on ND4J, then sample the same checkpoint with the same seed on ND4J and
 * on DJL (PyTorch), and compare. The backend is one line of configuration ({@code backend: djl}, here the
 * override {@code backend=djl}); the noise is portable, so the images agree to float precision.
 *
 * <p>Each backend runs in its own JVM (one native engine per process), so this program starts itself
 * three times: {@code --train}, then {@code --sample=nd4j} and {@code --sample=djl}.
 *
 * <pre>java -cp "examples/target/classes:examples/target/lib/*" io.github.diffusion4j.examples.SwitchBackend [OUT_DIR] [--tiny]</pre>
 */
public final class SwitchBackend {
  private SwitchBackend() {}

  /**
   * Runs the example.
   *
   * @param args {@code [OUT_DIR] [--tiny]} (and the internal {@code --train}, {@code --sample=NAME})
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    Path out = Examples.outDir(args, "switch-backend");
    boolean tiny = Examples.tiny(args);
    String sample = Examples.option(args, "sample", null);
    if (List.of(args).contains("--train")) {
      try (Diffusion d = Diffusion.open(Examples.config("gradients.yaml", out, tiny, "backend=nd4j"));
          TrainingRun run = TrainingRun.start(d, RunFolder.under(d.config().output().dir(), "run"))) {
        run.run();
      }
      return;
    }
    if (sample != null) {
      try (TrainedModel m = TrainedModel.load(out.resolve("run"), List.of("backend=" + sample))) {
        Diffusion d = m.diffusion();
        float[] images = m.sample(d.sampler("ddpm"), d.request(16, 99), SamplingListener.NONE);
        NpyWriter.write(out.resolve(sample + ".npy"), images, Shape.batchOf(16, d.imageShape()));
        System.out.println(sample + ": " + d.backend().describe());
      }
      return;
    }
    child(out, tiny, "--train");
    child(out, tiny, "--sample=nd4j");
    child(out, tiny, "--sample=djl");
    float[] a = readNpy(out.resolve("nd4j.npy"));
    float[] b = readNpy(out.resolve("djl.npy"));
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    System.out.printf("16 DDPM samples of one checkpoint, seed 99: max |nd4j - djl| = %.2e over %d values%n", max,
        a.length);
    if (!(max <= 1e-4)) {
      throw new IllegalStateException("the backends disagree by " + max);
    }
  }

  private static void child(Path out, boolean tiny, String mode) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), SwitchBackend.class.getName(),
        out.toString(), mode));
    if (tiny) {
      cmd.add("--tiny");
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().putIfAbsent("OMP_NUM_THREADS", "1");
    int code = pb.start().waitFor();
    if (code != 0) {
      throw new IllegalStateException("child " + mode + " failed with exit code " + code);
    }
  }

  /** Reads the float32 .npy files this example wrote (header, then little-endian floats). */
  static float[] readNpy(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    ByteBuffer buf = ByteBuffer.wrap(bytes, 10 + headerLength, bytes.length - 10 - headerLength)
        .order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[buf.remaining() / 4];
    buf.asFloatBuffer().get(v);
    return v;
  }
}
