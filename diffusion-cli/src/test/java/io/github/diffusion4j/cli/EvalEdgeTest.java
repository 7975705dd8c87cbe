package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.CliTest.Result;
import io.github.diffusion4j.eval.FrechetDistance;
import io.github.diffusion4j.eval.ScoringMemoryException;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffusion eval} on folder data: missing or too few real images, and the heap advice. */
class EvalEdgeTest {
  @TempDir
  Path dir;

  private Path run() throws IOException {
    Path root = dir.resolve("pics");
    for (int i = 0; i < 8; i++) {
      TestImages.write(root.resolve(i + ".png"), TestImages.rgb(8, 8, 10 * i, 3 * i, 9));
    }
    TestImages.write(dir.resolve("one/0.png"), TestImages.rgb(8, 8, 1, 2, 3));
    Path yaml = dir.resolve("folder.yaml");
    Files.writeString(yaml, String.join("\n", "backend: reference", "seed: 2", "data:", "  kind: folder",
        "  image_shape: [3, 8, 8]", "  root: " + root, "model:", "  hidden: 8", "schedule:",
        "  num_train_timesteps: 10", "training:", "  epochs: 1", "  batch_size: 4", "  image_log_every: 0",
        "sampling:", "  num_inference_steps: 3", "  count: 4", "output:", "  dir: " + dir.resolve("runs"),
        "  name: f", ""));
    Result r = CliTest.cli("train", "-c", yaml.toString());
    assertEquals(0, r.code(), r.all());
    return dir.resolve("runs/f");
  }


  @Test
  void boundOnFolderDataWithoutEvaluationImagesNamesEvalRoot() throws IOException {
    String ck = run().toString();
    Result r = CliTest.cli("eval", "--bpd", "--checkpoint", ck, "--out", dir.resolve("bpd").toString());
    CliTest.assertBad(r, "data.eval_root: is not set");
    assertFalse(r.err().contains("eval_size"), r.err());
    Result ok = CliTest.cli("eval", "--bpd", "--checkpoint", ck, "--count", "3", "--set",
        "data.eval_root=" + dir.resolve("pics"), "--out", dir.resolve("bpd").toString());
    assertEquals(0, ok.code(), ok.all());
  }

  @Test
  void fewerThanTwoRealImagesAreRefusedBeforeSampling() throws IOException {
    String ck = run().toString();
    CliTest.assertBad(CliTest.cli("eval", "--checkpoint", ck, "--count", "5", "--set", "data.eval_root=" + dir.resolve("one")),
        "needs at least 2 real images");
  }

  @Test
  void fewRealImagesGetTheNoteToo() throws IOException {
    Result r = CliTest.cli("eval", "--checkpoint", run().toString(), "--count", "200");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("real images: 8 of the training images"), r.out());
    assertTrue(r.err().contains("note: 8 real images of 192 values each (fewer than the 200 samples)"), r.err());
  }

  /**
   * {@code eval --count N} whose pixel-space scoring would not fit the heap is refused on the command line, exit 2,
   * before anything is sampled (docs/reliability.md's row; it would sample for minutes, then run out of memory).
   */
  @Test
  void aCountWhoseScoringWouldNotFitTheHeapIsRefusedBeforeSampling() throws IOException {
    Path yaml = dir.resolve("large.yaml");
    Files.writeString(yaml, String.join("\n", "backend: reference", "seed: 2", "data:", "  image_shape: [3, 64, 64]",
        "  train_size: 8", "  eval_size: 8", "model:", "  hidden: 4", "schedule:", "  num_train_timesteps: 10",
        "training:", "  epochs: 1", "  batch_size: 8", "  image_log_every: 0", "sampling:", "  num_inference_steps: 3",
        "output:", "  dir: " + dir.resolve("runs"), "  name: large", ""));
    Result trained = CliTest.cli("train", "-c", yaml.toString(), "--no-samples");
    assertEquals(0, trained.code(), trained.all());
    Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> CliTest.cli("eval", "--checkpoint", dir.resolve("runs/large").toString(), "--count", "50000"));
    CliTest.assertBad(r, "diffusion: --count 50000: scoring 50000 samples of 3x64x64 images (12288 values each) "
        + "against as many real images takes about 10.9 GB of Java heap in pixel space");
    assertTrue(r.err().matches("(?s).*: score \\d+ or fewer, or give the JVM more heap \\(-Xmx\\); "
        + "DIFFUSION_JAVA_OPTS=-Xmx\\d+g for ./diffusion\\R"), r.err());
    assertFalse(r.all().contains("frechet"), "nothing scored: " + r.all());
  }

  @Test
  void heapAdviceIsEnoughForTheRefusedCount() {
    long max = Runtime.getRuntime().maxMemory();
    ScoringMemoryException e = null;
    try {
      FrechetDistance.checkHeap(Shape.of(3, 64, 64), 50_000, max / 2);
    } catch (ScoringMemoryException x) {
      e = x;
    }
    assertTrue(e != null && e.neededBytes() > 10e9, "50000 3x64x64 need about 10.9 GB");
    long gib = BadInputException.heapGigabytes(e);
    assertTrue(gib * (1L << 30) / 2 >= e.neededBytes(), gib + " GiB: half of it must hold " + e.neededBytes());
    assertTrue(BadInputException.ofScoringCount(50_000, e).getMessage().contains("-Xmx" + gib + "g"));
  }
}
