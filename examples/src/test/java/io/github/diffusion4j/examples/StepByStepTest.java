package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link StepByStep} in its tiny configuration (its own JVM: one native backend per process). */
class StepByStepTest {
  @TempDir
  Path dir;

  @Test
  void runsAndShowsWhatTheTutorialSays() throws Exception {
    StepByStep.Result r = StepByStep.run(new String[] {dir.toString(), "--tiny"});
    for (String f : List.of("forward.png", "denoising.png")) {
      assertTrue(Files.exists(dir.resolve(f)), f);
    }
    // reconstruct inverts eq. 4 exactly up to float32 rounding: x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar) with
    // abar(49) = 0.78 and |x_t|, |eps| below 6, a few operations of ulp(8) = 9.5e-7 each, divided by sqrt(abar)
    assertTrue(r.reconstructionError() < 1e-5, "reconstruction error " + r.reconstructionError());
    // an untrained model's loss is about the noise's variance, 1: the mean square of 600 standard normals has
    // standard error sqrt(2 / 600) = 0.058, and the untrained network's small outputs add a little
    assertTrue(r.firstStepLoss() > 0.7 && r.firstStepLoss() < 1.5, "first step's loss " + r.firstStepLoss());
    // training learns: 6 epochs (--tiny) bring the eval loss well below the untrained ~1 (0.28 measured)
    List<Double> eval = r.evalLosses();
    assertEquals(6, eval.size(), "one eval loss per epoch");
    assertTrue(eval.get(eval.size() - 1) < eval.get(0) && eval.get(eval.size() - 1) < 0.5, "eval losses " + eval);
    // Algorithm 2 over the tutorial's 100 steps, one frame every 20
    assertEquals(5, r.denoisingFrames());
  }
}
