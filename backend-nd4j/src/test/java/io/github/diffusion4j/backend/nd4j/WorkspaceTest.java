package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The size limit of one native array: the kernels read them through direct {@code FloatBuffer}s, whose bytes an
 * {@code int} counts, so a larger request is refused with a message before anything is allocated.
 */
class WorkspaceTest {
  private static final long OVER = Nd4jBackend.MAX_BUFFER_FLOATS + 1;

  @Test
  void aBlockBeyondWhatABufferViewHoldsIsRefusedBeforeAllocating() {
    try (Workspace ws = new Workspace(1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ws.take(OVER));
      assertEquals("a value of " + OVER + " floats is more than one native buffer holds ("
          + Nd4jBackend.MAX_BUFFER_FLOATS + " floats, 2 GiB); use smaller batches", e.getMessage());
      assertEquals(0, ws.nativeFloats(), "nothing allocated");
    }
  }

  @Test
  void tensorsAndParameterStoresBeyondItAreRefused() {
    try (Backend b = Nd4jTests.createBackend()) {
      int side = 1 << 15; // 2^15 x (2^14 + 1) = 2^29 + 2^15 floats, over the 2^29 - 1 a buffer holds
      Shape big = Shape.of(side, side / 2 + 1);
      IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> b.tensors().zeros(big));
      assertEquals("a tensor of " + big.size() + " floats is more than one native buffer holds ("
          + Nd4jBackend.MAX_BUFFER_FLOATS + " floats, 2 GiB); use smaller batches", t.getMessage());
      IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
          () -> b.layers().parameters(Map.of("w", new int[] {side, side / 2 + 1})));
      assertEquals("more than " + Nd4jBackend.MAX_BUFFER_FLOATS
          + " parameters: more than one native buffer holds (2 GiB)", p.getMessage());
    }
  }
}
