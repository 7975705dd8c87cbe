/**
 * The DJL backend: {@link io.github.diffusion4j.backend.djl.DjlBackendProvider}, registered for
 * {@link java.util.ServiceLoader}, creates a backend on DJL's PyTorch engine (CPU, the bundled
 * {@code linux-x86_64} libtorch; nothing is ever downloaded).
 *
 * <p>Everything else in this package is package-private: tensors are float32 {@code NDArray}s owned by the
 * api's {@link io.github.diffusion4j.tensor.ScopeStack}; the layer kinds of {@link io.github.diffusion4j.nn}
 * are implemented once each (a kernel class per kind, a few libtorch operations) and differentiated by
 * libtorch's autograd with thread-local grad mode; every model's weights live in one flat parameter vector
 * with an autograd leaf view per parameter, updated by DJL's fused Adam ({@code DjlParameters}). The api's
 * model runs every network on them; this package defines no network.
 */
package io.github.diffusion4j.backend.djl;
