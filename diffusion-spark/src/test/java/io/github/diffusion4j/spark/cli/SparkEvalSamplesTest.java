package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.DiffusionCli;
import io.github.diffusion4j.spark.SparkTestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code diffusion spark eval --samples DIR}: the shards of a {@code spark sample} folder, scored on Spark. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkEvalSamplesTest {
  private String run;
  private Path dir;
  private Path shards;

  private static SparkTestSupport.Cli cli(String... args) {
    return SparkTestSupport.cli(args);
  }

  @BeforeAll
  void sample() {
    SparkTestSupport.context();
    run = SparkTestSupport.gradientRun().toString();
    dir = SparkTestSupport.root().resolve("eval-samples").toAbsolutePath();
    shards = dir.resolve("shards");
    // two shards of whole sampling batches (1,024 + 76), as spark eval --partitions 2 draws them
    SparkTestSupport.Cli r = cli("spark", "sample", "--checkpoint", run, "--count", "1100", "--seed", "4", "--out",
        shards.toString(), "--master", SparkTestSupport.MASTER, "--partitions", "2");
    assertEquals(0, r.code(), r.all());
  }

  private static void assertBad(SparkTestSupport.Cli r, String start) {
    assertEquals(DiffusionCli.BAD_INPUT, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: " + start), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  private static String lastLine(SparkTestSupport.Cli r) {
    assertEquals(0, r.code(), r.all());
    return r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
  }

  /**
   * The numbers of spark eval drawing the same samples in the same shards, to the last bit (no tolerance): the shards
   * hold the float32 values as drawn, each task reads its shard in the sampling batches spark eval's task adds, and
   * the merge tree has the same shape for the same number of shards, so every double operation is the same.
   */
  @Test
  void scoresAsSparkEvalScoresTheSameSamples() {
    String drawn = lastLine(cli("spark", "eval", "--checkpoint", run, "--count", "1100", "--seed", "4",
        "--partitions", "2", "--master", SparkTestSupport.MASTER));
    SparkTestSupport.Cli r = cli("spark", "eval", "--checkpoint", run, "--samples", shards.toString(), "--master",
        SparkTestSupport.MASTER);
    String read = lastLine(r);
    String scores = drawn.substring(0, drawn.indexOf(", \"sampler\""));
    assertEquals(scores + ", \"sampler\": \"ddpm\", \"steps\": 10, \"seed\": 4, \"checkpoint\": \""
        + java.nio.file.Path.of(run).toAbsolutePath().normalize() + "\"}", drawn, "how they were drawn");
    assertEquals(scores + ", \"sampler\": \"ddpm\", \"steps\": 10, \"samples\": \"" + shards.toAbsolutePath().normalize()
        + "\"}", read, "the same scores, and the folder they were read from");
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("ddpm 10 steps, 2 shards, ")), r.out());
    String first = lastLine(cli("spark", "eval", "--checkpoint", run, "--samples", shards.toString(), "--count", "500",
        "--master", SparkTestSupport.MASTER));
    assertTrue(first.contains("\"sample_count\": 500"), first);
  }

  @Test
  void samplingOptionsAndTooManyAreRefused() throws IOException {
    String s = shards.toString();
    String m = SparkTestSupport.MASTER;
    for (String[] o : new String[][] {{"--sampler", "ddim"}, {"--steps", "3"}, {"--seed", "4"}, {"--partitions", "2"},
        {"--backend", "nd4j"}, {"--ship", "path"}, {"--threads", "1"}, {"--set", "sampling.num_inference_steps=3"}}) {
      assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", s, "--master", m, o[0], o[1]),
          (o[0].equals("--set") ? o[0] + " " + o[1] : o[0]) + ": not with --samples " + s);
    }
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", s, "--master", m, "--count", "1101"),
        "--count 1101: more than the 1100 samples in " + s);
    Path none = dir.resolve("none");
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", none.toString(), "--master", m),
        "--samples " + none + ": no such folder; give the output folder of diffusion spark sample");
    // the file diffusion sample --out wrote is diffusion eval's to score: said "not a folder" without naming it
    Path file = Files.write(dir.resolve("samples.npy"), new byte[] {1});
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", file.toString(), "--master", m),
        "--samples " + file + ": not a folder; give the output folder of diffusion spark sample (its manifest.json "
            + "and shards; diffusion eval --samples FILE scores the file diffusion sample --out wrote)");
    Path empty = dir.resolve("empty");
    assertTrue(empty.toFile().mkdirs());
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", empty.toString(), "--master", m),
        "--samples cannot read " + empty.resolve("manifest.json"));
  }

  @Test
  void aDamagedOrMissingShardIsOneLineNamingIt() throws IOException {
    String m = SparkTestSupport.MASTER;
    Path damaged = copy("damaged");
    Path shard = damaged.resolve("shard-00001.npy");
    byte[] b = Files.readAllBytes(shard);
    b[b.length - 1] ^= 1;
    Files.write(shard, b);
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", damaged.toString(), "--master", m),
        "--samples " + shard + ": does not match manifest.json");
    Path missing = copy("missing");
    Files.delete(missing.resolve("shard-00000.npy"));
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", missing.toString(), "--master", m),
        "--samples " + missing.resolve("shard-00000.npy") + ": ");
    Path png = dir.resolve("png");
    assertEquals(0, cli("spark", "sample", "--checkpoint", run, "--count", "4", "--out", png.toString(), "--format",
        "png", "--master", m).code());
    assertBad(cli("spark", "eval", "--checkpoint", run, "--samples", png.toString(), "--master", m),
        "--samples " + png.resolve("manifest.json") + ": format png");
  }

  private Path copy(String name) throws IOException {
    Path to = Files.createDirectories(dir.resolve(name));
    try (Stream<Path> files = Files.list(shards)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
    return to;
  }
}
