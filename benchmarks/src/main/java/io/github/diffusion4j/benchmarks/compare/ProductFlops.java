package io.github.diffusion4j.benchmarks.compare;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import java.util.List;

/**
 * The floating-point operations of a network's matrix products, per item: what bounds a workload from below on
 * a machine whose matrix product runs at a known rate (issue 16 item 4). Linear layers ({@code 2 in} per output
 * value), convolutions ({@code 2 in k k} per output value) and attention ({@code 4 C P^2} for {@code P}
 * positions: the scores and the weighted sum) are counted; element-wise layers, norms and the softmax are not:
 * they are bound by memory, not arithmetic, and a floor from products alone is a floor all the same.
 *
 * <p>Training counts the forward pass, each product layer's weight gradient (as many operations as its forward
 * product) and its input gradient (as many again) where its input depends on a parameter; a layer reading the
 * network's input or the timestep features needs none. Attention's backward pass is four products of the
 * forward's size (the gradients of the values, the weights, the queries and the keys), twice the forward.
 *
 * @param forward operations of one item's forward pass
 * @param training operations of one item's forward and backward passes
 */
record ProductFlops(long forward, long training) {
  /**
   * Counts a network's products.
   *
   * @param network the network
   * @return its operations per item
   */
  static ProductFlops of(Network network) {
    List<Node> nodes = network.nodes();
    boolean[] learned = new boolean[nodes.size()];
    long forward = 0;
    long training = 0;
    for (Node n : nodes) {
      boolean fromParameters = !n.layer().parameterNames().isEmpty();
      boolean inputLearned = false;
      for (int i : n.inputs()) {
        inputLearned |= learned[i];
      }
      learned[n.id()] = fromParameters || inputLearned;
      long f = forward(network, n);
      forward += f;
      if (n.layer() instanceof Layer.Attention) {
        training += 3 * f;
      } else if (f > 0) {
        training += (inputLearned ? 3 : 2) * f;
      }
    }
    return new ProductFlops(forward, training);
  }

  /** The operations of one node's forward product for one item; 0 for a layer without one. */
  private static long forward(Network network, Node n) {
    long out = n.itemSize();
    if (n.layer() instanceof Layer.Linear l) {
      return 2L * l.in() * out;
    }
    if (n.layer() instanceof Layer.Conv2d c) {
      return 2L * c.in() * c.kernel() * c.kernel() * out;
    }
    if (n.layer() instanceof Layer.Attention) {
      Node q = network.node(n.inputs().get(0));
      long channels = q.itemShape().dim(0);
      long positions = q.itemSize() / channels;
      return 4L * channels * positions * positions;
    }
    return 0;
  }
}
