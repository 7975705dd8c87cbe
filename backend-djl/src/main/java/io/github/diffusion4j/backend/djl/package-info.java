/**
 * The DJL backend: {@link io.github.diffusion4j.backend.djl.DjlBackendProvider}, registered for
 * {@link java.util.ServiceLoader}, creates a backend on DJL's PyTorch engine (CPU, the bundled
 * {@code linux-x86_64} libtorch; nothing is ever downloaded).
 *
 * <p>Everything else in this package is package-private: tensors are float32 {@code NDArray}s owned
 * by the api's {@link io.github.diffusion4j.tensor.ScopeStack}, and the tutorial's MLP trains with
 * hand-written gradients on one flat parameter vector and DJL's fused Adam update.
 */
package io.github.diffusion4j.backend.djl;
