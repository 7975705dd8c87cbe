package io.github.diffusion4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
