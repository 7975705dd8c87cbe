package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.SafeTensors;
import io.github.diffusion4j.io.TensorFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files written by the oldest build of the history (commit 8b8f4135, 2026-11-26), read by this one: a run folder of
 * the tutorial's MLP (hidden 4, trained on ND4J for one epoch of 256 gradients: 4 steps), the samples that build drew
 * from it (seed 7, four DDPM-100 images, on ND4J and on DJL), the weights that build's {@code --resume} to two epochs
 * wrote, and its {@code config --bundled default}, {@code --bundled tutorial} and {@code config} (every key). The
 * files are test resources under {@code upgrade/2026-11-26}; docs/reliability.md, "Upgrading: files of older builds".
 * Beside them, under {@code upgrade/2026-12-02}, the same MLP's run folder (2 steps) and samples from the build of
 * commit 3700d92e, which sampled with noise version 2 and recorded it only in the manifest.
 *
 * <p>The tolerance: this build's arithmetic is not that build's (the samplers' fused update of 2026-12-02,
 * 3700d92e, and the kernels of both backends; docs/noise.md), and the backends' bits differ between CPUs. On an AMD
 * EPYC this build's samples lie within 1.2e-6 of that build's on both backends; 1e-4 is the bound
 * {@link CrossBackendTest} allows between ND4J and DJL after 100 DDPM steps, far above that drift and far below what a
 * misread file gives (the wrong noise version, checked here, moves the samples by more than 0.1; a wrong schedule or
 * weight by as much).
 */
class OlderBuildFilesTest {
  private static final double TOLERANCE = 1e-4;

  @TempDir
  Path dir;

  private static Path old() {
    return old("2026-11-26");
  }

  private static Path old(String build) {
    try {
      return Path.of(OlderBuildFilesTest.class.getResource("/upgrade/" + build).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Each build's checkpoint samples, on each backend, the images that build sampled from it. The build of 2026-12-02
   * ({@code 3700d92e}, one of the builds between noise version 2 and its key) recorded {@code "noise_version" : 2}
   * in its manifest and no key in its config: its images are version 2's, and version 1's are far from them.
   */
  @ParameterizedTest
  @CsvSource({"2026-11-26, nd4j, 2", "2026-11-26, djl, 2", "2026-12-02, nd4j, 1", "2026-12-02, djl, 1"})
  void itsCheckpointSamplesTheImagesItSampled(String build, String backend, int otherNoiseVersion) throws Exception {
    Path files = old(build);
    float[] expected = SafeTensors.read(files.resolve("samples-" + backend + ".safetensors")).tensors()
        .get("samples").toArray();
    float[] now = sample(files, backend);
    assertEquals(expected.length, now.length);
    double max = maxDifference(expected, now);
    assertTrue(max <= TOLERANCE, backend + ": max |" + build + " - now| = " + max);
    // the tolerance tells a misread file: the other noise version is far off
    double other = maxDifference(expected, sample(files, backend, "--set",
        "sampling.noise_version=" + otherNoiseVersion));
    assertTrue(other > 0.1, backend + ": noise version " + otherNoiseVersion + " differs by only " + other);
  }

  @Test
  void itsRunResumesWhereItStopped() throws Exception {
    Path run = copy(old().resolve("run"), dir.resolve("run"));
    Path log = dir.resolve("resume.log");
    assertEquals(0, ChildCli.run(dir, log, "train", "-c", run.resolve("config.yaml").toString(), "--run-dir",
        run.toString(), "--resume", "--set", "training.epochs=2", "--no-samples"), ChildCli.read(log));
    TensorFile expected = SafeTensors.read(old().resolve("resumed-model.safetensors"));
    TensorFile now = SafeTensors.read(run.resolve("checkpoints/step-00000008/model.safetensors"));
    assertEquals(expected.tensors().names(), now.tensors().names());
    // 4 more Adam steps of lr 1e-3: a lost optimizer state or step count moves weights by about 1e-3 per step
    for (String name : expected.tensors().names()) {
      double max = maxDifference(expected.tensors().get(name).toArray(), now.tensors().get(name).toArray());
      assertTrue(max <= TOLERANCE, name + ": max |2026-11-26's resume - this build's| = " + max);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"default.yaml", "tutorial.yaml", "all-defaults.yaml", "run/config.yaml"})
  void itsConfigFilesStillValidate(String file) {
    CliTest.Result r = CliTest.cli("config", "--check", old().resolve(file).toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains(": OK"), r.all());
  }

  private float[] sample(Path files, String backend, String... more) throws IOException, InterruptedException {
    Path out = dir.resolve(backend + "-" + more.length + ".safetensors");
    Path log = dir.resolve(backend + ".log");
    String[] args = Stream.concat(Stream.of("sample", "--checkpoint", files.resolve("run").toString(), "--backend",
        backend, "--seed", "7", "--count", "4", "--out", out.toString()), Stream.of(more)).toArray(String[]::new);
    assertEquals(0, ChildCli.run(dir, log, args), ChildCli.read(log));
    return SafeTensors.read(out).tensors().get("samples").toArray();
  }

  private static double maxDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs((double) a[i] - b[i]));
    }
    return max;
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      files.forEach(f -> {
        try {
          Files.copy(f, to.resolve(from.relativize(f).toString()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return to;
  }
}
