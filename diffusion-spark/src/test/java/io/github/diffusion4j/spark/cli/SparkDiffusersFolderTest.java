package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.spark.SampleManifest;
import io.github.diffusion4j.spark.SparkTestSupport;
import io.github.diffusion4j.testkit.GoldenCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code diffusion spark} on diffusers folders: the pipeline folder {@code diffusion export} writes, and a bare
 * {@code UNet2DModel} folder, reach the executors whichever way they are shipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkDiffusersFolderTest {
  private Path dir;
  private Path pipeline;
  private Path bare;

  @BeforeAll
  void setUp() throws IOException {
    SparkTestSupport.context();
    dir = SparkTestSupport.root().resolve("diffusers");
    UNet2DConfig c = UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "DownBlock2D"), "up_block_types", List.of("UpBlock2D", "UpBlock2D"),
        "norm_num_groups", 4, "sample_size", 8));
    StateDict w = GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3);
    pipeline = dir.resolve("pipeline");
    DiffusersFolder.write(pipeline, c, w, SchedulerConfig.DIFFUSERS_DEFAULTS); // what diffusion export writes
    bare = Files.createDirectories(dir.resolve("bare"));
    Files.copy(pipeline.resolve("unet/config.json"), bare.resolve("config.json"));
    Files.copy(pipeline.resolve("unet/diffusion_pytorch_model.safetensors"),
        bare.resolve("diffusion_pytorch_model.safetensors"));
  }

  private SparkTestSupport.Cli sample(Path folder, String name, String ship) {
    return SparkTestSupport.cli("spark", "sample", "--checkpoint", folder.toString(), "--backend", "nd4j",
        "--steps", "2", "--count", "3", "--seed", "2", "--out", dir.resolve(name).toString(), "--master",
        SparkTestSupport.MASTER, "--ship", ship, "--verify");
  }

  /**
   * A diffusers folder has none of a checkpoint's files: {@code --ship auto} broadcast an empty map (every task failed
   * with "missing model.safetensors" in an executor's temporary folder) and {@code --ship path} checked no file.
   */
  @Test
  void aPipelineFolderSamplesTheBytesOfDiffusionSampleShippedEitherWay() {
    byte[] single = SparkTestSupport.singleProcessSamples(pipeline, 3, 2, "--backend", "nd4j", "--steps", "2");
    for (String ship : new String[] {"auto", "broadcast", "path"}) {
      SparkTestSupport.Cli r = sample(pipeline, "pipeline-" + ship, ship);
      assertEquals(0, r.code(), ship + ": " + r.all());
      Path out = dir.resolve("pipeline-" + ship);
      SampleManifest m = SampleManifest.read(out);
      assertEquals(List.of("model_index.json", "scheduler/scheduler_config.json", "unet/config.json",
          "unet/diffusion_pytorch_model.safetensors"), List.copyOf(m.checkpointSha256().keySet()), ship);
      assertArrayEquals(single, SparkTestSupport.joinedShards(out, m), ship);
    }
  }

  @Test
  void aBareModelFolderSamplesTheBytesOfDiffusionSample() {
    byte[] single = SparkTestSupport.singleProcessSamples(bare, 3, 2, "--backend", "nd4j", "--steps", "2");
    SparkTestSupport.Cli r = sample(bare, "bare-out", "auto");
    assertEquals(0, r.code(), r.all());
    SampleManifest m = SampleManifest.read(dir.resolve("bare-out"));
    assertEquals(List.of("config.json", "diffusion_pytorch_model.safetensors"),
        List.copyOf(m.checkpointSha256().keySet()));
    assertArrayEquals(single, SparkTestSupport.joinedShards(dir.resolve("bare-out"), m));
  }

  /**
   * {@code spark eval} refuses what {@code eval} refuses, with its line and before any task: a diffusers folder scored
   * against its placeholder gradients, and real images fewer than 2 (it used to score the first, and fail the second
   * only after the whole job).
   */
  @Test
  void evalRefusesAFolderWithoutRealImagesAsDiffusionEvalDoes() throws IOException {
    Path one = Files.createDirectories(dir.resolve("one-picture"));
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
        one.resolve("a.png").toFile());
    List<List<String>> cases = List.of(List.of(),
        List.of("--set", "data.kind=folder", "--set", "data.root=" + one, "--set",
            "data.cache_dir=" + dir.resolve("cache")));
    for (List<String> more : cases) {
      SparkTestSupport.Cli[] both = evalOnBoth(more, 2);
      assertEquals(withoutLoadNotice(both[0].err()), withoutLoadNotice(both[1].err()));
    }
  }

  /**
   * {@code eval}, then {@code spark eval}, of the diffusers folder (2 steps, 4 samples) with {@code more} options; each
   * must exit with {@code code}.
   */
  private SparkTestSupport.Cli[] evalOnBoth(List<String> more, int code) {
    List<String> args = new java.util.ArrayList<>(List.of("eval", "--checkpoint", pipeline.toString(), "--backend",
        "nd4j", "--steps", "2", "--count", "4"));
    args.addAll(more);
    SparkTestSupport.Cli single = SparkTestSupport.cli(args.toArray(String[]::new));
    assertEquals(code, single.code(), single.all());
    args.add(0, "spark");
    args.addAll(List.of("--master", SparkTestSupport.MASTER));
    SparkTestSupport.Cli r = SparkTestSupport.cli(args.toArray(String[]::new));
    assertEquals(code, r.code(), r.all());
    return new SparkTestSupport.Cli[] {single, r};
  }

  /**
   * {@code spark eval} of a model scored against real images (a folder of pictures, not the gradients) reports the
   * Frechet distance alone, as {@code eval} does: the gradient and corner metrics mean nothing for other images. One
   * sampling batch is one shard, so the report is eval's to the digit.
   */
  @Test
  void evalAgainstPicturesReportsTheFrechetDistanceAloneAsDiffusionEvalDoes() throws IOException {
    Path pictures = Files.createDirectories(dir.resolve("pictures"));
    for (int i = 0; i < 4; i++) {
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          img.setRGB(x, y, (30 * i + 20 * x) << 16 | (25 * y) << 8 | 60 * i);
        }
      }
      javax.imageio.ImageIO.write(img, "png", pictures.resolve(i + ".png").toFile());
    }
    SparkTestSupport.Cli[] both = evalOnBoth(List.of("--set", "data.kind=folder", "--set", "data.root=" + pictures,
        "--set", "data.cache_dir=" + dir.resolve("pictures-cache")), 0);
    SparkTestSupport.Cli single = both[0];
    SparkTestSupport.Cli r = both[1];
    String expected = single.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    String got = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    assertTrue(got.matches("\\{\"frechet\": [0-9.E-]+, \"gradient_residual\": null, \"corner_ks_pooled\": null, "
        + "\"corner_ks_mean\": null, \"corner_ks\": null, \"sample_count\": 4, \"sampler\": .*}"), got);
    assertEquals(expected, got);
  }

  /**
   * The error without the CLI's "loading DIR ..." line, which a load of more than three seconds prints first (the
   * first ND4J load of a JVM takes about 2.5 s, more on a busy machine): the errors are compared, not the timing.
   */
  private static String withoutLoadNotice(String err) {
    return err.replaceAll("(?m)^loading .* \\.\\.\\.\\R", "");
  }
}
