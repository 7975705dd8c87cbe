package io.github.diffusion4j.examples;

import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.sampling.SamplerSpec;
import java.util.Set;

/**
 * Registers {@link DpmSolverPlusPlus2M} as {@code dpmpp_2m} (see
 * {@code META-INF/services/io.github.diffusion4j.sampling.SamplerProvider}). Its one option is
 * {@code sampling.options.solver_type}, {@code midpoint} (the default) or {@code heun}, diffusers' two forms of the
 * second-order step (see {@link DpmSolverPlusPlus2M}); any other key or value is an error at {@code
 * sampling.options}.
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

  /** A deterministic ODE solver: an eta asked for with it is refused rather than ignored. */
  @Override
  public boolean takesEta() {
    return false;
  }

  @Override
  public Sampler create(SamplerSpec s) {
    s.options().requireOnly(Set.of("solver_type"));
    boolean heun = s.options().getString("solver_type", "midpoint", Set.of("midpoint", "heun")).equals("heun");
    return new DpmSolverPlusPlus2M(s.schedule(), s.predictionType(), s.clipping(), s.tensors(), heun);
  }
}
