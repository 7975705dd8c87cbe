/**
 * The backend service-provider interface. A backend module registers one
 * {@link io.github.diffusion4j.spi.BackendProvider} in
 * {@code META-INF/services/io.github.diffusion4j.spi.BackendProvider}; the provider is a cheap descriptor
 * and only {@link io.github.diffusion4j.spi.BackendProvider#create} loads native code.
 *
 * <p>Backends may use only {@code tensor}, {@code random}, {@code schedule}, {@code model} and this
 * package (an ArchUnit rule checks it).
 */
package io.github.diffusion4j.spi;
