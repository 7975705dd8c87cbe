package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The latent tools' argument checks (the interpolations themselves: diffusion-testkit's LatentToolsTest). */
class LatentsTest {
  @Test
  void anInterpolationTooLargeForAnArrayIsRefusedBeforeAnythingIsAllocated() {
    Shape image = Shape.of(3, 256, 256); // 196,608 values a latent
    float[] a = new float[image.size()];
    float[] b = new float[image.size()];
    a[0] = 1;
    b[1] = 1;
    // 20,000 x 196,608 values wrap an int to -362,807,296: a NegativeArraySizeException before the fix; no
    // backend is reached (null factory), the count is refused first
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Latents.interpolate(null, a, b, image, 20_000));
    assertTrue(e.getMessage().contains("20000") && e.getMessage().contains("elements"), e.getMessage());
  }
}
