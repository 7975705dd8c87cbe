package io.github.diffusion4j.nn;

import java.util.Map;

/**
 * What a backend implements to run networks: storage for parameters, a {@link Kernel} for each layer kind,
 * and {@link Pass}es to evaluate in. A backend never implements a network: the api's model evaluates any
 * {@link Network} through this interface (forward, loss, backward by hand or by the backend's autograd,
 * Adam, the moving average).
 */
public interface LayerBackend {

  /** How a backend computes gradients. */
  enum Differentiation {
    /** Each kernel's {@link Kernel#backward}, called by the model in reverse order. */
    MANUAL,
    /** The backend records the forward pass of a training {@link Pass} and differentiates it itself. */
    AUTOGRAD
  }

  /**
   * How this backend computes the gradients of a network. A backend with an autograd may still differentiate by
   * hand the networks whose layer kinds all have a {@link Kernel#backward} of its own, where its autograd's
   * bookkeeping would cost more than the arithmetic (small networks such as the tutorial's MLP).
   *
   * @param network the network
   * @return the kind; the same for the same network every time
   */
  Differentiation differentiation(Network network);

  /**
   * Allocates zeroed parameters for a layout.
   *
   * @param layout names, shapes and order
   * @return the store
   */
  ParameterStore parameters(Map<String, int[]> layout);

  /**
   * Compiles one node (never a source, see {@link Layer#isSource()}).
   *
   * <p>Any caller may compile nodes of several networks against one store, or one network twice, so a parameter may
   * be read by several kernels (a tied weight; one network's layers never read a parameter twice, see {@link
   * Network}): every backend then gives each kernel the same weights, and the parameter's gradient is the sum of
   * every kernel's uses, as if each use had a parameter of its own and their gradients were added.
   *
   * @param network the network
   * @param node one of its nodes
   * @param parameters the store created for the network by this backend
   * @return the kernel
   * @throws UnsupportedOperationException if this backend lacks the node's layer kind
   * @throws IllegalArgumentException if the store is not one of this backend's, or lacks a parameter the node reads
   *     or holds it with another number of values than the network's shape of it
   */
  Kernel kernel(Network network, Node node, ParameterStore parameters);

  /**
   * Opens a pass on the calling thread.
   *
   * @param network the network it evaluates
   * @param items how many items, at least one
   * @param training whether a backward pass follows
   * @return the pass
   * @throws IllegalArgumentException if {@code items} is less than one
   */
  Pass open(Network network, int items, boolean training);

  /**
   * The activation memory a pass should stay within: the model splits a batch into as many passes as
   * {@code passMemoryBytes() / (4 * network.activationFloatsPerItem(training))} items a pass (at least one)
   * need, sized in multiples of four items where that budget holds four or more (so up to three items over it;
   * see {@code NetworkModel}'s pass sizes).
   *
   * @return bytes; {@code Long.MAX_VALUE} for no splitting
   */
  default long passMemoryBytes() {
    return Long.MAX_VALUE;
  }
}
