package io.github.diffusion4j.nn;

import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Network} layer by layer, inferring and checking every shape. An architecture is a method
 * that calls this builder; nothing else is needed to run it on every backend.
 *
 * <pre>{@code
 * NetworkBuilder b = new NetworkBuilder(parameterShapes);
 * Node x = b.input(Shape.of(3, 32, 32));
 * Node h = b.conv("conv_in", x, 128, 3, 1, Layer.Padding.of(1));
 * ...
 * Network net = b.build(out);
 * }</pre>
 *
 * Not thread-safe; one builder builds one network.
 */
public final class NetworkBuilder {
  private final LinkedHashMap<String, int[]> parameterShapes;
  private final List<Node> nodes = new ArrayList<>();

  /**
   * Starts a network whose parameters have the given state-dict layout (checked when {@link #build} is
   * called: every entry must be read by exactly one layer).
   *
   * @param parameterShapes names, shapes and order of the parameters
   */
  public NetworkBuilder(Map<String, int[]> parameterShapes) {
    if (parameterShapes == null) {
      throw new IllegalArgumentException("the parameter layout must not be null (an empty map for none)");
    }
    parameterShapes.forEach((name, shape) -> {
      if (name == null || shape == null) {
        throw new IllegalArgumentException("parameter layout: entry " + name + " has no shape");
      }
    });
    this.parameterShapes = new LinkedHashMap<>(parameterShapes);
  }

  private Node add(Layer layer, Shape shape, Node... inputs) {
    List<Integer> ids = new ArrayList<>();
    for (Node in : inputs) {
      if (in == null || in.id() >= nodes.size() || nodes.get(in.id()) != in) {
        throw new IllegalArgumentException(layer + ": an input is not a node of this builder");
      }
      ids.add(in.id());
    }
    Node n = new Node(nodes.size(), layer, ids, shape);
    nodes.add(n);
    return n;
  }

  /** Checks that every input is a node of this builder, naming the layer being added. */
  private void requireNodes(String what, Node... xs) {
    for (Node x : xs) {
      if (x == null) {
        throw new IllegalArgumentException(what + ": an input node is null");
      }
      if (x.id() >= nodes.size() || nodes.get(x.id()) != x) {
        throw new IllegalArgumentException(what + ": input " + x.layer() + " is not a node of this builder");
      }
    }
  }

  private static int channels(Node x) {
    return x.itemShape().dim(0);
  }

  private static void requireImage(String what, Node x) {
    if (x.itemShape().rank() != 3) {
      throw new IllegalArgumentException(what + " needs a [C, H, W] input, got " + x.itemShape());
    }
  }

  /**
   * The noisy batch.
   *
   * @param itemShape one image, {@code [C, H, W]}
   * @return the node
   */
  public Node input(Shape itemShape) {
    if (itemShape == null) {
      throw new IllegalArgumentException("the input needs a shape [C, H, W]");
    }
    if (itemShape.rank() != 3) {
      throw new IllegalArgumentException("the input must be [C, H, W], got " + itemShape);
    }
    return add(new Layer.Input(itemShape), itemShape);
  }

  /**
   * The scaled timestep {@code t / divisor}, shape {@code [1]}.
   *
   * @param divisor the divisor
   * @return the node
   */
  public Node timestepScale(double divisor) {
    return add(new Layer.TimestepScale(divisor), Shape.of(1));
  }

  /**
   * The sinusoidal timestep embedding, shape {@code [dim]} (see {@link Layer.TimestepEmbedding}).
   *
   * @param embedding its settings
   * @return the node
   */
  public Node timestepEmbedding(Layer.TimestepEmbedding embedding) {
    if (embedding == null) {
      throw new IllegalArgumentException("timestep embedding: settings are required");
    }
    return add(embedding, Shape.of(embedding.dim()));
  }

  /**
   * A linear layer with a bias.
   *
   * @param name its state-dict prefix
   * @param x a vector input {@code [in]}
   * @param out the output features
   * @return the node, {@code [out]}
   */
  public Node linear(String name, Node x, int out) {
    return linear(name, x, out, true);
  }

  /**
   * A linear layer.
   *
   * @param name its state-dict prefix
   * @param x a vector input {@code [in]}
   * @param out the output features
   * @param bias whether it has a bias
   * @return the node, {@code [out]}
   */
  public Node linear(String name, Node x, int out, boolean bias) {
    requireNodes("linear " + name, x);
    if (x.itemShape().rank() != 1) {
      throw new IllegalArgumentException("linear " + name + " needs a vector input, got " + x.itemShape());
    }
    return add(new Layer.Linear(name, x.itemShape().dim(0), out, bias), Shape.of(out), x);
  }

  /**
   * A convolution with a bias.
   *
   * @param name its state-dict prefix
   * @param x an image input
   * @param out the output channels
   * @param kernel the kernel size
   * @param stride the stride
   * @param padding the padding
   * @return the node
   */
  public Node conv(String name, Node x, int out, int kernel, int stride, Layer.Padding padding) {
    return conv(name, x, out, kernel, stride, padding, true);
  }

  /**
   * A convolution, with or without a bias (PyTorch's {@code Conv2d(..., bias=False)}, as before a norm).
   *
   * @param name its state-dict prefix
   * @param x an image input
   * @param out the output channels
   * @param kernel the kernel size
   * @param stride the stride
   * @param padding the padding
   * @param bias whether it has a bias ({@code name.bias} in the layout)
   * @return the node
   */
  public Node conv(String name, Node x, int out, int kernel, int stride, Layer.Padding padding, boolean bias) {
    requireNodes("conv " + name, x);
    requireImage("conv " + name, x);
    Layer.Conv2d c = new Layer.Conv2d(name, channels(x), out, kernel, stride, padding, bias);
    int h = x.itemShape().dim(1) + padding.top() + padding.bottom() - kernel;
    int w = x.itemShape().dim(2) + padding.left() + padding.right() - kernel;
    if (h < 0 || w < 0) {
      throw new IllegalArgumentException("conv " + name + ": a " + kernel + "x" + kernel + " kernel does not fit "
          + x.itemShape() + " with padding " + padding);
    }
    return add(c, Shape.of(out, h / stride + 1, w / stride + 1), x);
  }

  /**
   * Group normalisation.
   *
   * @param name its state-dict prefix
   * @param x the input ({@code [C, H, W]} or {@code [C]})
   * @param groups the groups, dividing {@code C}
   * @param eps the variance's constant
   * @return the node, shaped as {@code x}
   */
  public Node groupNorm(String name, Node x, int groups, double eps) {
    requireNodes("group norm " + name, x);
    return add(new Layer.GroupNorm(name, channels(x), groups, eps), x.itemShape(), x);
  }

  /**
   * SiLU.
   *
   * @param x the input
   * @return the node
   */
  public Node silu(Node x) {
    requireNodes("silu", x);
    return add(new Layer.Activation(Layer.Function.SILU), x.itemShape(), x);
  }

  /**
   * ReLU.
   *
   * @param x the input
   * @return the node
   */
  public Node relu(Node x) {
    requireNodes("relu", x);
    return add(new Layer.Activation(Layer.Function.RELU), x.itemShape(), x);
  }

  /**
   * Nearest-neighbour upsampling.
   *
   * @param x an image input
   * @param factor the factor
   * @return the node
   */
  public Node upsample(Node x, int factor) {
    requireNodes("upsampling", x);
    requireImage("upsampling", x);
    Shape s = x.itemShape();
    return add(new Layer.Upsample(factor), Shape.of(s.dim(0), s.dim(1) * factor, s.dim(2) * factor), x);
  }

  /**
   * {@code a + b}.
   *
   * @param a the first input
   * @param b the second: {@code a}'s shape, or {@code [C]} to add to every position of an image
   * @return the node
   */
  public Node add(Node a, Node b) {
    return add(a, b, 1.0);
  }

  /**
   * {@code (a + b) * scale}.
   *
   * @param a the first input
   * @param b the second: {@code a}'s shape, or {@code [C]} to add to every position of an image
   * @param scale the factor
   * @return the node
   */
  public Node add(Node a, Node b, double scale) {
    requireNodes("add", a, b);
    boolean same = a.itemShape().equals(b.itemShape());
    boolean broadcast = a.itemShape().rank() == 3 && b.itemShape().rank() == 1 && b.itemShape().dim(0) == channels(a);
    if (!same && !broadcast) {
      throw new IllegalArgumentException("add: shapes " + a.itemShape() + " and " + b.itemShape() + " do not match");
    }
    return add(new Layer.Add(scale), a.itemShape(), a, b);
  }

  /**
   * Concatenation along channels.
   *
   * @param xs two or more inputs whose other axes match
   * @return the node
   */
  public Node concat(Node... xs) {
    if (xs.length < 2) {
      throw new IllegalArgumentException("concat needs at least two inputs");
    }
    requireNodes("concat", xs);
    int c = 0;
    int[] rest = Arrays.copyOfRange(xs[0].itemShape().dims(), 1, xs[0].itemShape().rank());
    for (Node x : xs) {
      int[] r = Arrays.copyOfRange(x.itemShape().dims(), 1, x.itemShape().rank());
      if (!Arrays.equals(r, rest)) {
        throw new IllegalArgumentException("concat: shapes " + xs[0].itemShape() + " and " + x.itemShape() + " differ beyond the channels");
      }
      c += channels(x);
    }
    int[] dims = xs[0].itemShape().dims();
    dims[0] = c;
    return add(new Layer.Concat(), Shape.of(dims), xs);
  }

  /**
   * Channels {@code [from, to)}.
   *
   * @param x the input
   * @param from the first channel
   * @param to one past the last
   * @return the node
   */
  public Node sliceChannels(Node x, int from, int to) {
    requireNodes("channel slice", x);
    if (to > channels(x)) {
      throw new IllegalArgumentException("channel slice [" + from + ", " + to + ") of " + x.itemShape());
    }
    int[] dims = x.itemShape().dims();
    dims[0] = to - from;
    return add(new Layer.SliceChannels(from, to), Shape.of(dims), x);
  }

  /**
   * Self-attention over positions.
   *
   * @param q the queries {@code [C, H, W]}
   * @param k the keys, same shape
   * @param v the values, same shape
   * @param heads the heads, dividing {@code C}
   * @return the node, {@code [C, H, W]}
   */
  public Node attention(Node q, Node k, Node v, int heads) {
    requireNodes("attention", q, k, v);
    Layer.Attention layer = new Layer.Attention(heads); // heads checked before they divide anything
    requireImage("attention", q);
    if (!q.itemShape().equals(k.itemShape()) || !q.itemShape().equals(v.itemShape())) {
      throw new IllegalArgumentException("attention: q, k and v shapes differ: " + q.itemShape() + ", " + k.itemShape() + ", " + v.itemShape());
    }
    if (channels(q) % heads != 0) {
      throw new IllegalArgumentException("attention: " + heads + " heads do not divide " + channels(q) + " channels");
    }
    return add(layer, q.itemShape(), q, k, v);
  }

  /**
   * Dropout; with {@code p == 0} no layer is added and {@code x} is returned.
   *
   * @param x the input
   * @param p the probability
   * @param stream the split index of the model's dropout stream
   * @param index the layer's index among the model's dropout layers
   * @return the node
   */
  public Node dropout(Node x, double p, long stream, int index) {
    requireNodes("dropout", x);
    Layer.Dropout d = new Layer.Dropout(p, stream, index);
    return p == 0 ? x : add(d, x.itemShape(), x);
  }

  /**
   * The same values with another item shape.
   *
   * @param x the input
   * @param itemShape the new item shape, of the same size
   * @return the node
   */
  public Node reshape(Node x, Shape itemShape) {
    requireNodes("reshape", x);
    if (itemShape == null) {
      throw new IllegalArgumentException("reshape needs a shape");
    }
    if (itemShape.size() != x.itemSize()) {
      throw new IllegalArgumentException("reshape " + x.itemShape() + " to " + itemShape + ": sizes differ");
    }
    return add(new Layer.Reshape(itemShape), itemShape, x);
  }

  /**
   * Finishes the network.
   *
   * @param output the node whose output is the prediction; it must have the input's shape
   * @return the network
   * @throws IllegalArgumentException if the parameters do not match the layout, or the output's shape is
   *     not the input's
   */
  public Network build(Node output) {
    requireNodes("the output", output);
    Network n = new Network(nodes, output.id(), parameterShapes);
    if (!output.itemShape().equals(n.inputShape())) {
      throw new IllegalArgumentException("the output " + output.itemShape() + " must have the input's shape " + n.inputShape());
    }
    return n;
  }
}
