package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.tensor.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tutorial's two-layer MLP noise predictor ({@code model.kind: mlp}): the input is
 * {@code [t / T, flatten(x_t)]} (the scaled timestep first), then {@code Linear(k + 1, hidden)},
 * {@code ReLU}, {@code Linear(hidden, k)}, reshaped to the image, where {@code k = C * H * W}.
 *
 * <p>Its state dict has PyTorch's names and layouts for {@code nn.Sequential(Linear, ReLU, Linear)}
 * stored as the attribute {@code model}: {@code model.0.weight [hidden, k + 1]}, {@code model.0.bias
 * [hidden]}, {@code model.2.weight [k, hidden]}, {@code model.2.bias [k]}. Weights are initialised as
 * {@code nn.Linear} does, uniform in {@code +-1/sqrt(fan_in)}, from the portable generator.
 *
 * @param imageShape {@code [C, H, W]}
 * @param numTrainTimesteps {@code T}, the divisor of the timestep input
 * @param hidden the hidden width, positive
 */
public record MlpSpec(Shape imageShape, int numTrainTimesteps, int hidden) implements ModelSpec {

  /** The configuration name, {@code "mlp"}. */
  public static final String KIND = "mlp";

  /** State-dict name of the first layer's weight. */
  public static final String W1 = "model.0.weight";
  /** State-dict name of the first layer's bias. */
  public static final String B1 = "model.0.bias";
  /** State-dict name of the second layer's weight. */
  public static final String W2 = "model.2.weight";
  /** State-dict name of the second layer's bias. */
  public static final String B2 = "model.2.bias";

  /**
   * Validates the values.
   *
   * @param imageShape {@code [C, H, W]}
   * @param numTrainTimesteps {@code T}, the divisor of the timestep input
   * @param hidden the hidden width, positive
   */
  public MlpSpec {
    if (imageShape == null || imageShape.rank() != 3) {
      throw new IllegalArgumentException("image_shape must be [C, H, W], got " + imageShape);
    }
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException("num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (hidden < 1) {
      throw new IllegalArgumentException("hidden must be positive, got " + hidden);
    }
  }

  @Override
  public String kind() {
    return KIND;
  }

  /**
   * {@code k = C * H * W}, the flattened image size.
   *
   * @return the number of pixels times channels
   */
  public int pixels() {
    return imageShape.size();
  }

  /**
   * The number of parameters: {@code (k + 1) * hidden + hidden + hidden * k + k}.
   *
   * @return the parameter count
   */
  public int parameterCount() {
    int k = pixels();
    return (k + 1) * hidden + hidden + hidden * k + k;
  }

  /**
   * The state-dict layout (names and shapes, in PyTorch's order) with no values: used to validate
   * loaded weights and to document the format.
   *
   * @return the shapes by name
   */
  @Override
  public LinkedHashMap<String, int[]> parameterShapes() {
    int k = pixels();
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    m.put(W1, new int[] {hidden, k + 1});
    m.put(B1, new int[] {hidden});
    m.put(W2, new int[] {k, hidden});
    m.put(B2, new int[] {k});
    return m;
  }

  /** The split index of the initialisation stream: {@code Noise.seeded(seed).split(INIT_STREAM)}. */
  public static final long INIT_STREAM = 0x4D4C505F494E4954L; // "MLP_INIT"

  /**
   * The initial weights for a seed, the same on every backend: PyTorch's {@code nn.Linear} rule, every
   * weight and bias uniform in {@code [-1/sqrt(fan_in), 1/sqrt(fan_in))} with {@code fan_in = k + 1}
   * for the first layer and {@code hidden} for the second, drawn as {@code (2u - 1) / sqrt(fan_in)}
   * with {@code u = nextDouble()} from {@code Noise.seeded(seed).split(INIT_STREAM).generator()}, in
   * state-dict order ({@code model.0.weight}, {@code model.0.bias}, {@code model.2.weight},
   * {@code model.2.bias}), each row-major.
   *
   * @param seed the run's seed
   * @return the weights
   */
  @Override
  public StateDict initialWeights(long seed) {
    RandomGenerator g = Noise.seeded(seed).split(INIT_STREAM).generator();
    int k = pixels();
    StateDict.Builder b = StateDict.builder();
    for (Map.Entry<String, int[]> e : parameterShapes().entrySet()) {
      int[] shape = e.getValue();
      int n = 1;
      for (int d : shape) {
        n *= d;
      }
      boolean firstLayer = e.getKey().startsWith("model.0.");
      double bound = 1.0 / Math.sqrt(firstLayer ? k + 1 : hidden);
      float[] data = new float[n];
      for (int i = 0; i < n; i++) {
        data[i] = (float) ((2.0 * g.nextDouble() - 1.0) * bound);
      }
      b.put(e.getKey(), FloatArray.wrap(Shape.of(shape), data));
    }
    return b.build();
  }

  /**
   * The MLP as layers: {@code concat([t / T], flatten(x))}, {@code model.0}, ReLU, {@code model.2},
   * reshaped to the image.
   *
   * @return the network
   */
  @Override
  public Network network() {
    NetworkBuilder b = new NetworkBuilder(parameterShapes());
    Node x = b.input(imageShape);
    Node in = b.concat(b.timestepScale(numTrainTimesteps), b.reshape(x, Shape.of(pixels())));
    Node h = b.relu(b.linear("model.0", in, hidden));
    return b.build(b.reshape(b.linear("model.2", h, pixels()), imageShape));
  }
}
