package io.github.diffusion4j.sampling;

/**
 * Makes a {@link Sampler} available by name: in YAML ({@code sampling.sampler: NAME}) and on the command
 * line ({@code diffusion sample --sampler NAME}). The built-in {@code ddpm} and {@code ddim} are providers
 * too. Register yours in {@code META-INF/services/io.github.diffusion4j.sampling.SamplerProvider}; it is
 * found with {@link java.util.ServiceLoader} and bound next to the built-ins.
 *
 * <p>Providers must be cheap to construct and stateless.
 */
public interface SamplerProvider {

  /**
   * The name, a lowercase identifier.
   *
   * @return e.g. {@code "dpmpp_2m"}
   */
  String name();

  /**
   * A one-line description for {@code diffusion info}.
   *
   * @return the description
   */
  String description();

  /**
   * Whether this provider's samplers read {@link SamplerSpec#eta()} (DDIM's stochasticity; the built-in {@code ddpm}
   * does not). A sampler that ignores eta should say so: then an eta asked for by an override ({@code --eta},
   * {@code --set sampling.eta=...}, or an override a Java caller gives) is refused with this sampler configured,
   * rather than taken without effect, and {@code diffusion sample} records eta in its output's metadata only for a
   * sampler that reads it. An eta in the configuration file is never refused: it is what another sampler chosen
   * later ({@code --sampler ddim}) samples with.
   *
   * @return true (the default) if the samplers read eta
   */
  default boolean takesEta() {
    return true;
  }

  /**
   * Builds the sampler; read and validate your own keys from {@code spec.options()} here (call
   * {@link SamplerOptions#requireOnly} so misspelt keys are reported).
   *
   * @param spec the schedule, prediction type, backend, common sampling settings and own options
   * @return the sampler, whose {@link Sampler#name()} is this provider's {@link #name()}
   * @throws IllegalArgumentException if the settings are refused: its message is shown at {@code sampling.options}
   *     ("sampler 'NAME' refused its settings: ..."); any other exception is wrapped in an {@link
   *     IllegalStateException} that names this provider's class and name
   */
  Sampler create(SamplerSpec spec);
}
