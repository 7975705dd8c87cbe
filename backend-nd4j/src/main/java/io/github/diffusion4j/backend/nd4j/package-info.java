/**
 * The {@code nd4j} backend: {@link io.github.diffusion4j.backend.nd4j.Nd4jBackendProvider}, found by
 * {@link java.util.ServiceLoader}, and its package-private implementation of the api's tensors, scopes
 * and the {@code mlp} and {@code unet} models on ND4J 1.0.0-M2.1 ({@code nd4j-native}, OpenBLAS), all
 * float32 on the CPU.
 *
 * <p>Memory is ND4J's native memory, freed when a tensor is released (explicitly or by its scope), never
 * left to the garbage collector; a model's working buffers are allocated once per batch size and reused.
 * Arithmetic goes where it is cheapest: matrix products straight to the OpenBLAS that ND4J links
 * ({@code Blas}), plain tensor arithmetic as single ND4J ops, fused elementwise passes as one loop over
 * the native memory ({@code Kernels}), and the U-Net's layers ({@code UNetNetwork}) as convolutions by
 * matrix products ({@code Conv2d}) around loops over Java arrays that the JIT vectorises
 * ({@code UNetKernels}, {@code VectorMath}). Both models keep their weights, Adam state and moving average
 * in one {@code ModelState}.
 */
package io.github.diffusion4j.backend.nd4j;
