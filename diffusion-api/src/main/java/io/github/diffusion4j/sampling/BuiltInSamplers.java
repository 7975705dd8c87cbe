package io.github.diffusion4j.sampling;

import java.util.List;
import java.util.Set;

/** The providers of the built-in samplers, {@code ddpm} and {@code ddim}. */
public final class BuiltInSamplers {
  private BuiltInSamplers() {}

  /** Ancestral DDPM (Ho et al. 2020, Algorithm 2). */
  public static final SamplerProvider DDPM = new SamplerProvider() {
    @Override
    public String name() {
      return DdpmSampler.NAME;
    }

    @Override
    public String description() {
      return "DDPM ancestral sampling (Ho et al. 2020, Algorithm 2); uses variance_type, clip_sample, thresholding";
    }

    @Override
    public boolean takesEta() {
      return false; // its reverse variance is variance_type's
    }

    @Override
    public Sampler create(SamplerSpec s) {
      s.options().requireOnly(Set.of());
      return new DdpmSampler(s.schedule(), s.predictionType(), s.varianceType(), s.clipping(), s.tensors());
    }
  };

  /** DDIM (Song et al. 2021), deterministic for eta = 0. */
  public static final SamplerProvider DDIM = new SamplerProvider() {
    @Override
    public String name() {
      return DdimSampler.NAME;
    }

    @Override
    public String description() {
      return "DDIM (Song et al. 2021); deterministic with eta = 0; uses eta, set_alpha_to_one, clip_sample";
    }

    @Override
    public Sampler create(SamplerSpec s) {
      s.options().requireOnly(Set.of());
      return new DdimSampler(s.schedule(), s.predictionType(), s.eta(), s.setAlphaToOne(), s.clipping(), s.tensors());
    }
  };

  /**
   * Both built-ins.
   *
   * @return ddpm and ddim
   */
  public static List<SamplerProvider> all() {
    return List.of(DDPM, DDIM);
  }
}
