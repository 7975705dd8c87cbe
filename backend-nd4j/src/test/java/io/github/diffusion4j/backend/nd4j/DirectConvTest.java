package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.github.diffusion4j.nn.Layer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Which convolutions {@link DirectConv} takes (its results are checked against the reference kernels in
 * {@link Nd4jLayerKindsTest}, and in the U-Net and DDPM contract tests where the CPU chooses it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DirectConvTest {
  private Nd4jBackend backend;
  private DirectConv.Simd loop;

  @BeforeAll
  void open() {
    backend = new Nd4jBackend(NativeRuntime.load(1), Nd4jLayers.PASS_BYTES, 1);
    // the 512-bit loop on any CPU: these tests only build the direct forms (packing weights, no vectors run)
    loop = new DirectConvSimd();
  }

  @AfterAll
  void close() {
    backend.close();
  }

  private DirectConv of(DirectConv.Use use, int k, int stride, Layer.Padding pad, int size) {
    return of(use, 8, k, stride, pad, size, false);
  }

  /** The direct forward pass, or with {@code gradient} the direct input gradient, of a conv of {@code cin} to 8. */
  private DirectConv of(DirectConv.Use use, int cin, int k, int stride, Layer.Padding pad, int size, boolean gradient) {
    return of(use, cin, 8, k, stride, pad, size, gradient);
  }

  private DirectConv of(
      DirectConv.Use use, int cin, int cout, int k, int stride, Layer.Padding pad, int size, boolean gradient) {
    Map<String, int[]> layout = new LinkedHashMap<>();
    layout.put("c.weight", new int[] {cout, cin, k, k});
    layout.put("c.bias", new int[] {cout});
    Parameters p = (Parameters) backend.layers().parameters(layout);
    try {
      Layer.Conv2d layer = new Layer.Conv2d("c", cin, cout, k, stride, pad, true);
      return gradient ? DirectConv.inputGradient(use, p, layer, size, size, false)
          : DirectConv.of(use, p, layer, size, size);
    } finally {
      p.close();
    }
  }

  @Test
  void stride1ConvolutionsOfLargeEnoughPlanesRunDirectly() {
    DirectConv.Use pays = new DirectConv.Use(loop, false);
    assertNotNull(of(pays, 3, 1, Layer.Padding.of(1), 32));
    assertNotNull(of(pays, 3, 1, Layer.Padding.of(1), 8)); // 64 of 80 positions computed valid
    assertNotNull(of(pays, 2, 1, new Layer.Padding(0, 0, 1, 1), 16)); // an even kernel, padded on one side
    assertNotNull(of(pays, 5, 1, new Layer.Padding(2, 1, 2, 3), 16)); // 256 of 368 computed valid
  }

  @Test
  void smallPlanesStridesAndPlainProductsDoNot() {
    DirectConv.Use pays = new DirectConv.Use(loop, false);
    assertNull(of(pays, 3, 1, Layer.Padding.of(1), 4)); // 16 of 80 positions computed valid
    assertNull(of(pays, 3, 1, Layer.Padding.of(1), 7)); // 49 of 80
    assertNull(of(pays, 3, 2, Layer.Padding.of(1), 32));
    assertNull(of(pays, 1, 1, Layer.Padding.of(0), 32));
    assertNull(of(new DirectConv.Use(null, true), 3, 1, Layer.Padding.of(1), 32));
    assertNotNull(of(new DirectConv.Use(loop, true), 3, 1, Layer.Padding.of(1), 4));
  }

  @Test
  void inputGradientsOfSizeKeepingConvolutionsOfFewInputChannelsRunDirectly() {
    DirectConv.Use pays = new DirectConv.Use(loop, false);
    int most = DirectConv.GRADIENT_CHANNELS;
    assertNotNull(of(pays, most, 3, 1, Layer.Padding.of(1), 16, true));
    assertNotNull(of(pays, 8, 2, 1, new Layer.Padding(0, 0, 1, 1), 16, true)); // mirrored: 1 before, 0 after
    assertNull(of(pays, most + 1, 3, 1, Layer.Padding.of(1), 16, true)); // the products are as fast
    assertNull(of(pays, 8, 3, 1, Layer.Padding.of(0), 16, true)); // the size changes
    assertNull(of(pays, 8, 3, 2, Layer.Padding.of(1), 16, true));
    assertNull(of(pays, 8, 1, 1, Layer.Padding.of(0), 16, true));
    assertNull(of(pays, 8, 3, 1, Layer.Padding.of(1), 4, true)); // too small to pay
    assertNotNull(of(new DirectConv.Use(loop, true), most + 1, 3, 1, Layer.Padding.of(1), 4, true));
  }

  @Test
  void theLoopOf256BitVectorsComputesRunsOfTwoVectorsAndTheRowsRestAsAWholeRun() {
    DirectConv.Simd narrow = new DirectConvSimd256();
    assertEquals(16, narrow.run());
    assertEquals(16, narrow.computed(1));
    assertEquals(80, narrow.computed(80)); // 8x8 images: 8 rows of 10 padded positions, five runs
    assertEquals(96, narrow.computed(81));
    assertEquals(288, narrow.computed(288)); // 16x16: 16 rows of 18
    assertEquals(1088, narrow.computed(1088)); // 32x32: 32 rows of 34
    assertNotNull(of(new DirectConv.Use(narrow, false), 3, 1, Layer.Padding.of(1), 8));
    // 7x7: 49 valid of 64 computed (of 80 with the 512-bit loop's runs: there it does not pay)
    assertNotNull(of(new DirectConv.Use(narrow, false), 3, 1, Layer.Padding.of(1), 7));
    assertNull(of(new DirectConv.Use(narrow, false), 3, 1, Layer.Padding.of(1), 4)); // 16 of 32
  }

  @Test
  void theLoopOf256BitVectorsLeavesLayersOfMoreThan32OutputChannelsToTheProducts() {
    DirectConv.Use narrow = new DirectConv.Use(new DirectConvSimd256(), false);
    DirectConv.Use wide = new DirectConv.Use(loop, false);
    Layer.Padding same = Layer.Padding.of(1);
    assertEquals(32, narrow.simd().mostOutputChannels());
    assertNotNull(of(narrow, 64, 32, 3, 1, same, 32, false));
    assertNull(of(narrow, 64, 33, 3, 1, same, 32, false));
    assertNotNull(of(wide, 64, 64, 3, 1, same, 32, false));
    // the input gradient's output channels are the layer's input channels
    assertNotNull(of(narrow, 32, 128, 3, 1, same, 32, true));
    assertNull(of(narrow, 33, 8, 3, 1, same, 32, true));
    assertNotNull(of(wide, 64, 8, 3, 1, same, 32, true));
    assertNotNull(of(new DirectConv.Use(narrow.simd(), true), 64, 128, 3, 1, same, 8, false)); // everywhere
  }

  @Test
  void theLoopOf512BitVectorsLeavesLayersOfMoreThan64OutputChannelsToWinogradOrTheProducts() {
    DirectConv.Use wide = new DirectConv.Use(loop, false);
    Layer.Padding same = Layer.Padding.of(1);
    assertEquals(64, loop.mostOutputChannels());
    assertNotNull(of(wide, 128, 64, 3, 1, same, 32, false));
    assertNull(of(wide, 128, 65, 3, 1, same, 32, false));
    assertNull(of(wide, 3, 128, 3, 1, same, 32, false)); // the CIFAR-10 model's input layer too
    // the input gradient's output channels are the layer's input channels
    assertNotNull(of(wide, 64, 256, 3, 1, same, 32, true));
    assertNull(of(wide, 65, 8, 3, 1, same, 32, true));
    assertNotNull(of(new DirectConv.Use(loop, true), 128, 256, 3, 1, same, 8, false)); // everywhere
  }
}
