/**
 * Portable, seeded randomness: {@link io.github.diffusion4j.random.Noise} specifies its algorithm
 * (SplitMix64 streams, a 256-layer ziggurat for normals, {@link java.lang.StrictMath} on the rare slow
 * path), so the same seed gives bit-identical numbers on every JVM and backend. All noise in training
 * and sampling comes from here; no backend-native random number generator is used.
 *
 * <p>This package depends on the JDK only.
 */
package io.github.diffusion4j.random;
