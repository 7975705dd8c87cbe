package io.github.diffusion4j.nn;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The layers' own argument checks, at both sides of each limit, and the builder's naming of a bad input. */
class LayerChecksTest {
  private static final Layer.Padding ZERO = Layer.Padding.of(0);

  private static void refused(String expected, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
  }

  @Test
  void layersWithParametersNeedANameAndPositiveSizes() {
    refused("needs a state-dict name", () -> new Layer.Linear(" ", 2, 3, true));
    refused("linear fc in must be positive, got 0", () -> new Layer.Linear("fc", 0, 3, true));
    refused("linear fc out must be positive, got 0", () -> new Layer.Linear("fc", 2, 0, true));
    assertDoesNotThrow(() -> new Layer.Linear("fc", 1, 1, false));

    refused("needs a state-dict name", () -> new Layer.Conv2d(null, 1, 1, 1, 1, ZERO, true));
    refused("conv c in must be positive, got 0", () -> new Layer.Conv2d("c", 0, 1, 1, 1, ZERO, true));
    refused("conv c out must be positive, got 0", () -> new Layer.Conv2d("c", 1, 0, 1, 1, ZERO, true));
    refused("conv c kernel must be positive, got 0", () -> new Layer.Conv2d("c", 1, 1, 0, 1, ZERO, true));
    refused("conv c stride must be positive, got 0", () -> new Layer.Conv2d("c", 1, 1, 1, 0, ZERO, true));
    // padding must be below the kernel on every side: a 3x3 kernel takes padding 2, not 3
    assertDoesNotThrow(() -> new Layer.Conv2d("c", 1, 1, 3, 1, Layer.Padding.of(2), true));
    refused("must be less than the kernel 3", () -> new Layer.Conv2d("c", 1, 1, 3, 1, Layer.Padding.of(3), true));
    refused("must be less than the kernel 3",
        () -> new Layer.Conv2d("c", 1, 1, 3, 1, new Layer.Padding(0, 0, 0, 3), true));
    refused("must be less than the kernel 1", () -> new Layer.Conv2d("c", 1, 1, 1, 1, Layer.Padding.of(1), true));

    refused("needs a state-dict name", () -> new Layer.GroupNorm("", 4, 2, 1e-5));
    refused("group norm g channels must be positive, got 0", () -> new Layer.GroupNorm("g", 0, 2, 1e-5));
    refused("group norm g groups must be positive, got 0", () -> new Layer.GroupNorm("g", 4, 0, 1e-5));
    refused("eps must be positive and finite, got 0.0", () -> new Layer.GroupNorm("g", 4, 2, 0.0));
    assertDoesNotThrow(() -> new Layer.GroupNorm("g", 1, 1, Double.MIN_VALUE));
  }

  @Test
  void parameterFreeLayersRefuseTheEdgesOfTheirRanges() {
    refused("positive and finite, got 0.0", () -> new Layer.TimestepScale(0.0));
    assertDoesNotThrow(() -> new Layer.TimestepScale(Double.MIN_VALUE));

    Layer.Precision p = Layer.Precision.DOUBLE;
    refused("dim must be at least 2, got 1", () -> new Layer.TimestepEmbedding(1, false, 0, 10000, p));
    assertDoesNotThrow(() -> new Layer.TimestepEmbedding(2, false, 0, 10000, p));
    // half of dim 4 is 2: a shift of 2 leaves no denominator (diffusers divides by half - shift), 1.5 does
    refused("half the dim (2) must exceed freq_shift 2.0", () -> new Layer.TimestepEmbedding(4, false, 2, 10000, p));
    assertDoesNotThrow(() -> new Layer.TimestepEmbedding(4, false, 1.5, 10000, p));
    refused("max period must be above 1, got 1.0", () -> new Layer.TimestepEmbedding(4, false, 0, 1.0, p));
    assertDoesNotThrow(() -> new Layer.TimestepEmbedding(4, false, 0, 1.0001, p));

    refused("channel slice [0, 0)", () -> new Layer.SliceChannels(0, 0));
    refused("channel slice [-1, 2)", () -> new Layer.SliceChannels(-1, 2));
    assertDoesNotThrow(() -> new Layer.SliceChannels(0, 1));

    assertDoesNotThrow(() -> new Layer.Dropout(0.0, 1, 0));
    refused("dropout must be in [0, 1), got 1.0", () -> new Layer.Dropout(1.0, 1, 0));
    refused("dropout index must be at least 0, got -1", () -> new Layer.Dropout(0.1, 1, -1));
  }

  @Test
  void theBuilderNamesTheLayerWhoseInputIsNotItsOwn() {
    NetworkBuilder other = new NetworkBuilder(Map.of());
    Node foreignImage = other.input(Shape.of(4, 4, 4));
    Layer.TimestepEmbedding embedding = new Layer.TimestepEmbedding(4, false, 0, 10000, Layer.Precision.DOUBLE);
    Node foreignVector = other.timestepEmbedding(embedding);
    NetworkBuilder b = new NetworkBuilder(Map.of("fc.weight", new int[] {2, 4}, "c.weight", new int[] {4, 4, 1, 1},
        "g.weight", new int[] {4}, "g.bias", new int[] {4}));
    Node image = b.input(Shape.of(4, 4, 4));
    Node vector = b.timestepEmbedding(embedding); // [4]
    String notOwn = "is not a node of this builder";
    refused("linear fc: input", () -> b.linear("fc", foreignVector, 2, false));
    refused("conv c: input", () -> b.conv("c", foreignImage, 4, 1, 1, ZERO, false));
    refused("group norm g: input", () -> b.groupNorm("g", foreignImage, 2, 1e-5));
    refused("silu: input", () -> b.silu(foreignImage));
    refused("relu: input", () -> b.relu(foreignImage));
    refused("upsampling: input", () -> b.upsample(foreignImage, 2));
    refused("channel slice: input", () -> b.sliceChannels(foreignImage, 0, 2));
    refused("attention: input", () -> b.attention(image, foreignImage, image, 1));
    refused("dropout: input", () -> b.dropout(foreignImage, 0.0, 1, 0));
    refused("reshape: input", () -> b.reshape(foreignImage, Shape.of(64)));
    refused(notOwn, () -> b.silu(foreignImage));
    // image layers refuse a vector with the reason rather than an index error
    refused("conv c needs a [C, H, W] input", () -> b.conv("c", vector, 4, 1, 1, ZERO, false));
    refused("upsampling needs a [C, H, W] input", () -> b.upsample(vector, 2));
    refused("attention needs a [C, H, W] input", () -> b.attention(vector, vector, vector, 1));
  }
}
