/**
 * What a backend is tested against, shipped as the {@code diffusion-testkit} artifact (a backend depends on it
 * with {@code <scope>test</scope>}): the float[] reference backend
 * ({@link io.github.diffusion4j.testkit.ReferenceBackend}), the abstract contract suites every backend
 * extends, their golden files, and the ArchUnit rules every module checks.
 *
 * <p>Nothing here is registered with {@link java.util.ServiceLoader}: a test that needs the reference backend
 * creates it ({@code new ReferenceBackend()}); a test that needs it found by name ({@code backend: reference})
 * lists {@link io.github.diffusion4j.testkit.ReferenceBackendProvider} in its own module's
 * {@code src/test/resources/META-INF/services/io.github.diffusion4j.spi.BackendProvider}, which is never shipped.
 */
package io.github.diffusion4j.testkit;
