/**
 * The numeric core: {@link io.github.diffusion4j.tensor.Tensor}, a small set of float32 operations that
 * samplers and the trainer are written against, its {@link io.github.diffusion4j.tensor.Shape}, the
 * {@link io.github.diffusion4j.tensor.TensorFactory} a backend provides, and
 * {@link io.github.diffusion4j.tensor.TensorScope}, the arena that bounds native memory.
 *
 * <p>This package depends on the JDK only. Every backend implements it; code written against it runs on
 * every backend.
 */
package io.github.diffusion4j.tensor;
