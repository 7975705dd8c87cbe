package io.github.diffusion4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The graph queries of {@link Network} that backends plan their kernels with. */
class NetworkTest {
  private static final Map<String, int[]> SHAPES =
      Map.of("a.weight", new int[] {4}, "a.bias", new int[] {4}, "b.weight", new int[] {4}, "b.bias", new int[] {4},
          "c.weight", new int[] {4}, "c.bias", new int[] {4});

  @Test
  void soleActivationIsTheOnlyReaderThatIsAnActivation() {
    NetworkBuilder b = new NetworkBuilder(SHAPES);
    Node x = b.input(Shape.of(4, 3, 3));
    Node a = b.groupNorm("a", x, 2, 1e-6);
    Node silu = b.silu(a); // a's only reader
    Node n = b.groupNorm("b", silu, 2, 1e-6);
    Node relu = b.relu(n);
    Node both = b.add(relu, n); // n is read twice: by the ReLU and by the sum
    Node last = b.groupNorm("c", both, 2, 1e-6);
    Network net = b.build(b.silu(last));

    assertEquals(Optional.of(Layer.Function.SILU), net.soleActivation(a.id()));
    assertEquals(Optional.empty(), net.soleActivation(n.id()), "another reader besides the activation");
    assertEquals(Optional.empty(), net.soleActivation(relu.id()), "read by a sum, not an activation");
    assertEquals(Optional.of(Layer.Function.SILU), net.soleActivation(last.id()));
    assertTrue(net.soleActivation(net.output()).isEmpty(), "the output outlives the evaluation");
  }

  @Test
  void activationFloatsCountEveryValueForTrainingAndThePeakForAnEvaluation() {
    NetworkBuilder b = new NetworkBuilder(SHAPES);
    Node x = b.input(Shape.of(4, 3, 3)); // every value of this network is 36 floats an item
    Node n = b.groupNorm("b", b.silu(b.groupNorm("a", x, 2, 1e-6)), 2, 1e-6);
    Node both = b.add(b.relu(n), n); // n, its ReLU and their sum alive at once: the peak
    Network net = b.build(b.silu(b.groupNorm("c", both, 2, 1e-6)));

    assertEquals(2 * 8 * 36, net.activationFloatsPerItem(true), "eight values and their gradients");
    assertEquals(3 * 36, net.activationFloatsPerItem(false));
    assertEquals(3 * 36, net.activationFloatsPerItem(false), "the same on a second call");
  }

  @Test
  void theOutputHasNoSoleActivationEvenWhenAnActivationReadsIt() {
    NetworkBuilder b = new NetworkBuilder(Map.of("a.weight", new int[] {4}, "a.bias", new int[] {4}));
    Node x = b.input(Shape.of(4, 3, 3));
    Node a = b.groupNorm("a", x, 2, 1e-6);
    b.silu(a);
    Network net = b.build(a); // the group norm is the output; the SiLU is not evaluated for it
    assertTrue(net.soleActivation(a.id()).isEmpty());
  }

  @Test
  void theBuilderRefusesNullAndForeignNodesAndZeroHeadsInOneLine() {
    NetworkBuilder other = new NetworkBuilder(Map.of());
    Node foreign = other.relu(other.input(Shape.of(4, 3, 3))); // id 1, as the SiLU below
    NetworkBuilder b = new NetworkBuilder(Map.of());
    Node x = b.input(Shape.of(4, 3, 3));
    b.silu(x);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(foreign));
    assertTrue(e.getMessage().contains("not a node of this builder"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.conv("c", null, 4, 3, 1, Layer.Padding.of(1)));
    assertEquals("conv c: an input node is null", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.add(x, null));
    assertEquals("add: an input node is null", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.concat(x, null));
    assertEquals("concat: an input node is null", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.attention(x, x, x, 0));
    assertEquals("attention heads must be positive, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.reshape(x, null));
    assertEquals("reshape needs a shape", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.input(null));
    java.util.Map<String, int[]> noShape = new java.util.HashMap<>();
    noShape.put("c.weight", null);
    e = assertThrows(IllegalArgumentException.class, () -> new NetworkBuilder(noShape));
    assertEquals("parameter layout: entry c.weight has no shape", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.groupNorm("n", x, 2, Double.POSITIVE_INFINITY));
    assertEquals("group norm n: eps must be positive and finite, got Infinity", e.getMessage());
  }

  @Test
  void aConvolutionWithoutBiasReadsOnlyItsWeight() {
    NetworkBuilder b = new NetworkBuilder(Map.of("c.weight", new int[] {4, 4, 3, 3}));
    Node x = b.input(Shape.of(4, 3, 3));
    Network net = b.build(b.conv("c", x, 4, 3, 1, Layer.Padding.of(1), false));
    assertEquals(java.util.List.of("c.weight"), net.node(net.output()).layer().parameterNames());
  }
}
