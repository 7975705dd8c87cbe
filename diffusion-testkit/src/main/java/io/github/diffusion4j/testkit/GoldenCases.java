package io.github.diffusion4j.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Golden numbers written by a PyTorch reference module ({@code docs/*_reference.py golden}): per case an
 * architecture, the output and loss gradients for {@link #testWeights} on {@link #input}, and per state-dict
 * entry the first values of the portable initial weights.
 */
public final class GoldenCases {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GoldenCases() {}

  /**
   * One case.
   *
   * @param <S> the spec type
   * @param name its name
   * @param spec the architecture
   * @param timesteps the batch's timesteps
   * @param output the module's output for {@link #testWeights} and {@link #input}
   * @param loss {@code mean((output - target)^2)} with {@link #target}
   * @param entries per state-dict entry, in order
   */
  public record Case<S extends ModelSpec>(
      String name, S spec, int[] timesteps, float[] output, double loss, List<Entry> entries) {

    /**
     * The batch shape.
     *
     * @return {@code [N, C, H, W]}
     */
    public Shape batch() {
      return Shape.batchOf(timesteps.length, spec.imageShape());
    }
  }

  /**
   * One state-dict entry of a case.
   *
   * @param name the name
   * @param shape the shape
   * @param initHead the first (up to) 4 values of the initial weights for the file's init seed
   * @param initSum their sum over the whole entry
   * @param gradHead the first (up to) 4 values of the loss gradient
   * @param gradL2 the L2 norm of the loss gradient
   */
  public record Entry(String name, int[] shape, float[] initHead, double initSum, double[] gradHead, double gradL2) {}

  /**
   * A golden file.
   *
   * @param <S> the spec type
   * @param weightSeed the seed of {@link #testWeights}
   * @param initSeed the seed of the initial weights recorded
   * @param cases the cases
   */
  public record Golden<S extends ModelSpec>(long weightSeed, long initSeed, List<Case<S>> cases) {

    /**
     * One case by name.
     *
     * @param name its name
     * @return the case
     */
    public Case<S> get(String name) {
      return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(
          () -> new IllegalArgumentException("no golden case " + name));
    }
  }

  /**
   * Reads a golden file from this package's resources.
   *
   * @param <S> the spec type
   * @param resource the file name
   * @param spec builds a case's architecture from its {@code config} object
   * @return the file's content
   */
  public static <S extends ModelSpec> Golden<S> read(String resource, Function<JsonNode, S> spec) {
    try (InputStream in = GoldenCases.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the class path");
      }
      JsonNode root = JSON.readTree(in);
      List<Case<S>> cases = new ArrayList<>();
      for (JsonNode c : root.get("cases")) {
        List<Entry> entries = new ArrayList<>();
        for (JsonNode e : c.get("entries")) {
          entries.add(new Entry(e.get("name").asText(), ints(e.get("shape")), floats(e.get("init_head")),
              e.get("init_sum").asDouble(), doubles(e.get("grad_head")), e.get("grad_l2").asDouble()));
        }
        cases.add(new Case<>(c.get("name").asText(), spec.apply(c.get("config")), ints(c.get("t")),
            floats(c.get("output")), c.get("loss").asDouble(), entries));
      }
      return new Golden<>(root.get("weight_seed").asLong(), root.get("init_seed").asLong(), cases);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A JSON array of integers.
   *
   * @param a the array
   * @return its values
   */
  public static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asInt();
    }
    return out;
  }

  /**
   * A JSON array of integers as a list.
   *
   * @param a the array
   * @return its values
   */
  public static List<Integer> intList(JsonNode a) {
    List<Integer> out = new ArrayList<>();
    a.forEach(v -> out.add(v.asInt()));
    return out;
  }

  static float[] floats(JsonNode a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) a.get(i).asDouble();
    }
    return out;
  }

  private static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asDouble();
    }
    return out;
  }

  /**
   * Whether an entry is a GroupNorm parameter in the U-Nets' naming ({@code norm1}, {@code norm2},
   * {@code norm}, {@code norm_out}; diffusers' {@code group_norm}, {@code conv_norm_out}).
   *
   * @param name a state-dict name
   * @return true if it is
   */
  static boolean isNorm(String name) {
    String[] parts = name.split("\\.");
    String layer = parts.length >= 2 ? parts[parts.length - 2] : "";
    return layer.equals("norm1") || layer.equals("norm2") || layer.equals("norm") || layer.equals("norm_out")
        || layer.equals("group_norm") || layer.equals("conv_norm_out");
  }

  /**
   * The reference scripts' {@code test_weights}: dense weights with no zeros, so every path carries signal.
   * Entry {@code i} is {@code (2u - 1) * b}, {@code u} the {@code nextDouble()} sequence of
   * {@code Noise.seeded(seed).split(i)}, {@code b = 1/sqrt(fan_in)} for entries of rank at least 2 and 0.5
   * for vectors; GroupNorm weights get 1 added.
   *
   * @param layout the state-dict layout
   * @param seed the seed
   * @return the weights
   */
  public static StateDict testWeights(Map<String, int[]> layout, long seed) {
    StateDict.Builder b = StateDict.builder();
    int i = 0;
    for (Map.Entry<String, int[]> e : layout.entrySet()) {
      int[] shape = e.getValue();
      int n = Shape.of(shape).size();
      double bound = shape.length >= 2 ? 1.0 / Math.sqrt(n / shape[0]) : 0.5;
      double shift = isNorm(e.getKey()) && e.getKey().endsWith(".weight") ? 1.0 : 0.0;
      RandomGenerator g = Noise.seeded(seed).split(i++).generator();
      float[] v = new float[n];
      for (int j = 0; j < n; j++) {
        v[j] = (float) ((2.0 * g.nextDouble() - 1.0) * bound + shift);
      }
      b.put(e.getKey(), FloatArray.wrap(Shape.of(shape), v));
    }
    return b.build();
  }

  /**
   * The golden input, exactly representable: {@code x_j = ((j * 37) mod 101) / 50 - 1}.
   *
   * @param size the number of values
   * @return the input, row-major
   */
  public static float[] input(int size) {
    float[] x = new float[size];
    for (int j = 0; j < size; j++) {
      x[j] = (float) (((j * 37L) % 101) / 50.0 - 1.0);
    }
    return x;
  }

  /**
   * The golden target: {@code y_j = ((j * 53) mod 97) / 48 - 1}.
   *
   * @param size the number of values
   * @return the target, row-major
   */
  public static float[] target(int size) {
    float[] y = new float[size];
    for (int j = 0; j < size; j++) {
      y[j] = (float) (((j * 53L) % 97) / 48.0 - 1.0);
    }
    return y;
  }

  /**
   * The largest difference between two outputs relative to the largest magnitude of the first.
   *
   * @param expected the reference output
   * @param actual the output under test, of the same length
   * @return {@code max |expected - actual| / max |expected|}
   */
  public static double maxRelativeDifference(float[] expected, float[] actual) {
    if (expected.length != actual.length) {
      throw new AssertionError("output sizes differ: " + expected.length + " and " + actual.length);
    }
    double scale = 0;
    double diff = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
    }
    return diff / scale;
  }
}
