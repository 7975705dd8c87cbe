package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.DiffusionCli;
import io.github.diffusion4j.spark.SampleManifest;
import io.github.diffusion4j.spark.SparkDiffusion;
import io.github.diffusion4j.spark.SparkTestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code diffusion spark} through the {@code diffusion} command line, in this JVM (the extension is found on
 * the class path; the commands share the tests' local Spark context).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkCliTest {
  private Path run;
  private Path dir;

  private static SparkTestSupport.Cli cli(String... args) {
    return SparkTestSupport.cli(args);
  }

  @BeforeAll
  void setUp() {
    SparkTestSupport.context();
    run = SparkTestSupport.gradientRun();
    dir = SparkTestSupport.root().resolve("cli");
  }

  private static void assertBad(SparkTestSupport.Cli r, String start) {
    assertEquals(DiffusionCli.BAD_INPUT, r.code(), r.all());
    assertTrue(r.err().startsWith("diffusion: " + start), r.err());
    // one line; a usage error adds picocli's pointer to --help, as in the other commands
    java.util.List<String> lines = r.err().strip().lines().toList();
    assertTrue(lines.size() == 1 || (lines.size() == 2 && lines.get(1).startsWith("Try 'diffusion spark")), r.err());
  }

  @Test
  void sampleWritesShardsAndAManifestWithTheBytesOfDiffusionSample() {
    Path single = dir.resolve("single.npy");
    assertEquals(0, cli("sample", "--checkpoint", run.toString(), "--count", "1100", "--seed", "4", "--out",
        single.toString()).code());
    Path out = dir.resolve("shards");
    SparkTestSupport.Cli r = cli("spark", "sample", "--checkpoint", run.toString(), "--count", "1100", "--seed", "4", "--out",
        out.toString(), "--master", SparkTestSupport.MASTER, "--partitions", "2", "--verify");
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().startsWith("wrote " + out.resolve("manifest.json") + " (1100 images in 2 npy shards, ddpm 10 "
        + "steps, seed 4, nd4j) in "), r.out());
    assertTrue(r.out().strip().endsWith("every shard verified"), r.out());
    SampleManifest m = SampleManifest.read(out);
    assertArrayEquals(SparkTestSupport.npyData(single), SparkTestSupport.joinedShards(out, m));
  }

  @Test
  void evalPrintsTheReportOfDiffusionEval() throws IOException {
    Path json = dir.resolve("quality.json");
    Files.createDirectories(dir);
    SparkTestSupport.Cli single = cli("eval", "--checkpoint", run.toString(), "--count", "300");
    assertEquals(0, single.code(), single.all());
    SparkTestSupport.Cli r = cli("spark", "eval", "--checkpoint", run.toString(), "--count", "300", "--master",
        SparkTestSupport.MASTER, "--json", json.toString());
    assertEquals(0, r.code(), r.all());
    String expected = single.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    String got = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    // one batch: one shard, the same accumulation as on one machine, so the same JSON line
    assertEquals(expected, got);
    // the table's row says what sampled, as eval's does
    String row = single.out().lines().filter(l -> l.startsWith("ddpm 10 steps")).findFirst().orElseThrow();
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("ddpm 10 steps, 1 shard, ")
        && l.endsWith(row.substring("ddpm 10 steps".length()).strip())), r.out() + "\n" + row);
    String real = "real images: 300 of generated gradient images";
    assertTrue(single.out().contains(real) && r.out().contains(real), single.out() + r.out());
    assertEquals(got, Files.readString(json).strip());
  }

  /**
   * {@code spark eval --json} into a folder where no file can be created is refused before the job, as by {@code
   * diffusion eval} (it was found only after the whole job, when the report was written).
   */
  @Test
  void evalJsonInAnUnwritableFolderIsRefusedBeforeTheJob() throws IOException {
    Path readOnly;
    if ("root".equals(System.getProperty("user.name"))) {
      readOnly = Path.of("/sys/kernel");
    } else {
      readOnly = Files.createDirectories(dir.resolve("read-only"));
      readOnly.toFile().setWritable(false, false);
    }
    org.junit.jupiter.api.Assumptions.assumeFalse(io.github.diffusion4j.io.FileProblems.canCreateFilesIn(readOnly),
        "the test needs a folder where files cannot be created");
    Path json = readOnly.resolve("q.json");
    SparkTestSupport.Cli single = cli("eval", "--checkpoint", run.toString(), "--count", "300", "--json", json.toString());
    assertBad(single, "--json " + json + ": the folder " + readOnly + " is not writable");
    SparkTestSupport.Cli r = cli("spark", "eval", "--checkpoint", run.toString(), "--count", "300", "--master",
        SparkTestSupport.MASTER, "--json", json.toString());
    assertBad(r, "--json " + json + ": the folder " + readOnly + " is not writable");
    assertEquals("", r.out(), "nothing was computed");
  }

  @Test
  void badInputIsOneLineAndExitCode2() throws IOException {
    String ck = run.toString();
    String m = SparkTestSupport.MASTER;
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--count", "0", "--out", dir.resolve("a").toString()),
        "--count 0: must be at least 1");
    // what an option gives is refused as a --set, not dropped (64 images were written for sampling.count=3)
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--set", "seed=7", "--out", dir.resolve("a").toString()),
        "--set seed=7: spark sample takes its noise seed from --seed (default 0), not from the configuration; give "
            + "--seed 7");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--set", "sampling.count=3", "--out",
        dir.resolve("a").toString()), "--set sampling.count=3: spark sample takes the number of images from --count");
    assertBad(cli("spark", "eval", "--checkpoint", ck, "--set", "sampling.count=3"),
        "--set sampling.count=3: spark eval takes the number of samples from --count (default 2000)");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--format", "jpg", "--out", dir.resolve("a").toString()),
        "--format jpg: unknown (allowed: npy, safetensors, png)");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--ship", "ftp", "--out", dir.resolve("a").toString()),
        "--ship ftp: unknown (allowed: path, broadcast, auto)");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--partitions", "0", "--out", dir.resolve("a").toString()),
        "--partitions 0: must be at least 1");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--threads", "0", "--out", dir.resolve("a").toString()),
        "--threads 0: must be at least 1");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", "bogus", "--out", dir.resolve("a").toString()),
        "--master bogus: not a Spark master URL (allowed: local, local[N], local[*], local[N,F]");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", "local[2,x]", "--out", dir.resolve("a").toString()),
        "--master local[2,x]: not a Spark master URL");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", "local[0]", "--out", dir.resolve("a").toString()),
        "--master local[0]: not a Spark master URL");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", "yarn", "--out", dir.resolve("a").toString()),
        "--master yarn: no Spark cluster manager for it on the class path");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--conf", "foo=1", "--out", dir.resolve("a").toString()),
        "--conf foo=1: expected spark.KEY=VALUE");
    Path full = dir.resolve("full");
    Files.createDirectories(full);
    Files.writeString(full.resolve("x"), "x");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", full.toString()), "--out " + full + ": not empty");
    Path left = Files.createDirectories(dir.resolve("interrupted").resolve(".tmp-shard-00003-5f2a"));
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", left.getParent().toString()), "--out "
        + left.getParent() + ": holds only the temporaries of an interrupted run (e.g. .tmp-shard-00003-5f2a)");
    // a folder another job has claimed: named as such while its process lives (its temporaries are not to be
    // deleted), as an interrupted run's once it is gone
    Path claimed = Files.createDirectories(dir.resolve("claimed"));
    Files.writeString(claimed.resolve(SparkDiffusion.CLAIM), "process " + ProcessHandle.current().pid() + " since now\n");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", claimed.toString()), "--out " + claimed
        + ": another job (process " + ProcessHandle.current().pid() + " since now) is writing into it");
    Files.writeString(claimed.resolve(SparkDiffusion.CLAIM), "process 999999999999 since then\n");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", claimed.toString()), "--out " + claimed
        + ": holds only the temporaries of an interrupted run, or of a job on another machine (.tmp-job: process "
        + "999999999999 since then)");
    // a driver killed with kill -9 on a cluster: its claim, a finished shard and a temporary, no manifest (was "not
    // empty", as for a folder of the user's)
    Files.writeString(claimed.resolve("shard-00000.npy"), "x");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", claimed.toString()), "--out " + claimed
        + ": holds the shards and temporaries of an interrupted run, without manifest.json, or of a job on another "
        + "machine (.tmp-job: process 999999999999 since then); delete the folder once no job writes there");
    Files.writeString(claimed.resolve("manifest.json"), "{}");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", claimed.toString()), "--out " + claimed
        + ": not empty");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", full.resolve("x").toString()), "--out "
        + full.resolve("x") + ": is a file");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--out", full.resolve("x/shards").toString()), "--out "
        + full.resolve("x/shards") + ": " + full.resolve("x").toAbsolutePath() + " is a file");
    assertBad(cli("spark", "sample", "--checkpoint", dir.resolve("nope").toString(), "--master", m, "--out",
        dir.resolve("b").toString()), dir.resolve("nope") + ": no such checkpoint folder");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", m, "--steps", "31", "--out",
        dir.resolve("c").toString()), "--steps 31: ");
    assertBad(cli("spark", "sample", "--checkpoint", ck, "--master", m, "--backend", "tpu", "--out",
        dir.resolve("d").toString()), "--backend tpu: backend: unknown backend 'tpu'");
    assertBad(cli("spark", "eval", "--checkpoint", ck, "--count", "1"), "--count 1: needs at least 2 samples");
    // a wrong override is said as by spark sample (the driver's load translates it), not as an internal error
    assertBad(cli("spark", "eval", "--checkpoint", ck, "--master", m, "--count", "8", "--steps", "31"), "--steps 31: ");
    assertBad(cli("spark"), "Missing required subcommand");
    assertBad(cli("spark", "sample"), "Missing required option");
    // a failed job leaves no folder behind
    assertTrue(!Files.exists(dir.resolve("b")) && !Files.exists(dir.resolve("c")) && !Files.exists(dir.resolve("d")));
  }

  @Test
  void theMainHelpListsSpark() {
    SparkTestSupport.Cli r = cli("--help");
    assertTrue(r.out().contains("spark"), r.out());
    SparkTestSupport.Cli help = cli("spark", "sample", "--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("--partitions"), help.out());
  }
}
