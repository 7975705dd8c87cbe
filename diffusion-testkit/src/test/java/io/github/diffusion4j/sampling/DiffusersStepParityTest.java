package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * One step of the built-in samplers against the numbers of diffusers' own scheduler code (scheduling_ddim.py at
 * diffusers 58eb52c, run unmodified under PyTorch 1.13 with its imports stubbed), for given model output, sample
 * and noise. diffusers keeps the schedule in float32, diffusion4j in double: the tolerance, 1e-5 for values of
 * order 1, is a few float32 ulps of the alpha-bars carried through one step.
 *
 * <pre>
 * s = DDIMScheduler(num_train_timesteps=10, clip_sample=False, set_alpha_to_one=..., timestep_spacing="trailing")
 * s.set_timesteps(5)                                         # [9, 7, 5, 3, 1]
 * s.step(OUTPUT, t, SAMPLE, eta=0.5, variance_noise=NOISE)   # shapes [1, 1, 2, 2]
 * </pre>
 */
class DiffusersStepParityTest {
  private static final ReferenceBackend REF = new ReferenceBackend();
  private static final Shape SHAPE = Shape.of(1, 1, 2, 2);
  private static final float[] SAMPLE = {0.5f, -1.25f, 2.0f, 0.75f};
  private static final float[] OUTPUT = {0.3f, 0.9f, -0.4f, -1.1f};
  private static final float[] NOISE = {1.5f, -0.5f, 0.25f, -2.0f};

  private static float[] ddimStep(boolean setAlphaToOne, int index) {
    Schedule s = Schedule.of(ScheduleSpec.linear(10));
    Timesteps plan = Timesteps.trailing(10, 5);
    DdimSampler ddim = new DdimSampler(s, PredictionType.EPSILON, 0.5, setAlphaToOne, SampleClipping.NONE, REF);
    try (TensorScope scope = REF.openScope()) {
      Tensor x = REF.fromArray(SAMPLE, SHAPE);
      Tensor out = REF.fromArray(OUTPUT, SHAPE);
      Tensor z = REF.fromArray(NOISE, SHAPE);
      return ddim.step(new StepContext(plan, index, x, out, () -> z, null)).prev().toFloatArray();
    }
  }

  private static void assertClose(float[] expected, float[] actual) {
    double d = Batches.maxAbsDiff(expected, actual);
    assertTrue(d < 1e-5, "expected " + Arrays.toString(expected) + ", got " + Arrays.toString(actual) + " (" + d + ")");
  }

  @Test
  void ddimAddsItsNoiseAtTheLastStepWhenTheFinalAlphaBarIsNotOne() {
    // set_alpha_to_one false: the last step (t = 1) goes to alphaBar_0, so sigma > 0 there, and diffusers both takes
    // sigma^2 from the direction and adds sigma z; leaving the noise out left the direction shrunk and no noise
    assertClose(new float[] {0.4957914352416992f, -1.2902882099151611f, 2.019713878631592f, 0.7855573892593384f},
        ddimStep(false, 4));
    // set_alpha_to_one true: sigma is 0 at the last step, and the result is the predicted x0
    assertClose(new float[] {0.4858557879924774f, -1.2957535982131958f, 2.0220792293548584f, 0.8049818277359009f},
        ddimStep(true, 4));
  }

  @Test
  void ddimWithEtaMatchesDiffusersInTheMiddleOfThePlan() {
    float[] expected = {0.54977947473526f, -1.3544762134552002f, 2.06235408782959f, 0.7518292665481567f};
    assertClose(expected, ddimStep(false, 2));
    assertClose(expected, ddimStep(true, 2));
  }
}
