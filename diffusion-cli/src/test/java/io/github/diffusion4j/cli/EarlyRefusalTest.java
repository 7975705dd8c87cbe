package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.assertBad;
import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.CliTest.Result;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.testkit.GoldenCases;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a command can refuse without work is refused before the work: {@code train} before it prepares the data (a
 * folder's image cache takes minutes), {@code sample}, {@code eval} and {@code interpolate} before they read the
 * checkpoint's weights (seconds for a large model), or a diffusers folder's. The work not done is seen by what it
 * would have said: the data's lines, or a damaged weights file's error, which a read of the weights reports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EarlyRefusalTest {
  @TempDir
  static Path dir;

  private Path yaml;
  private Path damaged;
  private Path damagedDiffusers;

  @BeforeAll
  void trainAndDamage() throws IOException {
    yaml = dir.resolve("tiny.yaml");
    Files.writeString(yaml, CliTest.TINY.replace("  epochs: 2", "  epochs: 1"));
    Result r = cli("train", "-c", yaml.toString(), "--no-samples", "--set", "output.dir=" + dir.resolve("runs"));
    assertEquals(0, r.code(), r.all());
    // a copy whose weights are cut short: any read of them fails, naming the file
    damaged = dir.resolve("damaged");
    Path run = dir.resolve("runs/tiny");
    try (Stream<Path> all = Files.walk(run)) {
      for (Path p : all.toList()) {
        Path to = damaged.resolve(run.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    try (Stream<Path> all = Files.walk(damaged)) {
      for (Path p : all.filter(p -> p.getFileName().toString().equals("model.safetensors")).toList()) {
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
          c.truncate(100);
        }
      }
    }
    assertBad(cli("sample", "--checkpoint", damaged.toString(), "--out", dir.resolve("x.npy").toString()),
        "model.safetensors");
    // a diffusers folder (T = 1000, diffusers' defaults) whose weights are cut short likewise
    damagedDiffusers = dir.resolve("ddpm-damaged");
    UNet2DConfig c = UNet2DConfig.fromMap(Map.of("block_out_channels", List.of(8, 8), "layers_per_block", 1,
        "down_block_types", List.of("DownBlock2D", "DownBlock2D"), "up_block_types", List.of("UpBlock2D", "UpBlock2D"),
        "norm_num_groups", 4, "sample_size", 8));
    DiffusersFolder.write(damagedDiffusers, c, GoldenCases.testWeights(UNet2DSpec.of(c, 1000).parameterShapes(), 3),
        SchedulerConfig.DIFFUSERS_DEFAULTS);
    try (FileChannel ch = FileChannel.open(damagedDiffusers.resolve("unet").resolve(DiffusersFolder.WEIGHTS),
        StandardOpenOption.WRITE)) {
      ch.truncate(100);
    }
    assertBad(cli("sample", "--checkpoint", damagedDiffusers.toString(), "--out", dir.resolve("x.npy").toString()),
        DiffusersFolder.WEIGHTS);
  }

  @Test
  void trainRefusesAnUnknownBackendBeforeItPreparesTheData() throws IOException {
    Result r = cli("train", "-c", yaml.toString(), "--set", "backend=nd4k", "--set",
        "output.dir=" + dir.resolve("never"));
    assertBad(r, "--set backend=nd4k: backend: unknown backend 'nd4k'");
    assertFalse(r.out().contains("data train"), "the data was prepared first: " + r.out());
    Path inYaml = dir.resolve("nd4k.yaml");
    Files.writeString(inYaml, CliTest.TINY.replace("backend: reference", "backend: nd4k"));
    r = cli("train", "-c", inYaml.toString(), "--set", "output.dir=" + dir.resolve("never"));
    assertBad(r, "backend: unknown backend 'nd4k'");
    assertFalse(r.out().contains("data train"), "the data was prepared first: " + r.out());
    // --resume as well (a folder it refuses came before; an unknown backend came after the data)
    r = cli("train", "-c", yaml.toString(), "--resume", "--set", "backend=nd4k", "--set",
        "output.dir=" + dir.resolve("runs"));
    assertBad(r, "--set backend=nd4k: backend: unknown backend 'nd4k'");
    assertFalse(r.out().contains("data train"), "the data was prepared first: " + r.out());
    assertFalse(Files.exists(dir.resolve("never")), "no output folder");
  }

  @Test
  void anUnknownBackendIsRefusedBeforeTheWeightsAreRead() {
    refusesAnUnknownBackendOrSampler(damaged.toString());
  }

  @Test
  void optionsTheConfigurationDecidesAreRefusedBeforeTheWeightsAreRead() {
    refusesWhatTheScheduleDecides(damaged.toString(), 30);
  }

  /**
   * A diffusers folder's configuration is made from its config.json and scheduler_config.json, which are read before
   * its weights: what the options get wrong is refused before the weights are read, in the words of a checkpoint's.
   */
  @Test
  void aDiffusersFolderRefusesWhatTheOptionsGetWrongBeforeItsWeightsAreRead() {
    refusesAnUnknownBackendOrSampler(damagedDiffusers.toString());
    refusesWhatTheScheduleDecides(damagedDiffusers.toString(), 1000);
  }

  private static void refusesAnUnknownBackendOrSampler(String c) {
    assertBad(cli("sample", "--checkpoint", c, "--backend", "nd4k", "--out", dir.resolve("s.npy").toString()),
        "diffusion: --backend nd4k: backend: unknown backend 'nd4k'");
    assertBad(cli("eval", "--checkpoint", c, "--bpd", "--backend", "nd4k", "--out", dir.resolve("b").toString()),
        "diffusion: --backend nd4k: backend: unknown backend 'nd4k'");
    assertBad(cli("interpolate", "--checkpoint", c, "--backend", "nd4k", "--out", dir.resolve("i.npy").toString()),
        "diffusion: --backend nd4k: backend: unknown backend 'nd4k'");
    assertBad(cli("sample", "--checkpoint", c, "--sampler", "eulr", "--out", dir.resolve("s.npy").toString()),
        "diffusion: --sampler eulr: sampling.sampler: unknown sampler 'eulr'");
  }

  /** Options beyond the schedule's {@code t} timesteps, and a scoring the heap cannot hold, are refused. */
  private static void refusesWhatTheScheduleDecides(String c, int t) {
    String over = Integer.toString(t + 1);
    assertBad(cli("eval", "--checkpoint", c, "--bpd", "--timesteps", over, "--out", dir.resolve("b").toString()),
        "diffusion: --timesteps " + over + ": must be in [2, " + t + "]");
    assertBad(cli("sample", "--checkpoint", c, "--steps", over, "--out", dir.resolve("s.npy").toString()),
        "diffusion: --steps " + over + ": must be at most schedule.num_train_timesteps (" + t + "), got " + over);
    assertBad(cli("eval", "--checkpoint", c, "--steps", over, "--count", "2"),
        "diffusion: --steps " + over + ": must be at most schedule.num_train_timesteps (" + t + "), got " + over);
    // a scoring that would not fit half the heap: images of 3x1024x1024 (as a large model's), whose pixel-space
    // covariances alone take 79 TB
    assertBad(cli("eval", "--checkpoint", c, "--count", "100", "--set", "data.image_shape=[3, 1024, 1024]"),
        "diffusion: --count 100: scoring 100 samples of 3x1024x1024 images");
    assertFalse(Files.exists(dir.resolve("b")), "no --out folder");
  }

  /**
   * The check before the weights are read opens the checkpoint's configuration once more: the providers it discovers
   * serve the load, so a broken provider on the class path is still logged once (in a child JVM, whose log this
   * reads), not once per configuration.
   */
  @Test
  void aBrokenProviderIsLoggedOnceBySample() throws Exception {
    Path services = dir.resolve("broken/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve("io.github.diffusion4j.spi.BackendProvider"), "com.example.DoesNotExist\n");
    Path log = dir.resolve("broken.log");
    ProcessBuilder pb = ChildCli.builder(dir, log, "sample", "--checkpoint", dir.resolve("runs/tiny").toString(),
        "--steps", "2", "--count", "1", "--out", dir.resolve("one.npy").toString());
    List<String> cmd = new java.util.ArrayList<>(pb.command());
    int cp = cmd.indexOf("-cp") + 1;
    cmd.set(cp, cmd.get(cp) + java.io.File.pathSeparator + dir.resolve("broken"));
    Process p = pb.command(cmd).start();
    assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "the child ended");
    String out = ChildCli.read(log);
    assertEquals(0, p.exitValue(), out);
    assertEquals(1, out.split("BackendProvider discovery: ", -1).length - 1, out);
  }

  @Test
  void aMisspeltCommandIsOfferedOnlyTheCloseCommands() {
    for (List<String> typo : List.of(List.of("samle", "sample"), List.of("trian", "train"),
        List.of("interpolat", "interpolate"))) {
      Result r = cli(typo.get(0));
      assertBad(r, "'" + typo.get(0) + "' (did you mean " + typo.get(1) + "?)");
    }
    Result far = cli("xyzzy");
    assertBad(far, "Unmatched argument at index 0: 'xyzzy'");
    assertFalse(far.err().contains("did you mean"), far.err());
    // an option's suggestions are picocli's, as before
    assertTrue(cli("sample", "--chekpoint", "x").err().contains("(did you mean --checkpoint?)"));
  }
}
