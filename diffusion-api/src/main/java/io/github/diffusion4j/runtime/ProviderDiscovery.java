package io.github.diffusion4j.runtime;

import io.github.diffusion4j.sampling.BuiltInSamplers;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.settings.InvalidPropertyException;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.spi.BackendUnavailableException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the {@link BackendProvider}s and {@link SamplerProvider}s on the class path with
 * {@link ServiceLoader}: through this class's loader, then through the calling thread's context class loader where
 * that is another (an application server's or plugin system's loader of the application, which holds a backend the
 * SDK's own loader cannot see). Discovery never fails silently: a provider that cannot be instantiated is
 * reported (see {@link Found#broken()}) and the others are still used; two providers with the same name
 * are reported too (the first wins). Each such problem is also logged as a warning (SLF4J, logger
 * {@code io.github.diffusion4j.runtime.ProviderDiscovery}) every time discovery runs, so it shows even when
 * the configured provider is found.
 */
public final class ProviderDiscovery {
  private static final Logger LOG = LoggerFactory.getLogger(ProviderDiscovery.class);

  private ProviderDiscovery() {}

  /** The official backends and the artifacts that provide them, for "add this dependency" messages. */
  public static final Map<String, String> OFFICIAL_BACKENDS =
      Map.of("nd4j", "io.github.diffusion4j:backend-nd4j", "djl", "io.github.diffusion4j:backend-djl");

  /** The official backends' provider classes, to tell a backend whose jar is there but whose service entry is not. */
  private static final Map<String, String> OFFICIAL_PROVIDER_CLASSES = Map.of(
      "nd4j", "io.github.diffusion4j.backend.nd4j.Nd4jBackendProvider",
      "djl", "io.github.diffusion4j.backend.djl.DjlBackendProvider");

  /**
   * The outcome of a discovery.
   *
   * @param providers the usable providers by name, in discovery order
   * @param broken one line per provider that could not be loaded or was a duplicate
   * @param <T> the provider type
   */
  public record Found<T>(Map<String, T> providers, List<String> broken) {
    /**
     * Copies the collections.
     *
     * @param providers the usable providers by name, in discovery order
     * @param broken one line per provider that could not be loaded or was a duplicate
     */
    public Found {
      providers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(providers));
      broken = List.copyOf(broken);
    }
  }

  /**
   * The backend providers on the class path of this class's loader and of the thread's context class loader.
   *
   * @return what was found
   */
  public static Found<BackendProvider> backends() {
    return load(BackendProvider.class, BackendProvider::name, List.of(), loaders(), LOG);
  }

  static Found<BackendProvider> backends(ClassLoader loader) {
    return backends(loader, LOG);
  }

  static Found<BackendProvider> backends(ClassLoader loader, Logger log) {
    return load(BackendProvider.class, BackendProvider::name, List.of(), List.of(loader), log);
  }

  /**
   * This class's loader, then the thread's context class loader unless it is that loader or one of its ancestors
   * (which would find nothing more).
   */
  static List<ClassLoader> loaders() {
    ClassLoader own = ProviderDiscovery.class.getClassLoader();
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    for (ClassLoader l = own; l != null; l = l.getParent()) {
      if (l == context) {
        return List.of(own);
      }
    }
    return context == null ? List.of(own) : List.of(own, context);
  }

  /**
   * The sampler providers: the built-in {@code ddpm} and {@code ddim}, then those found on the class path.
   *
   * @return what was found
   */
  public static Found<SamplerProvider> samplers() {
    return load(SamplerProvider.class, SamplerProvider::name, BuiltInSamplers.all(), loaders(), LOG);
  }

  static Found<SamplerProvider> samplers(ClassLoader loader, Logger log) {
    return load(SamplerProvider.class, SamplerProvider::name, BuiltInSamplers.all(), List.of(loader), log);
  }

  private static <T> Found<T> load(
      Class<T> type, java.util.function.Function<T, String> name, List<T> builtIns, List<ClassLoader> loaders,
      Logger log) {
    Map<String, T> found = new LinkedHashMap<>();
    List<String> broken = new ArrayList<>();
    for (T b : builtIns) {
      found.put(name.apply(b), b);
    }
    for (ClassLoader loader : loaders) {
      find(type, name, loader, found, builtIns, broken);
    }
    for (String line : broken) {
      log.warn("{} discovery: {}", type.getSimpleName(), line);
    }
    return new Found<>(found, broken);
  }

  /** Adds the providers one loader finds; one a loader before it found (by delegation) is the same, not a duplicate. */
  private static <T> void find(Class<T> type, java.util.function.Function<T, String> name, ClassLoader loader,
      Map<String, T> found, List<T> builtIns, List<String> broken) {
    Iterator<T> it = ServiceLoader.load(type, loader).iterator();
    while (true) {
      T p;
      try {
        if (!it.hasNext()) {
          break;
        }
        p = it.next();
      } catch (ServiceConfigurationError | LinkageError e) {
        // ServiceLoader's own message starts with the service's full name, which the line's start already says
        String line = oneLine(e);
        String prefix = type.getName() + ": ";
        broken.add(type.getSimpleName() + ": " + (line.startsWith(prefix) ? line.substring(prefix.length()) : line));
        continue;
      }
      String n;
      try {
        n = name.apply(p);
      } catch (RuntimeException | LinkageError e) {
        broken.add(p.getClass().getName() + ": name() failed: " + oneLine(e));
        continue;
      }
      if (n == null || !NAME.matcher(n).matches()) {
        broken.add(p.getClass().getName() + ": name() returned " + (n == null ? "null" : "'" + n + "'")
            + ", not a lowercase identifier ([a-z][a-z0-9_]*) that a configuration can name; ignored");
        continue;
      }
      if (found.containsKey(n) && found.get(n).getClass() == p.getClass()) {
        continue; // seen through an earlier loader
      }
      if (found.containsKey(n)) {
        broken.add(p.getClass().getName() + ": duplicate name '" + n + "' ("
            + (builtIns.contains(found.get(n)) // the built-in samplers, anonymous classes: named in words
                ? "a built-in sampler's, which a provider cannot replace; give it another name"
                : "already provided by " + found.get(n).getClass().getName()) + "); ignored");
        continue;
      }
      found.put(n, p);
    }
  }

  /** What a configuration accepts as a backend or sampler name (config.ValueType's lowercase identifier). */
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9_]*");

  private static String oneLine(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (b.length() > 0) {
        b.append(": ");
      }
      b.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
      if (t.getCause() == t) {
        break;
      }
    }
    return b.toString().replace('\n', ' ');
  }

  /**
   * The message for a backend name that no provider has: what is known, and which artifact to add.
   *
   * @param name the requested backend
   * @param found what discovery found
   * @return one line
   */
  public static String unknownBackend(String name, Found<BackendProvider> found) {
    String providerClass = OFFICIAL_PROVIDER_CLASSES.get(name);
    ClassLoader where = loaders().stream().filter(l -> providerClass != null && loads(providerClass, l)).findFirst()
        .orElse(ProviderDiscovery.class.getClassLoader()); // the loaders discovery asked
    return unknownBackend(name, found, providerClass, where);
  }

  /**
   * As {@link #unknownBackend(String, Found)}, with the official backend's provider class looked for in
   * {@code loader}: a provider class that loads but was not discovered lost its {@code META-INF/services} entry,
   * as in a fat jar that kept one backend's service file of several, and adding the dependency would not help.
   */
  static String unknownBackend(String name, Found<BackendProvider> found, String providerClass, ClassLoader loader) {
    StringBuilder b = new StringBuilder("unknown backend '").append(name).append("'; ");
    b.append(found.providers().isEmpty() ? "no backend is on the class path"
        : "available: " + String.join(", ", found.providers().keySet()));
    String artifact = OFFICIAL_BACKENDS.get(name);
    if (artifact != null && providerClass != null && loads(providerClass, loader)) {
      b.append("; ").append(providerClass).append(" is on the class path but not listed in META-INF/services/")
          .append(BackendProvider.class.getName())
          .append(" (a fat jar that kept one service file of several): merge the service files, e.g. with "
              + "maven-shade-plugin's ServicesResourceTransformer (README, \"Packaging an application\")");
    } else if (artifact != null) {
      b.append("; add the dependency ").append(artifact).append(" to use it");
    } else if (!found.broken().isEmpty()) {
      // the backend asked for is likely among them (its provider failed to load): the hint on how a backend is
      // found would send its author to a services file that already lists it
      return b.append("; broken providers, among them perhaps '").append(name).append("': ")
          .append(String.join("; ", found.broken())).toString();
    } else {
      b.append("; official backends: ").append(OFFICIAL_BACKENDS.entrySet().stream().sorted(Map.Entry.comparingByKey())
          .map(e -> e.getKey() + " (" + e.getValue() + ")").collect(Collectors.joining(", ")))
          .append("; another backend is found when its jar, with its provider listed in META-INF/services/")
          .append(BackendProvider.class.getName()).append(", is on the class path (for ./diffusion, in DIFFUSION_CLASSPATH)");
    }
    if (!found.broken().isEmpty()) {
      b.append("; broken providers: ").append(String.join("; ", found.broken()));
    }
    return b.toString();
  }

  /**
   * Creates the backend of a name, as {@code backend: NAME} in a configuration does, for code that samples or trains
   * without one (a network of the user's own, README "Your own network"): discovery ({@link #backends()}), then
   * {@link #create(BackendProvider, BackendOptions)}.
   *
   * @param name the backend's name, e.g. {@code djl}
   * @param options its options
   * @return the backend; close it when done
   * @throws IllegalArgumentException where no provider has the name, with {@link #unknownBackend(String, Found)}'s
   *     line (what was found, the artifact to add)
   * @throws BackendUnavailableException as {@link #create(BackendProvider, BackendOptions)}
   */
  public static Backend create(String name, BackendOptions options) {
    java.util.Objects.requireNonNull(name, "name must not be null");
    Found<BackendProvider> found = backends();
    BackendProvider provider = found.providers().get(name);
    if (provider == null) {
      throw new IllegalArgumentException(unknownBackend(name, found));
    }
    return create(provider, options);
  }

  /**
   * Creates the backend, naming it in a {@link BackendUnavailableException} whose message does not (a third-party
   * provider's "libfoo.so not found" would otherwise reach the user without saying which backend failed to load). Every
   * creation of a backend for a user goes through here ({@code Diffusion.open}, the command line's {@code info
   * --load}).
   *
   * @param provider the chosen provider
   * @param options its options
   * @return the backend
   * @throws BackendUnavailableException as the provider's, its message starting with {@code backend 'NAME'} (or the
   *     provider's own, where it starts with that or with {@code NAME:}); any other exception or linkage error of
   *     {@code create} as its cause, {@code backend 'NAME' (ARTIFACT) failed to start: TYPE: MESSAGE}, but an
   *     {@link InvalidPropertyException} (which names the switch) and a {@link CancellationException} unchanged; and
   *     where {@code create} returned null
   */
  public static Backend create(BackendProvider provider, BackendOptions options) {
    Backend backend;
    try {
      backend = provider.create(options);
    } catch (BackendUnavailableException e) {
      String name = provider.name();
      String m = e.getMessage() == null ? "" : e.getMessage();
      if (m.startsWith("backend '" + name + "'") || m.startsWith(name + ":")) {
        throw e;
      }
      throw new BackendUnavailableException("backend '" + name + "'" + artifactOf(provider) + " cannot be loaded here"
          + (m.isEmpty() ? "" : ": " + m), e);
    } catch (InvalidPropertyException | CancellationException e) {
      throw e; // a switch's refusal names the property and what is allowed; an interrupt is not a failure
    } catch (RuntimeException | LinkageError e) {
      // outside the contract (a provider's bug, a native library that does not link): its message alone ("native lib
      // missing", or none) would not say which backend failed, nor that a backend did
      String m = e.getMessage() == null ? "" : ": " + e.getMessage().replace('\n', ' ');
      throw new BackendUnavailableException("backend '" + provider.name() + "'" + artifactOf(provider)
          + " failed to start: " + e.getClass().getSimpleName() + m, e);
    }
    if (backend == null) { // else a NullPointerException at the backend's first use, naming no backend
      throw new BackendUnavailableException("backend '" + provider.name() + "'" + artifactOf(provider)
          + " failed to start: its provider's create(BackendOptions) returned null", null);
    }
    return backend;
  }

  /** {@code " (ARTIFACT)"}, or nothing where the provider cannot say. */
  private static String artifactOf(BackendProvider provider) {
    try {
      return " (" + provider.artifact() + ")";
    } catch (RuntimeException | LinkageError again) {
      return "";
    }
  }

  private static boolean loads(String className, ClassLoader loader) {
    try {
      Class.forName(className, false, loader);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * The message for a sampler name that no provider has.
   *
   * @param name the requested sampler
   * @param found what discovery found
   * @return one line
   */
  public static String unknownSampler(String name, Found<SamplerProvider> found) {
    return "unknown sampler '" + name + "'; available: " + String.join(", ", found.providers().keySet())
        + (found.broken().isEmpty() ? "" : "; broken providers: " + String.join("; ", found.broken()))
        + "; add your own with a SamplerProvider registered in META-INF/services (for ./diffusion, its jar or class "
        + "folder in DIFFUSION_CLASSPATH)";
  }
}
