package io.github.diffusion4j.examples;

import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.sampling.SamplerSpec;
import java.util.Set;

/**
 * Registers {@link DpmSolverPlusPlus2M} as {@code dpmpp_2m} (see
 * {@code META-INF/services/io.github.diffusion4j.sampling.SamplerProvider}). Its one option is
 * {@code sampling.options.lower_order_final} (default true), diffusers' option, which changes nothing for this
 * solver (see {@link DpmSolverPlusPlus2M}).
 */
public final class DpmSolverProvider implements SamplerProvider {
  /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
  public DpmSolverProvider() {}

  @Override
  public String name() {
    return DpmSolverPlusPlus2M.NAME;
  }

  @Override
  public String description() {
    return "DPM-Solver++(2M) (Lu et al. 2022): second-order multistep ODE solver, good samples in 10-20 steps";
  }

  @Override
  public Sampler create(SamplerSpec s) {
    s.options().requireOnly(Set.of("lower_order_final"));
    boolean lowerOrderFinal = s.options().getBoolean("lower_order_final", true);
    return new DpmSolverPlusPlus2M(s.schedule(), s.predictionType(), s.clipping(), s.tensors(), lowerOrderFinal);
  }
}
