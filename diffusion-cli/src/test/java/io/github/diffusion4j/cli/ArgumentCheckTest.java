package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.assertBad;
import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks commands make of their arguments before they read a file or build a model: each refusal is bad input
 * (exit 2, one line) naming the option as typed, and the edge values the help allows are not refused.
 */
class ArgumentCheckTest {
  @TempDir
  Path dir;

  @Test
  void trainTakesExactlyOneConfiguration() {
    assertBad(cli("train"), "give exactly one of -c/--config FILE and --bundled NAME (");
    assertBad(cli("train", "-c", dir.resolve("x.yaml").toString(), "--bundled", "tutorial"),
        "give exactly one of -c/--config FILE and --bundled NAME");
  }

  @Test
  void configCheckRefusesOptionsThatDoNotGoWithIt() {
    String a = dir.resolve("a.yaml").toString();
    String b = dir.resolve("b.yaml").toString();
    assertBad(cli("config", "--check", a, "--markdown"), "--markdown prints the key reference; it does not go with --check");
    assertBad(cli("config", "--check", a, "-c", b), "--check " + a + " and -c " + b + ": give the file once");
  }

  @Test
  void convertChecksItsOptionsAndKeepsAFolderThatHoldsFiles() throws IOException {
    Path file = Files.writeString(dir.resolve("model.ckpt"), "not a torch file");
    String out = dir.resolve("o").toString();
    assertBad(cli("convert", file.toString(), "--out", out, "--image-size", "0"), "--image-size 0: must be in [1, 16384]");
    assertBad(cli("convert", file.toString(), "--out", out, "--image-size", "16385"),
        "--image-size 16385: must be in [1, 16384]");
    for (String edge : new String[] {"1", "16384"}) { // allowed: the file is what is refused
      CliTest.Result r = cli("convert", file.toString(), "--out", out, "--image-size", edge);
      assertFalse(r.err().contains("--image-size"), r.err());
    }
    Path full = Files.createDirectories(dir.resolve("full"));
    Files.writeString(full.resolve("keep.txt"), "mine");
    assertBad(cli("convert", file.toString(), "--out", full.toString()), "--out " + full + ": exists; choose a new folder");
    assertEquals("mine", Files.readString(full.resolve("keep.txt")));
  }

  @Test
  void exportAndConvertNameAnUnknownFormatAndAFileThatIsNotThere() throws IOException {
    String out = dir.resolve("o").toString();
    assertBad(cli("export", "--checkpoint", dir.resolve("ck").toString(), "--out", out, "--format", "onnx"),
        "--format onnx: supported is diffusers");
    assertBad(cli("convert", dir.resolve("nope.ckpt").toString(), "--out", out), dir.resolve("nope.ckpt") + ": no such file");
    Path folder = Files.createDirectories(dir.resolve("model.ckpt"));
    assertBad(cli("convert", folder.toString(), "--out", out), folder + ": not a file");
    assertFalse(Files.exists(dir.resolve("o")), "nothing written");
  }

  @Test
  void aSetOfAKeyTheCommandTakesFromItsOwnOptionIsRefusedNotDropped() {
    // these were dropped silently: sample --set sampling.count=3 wrote 64 images, --set seed=7 the seed 0's
    String none = dir.resolve("no-checkpoint").toString(); // refused before the checkpoint is read
    assertBad(cli("sample", "--checkpoint", none, "--set", "seed=7"),
        "--set seed=7: sample takes its noise seed from --seed (default 0), not from the configuration; give --seed 7");
    assertBad(cli("sample", "--checkpoint", none, "--set", "sampling.count=3"),
        "--set sampling.count=3: sample takes the number of images from --count");
    assertBad(cli("eval", "--checkpoint", none, "--set", "sampling.count=100"),
        "--set sampling.count=100: eval takes the number of samples from --count");
    assertBad(cli("interpolate", "--checkpoint", none, "--set", "seed=5"),
        "--set seed=5: interpolate takes the seed of its end latents from --seed");
    assertBad(cli("interpolate", "--checkpoint", none, "--set", "sampling.count=3"),
        "--set sampling.count=3: interpolate takes the number of images from --count");
    assertBad(cli("interpolate", "--checkpoint", none, "--set", "sampling.sampler=ddpm"),
        "--set sampling.sampler=ddpm: interpolate always walks deterministic DDIM (eta 0)");
    assertBad(cli("interpolate", "--checkpoint", none, "--set", "sampling.eta=1"),
        "--set sampling.eta=1: interpolate always walks deterministic DDIM (eta 0)");
    // --bpd refuses --sampler and --steps, and clips unless --no-clip: their --sets were dropped silently
    assertBad(cli("eval", "--bpd", "--checkpoint", none, "--set", "sampling.clip_sample=false"),
        "--set sampling.clip_sample=false: eval --bpd clips the predicted x0 to [-1, 1] whatever the configuration "
            + "says; give --no-clip not to");
    assertBad(cli("eval", "--bpd", "--checkpoint", none, "--set", "sampling.sampler=ddpm"),
        "--set sampling.sampler=ddpm: does not apply to --bpd, which evaluates every training timestep");
    assertBad(cli("eval", "--bpd", "--checkpoint", none, "--set", "sampling.num_inference_steps=5"),
        "--set sampling.num_inference_steps=5: does not apply to --bpd");
    // eval's reference images of generated data are drawn from the configuration's seed: taken there
    CliTest.Result evalSeed = cli("eval", "--checkpoint", none, "--set", "seed=7");
    assertFalse(evalSeed.err().contains("--set seed=7"), evalSeed.err());
  }

  @Test
  void demoNeedsTwoSamplesToScore() {
    Path out = dir.resolve("demo");
    assertBad(cli("demo", "--count", "1", "--out-dir", out.toString()), "--count 1: needs at least 2 samples");
    assertFalse(Files.exists(out), "nothing was made");
  }

  @Test
  void dataCheckRefusesOptionsWithoutWhatTheyNeed() {
    String folder = dir.toString();
    assertBad(cli("data", "check"), "give a folder (diffusion data check DIR) or a configuration (-c FILE)");
    assertBad(cli("data", "check", folder, "-c", dir.resolve("x.yaml").toString()),
        "give a folder (diffusion data check DIR) or a configuration (-c FILE), not both");
    assertBad(cli("data", "check", folder, "--show", "-1"), "--show -1: must be 0 or more");
    CliTest.Result zero = cli("data", "check", folder, "--show", "0"); // allowed: the empty folder is what is refused
    assertFalse(zero.err().contains("--show"), zero.err());
    assertBad(cli("data", "check", folder, "--set", "data.kind=folder"), "--set applies only with -c FILE");
    assertBad(cli("data", "check", folder, "--resize", "pad"), "--resize and --upscale need --image-shape C,H,W");
    assertBad(cli("data", "check", folder, "--upscale"), "--resize and --upscale need --image-shape C,H,W");
    assertBad(cli("data", "check", folder, "--image-shape", "3,0,8"), "--image-shape 3,0,8: give C,H,W");
    assertBad(cli("data", "check", folder, "--image-shape", "1,8,0"), "--image-shape 1,8,0: give C,H,W");
  }

  @Test
  void dataBenchNamesTheCountThatIsBelowOne() {
    String config = dir.resolve("x.yaml").toString();
    for (String option : new String[] {"--images", "--gather-batches", "--steps", "--warmup", "--reps"}) {
      assertBad(cli("data", "bench", "-c", config, option, "0"), option + " 0: must be at least 1");
    }
  }
}
