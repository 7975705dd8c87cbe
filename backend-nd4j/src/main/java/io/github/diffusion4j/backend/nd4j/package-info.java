/**
 * The {@code nd4j} backend: {@link io.github.diffusion4j.backend.nd4j.Nd4jBackendProvider}, found by
 * {@link java.util.ServiceLoader}, and its package-private implementation of the api's tensors, scopes
 * and layer kinds on ND4J 1.0.0-M2.1 ({@code nd4j-native}, OpenBLAS), all float32 on the CPU. It
 * implements no network: the api's model runs every architecture through {@code Nd4jLayers}.
 *
 * <p>Memory is ND4J's native memory, freed when a tensor is released (explicitly or by its scope), never
 * left to the garbage collector. A pass's values live in native blocks of a {@code Workspace} borrowed
 * from a pool and reused, so a pass of a given size allocates nothing after its first run. Arithmetic goes
 * where it is cheapest: matrix products (linear layers, convolutions as im2col, attention) straight to the
 * OpenBLAS that ND4J links ({@code Blas}) on the values' memory; the other layer kinds as loops over heap
 * chunks of it that the JIT vectorises ({@code ArrayMath}, {@code VectorMath}); plain tensor arithmetic as
 * single ND4J ops or fused passes ({@code Kernels}). A network's weights, gradient, Adam state and moving
 * average live in one {@code Parameters}.
 */
package io.github.diffusion4j.backend.nd4j;
