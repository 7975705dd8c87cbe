/**
 * The {@code nd4j} backend: {@link io.github.diffusion4j.backend.nd4j.Nd4jBackendProvider}, found by
 * {@link java.util.ServiceLoader}, and its package-private implementation of the api's tensors, scopes
 * and the {@code mlp} model on ND4J 1.0.0-M2.1 ({@code nd4j-native}, OpenBLAS), all float32 on the CPU.
 *
 * <p>Memory is ND4J's native memory, freed when a tensor is released (explicitly or by its scope), never
 * left to the garbage collector. Arithmetic goes where it is cheapest at diffusion-model sizes, where the
 * fixed cost of a call outweighs its arithmetic: matrix products straight to the OpenBLAS that ND4J links
 * ({@code Blas}), plain arithmetic as single ND4J ops, and fused elementwise passes as one loop over the
 * native memory ({@code Kernels}).
 */
package io.github.diffusion4j.backend.nd4j;
