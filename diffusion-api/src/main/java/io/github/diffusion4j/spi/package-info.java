/**
 * The backend service-provider interface. A backend module registers one
 * {@link io.github.diffusion4j.spi.BackendProvider} in
 * {@code META-INF/services/io.github.diffusion4j.spi.BackendProvider}; the provider is a cheap descriptor
 * and only {@link io.github.diffusion4j.spi.BackendProvider#create} loads native code.
 *
 * <p>A backend returns its implementation of the layer kinds from {@link
 * io.github.diffusion4j.spi.Backend#layers()} ({@link io.github.diffusion4j.nn.LayerBackend}); the api runs
 * every network on it. Backends may use only {@code tensor}, {@code random}, {@code nn} and this package (an
 * ArchUnit rule checks it). Samplers have their own service interface, {@link
 * io.github.diffusion4j.sampling.SamplerProvider}.
 */
package io.github.diffusion4j.spi;
