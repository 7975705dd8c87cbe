package io.github.diffusion4j.runtime;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.name.Named;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;

/**
 * The object graph of a {@link Diffusion}: the configuration, every discovered backend and sampler
 * provider in a {@link MapBinder}, the choices keyed by configuration, and the {@link Session} that
 * {@code Diffusion} uses. Declarative: discovery and the backend override ({@link BackendChoice}) are read
 * before the module is built, and nothing is created until it is first asked for (the backend, which
 * loads native code, only when a tensor or model is needed).
 *
 * <p>The binder is strict: every binding is explicit ({@code requireExplicitBindings}, so a missing one is
 * an error at injector creation, not a just-in-time guess), constructors are injected only where marked
 * {@code @Inject}, binding annotations match exactly, and a dependency cycle is an error rather than a
 * proxy. docs/design.md section 8 says why each is on.
 */
final class DiffusionModule extends AbstractModule {
  /** The system property that overrides the configured backend name, e.g. {@code -Ddiffusion4j.backend=djl}. */
  static final String BACKEND_PROPERTY = "diffusion4j.backend";

  /**
   * The backend to use: {@code backend} of the configuration, or the {@value #BACKEND_PROPERTY} system
   * property when it is set (read once, where the module is built).
   *
   * @param name the backend's name
   * @param fromProperty whether the name came from the system property
   */
  record BackendChoice(String name, boolean fromProperty) {
    /** The choice for a configuration and the value of the system property (null when unset). */
    static BackendChoice of(DiffusionConfig config, String property) {
      return property == null || property.isBlank() ? new BackendChoice(config.backend(), false)
          : new BackendChoice(property.trim(), true);
    }
  }

  private final LoadedConfig config;
  private final BackendChoice backendChoice;
  private final ProviderDiscovery.Found<BackendProvider> backends;
  private final ProviderDiscovery.Found<SamplerProvider> samplers;

  DiffusionModule(
      LoadedConfig config,
      BackendChoice backendChoice,
      ProviderDiscovery.Found<BackendProvider> backends,
      ProviderDiscovery.Found<SamplerProvider> samplers) {
    this.config = config;
    this.backendChoice = backendChoice;
    this.backends = backends;
    this.samplers = samplers;
  }

  @Override
  protected void configure() {
    binder().requireExplicitBindings();
    binder().requireAtInjectOnConstructors();
    binder().requireExactBindingAnnotations();
    binder().disableCircularProxies();
    bind(Session.class);
    bind(BackendChoice.class).toInstance(backendChoice);
    bind(LoadedConfig.class).toInstance(config);
    bind(DiffusionConfig.class).toInstance(config.config());
    MapBinder<String, BackendProvider> b = MapBinder.newMapBinder(binder(), String.class, BackendProvider.class);
    backends.providers().forEach((name, p) -> b.addBinding(name).toInstance(p));
    MapBinder<String, SamplerProvider> s = MapBinder.newMapBinder(binder(), String.class, SamplerProvider.class);
    samplers.providers().forEach((name, p) -> s.addBinding(name).toInstance(p));
  }

  @Provides
  @Singleton
  BackendProvider backendProvider(Map<String, BackendProvider> providers, BackendChoice choice) {
    BackendProvider p = providers.get(choice.name());
    if (p == null) {
      String where = choice.fromProperty() ? " (from -D" + BACKEND_PROPERTY + ")" : "";
      throw config.error("backend", ProviderDiscovery.unknownBackend(choice.name(), backends) + where);
    }
    return p;
  }

  @Provides
  @Singleton
  Backend backend(BackendProvider provider) {
    return ProviderDiscovery.create(provider, new BackendOptions(config.config().threads()));
  }

  @Provides
  @Singleton
  Schedule schedule() {
    return Schedule.of(config.config().schedule().spec());
  }

  @Provides
  @Singleton
  DataSets.Plan dataPlan() {
    return DataSets.plan(config);
  }

  @Provides
  @Singleton
  DataLoader dataLoader(DataSets.Plan plan) {
    return new DataLoader(config, plan);
  }

  @Provides
  DataSets dataSets(DataLoader loader) {
    return loader.get(DataProgress.NONE);
  }

  @Provides
  @Singleton
  @Named("train")
  Dataset trainingData(DataSets data) {
    return data.train();
  }

  @Provides
  @Singleton
  Shape imageShape(DataSets.Plan data) {
    return data.imageShape();
  }

  @Provides
  @Singleton
  ModelSpec modelSpec(Shape imageShape, Schedule schedule) {
    try {
      return config.config().model().toSpec(imageShape, schedule.size());
    } catch (io.github.diffusion4j.config.ConfigException e) {
      throw config.error(e.path(), e.detail());
    }
  }

  @Provides
  @Singleton
  SamplerProvider samplerProvider(Map<String, SamplerProvider> providers) {
    String name = config.config().sampling().sampler();
    SamplerProvider p = providers.get(name);
    if (p == null) {
      throw config.error("sampling.sampler", ProviderDiscovery.unknownSampler(name, samplers));
    }
    return p;
  }
}
