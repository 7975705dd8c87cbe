package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.UNetReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The U-Net's specification against the reference script's golden file, and its validation. */
class UNetSpecTest {
  private static final UNetReference.Golden GOLDEN = UNetReference.golden();

  @Test
  void layoutIsTheReferenceModulesStateDict() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      Map<String, int[]> shapes = c.spec().parameterShapes();
      List<String> names = new ArrayList<>(shapes.keySet());
      assertEquals(c.entries().stream().map(UNetReference.Entry::name).toList(), names, c.name());
      long count = 0;
      for (UNetReference.Entry e : c.entries()) {
        assertArrayEquals(e.shape(), shapes.get(e.name()), c.name() + " " + e.name());
        count += Shape.of(e.shape()).size();
      }
      assertEquals(count, c.spec().parameterCount());
    }
  }

  /** The default config: 148 entries and 1,062,497 parameters, as {@code unet_reference.py names} prints. */
  @Test
  void defaultsHaveTheDocumentedSize() {
    UNetSpec spec = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    assertEquals(148, spec.parameterShapes().size());
    assertEquals(1_062_497, spec.parameterCount());
    assertArrayEquals(new int[] {32, 96, 3, 3}, spec.parameterShapes().get("up.0.block.0.conv1.weight"));
    assertArrayEquals(new int[] {192, 64, 1, 1}, spec.parameterShapes().get("mid.attn_1.qkv.weight"));
    assertEquals(List.of("down.0.block.0", "down.1.block.0", "down.2.block.0", "mid.block_1", "mid.block_2",
            "up.0.block.0", "up.0.block.1", "up.1.block.0", "up.1.block.1", "up.2.block.0", "up.2.block.1"),
        spec.resBlocks().stream().map(UNetSpec.ResBlock::prefix).toList());
    assertEquals(new UNetSpec.ResBlock("up.1.block.1", 96, 64, 1), spec.upBlocks(1).get(1));
    assertEquals(Shape.of(64, 8, 8), spec.activation(2, 64));
  }

  /** The Python port of the initialisation rule gives the same floats (both round the same double). */
  @Test
  void initialWeightsMatchThePythonPortOfTheRule() {
    for (UNetReference.Case c : GOLDEN.cases()) {
      StateDict w = c.spec().initialWeights(GOLDEN.initSeed());
      for (UNetReference.Entry e : c.entries()) {
        float[] v = w.get(e.name()).toArray();
        assertArrayEquals(e.initHead(), Arrays.copyOf(v, e.initHead().length), e.name());
        double sum = 0;
        for (float f : v) {
          sum += f;
        }
        assertEquals(e.initSum(), sum, 1e-9, e.name());
      }
      assertEquals(w, c.spec().initialWeights(GOLDEN.initSeed()), "deterministic");
      assertNotEquals(w, c.spec().initialWeights(GOLDEN.initSeed() + 1));
    }
  }

  @Test
  void initialisationZeroesTheEndsOfResidualPaths() {
    UNetSpec spec = GOLDEN.cases().get(0).spec();
    StateDict w = spec.initialWeights(3);
    for (String name : w.names()) {
      float[] v = w.get(name).toArray();
      boolean allZero = true;
      for (float f : v) {
        allZero &= f == 0f;
      }
      boolean zero = name.endsWith(".bias") || name.endsWith("conv2.weight") || name.endsWith("proj_out.weight")
          || name.equals("conv_out.weight") || UNetSpec.isNorm(name) && name.endsWith(".bias");
      assertEquals(zero, allZero, name);
      if (UNetSpec.isNorm(name) && name.endsWith(".weight")) {
        for (float f : v) {
          assertEquals(1f, f, name);
        }
      } else if (!zero) {
        int[] shape = spec.parameterShapes().get(name);
        double bound = 1.0 / Math.sqrt(Shape.of(shape).size() / shape[0]);
        for (float f : v) {
          assertTrue(Math.abs(f) <= (float) bound, name); // rounding is monotonic
        }
      }
    }
  }

  @Test
  void timestepEmbeddingIsHoEtAlsSinusoids() {
    UNetSpec spec = new UNetSpec(Shape.of(1, 8, 8), 1000, 8, List.of(1), 1, false, 4, 0.0);
    float[] e = spec.timestepEmbedding(new int[] {0, 737});
    assertEquals(16, e.length);
    double[] freq = {1.0, Math.pow(10000, -1.0 / 3), Math.pow(10000, -2.0 / 3), 1e-4};
    for (int i = 0; i < 4; i++) {
      assertEquals(0f, e[i]);
      assertEquals(1f, e[4 + i]);
      // float rounding of values below 1: 6e-8
      assertEquals(Math.sin(737 * freq[i]), e[8 + i], 1e-7);
      assertEquals(Math.cos(737 * freq[i]), e[12 + i], 1e-7);
    }
  }

  @Test
  void dropoutMasksArePortableAndScaled() {
    UNetSpec spec = new UNetSpec(Shape.of(1, 8, 8), 1000, 8, List.of(1), 1, false, 4, 0.25);
    float[] a = spec.dropoutMask(5, 1, 0, 40_000);
    assertArrayEquals(a, spec.dropoutMask(5, 1, 0, 40_000));
    assertNotEquals(Arrays.toString(a), Arrays.toString(spec.dropoutMask(5, 2, 0, 40_000)), "another step");
    assertNotEquals(Arrays.toString(a), Arrays.toString(spec.dropoutMask(5, 1, 1, 40_000)), "another block");
    int zeros = 0;
    for (float f : a) {
      assertTrue(f == 0f || f == (float) (1 / 0.75), "value " + f);
      zeros += f == 0f ? 1 : 0;
    }
    // binomial(40000, 0.25): standard deviation 87, so 10,000 +- 500 is more than 5 sigma
    assertEquals(10_000, zeros, 500);
  }

  @Test
  void invalidValuesAreRejectedWithTheirName() {
    Shape s = Shape.of(1, 32, 32);
    assertMessage("base_channels must be even and at least 4", () -> new UNetSpec(s, 10, 7, List.of(1), 1,
        true, 1, 0));
    assertMessage("groups (8) must divide", () -> new UNetSpec(s, 10, 12, List.of(1), 1, true, 8, 0));
    assertMessage("channel_mult must list at least one level", () -> new UNetSpec(s, 10, 8, List.of(), 1, true,
        4, 0));
    assertMessage("num_res_blocks must be at least 1", () -> new UNetSpec(s, 10, 8, List.of(1), 0, true, 4, 0));
    assertMessage("dropout must be in [0, 1)", () -> new UNetSpec(s, 10, 8, List.of(1), 1, true, 4, 1.0));
    assertMessage("height and width must be multiples of 8", () -> new UNetSpec(Shape.of(1, 28, 28), 10, 8,
        List.of(1, 2, 2, 2), 1, true, 4, 0));
    assertMessage("image_shape must be [C, H, W]", () -> new UNetSpec(Shape.of(28, 28), 10, 8, List.of(1), 1,
        true, 4, 0));
    // 28x28 (Fashion-MNIST unpadded) works with three levels: 28, 14, 7
    assertEquals(3, new UNetSpec(Shape.of(1, 28, 28), 10, 32, List.of(1, 2, 2), 1, true, 8, 0).levels());
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    assertTrue(x.getMessage().contains(expected), x.getMessage());
  }
}
