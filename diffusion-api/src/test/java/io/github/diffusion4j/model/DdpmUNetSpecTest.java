package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.tensor.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class DdpmUNetSpecTest {

  /** The parameter counts the DDPM paper reports: 35.7M (CIFAR-10) and 114M (LSUN, CelebA-HQ). */
  @Test
  void thePublishedShapesHaveThePublishedParameterCounts() {
    assertEquals(35_746_307, DdpmUNetSpec.cifar10().network().parameterCount());
    assertEquals(78_700_803, DdpmUNetSpec.celeba().network().parameterCount());
    assertEquals(113_673_219, DdpmUNetSpec.lsun256().network().parameterCount());
  }

  @Test
  void attentionFollowsTheListedResolutionsDownAndUp() {
    DdpmUNetSpec s = DdpmUNetSpec.cifar10();
    assertTrue(s.attentionAt(1));
    assertFalse(s.attentionAt(0));
    assertTrue(s.parameterShapes().containsKey("down.1.attn.1.q.weight"));
    assertTrue(s.parameterShapes().containsKey("up.1.attn.2.proj_out.weight"));
    assertFalse(s.parameterShapes().containsKey("down.0.attn.0.q.weight"));
    assertTrue(s.parameterShapes().containsKey("mid.attn_1.k.bias"));
    Network n = s.network();
    long attentions = n.nodes().stream().filter(x -> x.layer() instanceof Layer.Attention).count();
    assertEquals(2 + 3 + 1, attentions, "2 blocks down, 3 up at 16x16, and the middle");
  }

  @Test
  void downsamplingPadsRightAndBottomOnly() {
    Network n = DdpmUNetSpec.cifar10().network();
    Layer.Conv2d down = n.nodes().stream().map(x -> x.layer()).filter(l -> l instanceof Layer.Conv2d c && c.name().equals("down.0.downsample.conv"))
        .map(l -> (Layer.Conv2d) l).findFirst().orElseThrow();
    assertEquals(new Layer.Padding(0, 0, 1, 1), down.padding());
    assertEquals(2, down.stride());
  }

  @Test
  void badShapesAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DdpmUNetSpec(Shape.of(3, 32, 32), 1000, 100, List.of(1, 2), 2, List.of(16), 0.1));
    assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new DdpmUNetSpec(Shape.of(3, 20, 20), 1000, 128, List.of(1, 2, 2, 2), 2, List.of(16), 0.1));
    assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new DdpmUNetSpec(Shape.of(3, 32, 16), 1000, 128, List.of(1, 2), 2, List.of(16), 0.1));
    assertTrue(e.getMessage().contains("square"), e.getMessage());
  }
}
