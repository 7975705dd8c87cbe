package io.github.diffusion4j.nn;

import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A noise predictor's function as a graph of {@link Layer}s: nodes in evaluation order, the node whose
 * output is the prediction, and the state-dict layout of the parameters (names, shapes and order, as the
 * equivalent PyTorch module's {@code state_dict()}). Immutable; built with {@link NetworkBuilder}.
 *
 * <p>A network has exactly one {@link Layer.Input} (the noisy batch); every parameter of the layout is read
 * by exactly one layer, with the shape that layer needs.
 */
public final class Network {
  private final List<Node> nodes;
  private final int output;
  private final Map<String, int[]> parameterShapes;
  private final int input;
  private final int[] lastUse;
  /** {@link #activationFloatsPerItem}'s two answers, computed once (the network does not change). */
  private final long inferenceFloats;
  private final long trainingFloats;
  private final List<List<Integer>> consumers;

  Network(List<Node> nodes, int output, LinkedHashMap<String, int[]> parameterShapes) {
    this.nodes = List.copyOf(nodes);
    this.output = output;
    this.parameterShapes = copyOf(parameterShapes);
    int in = -1;
    for (Node n : nodes) {
      if (n.layer() instanceof Layer.Input) {
        if (in >= 0) {
          throw new IllegalArgumentException("a network has one input; nodes " + in + " and " + n.id() + " are inputs");
        }
        in = n.id();
      }
    }
    if (in < 0) {
      throw new IllegalArgumentException("a network needs an input node");
    }
    this.input = in;
    this.lastUse = new int[nodes.size()];
    List<List<Integer>> cons = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      cons.add(new ArrayList<>());
      lastUse[i] = i;
    }
    for (Node n : nodes) {
      for (int i : n.inputs()) {
        lastUse[i] = Math.max(lastUse[i], n.id());
        cons.get(i).add(n.id());
      }
    }
    lastUse[output] = nodes.size();
    List<List<Integer>> frozen = new ArrayList<>();
    for (List<Integer> c : cons) {
      frozen.add(List.copyOf(c));
    }
    this.consumers = List.copyOf(frozen);
    checkParameters();
    long total = 0;
    for (Node n : nodes) {
      total += n.itemSize();
    }
    this.trainingFloats = 2 * total; // activations and their gradients
    this.inferenceFloats = peakFloatsPerItem();
  }

  private void checkParameters() {
    Map<String, Integer> usedBy = new HashMap<>();
    for (Node n : nodes) {
      List<String> names = n.layer().parameterNames();
      List<int[]> expected = expectedShapes(n);
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        int[] shape = parameterShapes.get(name);
        if (shape == null) {
          throw new IllegalArgumentException("layer " + n.layer() + " reads '" + name + "', which the layout lacks");
        }
        Integer other = usedBy.put(name, n.id());
        if (other != null) {
          throw new IllegalArgumentException("'" + name + "' is read by two layers (nodes " + other + " and " + n.id() + ")");
        }
        int[] want = expected.get(i);
        boolean ok = Arrays.equals(shape, want);
        if (!ok && n.layer() instanceof Layer.Conv2d c && c.kernel() == 1 && i == 0) {
          ok = Arrays.equals(shape, new int[] {c.out(), c.in()}); // a 1x1 convolution stored as a linear weight
        }
        if (!ok) {
          throw new IllegalArgumentException(
              "'" + name + "' has shape " + Arrays.toString(shape) + " in the layout but layer " + n.layer()
                  + " needs " + Arrays.toString(want));
        }
      }
    }
    for (String name : parameterShapes.keySet()) {
      if (!usedBy.containsKey(name)) {
        throw new IllegalArgumentException("the layout's '" + name + "' is read by no layer");
      }
    }
  }

  private static List<int[]> expectedShapes(Node n) {
    Layer l = n.layer();
    if (l instanceof Layer.Linear x) {
      return List.of(new int[] {x.out(), x.in()}, new int[] {x.out()});
    }
    if (l instanceof Layer.Conv2d x) {
      return List.of(new int[] {x.out(), x.in(), x.kernel(), x.kernel()}, new int[] {x.out()});
    }
    if (l instanceof Layer.GroupNorm x) {
      return List.of(new int[] {x.channels()}, new int[] {x.channels()});
    }
    return List.of();
  }

  /**
   * The nodes in evaluation order ({@code nodes().get(i).id() == i}).
   *
   * @return the nodes
   */
  public List<Node> nodes() {
    return nodes;
  }

  /**
   * One node.
   *
   * @param id its id
   * @return the node
   */
  public Node node(int id) {
    return nodes.get(id);
  }

  /**
   * The number of nodes.
   *
   * @return the count
   */
  public int size() {
    return nodes.size();
  }

  /**
   * The node whose output is the network's output.
   *
   * @return its id
   */
  public int output() {
    return output;
  }

  /**
   * The node of the noisy batch.
   *
   * @return its id
   */
  public int input() {
    return input;
  }

  /**
   * The shape of one input image.
   *
   * @return {@code [C, H, W]}
   */
  public Shape inputShape() {
    return nodes.get(input).itemShape();
  }

  /**
   * The state-dict layout: names, shapes and order.
   *
   * @return a copy, in order (the network stays as built whatever its caller does with the arrays)
   */
  public Map<String, int[]> parameterShapes() {
    return copyOf(parameterShapes);
  }

  /** An unmodifiable copy, in order, with copies of the arrays. */
  private static Map<String, int[]> copyOf(Map<String, int[]> shapes) {
    LinkedHashMap<String, int[]> copy = new LinkedHashMap<>();
    shapes.forEach((name, shape) -> copy.put(name, shape.clone()));
    return Collections.unmodifiableMap(copy);
  }

  /**
   * The last node that reads a node's output during evaluation ({@link #size()} for the output node, whose
   * value outlives the evaluation; the node itself if nothing reads it).
   *
   * @param id the node
   * @return the id of its last reader
   */
  public int lastUse(int id) {
    return lastUse[id];
  }

  /**
   * The nodes that read a node's output, in order (a node appears once per input it takes from it).
   *
   * @param id the node
   * @return the readers' ids
   */
  public List<Integer> consumers(int id) {
    return consumers.get(id);
  }

  /**
   * The activation that is the only reader of a node's output, if there is one: a backend may apply it where
   * that output is computed (a group norm followed by SiLU, with the group in cache) and have the activation's
   * kernel pass its input on.
   *
   * @param id the node
   * @return the activation's function; empty when the node is the network's output, or its output has another
   *     reader, or none, or its reader is not an activation
   */
  public Optional<Layer.Function> soleActivation(int id) {
    List<Integer> readers = consumers(id);
    if (readers.size() == 1 && output() != id && node(readers.get(0)).layer() instanceof Layer.Activation a) {
      return Optional.of(a.function());
    }
    return Optional.empty();
  }

  /**
   * The number of parameters.
   *
   * @return the total size of all layout entries
   */
  public long parameterCount() {
    long n = 0;
    for (int[] s : parameterShapes.values()) {
      long k = 1;
      for (int d : s) {
        k *= d;
      }
      n += k;
    }
    return n;
  }

  /**
   * The floats of one item's activations that an evaluation holds at its peak (inputs and outputs of the
   * node being run plus everything still to be read), the basis of a backend's memory estimate.
   *
   * @param training whether every activation is kept (for a backward pass)
   * @return the number of floats per item
   */
  public long activationFloatsPerItem(boolean training) {
    return training ? trainingFloats : inferenceFloats;
  }

  /** The most floats of one item alive at once in an evaluation that frees each activation after its last read. */
  private long peakFloatsPerItem() {
    long peak = 0;
    long live = 0;
    List<List<Integer>> dying = new ArrayList<>();
    for (int i = 0; i <= nodes.size(); i++) {
      dying.add(new ArrayList<>());
    }
    for (Node n : nodes) {
      dying.get(Math.min(lastUse[n.id()], nodes.size())).add(n.id());
    }
    for (Node n : nodes) {
      live += n.itemSize();
      peak = Math.max(peak, live);
      for (int d : dying.get(n.id())) {
        live -= nodes.get(d).itemSize();
      }
    }
    return peak;
  }

  @Override
  public String toString() {
    return "Network[" + nodes.size() + " nodes, " + parameterShapes.size() + " parameters]";
  }
}
