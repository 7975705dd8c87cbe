package io.github.diffusion4j.tensor;

/**
 * An arena for tensors: every tensor created on the opening thread while this scope is the innermost
 * open one is released when it closes, except those passed to {@link #keep(Tensor)}.
 *
 * <p>Loops run each iteration in a scope and keep only what survives it, so native memory stays flat
 * however long they run:
 *
 * <pre>{@code
 * try (TensorScope step = tensors.openScope()) {
 *   Tensor next = step.keep(x.combine(a, eps, b));
 *   x.close();
 *   x = next;
 * }
 * }</pre>
 *
 * <p>Scopes nest and must be closed in the reverse order of opening, on the thread that opened them.
 */
public interface TensorScope extends AutoCloseable {

  /**
   * Moves a tensor out of this scope into the enclosing one (or, for an outermost scope, to the
   * backend, which owns it until it is closed explicitly or the backend closes).
   *
   * @param tensor a tensor owned by this scope; one it does not own (already kept, owned by an outer scope or
   *     the backend, or released) is left where it is
   * @param <T> the tensor type
   * @return the same tensor, for chaining
   * @throws IllegalStateException if this scope is closed
   */
  <T extends Tensor> T keep(T tensor);

  /** Releases every tensor this scope still owns. Closing twice does nothing. */
  @Override
  void close();
}
