package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.LayerCases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The size limit of one native array: the kernels read them through direct {@code FloatBuffer}s, whose bytes an
 * {@code int} counts, so a larger request is refused with a message before anything is allocated. And the memory
 * of a long run: closing a pass makes every block of its workspace free, released or not, so what the
 * workspaces hold depends on the shapes of the passes, not on how many ran.
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

  /** Any network: a pass's values here are made by hand, so the network's layers never run. */
  private static final Network NETWORK = LayerCases.get("linear").spec().network();

  /**
   * A pass that ends without releasing its values (an interrupted prediction, an exception in a kernel) leaves
   * nothing taken: the next pass of the same shape finds every block free and allocates nothing. A workspace
   * that is not reset when its pass closes would add the unreleased blocks again on every pass.
   */
  @Test
  void closingAPassFreesTheValuesItDidNotRelease() {
    try (Nd4jBackend b = (Nd4jBackend) Nd4jTests.createBackend()) {
      Nd4jLayers layers = b.nd4jLayers();
      long first = 0;
      for (int pass = 0; pass < 5; pass++) {
        try (NativePass p = (NativePass) layers.open(NETWORK, 3, true)) {
          p.allocate(Shape.of(48, 6, 6), Layout.PLANES);
          p.release(p.allocate(Shape.of(16, 6, 6), Layout.PLANES));
          p.allocate(Shape.of(4, 6, 6), Layout.ROWS);
        }
        if (pass == 0) {
          first = layers.footprint()[0];
          assertTrue(first > 0, "nothing allocated?");
        } else {
          assertEquals(first, layers.footprint()[0], "native floats after pass " + (pass + 1));
        }
      }
    }
  }

  /**
   * A closed pass's workspace is back in the pool (the next pass takes it; the backend frees it when it closes), so
   * neither a kernel nor the pass's own helpers may make a value in it any more: a new block or a view of a value of
   * the closed pass is refused with the one line the SPI's methods give ({@code
   * LayerContractTests.aClosedPassRefusesUseAndASecondCloseDoesNothing}), before anything is computed.
   */
  @Test
  void aKernelRunWithAClosedPassIsRefused() {
    try (Nd4jBackend b = (Nd4jBackend) Nd4jTests.createBackend()) {
      Nd4jLayers layers = b.nd4jLayers();
      Node lin = NETWORK.nodes().stream().filter(n -> n.layer() instanceof Layer.Linear).findFirst().orElseThrow();
      Shape in = NETWORK.node(lin.inputs().get(0)).itemShape();
      try (ParameterStore store = layers.parameters(LayerCases.get("linear").spec().parameterShapes())) {
        Kernel kernel = layers.kernel(NETWORK, lin, store);
        NativePass p = (NativePass) layers.open(NETWORK, 2, false);
        NativeValue x = p.allocate(in, Layout.ROWS);
        p.close();
        Map<String, Executable> uses = Map.of(
            "the linear kernel", () -> kernel.forward(new Value[] {x}, p, null),
            "allocate", () -> p.allocate(in, Layout.ROWS),
            "view", () -> p.view(x, in, Layout.ROWS, 0));
        assertAll(uses.entrySet().stream().map(use -> () -> assertEquals("nd4j: this pass was closed (its workspace went "
            + "back to the backend); open a new pass to evaluate again",
            assertThrows(IllegalStateException.class, use.getValue(), use.getKey()).getMessage(), use.getKey())));
      }
    }
  }

  /**
   * Many passes of ever other shapes, each leaving values unreleased, stay under a bound that does not grow with
   * the number of passes. A block of class {@code c} is made only when every block of classes {@code c} to {@code
   * c + SLACK} is taken in the current pass, so there are never more blocks of a class than the most values a pass
   * holds at once ({@code LIVE}), and the blocks together hold at most {@code LIVE} times the capacities of every
   * class up to the largest request's. (Without the reset at a pass's end the unreleased values add up: after some
   * twenty passes here they pass the bound.)
   */
  @Test
  void manyPassesOfOtherShapesStayUnderABound() {
    int live = 7;
    int maxItems = 16;
    int maxChannels = 64;
    long bound = 0;
    for (int c = 0; c <= Workspace.sizeClass((long) maxItems * maxChannels * 64); c++) {
      bound += live * Workspace.classCapacity(c);
    }
    Random r = new Random(7);
    try (Nd4jBackend b = (Nd4jBackend) Nd4jTests.createBackend()) {
      Nd4jLayers layers = b.nd4jLayers();
      for (int pass = 0; pass < 300; pass++) {
        try (NativePass p = (NativePass) layers.open(NETWORK, 1 + r.nextInt(maxItems), true)) {
          List<NativeValue> held = new ArrayList<>();
          for (int k = 0; k < 20; k++) {
            held.add(p.allocate(Shape.of(1 + r.nextInt(maxChannels), 8, 8), Layout.PLANES));
            if (held.size() == live) {
              p.release(held.remove(r.nextInt(live)));
            }
          }
        } // up to live - 1 values left unreleased
        long floats = layers.footprint()[0];
        assertTrue(floats <= bound, "after pass " + (pass + 1) + ": " + floats + " native floats, more than the "
            + bound + " that " + live + " values at once of up to " + maxItems * maxChannels * 64 + " floats need");
      }
    }
  }
}
