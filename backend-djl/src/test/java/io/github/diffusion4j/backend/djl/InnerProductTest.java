package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The linear layers' products: each route computes each form like plain Java in double precision, at sizes on
 * both sides of the oneDNN threshold; products recorded for libtorch's autograd never take the oneDNN route;
 * the route property is checked.
 */
class InnerProductTest extends DjlBackendTest {
  /** The routes this CPU can run: addmm always, oneDNN where it passes its self-check. */
  private InnerProduct.Route[] routes() {
    return InnerProduct.choice(backend.root(), backend.scriptOps()).route() == InnerProduct.Route.ONEDNN
        ? InnerProduct.Route.values()
        : new InnerProduct.Route[] {InnerProduct.Route.ADDMM};
  }

  @ParameterizedTest
  @CsvSource({"16, 76, 128", "1000, 76, 128", "1000, 128, 75", "129, 512, 33"})
  void everyFormMatchesPlainJavaOnEveryRoute(int n, int in, int out) {
    InnerProduct.Probe probe = InnerProduct.Probe.random(new Random(n * 31L + in), n, in, out);
    for (InnerProduct.Route route : routes()) {
      assertNull(probe.check(backend.root(), route, backend.scriptOps()), route.toString());
    }
  }

  @Test
  void onlyLargeProductsWithoutARecordedGraphTakeOneDnn() {
    InnerProduct products = backend.innerProduct();
    InnerProduct.Route large = InnerProduct.choice(backend.root(), backend.scriptOps()).route();
    boolean before = JniUtils.isGradMode();
    try (PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      PtNDArray dy = PtArrays.zeros(m, 128, 75); // the demo's batch, its second layer's output gradient
      JniUtils.setGradMode(false);
      assertEquals(large, products.route(dy, 512)); // its weight gradient: 128 x 75 x 512 = 4.9 million
      assertEquals(InnerProduct.Route.ADDMM, products.route(dy, 128)); // 1.2 million
      assertEquals(large, products.route(dy, InnerProduct.MIN_MULTIPLY_ADDS / (128 * 75) + 1));
      JniUtils.setGradMode(true);
      assertEquals(InnerProduct.Route.ADDMM, products.route(dy, 512));
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  @Test
  void aRecordedProductIsDifferentiableAtAnySize() {
    // oneDNN's inner product has no backward function: a recorded product must go by addmm however large
    int n = 1000;
    int in = 76;
    int out = 128;
    assertTrue((long) n * in * out >= InnerProduct.MIN_MULTIPLY_ADDS);
    InnerProduct.Probe p = InnerProduct.Probe.random(new Random(5), n, in, out);
    float[] expected = p.expected()[2];
    boolean before = JniUtils.isGradMode();
    try (PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      PtNDArray xa = PtArrays.fromArray(m, p.x(), n, in);
      PtNDArray wa = PtArrays.fromArray(m, p.w(), out, in);
      JniUtils.attachGradient(wa, true);
      JniUtils.setGradMode(true);
      PtNDArray y = backend.innerProduct().forward(xa, wa, null, false);
      JniUtils.backward(y, PtArrays.fromArray(m, p.dy(), n, out), false, false);
      JniUtils.setGradMode(false);
      assertNull(Convolution.SelfCheck.compare("weight gradient",
          PtArrays.read(PtArrays.contiguous(JniUtils.getGradient(wa)), expected.length), expected));
    } finally {
      JniUtils.setGradMode(before);
    }
  }

  @Test
  void productsOnManyThreadsAtOnceMatchTheSameProductsInTurn() throws Exception {
    // the modules are shared by every thread of the process, as the network's kernels are
    int n = 1000;
    int in = 76;
    int out = 128;
    InnerProduct.Probe p = InnerProduct.Probe.random(new Random(9), n, in, out);
    try (PtNDManager m = (PtNDManager) backend.root().newSubManager()) {
      PtNDArray x = PtArrays.fromArray(m, p.x(), n, in);
      PtNDArray w = PtArrays.fromArray(m, p.w(), out, in);
      PtNDArray b = PtArrays.fromArray(m, p.b(), out);
      float[] alone = PtArrays.read(backend.innerProduct().forward(x, w, b, true), n * out);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          results.add(pool.submit(() -> {
            JniUtils.setGradMode(false);
            try (PtNDArray y = backend.innerProduct().forward(x, w, b, true)) {
              return PtArrays.read(y, n * out);
            }
          }));
        }
        for (Future<float[]> f : results) {
          assertArrayEquals(alone, f.get());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void theRoutePropertyIsChecked() {
    PtNDManager root = backend.root();
    ScriptOps ops = backend.scriptOps();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> InnerProduct.choose(root, ops, "fast"));
    assertTrue(e.getMessage().contains(InnerProduct.PROPERTY) && e.getMessage().contains("onednn, addmm"),
        e.getMessage());
    InnerProduct.Choice forced = InnerProduct.choose(root, ops, " ADDMM ");
    assertEquals(InnerProduct.Route.ADDMM, forced.route());
    assertTrue(forced.describe().contains("forced"), forced.describe());
    InnerProduct.Choice auto = InnerProduct.choose(root, ops, null);
    if (auto.route() == InnerProduct.Route.ONEDNN) {
      assertNull(auto.failure());
      assertEquals(InnerProduct.Route.ONEDNN, InnerProduct.choose(root, ops, "onednn").route());
    } else { // a CPU whose oneDNN fails the self-check: the reason is given, and forcing oneDNN is refused
      assertTrue(auto.describe().contains(auto.failure()), auto.describe());
      // wrong numbers are the CPU's; an error calling the operator would be this backend's own bug
      assertFalse(auto.failure().startsWith("oneDNN's inner product failed"), auto.failure());
      assertThrows(IllegalStateException.class, () -> InnerProduct.choose(root, ops, "onednn"));
    }
  }

  /**
   * What a CPU whose oneDNN fails the self-check gets, on any CPU: libtorch's addmm with the failure named in {@code
   * diffusion info}, and a forced oneDNN refused naming the property and the failure; oneDNN where it passes.
   */
  @Test
  void aFailedSelfCheckChoosesAddmmAndRefusesAForcedOneDnn() {
    String failure = "forward with bias of [8, 72] x [40, 72]^T: element 3 is 1.5, expected 2.5";
    InnerProduct.Choice auto = InnerProduct.decide(null, failure);
    assertEquals(InnerProduct.Route.ADDMM, auto.route());
    assertEquals(failure, auto.failure());
    assertTrue(auto.describe().contains("failed the self-check on this CPU: " + failure), auto.describe());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> InnerProduct.decide(InnerProduct.Route.ONEDNN, failure));
    assertTrue(e.getMessage().contains(InnerProduct.PROPERTY + "=onednn") && e.getMessage().contains(failure),
        e.getMessage());
    assertEquals(new InnerProduct.Choice(InnerProduct.Route.ONEDNN, null), InnerProduct.decide(null, null));
    assertEquals(new InnerProduct.Choice(InnerProduct.Route.ONEDNN, null),
        InnerProduct.decide(InnerProduct.Route.ONEDNN, null));
  }
}
