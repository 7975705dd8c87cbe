package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code diffusion bench} prints from figures given literally (no child, no PyTorch): the ratios' directions,
 * the floors, the noise floor, and what it passes to the children and the reference scripts.
 *
 * <p>The MLP workload's products, by hand: Linear(76, 128) is 2 x 76 x 128 = 19,456 operations an item and
 * Linear(128, 75) 2 x 128 x 75 = 19,200, so a forward pass is 38,656; training adds the first layer's weight
 * gradient (19,456) and the second's weight and input gradients (2 x 19,200): 96,512.
 */
class CompareTablesTest {
  private static final Map<String, Double> TORCH_MLP = Map.of("train_steps_per_s", 1500.0, "ddpm_s", 1.0,
      "ddim_s", 0.05);

  private static Compare compare(int threads) {
    Compare c = new Compare();
    c.threads = threads;
    c.samples = 1000;
    c.ddimSteps = 20;
    c.trainSteps = 7;
    c.reps = 5;
    c.batch = 16;
    c.noiseVersion = 2;
    c.samplingWarmup = 1.5;
    c.trainWarmup = 2.5;
    c.workload = "mlp";
    return c;
  }

  @Test
  void aRatioIsTheRowsFigureOverTheReferences() {
    assertEquals("0.25x", Compare.ratio(Map.of("ddpm_s", 0.5), Map.of("ddpm_s", 2.0), "ddpm_s"));
    assertEquals("-", Compare.ratio(Map.of("ddpm_s", 0.5), Map.of("ddim_s", 2.0), "ddpm_s"));
  }

  @Test
  void theMlpTableGivesTrainingAsAMultipleOfTorchsStepsAndSamplingAsAFractionOfItsTime() {
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    rows.put("nd4j", Map.of("train_steps_per_s", 3000.0, "ddpm_s", 0.5, "ddim_s", 0.2));
    rows.put("pytorch", TORCH_MLP);
    List<String> lines = printed(() -> compare(1).print(rows, List.of("pytorch")));
    assertEquals(List.of("nd4j", "3000.0", "0.5000", "0.2000"), tokens(lines, "nd4j", 0));
    assertEquals(List.of("pytorch", "1500.0", "1.0000", "0.0500"), tokens(lines, "pytorch", 0));
    // twice torch's steps/s, half its DDPM time, four times its DDIM time
    assertEquals(List.of("nd4j", "2.00x", "0.50x", "4.00x"), tokens(lines, "nd4j", 1));
  }

  @Test
  void theMlpFloorsAreTheProductsOfEachFigureAtTheSgemmRate() {
    Compare c = compare(1);
    c.sgemmGflops = 1.0;
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    rows.put("nd4j", Map.of("train_steps_per_s", 3000.0, "ddpm_s", 0.5, "ddim_s", 0.2));
    List<String> lines = printed(() -> c.print(rows, List.of()));
    // training: batch 128 x 96,512 = 12,353,536; DDPM-100: 1000 samples x 100 steps x 38,656 = 3.8656e9;
    // DDIM-20: 1000 x 20 x 38,656 = 7.7312e8; at 1 GFLOP/s as many seconds as GFLOP
    assertTrue(lines.contains("floor: the matrix products alone at the reference's sgemm rate (1024^3, 1 thread: "
        + "1.0 GFLOP/s): training step 0.0124 GFLOP = 0.0124 s; DDPM-100 3.87 GFLOP = 3.8656 s; DDIM-20 0.773 GFLOP "
        + "= 0.7731 s"), String.join("\n", lines));
    // the floor's time over the measured: 0.012353536 s x 3000 steps/s; 3.8656 / 0.5; 0.77312 / 0.2
    assertEquals(List.of("nd4j", "3706%", "773%", "387%"), tokens(lines, "nd4j", 1));
  }

  @Test
  void theModelTableRatiosImagesPerSecondAndFloors() {
    Compare c = compare(2);
    c.sgemmGflops = 1.0;
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    rows.put("nd4j", Map.of("unet_train_steps_per_s", 1000.0, "unet_forward_s", 7.7312e-4, "unet_ddim_s", 0.3));
    rows.put("djl", Map.of("unet_train_steps_per_s", 250.0, "unet_forward_s", 3e-3));
    rows.put("pytorch", Map.of("unet_train_steps_per_s", 500.0, "unet_forward_s", 1.5464e-3, "unet_ddim_s", 0.1));
    List<String> lines = printed(() -> c.printModel(rows, "the MLP", Workloads.mlpSpec(), 10));
    assertEquals("workload: the MLP, batch 10; 2 threads", lines.get(0));
    // DDIM-50 images/s: from DDIM-5 of the batch, 10 x 5 / (50 x 0.3); without it from the forward pass,
    // 10 / (50 x 0.003)
    assertEquals(List.of("nd4j", "1000.000", "0.0008", "0.3000", "3.33"), tokens(lines, "nd4j", 0));
    assertEquals(List.of("djl", "250.000", "0.0030", "-", "66.67"), tokens(lines, "djl", 0));
    assertEquals(List.of("pytorch", "500.000", "0.0015", "0.1000", "10.00"), tokens(lines, "pytorch", 0));
    // training: steps/s over torch's; forward and DDIM: time over torch's
    assertEquals(List.of("nd4j", "2.00x", "0.50x", "3.00x"), tokens(lines, "nd4j", 1));
    assertEquals(List.of("djl", "0.50x", "1.94x", "-"), tokens(lines, "djl", 1));
    // a batch of 10: training 965,120 operations, forward 386,560
    assertTrue(lines.contains("floor: the matrix products alone at the reference's sgemm rate (1024^3, 2 threads: "
        + "1.0 GFLOP/s): training step 0.000965 GFLOP = 0.0010 s; forward pass 0.000387 GFLOP = 0.0004 s"),
        String.join("\n", lines));
    // 0.00096512 s x 1000 steps/s; 0.00038656 s / 0.00077312 s
    assertEquals(List.of("nd4j", "97%", "50%"), tokens(lines, "nd4j", 2));
    assertEquals(List.of("djl", "24%", "13%"), tokens(lines, "djl", 1 + 1));
    assertEquals(List.of("pytorch", "48%", "25%"), tokens(lines, "pytorch", 1));
  }

  @Test
  void theNoiseFloorAddsTheDrawsToTheProductsAndCountsNanosecondsPerValue() {
    Compare c = compare(1);
    c.sgemmGflops = 10.0;
    // a step of 1000 samples: 3.8656e7 operations, 3.8656 ms at 10 GFLOP/s; a draw of 75,000 values 1.5 ms
    // (20 ns a value). DDPM-100: 100 x (3.8656 + 1.5) ms = 0.53656 s; DDIM-20: 20 x 3.8656 + 1.5 ms = 0.078812 s
    String line = c.noiseFloorLine(0.0015, 75_000, Map.of("ddpm_s", 0.26828, "ddim_s", 0.019703));
    assertEquals("with the portable noise (version 2, 75000 values a draw, 20.00 ns a value in this process): "
        + "DDPM-100 (100 draws) 0.5366 s = 2.00x pytorch's time; DDIM-20 (1 draw) 0.0788 s = 4.00x", line);
  }

  @Test
  void theChildrenAndTheReferenceScriptsGetThisRunsOptions() {
    Compare c = compare(3);
    assertEquals(List.of("--threads", "3", "--train-steps", "7", "--n-samples", "1000", "--ddim-steps", "20",
        "--reps", "5", "--sampling-warmup", "1.5"), c.mlpReferenceArgs());
    // docs/unet_reference.py bench STEPS THREADS [TRAIN_WARMUP_S]
    assertEquals(List.of("bench", "7", "3", "2.5"), c.unetReferenceArgs());
    // docs/ddpm_reference.py: bench(config, batch, threads, steps, ddim_steps, train_warmup)
    assertEquals(List.of("bench", "{}", "16", "3", "7", "5", "2.5"), c.ddpmReferenceArgs());
    assertEquals(List.of("--in-process", "--workload", "mlp", "--backend", "nd4j", "--threads", "3",
        "--train-steps", "7", "--samples", "1000", "--ddim-steps", "20", "--reps", "5", "--noise-version", "2",
        "--batch", "16", "--sampling-warmup", "1.5", "--train-warmup", "2.5"), c.childArgs("nd4j"));
  }

  @Test
  void theReferenceRunsOnThisRunsThreadsAndItsLastJsonLineIsRead(@TempDir Path dir) throws Exception {
    Path python = dir.resolve("python");
    Files.writeString(python, String.join("\n", "#!/bin/sh",
        "if [ \"$1\" = -c ]; then echo 'engine pytorch: torch 0.0, BLAS not OpenBLAS'; echo 'sgemm_gflops 12.5'; exit 0; fi",
        "echo '{\"ddpm_s\": 9.0}'",
        "echo 'a line that is not JSON'",
        "echo \"{\\\"omp\\\": $OMP_NUM_THREADS, \\\"openblas\\\": $OPENBLAS_NUM_THREADS, \\\"args\\\": $#, "
            + "\\\"ddpm_s\\\": 0.25, \\\"torch\\\": \\\"1.13\\\"}\"", ""));
    assertTrue(python.toFile().setExecutable(true));
    Compare c = compare(3);
    c.python = python.toString();
    Map<String, Double> figures = c.runPython(List.of("script.py", "--threads", "3"));
    assertEquals(Map.of("omp", 3.0, "openblas", 3.0, "args", 3.0, "ddpm_s", 0.25), figures);
    assertEquals(12.5, c.sgemmGflops);
  }

  @Test
  void thePretrainedTableGivesEachRowsTimeOverTorchs() {
    Compare c = compare(1);
    c.checkpoint = Path.of("ddpm-cifar10");
    c.ddimSteps = 50;
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    rows.put("nd4j", Map.of("seconds_per_image", 3.0));
    rows.put("pytorch", Map.of("seconds_per_image", 1.5));
    List<String> lines = printed(() -> PretrainedWorkload.print(c, rows));
    assertEquals("workload: ddpm-cifar10, DDIM-50, one image at a time; 1 thread", lines.get(0));
    assertEquals(List.of("nd4j", "3.0000", "2.00x"), tokens(lines, "nd4j", 0));
    assertEquals(List.of("pytorch", "1.5000", "1.00x"), tokens(lines, "pytorch", 0));
  }

  /** The whitespace-separated fields of the {@code n}th line (from 0) that starts with {@code name}. */
  private static List<String> tokens(List<String> lines, String name, int n) {
    List<String> found = lines.stream().filter(l -> l.startsWith(name + " ")).toList();
    assertTrue(found.size() > n, name + " in\n" + String.join("\n", lines));
    return Arrays.asList(found.get(n).trim().split("\\s+"));
  }

  private static List<String> printed(Runnable body) {
    java.io.PrintStream was = System.out;
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      body.run();
    } finally {
      System.setOut(was);
    }
    return buf.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList();
  }
}
