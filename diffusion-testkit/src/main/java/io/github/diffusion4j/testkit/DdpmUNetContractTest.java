package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The DDPM U-Net family contract: a backend's {@link DdpmUNetSpec} model has exactly the state dict of the
 * authors' PyTorch module ({@code docs/ddpm_reference.py}, written from ermongroup/ddim's
 * {@code models/diffusion.py}), starts from the portable initialisation, and computes the module's output and
 * loss gradients for dense random weights, for the published shapes (CIFAR-10, CelebA, LSUN/CelebA-HQ
 * channels at reduced spatial sizes with the attention levels kept) and a miniature.
 *
 * <p>Tolerance 1e-4 relative (outputs to their largest value, gradients to each entry's norm): two float32
 * implementations of a network of this depth differ by a few 1e-6 (summation orders, convolution algorithms,
 * the embedding's exp and sin within an ulp), while a wrong layer, order or constant moves them by 1e-2 or
 * more.
 */
public abstract class DdpmUNetContractTest extends BackendFixture {
  private static final GoldenCases.Golden<DdpmUNetSpec> GOLDEN =
      GoldenCases.read("ddpm_golden.json", DdpmUNetContractTest::spec);
  private static final double TOL = 1e-4;

  private static DdpmUNetSpec spec(JsonNode c) {
    int s = c.get("image_size").asInt();
    return new DdpmUNetSpec(Shape.of(c.get("in_channels").asInt(), s, s), 1000, c.get("ch").asInt(),
        GoldenCases.intList(c.get("ch_mult")), c.get("num_res_blocks").asInt(),
        GoldenCases.intList(c.get("attn_resolutions")), c.get("dropout").asDouble());
  }

  /**
   * The golden cases' names.
   *
   * @return the names, for parameterised tests
   */
  List<String> caseNames() {
    return GOLDEN.cases().stream().map(GoldenCases.Case::name).toList();
  }

  /**
   * The golden cases this backend evaluates.
   *
   * @return the names, for parameterised tests
   */
  List<String> casesRun() {
    return caseNames().stream().filter(this::runs).toList();
  }

  /**
   * Whether this backend runs a case (the plain-Java reference backend skips the published shapes, which
   * would take it minutes; every real backend runs them all).
   *
   * @param name the case
   * @return true to run it
   */
  protected boolean runs(String name) {
    return true;
  }

  private TensorFactory t() {
    return backend.tensors();
  }

  @ParameterizedTest
  @MethodSource("caseNames")
  void stateDictAndInitialWeightsAreTheAuthorsModules(String name) {
    GoldenCases.Case<DdpmUNetSpec> c = GOLDEN.get(name);
    StateDict init = c.spec().initialWeights(GOLDEN.initSeed());
    List<String> names = new ArrayList<>(init.names());
    assertEquals(c.entries().stream().map(GoldenCases.Entry::name).toList(), names, name);
    for (GoldenCases.Entry e : c.entries()) {
      assertEquals(Shape.of(e.shape()), init.get(e.name()).shape(), name + " " + e.name());
      float[] v = init.get(e.name()).toArray();
      assertArrayEquals(e.initHead(), Arrays.copyOf(v, e.initHead().length), name + " " + e.name());
      double sum = 0;
      for (float f : v) {
        sum += f;
      }
      assertEquals(e.initSum(), sum, 1e-6, name + " " + e.name());
    }
    if (runs(name) && name.equals("mini")) {
      try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), GOLDEN.initSeed())) {
        assertEquals(init, m.stateDict(), "the backend starts from the portable initialisation");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("casesRun")
  void outputAndGradientsMatchTheAuthorsModule(String name) {
    GoldenCases.Case<DdpmUNetSpec> c = GOLDEN.get(name);
    try (TrainableModel m = backend.createModel(c.spec(), OptimizerSpec.adam(1e-3), 1)) {
      StateDict w = GoldenCases.testWeights(c.spec().parameterShapes(), GOLDEN.weightSeed());
      m.loadStateDict(w);
      Shape shape = c.batch();
      float[] x = GoldenCases.input(shape.size());
      float[] out;
      StateDict g;
      try (TensorScope s = t().openScope()) {
        out = m.predict(t().fromArray(x, shape), c.timesteps()).toFloatArray();
        g = m.gradients(t().fromArray(x, shape), c.timesteps(), t().fromArray(GoldenCases.target(shape.size()), shape));
      }
      double scale = 0;
      double diff = 0;
      for (int i = 0; i < out.length; i++) {
        scale = Math.max(scale, Math.abs(c.output()[i]));
        diff = Math.max(diff, Math.abs(c.output()[i] - out[i]));
      }
      assertTrue(diff / scale < TOL, name + ": output differs from the authors' module by " + diff / scale + " relative");
      // entries whose gradient vanishes mathematically (a bias before a one-channel-per-group GroupNorm) are
      // float32 noise in both implementations: a floor of 1e-6 of the largest entry's norm covers it
      double floor = 1e-6 * c.entries().stream().mapToDouble(GoldenCases.Entry::gradL2).max().orElse(0);
      for (GoldenCases.Entry e : c.entries()) {
        float[] v = g.get(e.name()).toArray();
        double l2 = 0;
        for (float f : v) {
          l2 += (double) f * f;
        }
        String what = name + " " + e.name();
        assertEquals(e.gradL2(), Math.sqrt(l2), TOL * e.gradL2() + floor, what + " gradient norm");
        for (int i = 0; i < e.gradHead().length; i++) {
          assertEquals(e.gradHead()[i], v[i], TOL * e.gradL2() + floor, what + " gradient[" + i + "]");
        }
      }
    }
  }
}
