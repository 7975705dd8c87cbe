package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * diffusers' {@code UNet2DModel} ({@link UNet2DSpec}) against the PyTorch reference written from diffusers' code
 * ({@code docs/diffusers_reference.py}, whose {@code golden} command writes {@code diffusers_golden.json}):
 *
 * <ul>
 *   <li>the state-dict layout (names, shapes, registration order) of the five published DDPM configs
 *       (google/ddpm-cifar10-32, -celebahq-256, -church-256, -bedroom-256, -cat-256) and five miniatures that
 *       exercise the other supported values (heads, padding, scale factor, diffusers' defaults, no middle block, a
 *       middle block without attention, a {@code norm_eps} large enough to move every GroupNorm, {@code swish},
 *       one channel, three residual blocks per level, an {@code attention_head_dim} that does not divide the
 *       channels);
 *   <li>their outputs for dense random weights, within 1e-4 relative (the 256x256 configs at 32x32 and CIFAR-10
 *       at 16x16: the same levels and attention, diffusers places attention by block type);
 *   <li>the DDPM authors' state-dict names mapped to diffusers' as diffusers' conversion script does, and the
 *       authors' model and its conversion computing the same function (1e-5);
 *   <li>a full DDIM-10 run of the CIFAR-10 model at 32x32 with its published scheduler config against the
 *       reference loop (diffusers' {@code DDIMScheduler} with eta 0), within 1e-4 relative;
 *   <li>one full-size 256x256 forward pass (ddpm-church-256), against a digest of the reference's output;
 *   <li>a model folder as old hub folders are ({@code diffusion_pytorch_model.bin} from {@code torch.save}, the
 *       attention's older names), read by {@link DiffusersFolder} and run, against the reference's output.
 * </ul>
 *
 * <p>Tolerances: two float32 implementations of networks this deep differ by a few 1e-6 (summation order,
 * convolution algorithms); a wrong layer, order, constant or name moves the output by 1e-2 or more. The DDIM run
 * compounds ten forward passes through a schedule computed in double here and in float32 by diffusers (1e-7).
 */
public abstract class DiffusersUNetContractTest extends BackendFixture {
  private static final JsonNode GOLDEN = read("diffusers_golden.json");
  private static final double TOL = 1e-4;

  private static JsonNode read(String resource) {
    try (InputStream in = DiffusersUNetContractTest.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the class path");
      }
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether this backend runs a case. The plain-Java reference backend runs the miniatures only (the published
   * shapes would take it minutes); every real backend runs them all.
   *
   * @param name a case: a miniature ({@code mini...}), a published config's name, {@code ddim} or {@code full_size}
   * @return true to run it
   */
  protected boolean runs(String name) {
    return true;
  }

  static Map<String, Object> plain(JsonNode node) {
    @SuppressWarnings("unchecked")
    Map<String, Object> m = new ObjectMapper().convertValue(node, LinkedHashMap.class);
    return m;
  }

  static UNet2DConfig config(JsonNode c) {
    return UNet2DConfig.fromMap(plain(c));
  }

  private static JsonNode caseNode(String name) {
    for (JsonNode c : GOLDEN.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no golden case " + name);
  }

  static List<String> caseNames() {
    List<String> out = new ArrayList<>();
    GOLDEN.get("cases").forEach(c -> out.add(c.get("name").asText()));
    return out;
  }

  List<String> casesRun() {
    return caseNames().stream().filter(this::runs).toList();
  }

  private TensorFactory t() {
    return backend.tensors();
  }

  private float[] predict(TrainableModel m, float[] x, Shape shape, int[] timesteps) {
    try (TensorScope s = t().openScope()) {
      return m.predict(t().fromArray(x, shape), timesteps).toFloatArray();
    }
  }

  private static double maxRelative(float[] expected, float[] actual) {
    return GoldenCases.maxRelativeDifference(expected, actual);
  }

  @ParameterizedTest
  @MethodSource("caseNames")
  void theStateDictIsDiffusersNamesShapesAndOrder(String name) {
    JsonNode c = caseNode(name);
    JsonNode layout = c.get("layout");
    if (layout.isTextual()) {
      layout = caseNode(layout.asText()).get("layout");
    }
    UNet2DSpec spec = UNet2DSpec.of(config(c.get("config")), 1000);
    List<String> names = new ArrayList<>(spec.parameterShapes().keySet());
    List<String> expected = new ArrayList<>();
    layout.forEach(e -> expected.add(e.get(0).asText()));
    assertEquals(expected, names, name);
    int i = 0;
    for (int[] shape : spec.parameterShapes().values()) {
      assertEquals(Arrays.toString(GoldenCases.ints(layout.get(i).get(1))), Arrays.toString(shape), name + " " + names.get(i));
      i++;
    }
  }

  @ParameterizedTest
  @MethodSource("casesRun")
  void theOutputIsDiffusers(String name) {
    JsonNode c = caseNode(name);
    UNet2DSpec spec = UNet2DSpec.of(config(c.get("config")), 1000);
    int[] ts = GoldenCases.ints(c.get("t"));
    Shape shape = Shape.batchOf(ts.length, spec.imageShape());
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1)) {
      m.loadStateDict(GoldenCases.testWeights(spec.parameterShapes(), GOLDEN.get("weight_seed").asLong()));
      float[] out = predict(m, GoldenCases.input(shape.size()), shape, ts);
      double rel = maxRelative(GoldenCases.floats(c.get("output")), out);
      assertTrue(rel < TOL, name + ": output differs from diffusers' UNet2DModel by " + rel + " relative");
    }
  }

  @Test
  void theAuthorsNamesMapAsDiffusersConversionScript() {
    for (Map.Entry<String, JsonNode> e : GOLDEN.get("ddpm_names").properties()) {
      DdpmUNetSpec spec = ddpm(e.getValue().get("config"));
      Map<String, String> expected = new LinkedHashMap<>();
      e.getValue().get("pairs").forEach(p -> expected.put(p.get(0).asText(), p.get(1).asText()));
      assertEquals(spec.parameterShapes().keySet(), expected.keySet(), e.getKey() + ": the authors' layout");
      for (Map.Entry<String, String> p : expected.entrySet()) {
        assertEquals(p.getValue(), DiffusersConversion.diffusersName(p.getKey(), spec.levels()), e.getKey() + " " + p.getKey());
      }
      assertEquals(new java.util.HashSet<>(expected.values()), DiffusersConversion.spec(spec).parameterShapes().keySet(),
          e.getKey() + ": the converted names are exactly diffusers' layout");
    }
  }

  private static DdpmUNetSpec ddpm(JsonNode c) {
    int s = c.get("image_size").asInt();
    return new DdpmUNetSpec(Shape.of(c.get("in_channels").asInt(), s, s), 1000, c.get("ch").asInt(),
        GoldenCases.intList(c.get("ch_mult")), c.get("num_res_blocks").asInt(), GoldenCases.intList(c.get("attn_resolutions")),
        c.get("dropout").asDouble());
  }

  /**
   * The authors' model and its diffusers conversion compute the same function on this backend: the miniature
   * everywhere, the published shapes where {@link #runs} allows.
   */
  @Test
  void theAuthorsModelAndItsConversionAgree() {
    java.util.Set<DdpmUNetSpec> specs = new java.util.LinkedHashSet<>();
    specs.add(new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0));
    for (JsonNode c : GOLDEN.get("cases")) {
      if (c.has("authors") && runs(c.get("name").asText())) {
        specs.add(ddpm(c.get("authors").get("config")));
      }
    }
    for (DdpmUNetSpec spec : specs) {
      double rel = conversionDifference(spec, new int[] {0, 1, 999});
      assertTrue(rel < 1e-5, spec + ": the authors' model and its diffusers conversion differ by " + rel);
    }
  }

  /** The largest relative difference between a spec and its diffusers form, for the golden test weights. */
  private double conversionDifference(io.github.diffusion4j.model.ModelSpec spec, int[] ts) {
    StateDict w = GoldenCases.testWeights(spec.parameterShapes(), GOLDEN.get("weight_seed").asLong());
    Shape shape = Shape.batchOf(ts.length, spec.imageShape());
    float[] x = GoldenCases.input(shape.size());
    float[] a;
    float[] b;
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1)) {
      m.loadStateDict(w);
      a = predict(m, x, shape, ts);
    }
    try (TrainableModel m = backend.createModel(DiffusersConversion.spec(spec), OptimizerSpec.adam(1e-3), 1)) {
      m.loadStateDict(DiffusersConversion.weights(spec, w));
      b = predict(m, x, shape, ts);
    }
    return maxRelative(a, b);
  }

  /**
   * The miniature U-Net ({@code model.kind: unet}) and its diffusers form compute the same function, with its
   * middle attention and without (then {@code add_attention: false}: the form has no attention weights).
   */
  @Test
  void theMiniatureUNetAndItsConversionAgree() {
    for (boolean attention : new boolean[] {true, false}) {
      io.github.diffusion4j.model.UNetSpec spec =
          new io.github.diffusion4j.model.UNetSpec(Shape.of(1, 8, 8), 1000, 8, List.of(1, 2), 1, attention, 4, 0.0);
      double rel = conversionDifference(spec, new int[] {0, 400, 999});
      assertTrue(rel < 1e-5, "the miniature U-Net (attention " + attention + ") and its diffusers form differ by " + rel);
    }
  }

  /**
   * Standard normals from the portable uniforms by Box-Muller, as {@code gaussian} of the reference script.
   *
   * @param seed the seed
   * @param n how many
   * @return the values
   */
  static float[] gaussian(long seed, int n) {
    RandomGenerator g = Noise.seeded(seed).generator();
    float[] z = new float[n];
    for (int j = 0; j < n; j++) {
      double u1 = g.nextDouble();
      double u2 = g.nextDouble();
      z[j] = (float) (StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2));
    }
    return z;
  }

  /**
   * The full DDIM-10 run, on backends that run it ({@link #runs}: the plain-Java reference does not).
   *
   * @return the test, or none
   */
  @TestFactory
  Stream<DynamicTest> ddim10WithTheCifar10ModelIsTheReferenceLoop() {
    return runs("ddim") ? Stream.of(DynamicTest.dynamicTest("DDIM-10 of the CIFAR-10 config", this::ddim10)) : Stream.empty();
  }

  private void ddim10() {
    JsonNode d = GOLDEN.get("ddim");
    JsonNode google = GOLDEN.get("google_configs").get(d.get("model").asText());
    UNet2DSpec spec = UNet2DSpec.of(config(google.get("unet")), 1000);
    JsonNode sc = google.get("scheduler");
    Schedule schedule = Schedule.of(new ScheduleSpec(sc.get("num_train_timesteps").asInt(), sc.get("beta_start").asDouble(),
        sc.get("beta_end").asDouble(), BetaSchedule.LINEAR, false));
    DdimSampler ddim = new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true,
        new SampleClipping(sc.get("clip_sample").asBoolean(), 1.0, false, 0.995, 1.0), t());
    Timesteps plan = Timesteps.leading(1000, d.get("steps").asInt(), 0);
    assertEquals(Arrays.toString(GoldenCases.ints(d.get("timesteps"))), Arrays.toString(plan.toArray()), "the plan");
    Shape shape = Shape.batchOf(1, spec.imageShape());
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1);
        TensorScope s = t().openScope()) {
      m.loadStateDict(GoldenCases.testWeights(spec.parameterShapes(), GOLDEN.get("weight_seed").asLong()));
      SamplingRequest request = SamplingRequest.of(1, spec.imageShape(), 0, plan)
          .withInitialNoise(t().fromArray(gaussian(d.get("noise_seed").asLong(), shape.size()), shape));
      float[] out = ddim.sample(m, t(), request, SamplingListener.NONE).toFloatArray();
      double rel = maxRelative(GoldenCases.floats(d.get("output")), out);
      assertTrue(rel < TOL, "DDIM-10 differs from the reference loop by " + rel + " relative");
    }
  }

  /**
   * One 256x256 forward pass, on backends that run it ({@link #runs}: the plain-Java reference does not).
   *
   * @return the test, or none
   */
  @TestFactory
  Stream<DynamicTest> aFullSize256ModelGivesTheReferenceOutput() {
    return runs("full_size") ? Stream.of(DynamicTest.dynamicTest("a 256x256 forward pass", this::fullSize)) : Stream.empty();
  }

  private void fullSize() {
    JsonNode f = GOLDEN.get("full_size");
    UNet2DSpec spec = UNet2DSpec.of(config(GOLDEN.get("google_configs").get(f.get("model").asText()).get("unet")), 1000);
    Shape shape = Shape.batchOf(1, spec.imageShape());
    float[] out;
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1)) {
      m.loadStateDict(GoldenCases.testWeights(spec.parameterShapes(), GOLDEN.get("weight_seed").asLong()));
      out = predict(m, GoldenCases.input(shape.size()), shape, GoldenCases.ints(f.get("t")));
    }
    JsonNode digest = f.get("digest");
    double maxAbs = digest.get("max_abs").asDouble();
    double sum = 0;
    double absSum = 0;
    double l2 = 0;
    for (float v : out) {
      sum += v;
      absSum += Math.abs(v);
      l2 += (double) v * v;
    }
    assertEquals(digest.get("n").asInt(), out.length);
    assertEquals(digest.get("l2").asDouble(), Math.sqrt(l2), TOL * digest.get("l2").asDouble(), "L2 norm");
    // The sum catches a bias that the sampled elements below could miss. Independent errors of TOL * maxAbs per
    // element would move it by about TOL * maxAbs * sqrt(n). Kernels that sum in another order (another
    // convolution algorithm or memory layout) shift whole planes alike, so their rounding errors add up
    // coherently: float32's 6e-8 per rounding over this network's ~100 layers stays below 1e-5 of sum |v|
    // (DJL's channels-last prediction pass moved this sum by 7e-7 of itself; a real bias of 1e-4 moves it by 8).
    assertEquals(digest.get("sum").asDouble(), sum, TOL * maxAbs * Math.sqrt(out.length) + 1e-5 * absSum, "sum");
    JsonNode index = digest.get("index");
    JsonNode values = digest.get("values");
    for (int i = 0; i < index.size(); i++) {
      int j = index.get(i).asInt();
      assertEquals(values.get(i).asDouble(), out[j], TOL * maxAbs, "output[" + j + "]");
    }
  }

  @Test
  void anOldHubFolderWithTorchWeightsGivesTheReferenceOutput() throws IOException {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("diffusers-micro");
    try {
      for (String name : List.of("config.json", "diffusion_pytorch_model.bin", "scheduler_config.json")) {
        try (InputStream in = DiffusersUNetContractTest.class.getResourceAsStream("diffusers-micro/" + name)) {
          java.nio.file.Files.copy(in, dir.resolve(name));
        }
      }
      DiffusersFolder folder = DiffusersFolder.read(dir);
      JsonNode expected = read("diffusers-micro/expected.json");
      UNet2DSpec spec = UNet2DSpec.of(folder.unet(), 1000);
      int[] ts = GoldenCases.ints(expected.get("t"));
      Shape shape = Shape.batchOf(ts.length, spec.imageShape());
      try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 1)) {
        m.loadStateDict(folder.weights());
        double rel = maxRelative(GoldenCases.floats(expected.get("output")), predict(m, GoldenCases.input(shape.size()), shape, ts));
        assertTrue(rel < TOL, "the folder's model differs from the reference by " + rel + " relative");
      }
    } finally {
      try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path f : files.toList()) {
          java.nio.file.Files.delete(f);
        }
      }
      java.nio.file.Files.delete(dir);
    }
  }
}
