package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link CustomSampler} in its tiny configuration (its own JVM: one native backend per process). */
class CustomSamplerTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    List<CustomSampler.Row> rows = CustomSampler.run(new String[] {dir.toString(), "--tiny"});
    assertTrue(Files.exists(dir.resolve("run/metrics.jsonl")));
    // the YAML's sampler (sampling.sampler: dpmpp_2m, found through the ServiceLoader) against DDIM at 10 and 20 steps
    assertEquals(List.of("dpmpp_2m", "ddim", "dpmpp_2m", "ddim"),
        rows.stream().map(CustomSampler.Row::sampler).toList());
    assertEquals(List.of(10, 10, 20, 20), rows.stream().map(CustomSampler.Row::steps).toList());
    for (int i = 0; i < rows.size(); i += 2) {
      var mine = rows.get(i).quality();
      var ddim = rows.get(i + 1).quality();
      assertEquals(500, mine.sampleCount());
      assertTrue(Double.isFinite(mine.frechet()) && Double.isFinite(ddim.frechet()), rows.toString());
      // the user's sampler is a working sampler: its Frechet distance is within a factor 2 of DDIM's at the same
      // steps (the ratio measured on the tiny model: 1.00 at 10 steps, 1.14 at 20; a broken update is far off)
      assertTrue(mine.frechet() < 2 * ddim.frechet() && ddim.frechet() < 2 * mine.frechet(),
          rows.get(i) + " against " + rows.get(i + 1));
    }
  }
}
