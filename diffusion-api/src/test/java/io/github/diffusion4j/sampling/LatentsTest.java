package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

  @Test
  void anInterpolationLargerThanHalfTheHeapIsRefusedBeforeAnythingIsAllocated() {
    // 20,000,000 points of 75 values fit an array (1.5 billion) but not the tests' 2 GB heap (-Xmx2g, surefire): it
    // ran out of heap space; no backend is reached (null factory)
    Shape image = Shape.of(3, 5, 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Latents.interpolate(null, new float[75], new float[75], image, 20_000_000));
    assertTrue(e.getMessage().startsWith("count: 20000000 latents of [3, 5, 5] are 1500000000 values (5722 MB), more "
        + "than half of this JVM's heap of at most "), e.getMessage());
    assertTrue(e.getMessage().endsWith("; interpolate fewer points, or give the JVM more heap (-Xmx)"), e.getMessage());
  }

  @Test
  void ddimInversionNamesAMissingArgument() {
    DdimInversion inversion = new DdimInversion(io.github.diffusion4j.schedule.Schedule.of(
        io.github.diffusion4j.schedule.ScheduleSpec.linear(10)), io.github.diffusion4j.model.PredictionType.EPSILON);
    // a bare NullPointerException ("Cannot invoke ... because "x0" is null") before the fix
    assertEquals("model must not be null", assertThrows(NullPointerException.class,
        () -> inversion.invert(null, null, null, null)).getMessage());
  }
}
