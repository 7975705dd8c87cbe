package io.github.diffusion4j.runtime;

import com.google.inject.Inject;
import com.google.inject.Provider;
import com.google.inject.ProvisionException;
import com.google.inject.name.Named;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;

/**
 * What a {@link Diffusion} uses from its object graph, built by Guice with constructor injection (the one
 * object {@code Diffusion} asks the injector for). Every part but the map of sampler providers is a
 * {@link Provider}, so nothing is created until it is first used: opening a configuration loads no native
 * code. The parts are singletons of {@link DiffusionModule}; {@link #get} unwraps Guice's exception so
 * that callers see the original error (a located {@code ConfigException}, a {@code DataFileException}).
 */
final class Session {
  final Provider<BackendProvider> backendProvider;
  final Provider<Backend> backend;
  final Provider<Schedule> schedule;
  final Provider<Shape> imageShape;
  final Provider<ModelSpec> modelSpec;
  final Provider<DataSets.Plan> dataPlan;
  final Provider<DataLoader> dataLoader;
  final Provider<Dataset> trainingData;
  final Provider<SamplerProvider> samplerProvider;
  final Map<String, SamplerProvider> samplerProviders;

  @Inject
  Session(
      Provider<BackendProvider> backendProvider,
      Provider<Backend> backend,
      Provider<Schedule> schedule,
      Provider<Shape> imageShape,
      Provider<ModelSpec> modelSpec,
      Provider<DataSets.Plan> dataPlan,
      Provider<DataLoader> dataLoader,
      @Named("train") Provider<Dataset> trainingData,
      Provider<SamplerProvider> samplerProvider,
      Map<String, SamplerProvider> samplerProviders) {
    this.backendProvider = backendProvider;
    this.backend = backend;
    this.schedule = schedule;
    this.imageShape = imageShape;
    this.modelSpec = modelSpec;
    this.dataPlan = dataPlan;
    this.dataLoader = dataLoader;
    this.trainingData = trainingData;
    this.samplerProvider = samplerProvider;
    this.samplerProviders = samplerProviders;
  }

  /** Gets a part, unwrapping Guice's exception so callers see the original error. */
  static <T> T get(Provider<T> part) {
    try {
      return part.get();
    } catch (ProvisionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r && e.getErrorMessages().size() == 1) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
