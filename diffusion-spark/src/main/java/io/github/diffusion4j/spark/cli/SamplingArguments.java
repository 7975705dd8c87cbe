package io.github.diffusion4j.spark.cli;

import io.github.diffusion4j.cli.SamplingOverrides;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options of {@code diffusion spark sample} and {@code eval} that {@code diffusion sample} has too. */
final class SamplingArguments {
  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run "
      + "folder (its newest checkpoint, chosen once by the driver).")
  Path checkpoint;

  @Option(names = "--sampler", paramLabel = "NAME", description = "ddpm, ddim or a registered sampler (default: the "
      + "config's).")
  String sampler;

  @Option(names = "--steps", paramLabel = "N", description = "Inference steps (default: the config's).")
  Integer steps;

  @Option(names = "--eta", paramLabel = "E", description = "DDIM's eta, at least 0 (0: deterministic).")
  Double eta;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend of every executor (default: the config's).")
  String backend;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key of the checkpoint's config.")
  List<String> overrides = new ArrayList<>();

  /** The configuration overrides of these options, as {@code diffusion sample} makes them. */
  List<String> overrides() {
    return SamplingOverrides.withSteps(SamplingOverrides.of(overrides, backend, sampler, eta), steps);
  }

  /** A configuration error about the inference steps, named by the option that set them. */
  RuntimeException translate(RuntimeException e) {
    return SamplingOverrides.forSteps(steps, e);
  }
}
