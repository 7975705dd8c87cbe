package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The product operations that the physical floors of {@code diffusion bench} are computed from, counted by hand. */
class ProductFlopsTest {

  @Test
  void theTutorialMlpIsTwoLinearLayersAndOnlyTheSecondNeedsAnInputGradient() {
    // 3x5x5 pixels and the timestep scale: Linear(76, 128), ReLU, Linear(128, 75)
    Network mlp = new MlpSpec(Shape.of(3, 5, 5), 100, 128).network();
    long first = 2L * 76 * 128;
    long second = 2L * 128 * 75;
    assertEquals(new ProductFlops(first + second, 2 * first + 3 * second), ProductFlops.of(mlp));
  }

  @Test
  void convolutionsAndAttentionAreCountedPerOutputValueAndPerPositionPair() {
    NetworkBuilder b = new NetworkBuilder(Map.of(
        "c.weight", new int[] {3, 2, 3, 3}, "c.bias", new int[] {3},
        "d.weight", new int[] {5, 3, 1, 1}, "d.bias", new int[] {5},
        "e.weight", new int[] {2, 5, 1, 1}, "e.bias", new int[] {2}));
    Node x = b.input(Shape.of(2, 4, 4));
    Node c = b.conv("c", x, 3, 3, 1, Layer.Padding.of(1));
    Node d = b.conv("d", b.silu(c), 5, 1, 1, Layer.Padding.of(0));
    Node a = b.attention(d, d, d, 1);
    Network net = b.build(b.conv("e", a, 2, 1, 1, Layer.Padding.of(0))); // the output has the input's shape
    long conv3 = 2L * 2 * 9 * (3 * 16); // every output value: a dot product of 2 channels x 9 taps
    long conv1 = 2L * 3 * (5 * 16);
    long attention = 4L * 5 * 16 * 16; // scores and weighted sum over 16 positions, 5 channels
    long out = 2L * 5 * (2 * 16);
    assertEquals(new ProductFlops(conv3 + conv1 + attention + out,
        2 * conv3 + 3 * conv1 + 3 * attention + 3 * out), ProductFlops.of(net));
  }

  @Test
  void aStridedConvolutionIsCountedOverItsSmallerOutput() {
    NetworkBuilder b = new NetworkBuilder(Map.of(
        "c.weight", new int[] {3, 2, 3, 3}, "c.bias", new int[] {3},
        "u.weight", new int[] {2, 3, 3, 3}, "u.bias", new int[] {2}));
    Node x = b.input(Shape.of(2, 4, 4));
    Node c = b.conv("c", x, 3, 3, 2, Layer.Padding.of(1)); // 3x2x2
    Network net = b.build(b.conv("u", b.upsample(c, 2), 2, 3, 1, Layer.Padding.of(1))); // 2x4x4 again
    long down = 2L * 2 * 9 * (3 * 2 * 2); // 12 output values, each 2 channels x 9 taps
    long up = 2L * 3 * 9 * (2 * 16); // 32 output values, each 3 channels x 9 taps
    assertEquals(new ProductFlops(down + up, 2 * down + 3 * up), ProductFlops.of(net));
  }
}
