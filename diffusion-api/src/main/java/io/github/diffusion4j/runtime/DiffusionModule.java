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
 * provider in a {@link MapBinder}, and the choices keyed by configuration. Declarative: discovery happens
 * before the module is built, and nothing is created until it is first asked for (the backend, which
 * loads native code, only when a tensor or model is needed).
 */
final class DiffusionModule extends AbstractModule {
  /** The system property that overrides the configured backend name, e.g. {@code -Ddiffusion4j.backend=djl}. */
  static final String BACKEND_PROPERTY = "diffusion4j.backend";

  private final LoadedConfig config;
  private final ProviderDiscovery.Found<BackendProvider> backends;
  private final ProviderDiscovery.Found<SamplerProvider> samplers;

  DiffusionModule(
      LoadedConfig config,
      ProviderDiscovery.Found<BackendProvider> backends,
      ProviderDiscovery.Found<SamplerProvider> samplers) {
    this.config = config;
    this.backends = backends;
    this.samplers = samplers;
  }

  @Override
  protected void configure() {
    bind(LoadedConfig.class).toInstance(config);
    bind(DiffusionConfig.class).toInstance(config.config());
    MapBinder<String, BackendProvider> b = MapBinder.newMapBinder(binder(), String.class, BackendProvider.class);
    backends.providers().forEach((name, p) -> b.addBinding(name).toInstance(p));
    MapBinder<String, SamplerProvider> s = MapBinder.newMapBinder(binder(), String.class, SamplerProvider.class);
    samplers.providers().forEach((name, p) -> s.addBinding(name).toInstance(p));
  }

  @Provides
  @Singleton
  BackendProvider backendProvider(Map<String, BackendProvider> providers) {
    String property = System.getProperty(BACKEND_PROPERTY);
    String name = property == null || property.isBlank() ? config.config().backend() : property.trim();
    BackendProvider p = providers.get(name);
    if (p == null) {
      String where = property == null || property.isBlank() ? "" : " (from -D" + BACKEND_PROPERTY + ")";
      throw config.error("backend", ProviderDiscovery.unknownBackend(name, backends) + where);
    }
    return p;
  }

  @Provides
  @Singleton
  Backend backend(BackendProvider provider) {
    return provider.create(new BackendOptions(config.config().threads()));
  }

  @Provides
  @Singleton
  Schedule schedule() {
    return Schedule.of(config.config().schedule().toSpec());
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
