package io.github.diffusion4j.benchmarks;

import io.github.diffusion4j.runtime.ProviderDiscovery;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import java.util.Map;

/** Opens the backend a benchmark names, with one native thread. */
public final class BenchmarkBackends {
  private BenchmarkBackends() {}

  /**
   * Creates the backend with a given name, as found by {@link ProviderDiscovery#backends()}, with one thread.
   *
   * @param name {@code nd4j} or {@code djl} (any backend on the class path)
   * @return the backend; the caller closes it
   * @throws IllegalArgumentException naming the backends found if there is none of that name
   */
  public static Backend open(String name) {
    ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends();
    Map<String, BackendProvider> providers = found.providers();
    BackendProvider p = providers.get(name);
    if (p == null) {
      throw new IllegalArgumentException("backend '" + name + "' is not on the class path; found "
          + providers.keySet() + (found.broken().isEmpty() ? "" : ", broken: " + found.broken()));
    }
    return p.create(new BackendOptions(1));
  }
}
