package io.github.diffusion4j.nn;

/**
 * One node of a {@link Network} compiled by a backend ({@link LayerBackend#kernel}): the layer kind's
 * computation bound to its parameters. A kernel holds no per-call state (that lives in the {@link Pass} and
 * the {@link Saved}), so one kernel serves any number of passes at once.
 */
public interface Kernel {

  /**
   * Computes the layer's output for the pass's items.
   *
   * @param inputs the inputs' values, in the node's input order (for a {@link Layer.Dropout} in training, a
   *     second value holds the mask, see {@link Pass#host})
   * @param pass the pass
   * @param saved this node's room for what its backward pass needs (only in training)
   * @return a new value; the inputs are not modified
   */
  Value forward(Value[] inputs, Pass pass, Saved saved);

  /**
   * The backward pass of a backend that differentiates by hand ({@link LayerBackend.Differentiation#MANUAL}):
   * adds the gradients of the layer's parameters to the parameter store's gradient and returns the
   * gradients of its inputs. The inputs and the output stay alive until this returns.
   *
   * <p>A returned gradient may be {@code gradOutput} itself or share its memory (a reshape's, a residual sum's),
   * and one value may be returned for several inputs: the model counts the references to each value by identity
   * and gives each back ({@link Pass#release}) once, after its last reader, releasing {@code gradOutput} (where it
   * was not returned) as soon as this returns. A value that shares memory with {@code gradOutput} must therefore
   * stay valid after {@code gradOutput} is released. The kernel releases none of its arguments.
   *
   * @param gradOutput the gradient of the loss with respect to the output
   * @param inputs the values the forward pass read
   * @param output the value the forward pass returned
   * @param needed which inputs need a gradient (the others' entries may be null)
   * @param pass the pass
   * @param saved what the forward pass kept
   * @return one gradient per input (null where not needed)
   * @throws UnsupportedOperationException for a backend that differentiates with its own autograd
   */
  default Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    throw new UnsupportedOperationException("this backend differentiates with its own autograd");
  }
}
