package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The PyTorch reference scripts' side of {@code diffusion bench}: their timing helpers and the keys they print. */
class ReferenceScriptsTest {

  @Test
  void theScriptsPrintTheKeysThatTheBenchReads() throws Exception {
    String mlp = script(Compare.REFERENCE_SCRIPT);
    for (String key : new String[] {"train_steps_per_s=", "ddpm_s=", "ddim_s="}) {
      assertTrue(mlp.contains(key), key);
    }
    for (String path : new String[] {"docs/unet_reference.py", "docs/ddpm_reference.py"}) {
      String s = script(path);
      for (String key : new String[] {"\"unet_train_steps_per_s\": round(train", "\"unet_forward_s\": round(f",
          "\"unet_ddim_s\": round(ddim_s"}) {
        assertTrue(s.contains(key), path + ": " + key);
      }
    }
    assertTrue(script("docs/diffusers_reference.py").contains("\"seconds_per_image\": seconds"));
  }

  /**
   * {@code unet_reference.steps_per_second} and {@code ddim_seconds}, shared by the U-Net's and the DDPM model's
   * benches, with sleeping calls in place of a model (where {@code /usr/bin/python3} has torch; about two
   * seconds, most of them torch's import).
   */
  @Test
  void theUNetReferenceTimesTrainingAfterItsWarmUpAndGivesTheMedianDdimTime() throws Exception {
    String snippet = String.join("\n",
        "import json, sys, time",
        "sys.path.insert(0, 'docs')",
        "import torch, unet_reference as u",
        "start = time.perf_counter()",
        "# steps in the first 0.2 s, the warm-up's, are slow; then 10 ms a step",
        "rate = u.steps_per_second(lambda: time.sleep(0.06 if time.perf_counter() - start < 0.2 else 0.01), 4, 0.2)",
        "sleeps = [0.0, 0.3, 0.01, 0.1]  # one unmeasured sampling, then three measured",
        "model = lambda z, t: (time.sleep(sleeps.pop(0)), z)[1]",
        "ddim = u.ddim_seconds(model, (1, 1), 1, torch.Generator().manual_seed(0))",
        "print(json.dumps({'rate': rate, 'ddim': ddim, 'left': len(sleeps)}))");
    Path root = Compare.inRepository(Compare.REFERENCE_SCRIPT).getParent().getParent().getParent();
    assumePython();
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", snippet).directory(root.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    Assumptions.assumeFalse(out.contains("No module named"), () -> "skipped: " + out.strip());
    assertEquals(0, p.exitValue(), out);
    Map<String, Double> m = Compare.parse(out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("{}"));
    // above 30: a loaded machine's sleeps overrun, but timing the warm-up's 60 ms steps gives at most 17 steps/s
    assertTrue(m.get("rate") > 30 && m.get("rate") <= 100, "4 steps of 10 ms after the warm-up: " + m);
    // the sorted times 0.01, 0.1, 0.3: the median is the second (bounds with 0.2 s for a loaded machine's overruns)
    assertTrue(m.get("ddim") >= 0.1 && m.get("ddim") < 0.3, "the median of 0.3, 0.01, 0.1 s: " + m);
    assertEquals(0.0, m.get("left"), "one unmeasured sampling and three measured");
  }

  /**
   * torch_timing.py's {@code best}, run alone (the script times its workload at import): of an even number of
   * repetitions, the median is the upper of the two middle values, as on the Java side.
   */
  @Test
  void theMlpReferencesMedianOfAnEvenNumberOfRepetitionsIsTheUpperMiddleValue() throws Exception {
    String out = python(String.join("\n",
        "import ast, time, types",
        "src = open('" + Compare.REFERENCE_SCRIPT + "').read()",
        "best = [n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == 'best']",
        "ns = {'time': time, 'a': types.SimpleNamespace(reps=4)}",
        "exec(compile(ast.Module(body=best, type_ignores=[]), 'torch_timing.py', 'exec'), ns)",
        "sleeps = [0.1, 0.01, 0.3, 0.05]",
        "print(ns['best'](lambda: time.sleep(sleeps.pop(0))), len(sleeps))"));
    String[] fields = out.strip().split(" ");
    double median = Double.parseDouble(fields[0]);
    // sorted 0.01 0.05 0.1 0.3: the upper middle is 0.1 (the lower 0.05; unsorted, the third is 0.3)
    assertTrue(median >= 0.1 && median < 0.3, out);
    assertEquals("0", fields[1], "four repetitions, no warm-up call: " + out);
  }

  /** Skips the test where the machine has no {@code /usr/bin/python3} (the reference's interpreter). */
  private static void assumePython() {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "skipped: no /usr/bin/python3");
  }

  /** What {@code /usr/bin/python3 -c snippet} prints in the repository's root; it must succeed. */
  private static String python(String snippet) throws Exception {
    assumePython();
    Path root = Compare.inRepository(Compare.REFERENCE_SCRIPT).getParent().getParent().getParent();
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", snippet).directory(root.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  private static String script(String relative) throws Exception {
    Path p = Compare.inRepository(relative);
    assertNotNull(p, relative);
    return Files.readString(p);
  }
}
