package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parts that came with the DDPM U-Net family keep a flat resident size on a backend: training a
 * {@code model.kind: ddpm} U-Net (base 32 channels, so GroupNorm's 32 groups; 3x8x8 images; {@code channel_mult
 * [1, 2]}; attention at 4x4; dropout 0.1; batch 8; EMA; a checkpoint every 30 steps, {@code
 * -D<backend>.soak.checkpointEvery} epochs of six steps) from a folder of 48 PNGs through its
 * image cache, and sampling (DDIM and DDPM in turn, runs of 10 steps of 8 images) the same kind of model exported
 * as a diffusers folder and loaded back from it ({@link NewPartsSoak}). Each loop runs in a fresh JVM with a
 * pre-touched 512 MB heap ({@link SoakJvm}), for {@code -D<backend>.soak.newPartsSteps} steps (default 600), and
 * the floor of VmRSS (less the JIT compiler's memory, {@link ResidentSize#withoutJitKb()}) over the last steps may exceed the floor right after warm-up (a fifth of the steps, at least
 * 300 training steps or 15 sampling runs; the floors are over windows of up to 20 steps or runs,
 * {@link ResidentSize.Floors}) by less than {@link #BOUND_KB}.
 *
 * <p>Why 16 MB: a training step's activations are 64 KB each (32 channels of 8x8 for 8 images) and its graph
 * holds a few MB of them; one such tensor leaked per step adds 17.5 MB over the 280 steps between the two
 * windows of the default run (a deliberate leak of 64 KB per training step, run by hand on ND4J, failed with
 * +18.7 MB), a graph per step far more; sampling makes about 410 U-Net calls between its windows, so one
 * activation leaked per call adds 26 MB; about 9 checkpoints are written between the two windows of the
 * default training run, so the 2.8 MB rise once seen with each DJL checkpoint would add 25 MB. Without a leak the
 * floors moved by less than 1 MB in the default run on both backends;
 * docs/reliability.md has the long runs of both backends and their commands.
 *
 * <p>A backend's test class extends this one and names the backend.
 */
public abstract class NewPartsSoakTest {
  /** The bound on the growth of VmRSS after warm-up, in kB. */
  static final long BOUND_KB = 16 * 1024;

  @TempDir
  Path dir;

  /**
   * The backend under test, as {@code backend:} names it.
   *
   * @return the name
   */
  protected abstract String backendName();

  @Test
  void trainingTheDdpmUNetFromAnImageFolderKeepsAFlatResidentSize() throws Exception {
    soak("training");
  }

  @Test
  void samplingADiffusersExportKeepsAFlatResidentSize() throws Exception {
    soak("sampling");
  }

  private void soak(String loop) throws Exception {
    Assumptions.assumeTrue(ResidentSize.measurable(), "needs /proc (Linux)");
    String steps = System.getProperty(backendName() + ".soak.newPartsSteps", "600");
    String every = System.getProperty(backendName() + ".soak.checkpointEvery",
        String.valueOf(NewPartsSoak.CHECKPOINT_EVERY));
    NewPartsSoak.writeInputs(dir);
    Map<String, String> fields =
        SoakJvm.run(NewPartsSoak.class, backendName(), loop, steps, dir.toString(), every);
    assertEquals(loop, fields.get("loop"), fields.toString());
    assertEquals("true", fields.get("finite"), loop + " produced non-finite values");
    long growth = Long.parseLong(fields.get("growth_kb"));
    assertTrue(growth < BOUND_KB, loop + ": VmRSS grew by " + growth + " kB after warm-up: " + fields);
  }
}
