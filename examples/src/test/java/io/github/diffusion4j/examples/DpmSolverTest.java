package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.config.ConfigSection;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.ReverseStepResult;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerOptions;
import io.github.diffusion4j.sampling.SamplerSpec;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.StepContext;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.GaussianOracle;
import io.github.diffusion4j.testkit.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DPM-Solver++(2M) against DDIM with the exact noise predictor of a Gaussian data distribution, where the
 * true output distribution is known: the second-order solver should get much closer to it in the same
 * number of steps.
 */
class DpmSolverTest {
  private static final ReferenceBackend REF = new ReferenceBackend();
  private static final double MU = 0.4;
  private static final double S2 = 0.09;

  private static NoisePredictor oracle(Schedule sch) {
    return GaussianOracle.of(sch, MU, S2, REF);
  }

  private static double[] moments(float[] v) {
    return GaussianOracle.moments(v);
  }

  private static double[] run(Sampler s, Timesteps plan) {
    try (TensorScope scope = REF.openScope()) {
      return moments(s.sample(oracle(SCH), REF, SamplingRequest.of(4000, Shape.of(1, 2, 2), 3, plan)).toFloatArray());
    }
  }

  private static final Schedule SCH = Schedule.of(ScheduleSpec.linear(1000));

  /**
   * Convergence order: on the trailing plans the default config uses, DDIM's variance error halves when
   * the steps double (first order) while DPM-Solver++(2M)'s falls about four times faster. (At 10-20 steps
   * both are dominated by the last, largest step in log-SNR; see docs for the measured Frechet
   * distances on the trained gradient model.)
   */
  @Test
  void secondOrderConvergesFasterThanDdim() {
    double[] ddimErr = new double[2];
    double[] dpmErr = new double[2];
    int[] stepCounts = {50, 100};
    for (int i = 0; i < 2; i++) {
      Timesteps plan = Timesteps.trailing(1000, stepCounts[i]);
      double[] ddim = run(new DdimSampler(SCH, PredictionType.EPSILON, 0, true, SampleClipping.NONE, REF), plan);
      double[] dpm = run(new DpmSolverPlusPlus2M(SCH, PredictionType.EPSILON, SampleClipping.NONE, REF, false), plan);
      ddimErr[i] = Math.abs(ddim[1] - S2);
      dpmErr[i] = Math.abs(dpm[1] - S2);
      assertEquals(MU, dpm[0], 0.01, "mean");
    }
    // the same noise drives both, so sampling error (standard error ~1e-3 of the variance) largely
    // cancels; measured here: DDIM 0.016 -> 0.0088, DPM++ 0.0037 -> 0.0010
    assertTrue(dpmErr[0] < ddimErr[0] / 2, "50 steps: DPM++ " + dpmErr[0] + " vs DDIM " + ddimErr[0]);
    assertTrue(dpmErr[1] < ddimErr[1] / 4, "100 steps: DPM++ " + dpmErr[1] + " vs DDIM " + ddimErr[1]);
  }

  @Test
  void isFirstOrderDdimWhenItHasNoHistory() {
    // a one-step plan is a single first-order step to sigma = 0: both return the predicted x0
    Timesteps plan = Timesteps.of(1000, 999);
    double[] ddim = run(new DdimSampler(SCH, PredictionType.EPSILON, 0, true, SampleClipping.NONE, REF), plan);
    double[] dpm = run(new DpmSolverPlusPlus2M(SCH, PredictionType.EPSILON, SampleClipping.NONE, REF, false), plan);
    assertEquals(ddim[0], dpm[0], 1e-6);
    assertEquals(ddim[1], dpm[1], 1e-6);
  }

  /**
   * Step by step against diffusers' {@code DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2,
   * lower_order_final=True, final_sigmas_type="zero")} with each {@code solver_type}, its {@code
   * multistep_dpm_solver_second_order_update} written out here in doubles: the first step and the last (to sigma = 0)
   * are first order, every other step second order. On a plan of fewer than 15 steps {@code lower_order_final} makes
   * only the last step first order (it is that already); diffusers' second-to-last step stays second order with
   * {@code solver_order=2} ({@code lower_order_second} only lowers a third-order step). The tolerance is float32
   * rounding over ten steps of values below 3; midpoint and heun differ here by more than 1e-3.
   */
  @ParameterizedTest
  @ValueSource(strings = {"midpoint", "heun"})
  void matchesDiffusersStepByStep(String solverType) {
    int n = 10;
    Timesteps plan = Timesteps.trailing(1000, n);
    float[] start = {-1.7f, -0.3f, 0.2f, 1.1f, 2.4f};
    double[] expected = diffusers(start, plan, solverType.equals("heun"), Double.POSITIVE_INFINITY);
    Sampler dpm = new DpmSolverPlusPlus2M(SCH, PredictionType.EPSILON, SampleClipping.NONE, REF,
        solverType.equals("heun"));
    float[] got = walk(dpm, oracle(SCH), plan, start);
    for (int j = 0; j < start.length; j++) {
      assertEquals(expected[j], got[j], 1e-5, solverType + ", sample " + j);
    }
  }

  /**
   * The same comparison for the sampler the provider makes from a {@link SamplerSpec}, with {@code clip_sample} on and
   * each prediction type: diffusers' {@code convert_model_output} turns the output into {@code x0} with the step's
   * own alpha-bar ({@code x0 = (x - sigma eps) / alpha} for epsilon, the output for sample, {@code alpha x - sigma v}
   * for v) and post-processes that {@code x0} before the update (diffusers' DPM-Solver offers thresholding there; the
   * SDK's clipping, clamping to {@code [-clip_sample_range, clip_sample_range]}, goes in the same place); the range
   * 0.8 clips the predicted {@code x0} of the sample starting at 2.4 in the later steps (the test checks that a result
   * moves). The model here outputs the oracle's exact posterior mean in each type, computed on the heap in doubles.
   * Also pins that the spec's prediction type and clipping reach the sampler, and that an absent {@code solver_type}
   * means midpoint. Tolerance as above: float32
   * rounding of values below 3 over ten steps, with the output conversions' few roundings more. A first-order second
   * step (on the whole plan within 1e-5: there the data prediction hardly moves in the first steps) is off by 3.6e-4 on
   * the shorter plan.
   */
  @ParameterizedTest
  @CsvSource({"EPSILON, ", "SAMPLE, midpoint", "V_PREDICTION, heun", "EPSILON, heun"})
  void theProvidersSamplerMatchesDiffusersWithClippingForEachPredictionType(PredictionType type, String solverType) {
    float[] start = {-1.7f, -0.3f, 0.2f, 1.1f, 2.4f};
    double clip = 0.8;
    Sampler dpm = new DpmSolverProvider().create(new SamplerSpec(SCH, type, REF, 0.0, VarianceType.FIXED_SMALL, true,
        SampleClipping.clip(clip), options(solverType)));
    NoisePredictor model = GaussianOracle.of(SCH, MU, S2, REF, type);
    // the whole plan; its last six positions (as image-to-image walks it), where the data prediction already moves
    // between the first steps, so that their order shows; and a leading plan, whose second-to-last step goes to
    // timestep 0 (sigma > 0, an ordinary second-order step) and whose last step goes from 0 to sigma = 0
    for (Timesteps plan : new Timesteps[] {Timesteps.trailing(1000, 10), Timesteps.trailing(1000, 10).last(6),
        Timesteps.leading(1000, 10, 0)}) {
      double[] expected = diffusers(start, plan, "heun".equals(solverType), clip);
      double[] unclipped = diffusers(start, plan, "heun".equals(solverType), Double.POSITIVE_INFINITY);
      float[] got = walk(dpm, model, plan, start);
      boolean clipped = false;
      for (int j = 0; j < start.length; j++) {
        assertEquals(expected[j], got[j], 1e-5, type + ", " + solverType + ", " + plan.size() + " steps, sample " + j);
        clipped |= Math.abs(expected[j] - unclipped[j]) > 1e-3;
      }
      assertTrue(clipped, "the clipping changed a result");
    }
  }

  /** Sampler options holding only {@code solver_type} (none where null), as a YAML's {@code sampling.options}. */
  private static SamplerOptions options(String solverType) {
    return solverType == null ? SamplerOptions.EMPTY
        : ConfigSection.of("sampling.options", java.util.Map.of("solver_type", solverType));
  }

  /** The oracle's exact {@code E[x0 | x_t]} for data {@code N(MU, S2)}. */
  private static double posteriorMean(double a, double x) {
    return MU + Math.sqrt(a) * S2 / (a * S2 + 1 - a) * (x - Math.sqrt(a) * MU);
  }

  /** Walks the plan with {@code sampler}, one value per sample, step by step. */
  private static float[] walk(Sampler sampler, NoisePredictor model, Timesteps plan, float[] start) {
    try (TensorScope scope = REF.openScope()) {
      Tensor x = REF.fromArray(start, Shape.of(start.length, 1, 1, 1));
      ReverseStepResult previous = null;
      for (int i = 0; i < plan.size(); i++) {
        int[] ts = new int[start.length];
        java.util.Arrays.fill(ts, plan.get(i));
        Tensor out = model.predict(x, ts);
        previous = sampler.step(new StepContext(plan, i, x, out, () -> {
          throw new AssertionError("an ODE solver draws no noise");
        }, previous));
        x = previous.prev();
      }
      return x.toFloatArray();
    }
  }

  /**
   * diffusers' {@code DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2,
   * final_sigmas_type="zero")} from each start, its {@code multistep_dpm_solver_first_order_update} and {@code
   * multistep_dpm_solver_second_order_update} written out in doubles, with the oracle's posterior mean clamped to
   * {@code [-clip, clip]} as the data prediction.
   */
  private static double[] diffusers(float[] start, Timesteps plan, boolean heun, double clip) {
    int n = plan.size();
    double[] expected = new double[start.length];
    for (int j = 0; j < start.length; j++) {
      double x = start[j];
      double m1 = Double.NaN;
      for (int i = 0; i < n; i++) {
        int t = plan.get(i);
        int s = plan.next(i);
        double a = SCH.alphaBar(t);
        double m0 = Math.max(-clip, Math.min(clip, posteriorMean(a, x)));
        if (s < 0) {
          x = m0;
          break;
        }
        double b = SCH.alphaBar(s);
        double h = lam(b) - lam(a);
        double ratio = Math.sqrt(1 - b) / Math.sqrt(1 - a);
        double alphaT = Math.sqrt(b);
        if (i == 0) {
          x = ratio * x - alphaT * (Math.exp(-h) - 1) * m0;
        } else {
          double r0 = (lam(a) - lam(SCH.alphaBar(plan.get(i - 1)))) / h;
          double d1 = (m0 - m1) / r0;
          x = !heun
              ? ratio * x - alphaT * (Math.exp(-h) - 1) * m0 - 0.5 * alphaT * (Math.exp(-h) - 1) * d1
              : ratio * x - alphaT * (Math.exp(-h) - 1) * m0 + alphaT * ((Math.exp(-h) - 1) / h + 1) * d1;
        }
        m1 = m0;
      }
      expected[j] = x;
    }
    return expected;
  }

  private static double lam(double alphaBar) {
    return 0.5 * Math.log(alphaBar / (1 - alphaBar));
  }
}
