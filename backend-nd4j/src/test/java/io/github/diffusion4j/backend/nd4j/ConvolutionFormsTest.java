package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.nn.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Keeps the speed tool {@link ConvolutionForms} working: every form on every distinct layer, on a small batch. */
class ConvolutionFormsTest {
  private static long convolutions3x3(ModelSpec spec) {
    return spec.network().nodes().stream()
        .filter(n -> n.layer() instanceof Layer.Conv2d c && c.kernel() == 3 && c.stride() == 1).count();
  }

  @Test
  void theDistinctLayersCoverEveryThreeByThreeStrideOneLayerOnce() {
    for (String model : new String[] {"unet", "ddpm"}) {
      ModelSpec spec = ConvolutionForms.spec(model);
      List<ConvolutionForms.LayerShape> shapes = ConvolutionForms.shapes(spec.network());
      assertEquals(convolutions3x3(spec), shapes.stream().mapToInt(ConvolutionForms.LayerShape::count).sum(), model);
      assertEquals(shapes.size(), shapes.stream().map(ConvolutionForms.LayerShape::label).distinct().count(), model);
    }
  }

  @Test
  void everyFormTimesEveryLayerAndTheTableNamesThem() {
    String[] forms = {"direct", "winograd", "im2col", "default"};
    ModelSpec spec = ConvolutionForms.spec("unet");
    List<ConvolutionForms.Row> rows = ConvolutionForms.measure(spec, 2, 1, 1, forms);
    assertEquals(ConvolutionForms.shapes(spec.network()).size(), rows.size());
    for (ConvolutionForms.Row r : rows) {
      for (int f = 0; f < forms.length; f++) {
        assertTrue(r.forward()[f] > 0 && r.forward()[f] < 60_000, r.shape().label() + " " + forms[f]);
        assertTrue(r.training()[f] > 0 && r.training()[f] < 60_000, r.shape().label() + " " + forms[f]);
      }
    }
    String table = ConvolutionForms.format(rows, forms);
    assertEquals(rows.size() + 2, table.lines().count(), table);
    assertTrue(table.contains("32>32 32x32"), table);
    assertTrue(table.lines().reduce((a, b) -> b).orElseThrow().startsWith("weighted by count"), table);
  }

  @Test
  void unknownModelsAndFormsAreNamed() {
    IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> ConvolutionForms.spec("vit"));
    assertEquals("model 'vit' is unknown (allowed: unet, ddpm)", m.getMessage());
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> ConvolutionForms.use("fft"));
    assertEquals("form 'fft' is unknown (allowed: direct, winograd, im2col, default, default-columns)", f.getMessage());
  }
}
