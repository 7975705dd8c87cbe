/**
 * JMH micro-benchmarks of the hot kernels, so that a regression shows as a number: the portable noise fill
 * ({@link io.github.diffusion4j.benchmarks.NoiseBenchmark}), one sampler step
 * ({@link io.github.diffusion4j.benchmarks.SamplerStepBenchmark}), the MLP's prediction of a sampling step
 * ({@link io.github.diffusion4j.benchmarks.MlpPredictBenchmark}) and one layer of each kind through a
 * backend's {@link io.github.diffusion4j.nn.LayerBackend}
 * ({@link io.github.diffusion4j.benchmarks.LayerBenchmark}).
 *
 * <p>Benchmarks that use a backend take it by name ({@code @Param backend}: {@code nd4j} or {@code djl}) and
 * find it with {@link java.util.ServiceLoader}; JMH forks a JVM per trial, so each process loads one native
 * engine, with one thread. Nothing here runs during the build: {@code package} builds
 * {@code target/benchmarks.jar}, run as docs/benchmarks.md ("JMH suite") shows.
 */
package io.github.diffusion4j.benchmarks;
