/**
 * The DJL backend: {@link io.github.diffusion4j.backend.djl.DjlBackendProvider}, registered for
 * {@link java.util.ServiceLoader}, creates a backend on DJL's PyTorch engine (CPU, the bundled
 * {@code linux-x86_64} libtorch; nothing is ever downloaded).
 *
 * <p>Everything else in this package is package-private: tensors are float32 {@code NDArray}s owned
 * by the api's {@link io.github.diffusion4j.tensor.ScopeStack}; every model keeps its weights in one flat
 * parameter vector updated by DJL's fused Adam ({@code FlatParameters}); the tutorial's MLP trains with
 * hand-written gradients, the DDPM U-Net ({@link io.github.diffusion4j.model.UNetSpec}) through libtorch's
 * autograd with thread-local grad mode.
 */
package io.github.diffusion4j.backend.djl;
