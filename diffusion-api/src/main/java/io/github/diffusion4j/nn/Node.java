package io.github.diffusion4j.nn;

import io.github.diffusion4j.tensor.Shape;
import java.util.List;

/**
 * One layer of a {@link Network} and where its inputs come from.
 *
 * @param id the node's index in the network (its position in the evaluation order)
 * @param layer the layer kind and its settings
 * @param inputs the ids of the nodes whose outputs are its inputs, in order (all smaller than {@code id})
 * @param itemShape the shape of its output for one item (without the batch axis)
 */
public record Node(int id, Layer layer, List<Integer> inputs, Shape itemShape) {

  /**
   * Validates and copies.
   *
   * @param id the index, at least 0
   * @param layer the layer, not null
   * @param inputs earlier nodes
   * @param itemShape the output shape of one item
   */
  public Node {
    if (id < 0 || layer == null || itemShape == null) {
      throw new IllegalArgumentException("a node needs an id, a layer and a shape");
    }
    inputs = List.copyOf(inputs);
    for (int i : inputs) {
      if (i < 0 || i >= id) {
        throw new IllegalArgumentException("node " + id + " (" + layer + "): input " + i + " is not an earlier node");
      }
    }
  }

  /**
   * The number of floats of one item's output.
   *
   * @return {@code itemShape().size()}
   */
  public int itemSize() {
    return itemShape.size();
  }
}
