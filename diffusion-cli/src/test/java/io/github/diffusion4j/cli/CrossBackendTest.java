package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One model, two backends, through the real command: train on ND4J, then sample, interpolate and evaluate
 * the same checkpoint on ND4J and on DJL, each in its own JVM. The same seed gives the same images to
 * 1e-4 after 100 DDPM steps.
 */
class CrossBackendTest {
  @TempDir
  Path dir;

  @Test
  void aModelTrainedOnNd4jSamplesTheSameOnDjl() throws Exception {
    Path yaml = dir.resolve("x.yaml");
    Files.writeString(yaml, String.join("\n",
        "backend: nd4j",
        "data:",
        "  train_size: 2000",
        "  eval_size: 100",
        "training:",
        "  epochs: 3",
        "  batch_size: 64",
        "  image_log_every: 0",
        "sampling:",
        "  sampler: ddpm",
        "  num_inference_steps: 100",
        "output:",
        "  name: x",
        ""));
    Path log = dir.resolve("train.log");
    assertEquals(0, ChildCli.run(dir, log, "train", "-c", yaml.toString(), "--no-samples"), ChildCli.read(log));
    Path run = dir.resolve("runs/x");
    float[][] samples = new float[2][];
    String[] backends = {"nd4j", "djl"};
    for (int i = 0; i < 2; i++) {
      Path out = dir.resolve(backends[i] + ".safetensors");
      Path l = dir.resolve(backends[i] + ".log");
      assertEquals(0, ChildCli.run(dir, l, "sample", "--checkpoint", run.toString(), "--backend", backends[i],
          "--count", "32", "--seed", "5", "--out", out.toString()), ChildCli.read(l));
      samples[i] = SafeTensors.read(out).tensors().get("samples").toArray();
      Path strip = dir.resolve(backends[i] + "-strip.png");
      assertEquals(0, ChildCli.run(dir, l, "interpolate", "--checkpoint", run.toString(), "--backend", backends[i],
          "--count", "4", "--out", strip.toString()), ChildCli.read(l));
      assertEquals(0, ChildCli.run(dir, l, "eval", "--checkpoint", run.toString(), "--backend", backends[i],
          "--count", "200"), ChildCli.read(l));
      assertTrue(ChildCli.read(l).contains("frechet"), ChildCli.read(l));
    }
    double max = 0;
    for (int i = 0; i < samples[0].length; i++) {
      max = Math.max(max, Math.abs(samples[0][i] - samples[1][i]));
    }
    assertTrue(max <= 1e-4, "max |nd4j - djl| after 100 DDPM steps = " + max);
  }
}
