package io.github.diffusion4j.model;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Predicate;

/** State-dict layouts and the portable initialisation shared by the U-Net specs. */
final class UNetLayouts {
  private UNetLayouts() {}

  static void linear(Map<String, int[]> m, String name, int in, int out) {
    m.put(name + ".weight", new int[] {out, in});
    m.put(name + ".bias", new int[] {out});
  }

  static void conv(Map<String, int[]> m, String name, int in, int out, int k) {
    m.put(name + ".weight", new int[] {out, in, k, k});
    m.put(name + ".bias", new int[] {out});
  }

  static void norm(Map<String, int[]> m, String name, int c) {
    m.put(name + ".weight", new int[] {c});
    m.put(name + ".bias", new int[] {c});
  }

  /** The layer name of a parameter: {@code "a.b.norm1.weight"} gives {@code "norm1"}. */
  static String layer(String name) {
    String[] parts = name.split("\\.");
    return parts.length >= 2 ? parts[parts.length - 2] : "";
  }

  /**
   * Whether an entry is a GroupNorm parameter in the naming of the DDPM U-Net's PyTorch port.
   *
   * @param name a state-dict name
   * @return true for {@code norm1}, {@code norm2}, {@code norm} (attention) and {@code norm_out}
   */
  static boolean isDdpmNorm(String name) {
    String layer = layer(name);
    return layer.equals("norm1") || layer.equals("norm2") || layer.equals("norm") || layer.equals("norm_out");
  }

  /**
   * Whether an entry is a weight that starts at zero in the DDPM U-Net's naming: those that end a residual
   * path ({@code conv2}, the attention's {@code proj_out}) and {@code conv_out}.
   *
   * @param name a state-dict name
   * @return true for those weights
   */
  static boolean isDdpmZeroWeight(String name) {
    return name.endsWith(".conv2.weight") || name.endsWith(".proj_out.weight") || name.equals("conv_out.weight");
  }

  /**
   * Portable initial weights: GroupNorm weights 1 and biases 0; every other bias 0; the weights {@code zero}
   * selects 0 (those that end a residual path, so every block starts as the identity); every other weight
   * {@code (2u - 1) / sqrt(fan_in)}, {@code u} the successive {@code nextDouble()} of {@code stream.split(i)},
   * {@code i} the entry's index in the layout's order.
   */
  static StateDict initialWeights(Map<String, int[]> layout, Noise stream, Predicate<String> isNorm,
      Predicate<String> zero) {
    StateDict.Builder out = StateDict.builder();
    int i = 0;
    for (Map.Entry<String, int[]> e : layout.entrySet()) {
      String name = e.getKey();
      int[] shape = e.getValue();
      int size = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      float[] data = new float[size];
      if (isNorm.test(name)) {
        if (name.endsWith(".weight")) {
          Arrays.fill(data, 1f);
        }
      } else if (!name.endsWith(".bias") && !zero.test(name)) {
        double bound = 1.0 / Math.sqrt(size / shape[0]);
        RandomGenerator g = stream.split(i).generator();
        for (int j = 0; j < size; j++) {
          data[j] = (float) ((2.0 * g.nextDouble() - 1.0) * bound);
        }
      }
      out.put(name, FloatArray.wrap(Shape.of(shape), data));
      i++;
    }
    return out.build();
  }
}
