/**
 * Shared test material, shipped in {@code diffusion-api}'s test-jar: the float[] reference backend
 * ({@link io.github.diffusion4j.testkit.ReferenceBackend}), the abstract contract suites every backend
 * extends, and the ArchUnit rules every module checks.
 */
package io.github.diffusion4j.testkit;
