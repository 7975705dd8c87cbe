package io.github.diffusion4j.cli;

import static io.github.diffusion4j.cli.CliTest.assertBad;
import static io.github.diffusion4j.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.CliTest.Result;
import io.github.diffusion4j.io.NpyWriter;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffusion eval --samples FILE}: samples already on disk, scored as eval scores its own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EvalSamplesTest {
  @TempDir
  static Path dir;

  private String run;
  private Path npy;

  @BeforeAll
  void trainAndSample() throws IOException {
    Path yaml = dir.resolve("tiny.yaml");
    Files.writeString(yaml, CliTest.TINY.replace("epochs: 2", "epochs: 1"));
    Result r = cli("train", "-c", yaml.toString(), "--no-samples", "--set", "output.dir=" + dir.resolve("runs"));
    assertEquals(0, r.code(), r.all());
    run = dir.resolve("runs/tiny").toString();
    npy = dir.resolve("s.npy");
    r = cli("sample", "--checkpoint", run, "--count", "40", "--seed", "3", "--out", npy.toString());
    assertEquals(0, r.code(), r.all());
  }

  /** The report's JSON line, written by --json. */
  private static String report(Path json, String... args) throws IOException {
    String[] all = Arrays.copyOf(args, args.length + 2);
    all[args.length] = "--json";
    all[args.length + 1] = json.toString();
    Result r = cli(all);
    assertEquals(0, r.code(), r.all());
    return Files.readString(json).strip();
  }

  /**
   * The same numbers as eval's own sampling with the same seed, count, sampler and steps, to the last bit (no
   * tolerance): sample --out and eval draw the same batches of the same noise, the file holds their float32 values as
   * they were drawn, and --samples reads them back in eval's batches, so the accumulator adds the same values in the
   * same batches and order: its double sums are the same operations.
   */
  @Test
  void scoresAsEvalScoresTheSameSamples() throws IOException {
    String drawn = report(dir.resolve("a.json"), "eval", "--checkpoint", run, "--count", "40", "--seed", "3");
    String read = report(dir.resolve("b.json"), "eval", "--checkpoint", run, "--samples", npy.toString());
    assertEquals(scores(drawn), scores(read));
    Path st = dir.resolve("s.safetensors");
    assertEquals(0, cli("sample", "--checkpoint", run, "--count", "40", "--seed", "3", "--out", st.toString()).code());
    assertEquals(scores(drawn), scores(report(dir.resolve("c.json"), "eval", "--checkpoint", run, "--samples",
        st.toString())));
    assertTrue(drawn.contains("\"frechet\""), drawn);
    // each report says what it scored: how the samples were drawn, or the file they were read from
    assertEquals(scores(drawn).replace("}", ", \"sampler\": \"ddim\", \"steps\": 6, \"seed\": 3, \"checkpoint\": \""
        + Path.of(run).toAbsolutePath().normalize() + "\"}"), drawn);
    assertEquals(scores(read).replace("}", ", \"samples\": \"" + npy.toAbsolutePath().normalize() + "\"}"), read);
  }

  /** A report's scores: its JSON without what it says it scored (the keys after sample_count). */
  private static String scores(String json) {
    int count = json.indexOf("\"sample_count\": ");
    int end = count;
    while (!(json.charAt(end) == ',' || json.charAt(end) == '}')) {
      end++;
    }
    return json.substring(0, end) + "}";
  }

  /** --count takes the file's first N: the numbers of a file holding only those (written in one batch, as they). */
  @Test
  void countTakesTheFirstSamples() throws IOException {
    Path first = dir.resolve("first.npy");
    assertEquals(0, cli("sample", "--checkpoint", run, "--count", "25", "--seed", "3", "--out", first.toString())
        .code());
    String whole = report(dir.resolve("d.json"), "eval", "--checkpoint", run, "--samples", first.toString());
    String part = report(dir.resolve("e.json"), "eval", "--checkpoint", run, "--samples", npy.toString(), "--count",
        "25");
    assertTrue(part.contains("\"sample_count\": 25"), part);
    // the first 25 of 40 drawn in one batch and 25 alone may differ in the backend's rounding (Diffusion.sampleImages)
    assertEquals(frechet(whole), frechet(part), 1e-4 * frechet(whole));
  }

  private static double frechet(String json) {
    int at = json.indexOf("\"frechet\"");
    String rest = json.substring(json.indexOf(':', at) + 1).strip();
    int end = 0;
    while (end < rest.length() && "0123456789.eE+-".indexOf(rest.charAt(end)) >= 0) {
      end++;
    }
    return Double.parseDouble(rest.substring(0, end));
  }

  @Test
  void samplingOptionsAreRefused() {
    String f = npy.toString();
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--sampler", "ddim"),
        "--sampler: not with --samples " + f);
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--steps", "3"), "--steps: not with --samples " + f);
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--seed", "3"), "--seed: not with --samples " + f);
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--backend", "reference"),
        "--backend: not with --samples " + f);
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--set", "sampling.num_inference_steps=3"),
        "--set sampling.num_inference_steps=3: not with --samples " + f);
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--bpd"), "--samples: not with --bpd");
    assertBad(cli("eval", "--checkpoint", run, "--samples", f, "--count", "41"),
        "--count 41: more than the 40 samples in " + f + "; give at most 40");
  }

  @Test
  void badFilesAreOneLineNamingThem() throws IOException {
    Path shape = dir.resolve("gray.npy");
    NpyWriter.write(shape, new float[4 * 25], Shape.of(4, 1, 5, 5));
    assertBad(cli("eval", "--checkpoint", run, "--samples", shape.toString()),
        "--samples " + shape + ": samples of shape [4, 1, 5, 5]; the model's are [N, 3, 5, 5]");
    Path doubles = dir.resolve("f8.npy");
    byte[] b = Files.readAllBytes(npy);
    String header = new String(b, 0, 128, StandardCharsets.ISO_8859_1).replace("<f4", "<f8");
    System.arraycopy(header.getBytes(StandardCharsets.ISO_8859_1), 0, b, 0, 128);
    Files.write(doubles, b);
    assertBad(cli("eval", "--checkpoint", run, "--samples", doubles.toString()),
        "--samples " + doubles + ": dtype '<f8'; allowed: '<f4'");
    Path cut = dir.resolve("cut.npy");
    Files.write(cut, Arrays.copyOf(Files.readAllBytes(npy), 128 + 39 * 75 * 4));
    assertBad(cli("eval", "--checkpoint", run, "--samples", cut.toString()),
        "--samples " + cut + ": " + (128 + 39 * 75 * 4) + " bytes, but its header's [40, 3, 5, 5] float32 samples "
            + "make " + (128 + 40 * 75 * 4) + " (truncated)");
    // another tool's [-1, 1] (or 0..255) values would be scored as nonsense: refused at the first one outside [0, 1]
    Path signed = dir.resolve("signed.npy");
    float[] values = new float[3 * 75];
    values[2 * 75 + 7] = -0.5f;
    NpyWriter.write(signed, values, Shape.of(3, 3, 5, 5));
    assertBad(cli("eval", "--checkpoint", run, "--samples", signed.toString()),
        "--samples " + signed + ": sample 2 holds -0.5 (value 7 of its 75), outside [0, 1]; allowed: values in [0, 1]");
    Path none = dir.resolve("none-in.npy");
    String empty = new String(Files.readAllBytes(npy), 0, 128, StandardCharsets.ISO_8859_1).replace("(40,", "(0, ");
    Files.write(none, empty.getBytes(StandardCharsets.ISO_8859_1)); // a header of 0 samples and no data
    assertBad(cli("eval", "--checkpoint", run, "--samples", none.toString()),
        "--samples " + none + ": 0 samples; the Frechet distance needs at least 2");
    Path missing = dir.resolve("none.npy");
    assertBad(cli("eval", "--checkpoint", run, "--samples", missing.toString()), "--samples " + missing + ": ");
    Path png = dir.resolve("s.png");
    assertBad(cli("eval", "--checkpoint", run, "--samples", png.toString()),
        "--samples " + png + ": not a samples file; give the .npy or .safetensors file");
    Path shards = Files.createDirectories(dir.resolve("spark-out"));
    assertBad(cli("eval", "--checkpoint", run, "--samples", shards.toString()),
        "--samples " + shards + ": a folder, not a samples file; give the .npy or .safetensors file diffusion sample "
            + "--out wrote (diffusion spark eval --samples DIR scores the folder diffusion spark sample wrote)");
  }
}
