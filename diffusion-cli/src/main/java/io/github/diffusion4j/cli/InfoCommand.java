package io.github.diffusion4j.cli;

import io.github.diffusion4j.runtime.ProviderDiscovery;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffusion info}: version, backends (and why one could not load), samplers, threads, glibc's allocation
 * settings, Java.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Shows the version, the backends and samplers found (and why one could not load), threads, glibc's "
        + "allocation settings and Java.")
final class InfoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--load", paramLabel = "NAME",
      description = "Also load this backend to report its engine (loads native code).")
  String load;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    // an unknown --load is refused before the listing: the one-line error (which lists the backends found) alone
    ProviderDiscovery.Found<BackendProvider> backends = ProviderDiscovery.backends();
    if (load != null && !backends.providers().containsKey(load)) {
      throw new BadInputException("--load: " + ProviderDiscovery.unknownBackend(load, backends));
    }
    for (String v : new DiffusionCli.Version().getVersion()) {
      out.println(v);
    }
    out.println("OS: " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
        + Runtime.getRuntime().availableProcessors() + " processors, max heap "
        + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB");
    out.println("threads: OMP_NUM_THREADS=" + env("OMP_NUM_THREADS") + " (a config's `threads` key sets the backend's)");
    out.println("native allocation: MALLOC_MMAP_THRESHOLD_=" + env("MALLOC_MMAP_THRESHOLD_") + ", MALLOC_TRIM_THRESHOLD_="
        + env("MALLOC_TRIM_THRESHOLD_") + ", MALLOC_TOP_PAD_=" + env("MALLOC_TOP_PAD_") + ", MALLOC_MMAP_MAX_="
        + env("MALLOC_MMAP_MAX_") + " (the launcher sets all four; unset, DJL's passes fault their activations in "
        + "again on every pass: README, From Java)");
    out.println("backends:");
    String backendName = column(backends.providers().keySet(), ProviderDiscovery.OFFICIAL_BACKENDS.keySet());
    for (Map.Entry<String, BackendProvider> e : backends.providers().entrySet()) {
      out.printf(backendName + " %s [%s]%n", e.getKey(), e.getValue().description(), e.getValue().artifact());
    }
    for (String missing : ProviderDiscovery.OFFICIAL_BACKENDS.keySet()) {
      if (!backends.providers().containsKey(missing)) {
        out.printf(backendName + " not on the class path (add %s)%n", missing,
            ProviderDiscovery.OFFICIAL_BACKENDS.get(missing));
      }
    }
    for (String b : backends.broken()) {
      out.println("  broken: " + b);
    }
    ProviderDiscovery.Found<SamplerProvider> samplers = ProviderDiscovery.samplers();
    out.println("samplers:");
    String samplerName = column(samplers.providers().keySet(), java.util.Set.of());
    for (Map.Entry<String, SamplerProvider> e : samplers.providers().entrySet()) {
      out.printf(samplerName + " %s%n", e.getKey(), e.getValue().description());
    }
    for (String b : samplers.broken()) {
      out.println("  broken: " + b);
    }
    if (load != null) {
      BackendProvider p = backends.providers().get(load);
      try (Backend b = ProviderDiscovery.create(p, BackendOptions.defaults())) {
        out.println("loaded " + load + ": " + b.describe());
      } catch (RuntimeException | LinkageError e) {
        out.println("loading " + load + " failed: " + ErrorReporting.message(e));
        return DiffusionCli.FAILURE;
      }
    }
    return DiffusionCli.OK;
  }

  private static String env(String name) {
    String v = System.getenv(name);
    return v == null ? "(unset)" : v;
  }

  /**
   * The format of a listing's name column: indented, at least 10 wide and as wide as the longest name, so that the
   * descriptions line up (a provider of one's own named {@code fails_to_start} pushed its line out of the column).
   */
  private static String column(java.util.Collection<String> names, java.util.Collection<String> more) {
    int width = 10;
    for (java.util.Collection<String> c : java.util.List.of(names, more)) {
      for (String n : c) {
        width = Math.max(width, n.length());
      }
    }
    return "  %-" + width + "s";
  }

}
