package io.github.diffusion4j.nn;

import io.github.diffusion4j.tensor.Shape;
import java.util.List;

/**
 * The closed set of layer kinds a {@link Network} is made of. Every architecture is a composition of
 * these; a backend implements each kind once (a {@link Kernel}), never a network.
 *
 * <p>Shapes below are per item (the batch axis is left out): an image-like value is {@code [C, H, W]}, a
 * vector is {@code [F]}. "Channels" is the first axis of an item in both cases. Parameters are named by
 * PyTorch's {@code state_dict} convention: a layer called {@code "down.0.block.0.conv1"} owns
 * {@code "down.0.block.0.conv1.weight"} and {@code "down.0.block.0.conv1.bias"}.
 *
 * <p>Three kinds are <em>sources</em> ({@link Input}, {@link TimestepScale}, {@link TimestepEmbedding}):
 * they have no inputs, are computed in Java by the model from the batch and its timesteps, and reach the
 * backend as data; backends never implement them.
 */
public sealed interface Layer {

  /**
   * Whether this kind is a source (no inputs; computed by the model, not by a backend).
   *
   * @return true for {@link Input}, {@link TimestepScale} and {@link TimestepEmbedding}
   */
  default boolean isSource() {
    return false;
  }

  /**
   * The full state-dict names of the parameters this layer reads, in order.
   *
   * @return the names (empty for parameter-free kinds)
   */
  default List<String> parameterNames() {
    return List.of();
  }

  /**
   * The noisy batch {@code x_t}, a source.
   *
   * @param itemShape the shape of one image, {@code [C, H, W]}
   */
  record Input(Shape itemShape) implements Layer {
    @Override
    public boolean isSource() {
      return true;
    }
  }

  /**
   * The scaled timestep {@code t / divisor} as a one-element vector {@code [1]}, a source (the tutorial
   * MLP's time input).
   *
   * @param divisor the divisor, usually {@code T}; positive
   */
  record TimestepScale(double divisor) implements Layer {
    /**
     * Validates the divisor.
     *
     * @param divisor the divisor, positive
     */
    public TimestepScale {
      if (!(divisor > 0) || Double.isInfinite(divisor)) {
        throw new IllegalArgumentException("timestep divisor must be positive and finite, got " + divisor);
      }
    }

    @Override
    public boolean isSource() {
      return true;
    }
  }

  /**
   * The sinusoidal timestep embedding, a source of shape {@code [dim]}: with {@code half = dim / 2} and
   * frequencies {@code f_i = exp(-ln(maxPeriod) * i / (half - downscaleFreqShift))}, an item's row is
   * {@code [sin(t f_0) .. sin(t f_{half-1}), cos(t f_0) .. cos(t f_{half-1})]}, or cosines first when
   * {@code flipSinToCos} (diffusers' {@code get_timestep_embedding}); an odd {@code dim} gets a final zero.
   * The DDPM authors' embedding is {@code downscaleFreqShift = 1}, no flip. {@link TimestepEmbedding#compute}
   * is the definition every backend receives.
   *
   * @param dim the embedding width, at least 2
   * @param flipSinToCos whether cosines come first
   * @param downscaleFreqShift the shift in the frequencies' denominator (1 for DDPM, 0 or 1 in diffusers)
   * @param maxPeriod the longest period, 10000 in every published model
   * @param precision how the embedding is rounded: as the reference code computes it
   */
  record TimestepEmbedding(
      int dim, boolean flipSinToCos, double downscaleFreqShift, double maxPeriod, Precision precision)
      implements Layer {

    /**
     * Validates the values.
     *
     * @param dim the embedding width, at least 2
     * @param flipSinToCos whether cosines come first
     * @param downscaleFreqShift the shift in the frequencies' denominator
     * @param maxPeriod the longest period, greater than 1
     * @param precision how the embedding is rounded
     */
    public TimestepEmbedding {
      if (dim < 2) {
        throw new IllegalArgumentException("timestep embedding dim must be at least 2, got " + dim);
      }
      if (!(dim / 2 - downscaleFreqShift > 0)) {
        throw new IllegalArgumentException(
            "timestep embedding: half the dim (" + dim / 2 + ") must exceed freq_shift " + downscaleFreqShift);
      }
      if (!(maxPeriod > 1) || Double.isInfinite(maxPeriod)) {
        throw new IllegalArgumentException("timestep embedding max period must be above 1, got " + maxPeriod);
      }
      if (precision == null) {
        throw new IllegalArgumentException("timestep embedding precision is required");
      }
    }

    @Override
    public boolean isSource() {
      return true;
    }

    /**
     * The embedding of each timestep, row-major {@code [timesteps.length, dim]}.
     *
     * <p>{@link Precision#DOUBLE}: every step in double precision ({@code StrictMath}), rounded to float at
     * the end. {@link Precision#FLOAT32} and {@link Precision#FLOAT32_DDPM}: the float32 operations of the
     * PyTorch reference code in its order, each rounded to float, then {@code sin} and {@code cos} of the
     * float argument. Java's correctly rounded functions agree with PyTorch's vectorised ones to about one
     * ulp.
     *
     * @param timesteps the integer timesteps
     * @return {@code timesteps.length * dim} values
     */
    public float[] compute(int[] timesteps) {
      int half = dim / 2;
      double[] freq = new double[half];
      float negLogPeriod = (float) -StrictMath.log(maxPeriod);
      float denominator = (float) (half - downscaleFreqShift);
      for (int i = 0; i < half; i++) {
        if (precision == Precision.DOUBLE) {
          freq[i] = StrictMath.exp(-StrictMath.log(maxPeriod) * i / (half - downscaleFreqShift));
        } else if (precision == Precision.FLOAT32) {
          float exponent = (i * negLogPeriod) / denominator;
          freq[i] = (float) StrictMath.exp(exponent);
        } else {
          float step = (float) -(StrictMath.log(maxPeriod) / (half - downscaleFreqShift));
          float exponent = i * step;
          freq[i] = (float) StrictMath.exp(exponent);
        }
      }
      float[] out = new float[timesteps.length * dim];
      int sinAt = flipSinToCos ? half : 0;
      int cosAt = flipSinToCos ? 0 : half;
      for (int n = 0; n < timesteps.length; n++) {
        int row = n * dim;
        for (int i = 0; i < half; i++) {
          double a;
          if (precision == Precision.DOUBLE) {
            a = timesteps[n] * freq[i];
          } else {
            float product = (float) timesteps[n] * (float) freq[i];
            a = product;
          }
          out[row + sinAt + i] = (float) StrictMath.sin(a);
          out[row + cosAt + i] = (float) StrictMath.cos(a);
        }
      }
      return out;
    }
  }

  /** How a computed source is rounded. */
  enum Precision {
    /** Computed in double precision, rounded to float once. */
    DOUBLE,
    /**
     * PyTorch's float32 operations in diffusers' order: {@code exponent = (i * (float) -ln(maxPeriod)) /
     * (float) (half - shift)}, then {@code exp}, times {@code (float) t}.
     */
    FLOAT32,
    /**
     * PyTorch's float32 operations in the DDPM authors' order ({@code get_timestep_embedding} of
     * ermongroup/ddim and hojonathanho/diffusion): {@code i * (float) -(ln(maxPeriod) / (half - shift))},
     * then {@code exp}, times {@code (float) t}.
     */
    FLOAT32_DDPM
  }

  /**
   * A fully connected layer {@code y = x W^T + b}: {@code [in] -> [out]}; weight {@code [out, in]}, bias
   * {@code [out]}.
   *
   * @param name the state-dict prefix
   * @param in the input features
   * @param out the output features
   * @param bias whether it has a bias
   */
  record Linear(String name, int in, int out, boolean bias) implements Layer {
    /**
     * Validates the values.
     *
     * @param name the state-dict prefix
     * @param in the input features, positive
     * @param out the output features, positive
     * @param bias whether it has a bias
     */
    public Linear {
      requireName(name);
      requirePositive("linear " + name + " in", in);
      requirePositive("linear " + name + " out", out);
    }

    @Override
    public List<String> parameterNames() {
      return bias ? List.of(name + ".weight", name + ".bias") : List.of(name + ".weight");
    }
  }

  /**
   * Zero padding of a convolution's input, in rows and columns.
   *
   * @param top rows added above
   * @param left columns added on the left
   * @param bottom rows added below
   * @param right columns added on the right
   */
  record Padding(int top, int left, int bottom, int right) {
    /**
     * Validates the values.
     *
     * @param top rows above, at least 0
     * @param left columns on the left, at least 0
     * @param bottom rows below, at least 0
     * @param right columns on the right, at least 0
     */
    public Padding {
      if (top < 0 || left < 0 || bottom < 0 || right < 0) {
        throw new IllegalArgumentException("padding must be at least 0, got " + top + ", " + left + ", " + bottom + ", " + right);
      }
    }

    /**
     * The same padding on every side.
     *
     * @param p the padding
     * @return {@code (p, p, p, p)}
     */
    public static Padding of(int p) {
      return new Padding(p, p, p, p);
    }

    /**
     * Whether every side is padded alike.
     *
     * @return true if top equals bottom and left equals right
     */
    public boolean symmetric() {
      return top == bottom && left == right;
    }
  }

  /**
   * A 2-D convolution (cross-correlation, as PyTorch's {@code Conv2d}) with a square kernel:
   * {@code [in, H, W] -> [out, H', W']}, {@code H' = (H + top + bottom - kernel) / stride + 1}; weight
   * {@code [out, in, kernel, kernel]} (a 1x1 convolution's weight may also be stored {@code [out, in]}, as a
   * linear layer's), bias {@code [out]}.
   *
   * @param name the state-dict prefix
   * @param in the input channels
   * @param out the output channels
   * @param kernel the kernel size
   * @param stride the stride
   * @param padding the zero padding
   * @param bias whether it has a bias
   */
  record Conv2d(String name, int in, int out, int kernel, int stride, Padding padding, boolean bias)
      implements Layer {
    /**
     * Validates the values.
     *
     * @param name the state-dict prefix
     * @param in the input channels, positive
     * @param out the output channels, positive
     * @param kernel the kernel size, positive
     * @param stride the stride, positive
     * @param padding the zero padding, each side less than the kernel
     * @param bias whether it has a bias
     */
    public Conv2d {
      requireName(name);
      requirePositive("conv " + name + " in", in);
      requirePositive("conv " + name + " out", out);
      requirePositive("conv " + name + " kernel", kernel);
      requirePositive("conv " + name + " stride", stride);
      if (padding == null) {
        throw new IllegalArgumentException("conv " + name + ": padding is required");
      }
      if (Math.max(Math.max(padding.top(), padding.bottom()), Math.max(padding.left(), padding.right())) >= kernel) {
        throw new IllegalArgumentException("conv " + name + ": padding " + padding + " must be less than the kernel " + kernel);
      }
    }

    @Override
    public List<String> parameterNames() {
      return bias ? List.of(name + ".weight", name + ".bias") : List.of(name + ".weight");
    }
  }

  /**
   * Group normalisation (PyTorch's {@code GroupNorm}, affine): the channels are split into {@code groups}
   * consecutive groups, each item's group is normalised over its channels and positions with the biased
   * variance, then every channel is scaled and shifted; weight and bias {@code [channels]}. Works on
   * {@code [C, H, W]} and on {@code [C]}.
   *
   * @param name the state-dict prefix
   * @param channels the channels
   * @param groups the groups, dividing the channels
   * @param eps the variance's added constant
   */
  record GroupNorm(String name, int channels, int groups, double eps) implements Layer {
    /**
     * Validates the values.
     *
     * @param name the state-dict prefix
     * @param channels the channels, positive
     * @param groups the groups, positive, dividing the channels
     * @param eps the constant, positive and finite
     */
    public GroupNorm {
      requireName(name);
      requirePositive("group norm " + name + " channels", channels);
      requirePositive("group norm " + name + " groups", groups);
      if (channels % groups != 0) {
        throw new IllegalArgumentException(
            "group norm " + name + ": " + groups + " groups do not divide " + channels + " channels");
      }
      if (!(eps > 0 && Double.isFinite(eps))) {
        throw new IllegalArgumentException("group norm " + name + ": eps must be positive and finite, got " + eps);
      }
    }

    @Override
    public List<String> parameterNames() {
      return List.of(name + ".weight", name + ".bias");
    }
  }

  /**
   * An elementwise nonlinearity.
   *
   * @param function which one
   */
  record Activation(Function function) implements Layer {
    /**
     * Validates the value.
     *
     * @param function which one, not null
     */
    public Activation {
      if (function == null) {
        throw new IllegalArgumentException("activation function is required");
      }
    }
  }

  /** The nonlinearities. */
  enum Function {
    /** {@code max(x, 0)}. */
    RELU,
    /** {@code x * sigmoid(x)} (also called swish). */
    SILU
  }

  /**
   * Nearest-neighbour upsampling by an integer factor: {@code [C, H, W] -> [C, fH, fW]}.
   *
   * @param factor the factor, at least 2
   */
  record Upsample(int factor) implements Layer {
    /**
     * Validates the value.
     *
     * @param factor the factor, at least 2
     */
    public Upsample {
      if (factor < 2) {
        throw new IllegalArgumentException("upsampling factor must be at least 2, got " + factor);
      }
    }
  }

  /**
   * {@code (a + b) * scale} of two inputs. {@code b} has {@code a}'s shape, or is a vector {@code [C]} that
   * is added to every position of a {@code [C, H, W]} input (a residual block's timestep projection).
   *
   * @param scale the factor applied to the sum (1 for a plain sum; diffusers' {@code 1 /
   *     output_scale_factor})
   */
  record Add(double scale) implements Layer {
    /**
     * Validates the value.
     *
     * @param scale the factor, finite and not zero
     */
    public Add {
      if (!Double.isFinite(scale) || scale == 0) {
        throw new IllegalArgumentException("add scale must be finite and not zero, got " + scale);
      }
    }
  }

  /**
   * Concatenation of two or more inputs along channels (the first axis of an item); the other axes must
   * match.
   */
  record Concat() implements Layer {}

  /**
   * Channels {@code [from, to)} of the input.
   *
   * @param from the first channel
   * @param to one past the last channel
   */
  record SliceChannels(int from, int to) implements Layer {
    /**
     * Validates the values.
     *
     * @param from the first channel, at least 0
     * @param to one past the last, greater than {@code from}
     */
    public SliceChannels {
      if (from < 0 || to <= from) {
        throw new IllegalArgumentException("channel slice [" + from + ", " + to + ") is empty or negative");
      }
    }
  }

  /**
   * Multi-head scaled dot-product self-attention over positions, without projections (those are 1x1
   * {@link Conv2d}s before and after it). Inputs {@code q, k, v}, each {@code [C, H, W]}; with {@code P = H
   * W} positions and {@code d = C / heads}, head {@code h} uses channels {@code [h d, (h + 1) d)}:
   * {@code w[i, j] = softmax_j(sum_c q[c, i] k[c, j] / sqrt(d))}, {@code out[c, i] = sum_j v[c, j] w[i, j]}.
   * Output {@code [C, H, W]}. The DDPM models use one head.
   *
   * @param heads the number of heads, dividing the channels
   */
  record Attention(int heads) implements Layer {
    /**
     * Validates the value.
     *
     * @param heads the heads, positive
     */
    public Attention {
      requirePositive("attention heads", heads);
    }
  }

  /**
   * Dropout in training: the input times a mask of zeros and {@code 1 / (1 - p)}, drawn from the portable
   * generator ({@link #mask}), so training is reproducible on every backend; the identity otherwise.
   *
   * @param p the probability of zeroing an element, in [0, 1)
   * @param stream the split index of the model's dropout stream
   * @param index this layer's index among the model's dropout layers (numbers its masks)
   */
  record Dropout(double p, long stream, int index) implements Layer {
    /**
     * Validates the values.
     *
     * @param p the probability, in [0, 1)
     * @param stream the split index of the dropout stream
     * @param index the layer's index, at least 0
     */
    public Dropout {
      if (!(p >= 0 && p < 1)) {
        throw new IllegalArgumentException("dropout must be in [0, 1), got " + p);
      }
      if (index < 0) {
        throw new IllegalArgumentException("dropout index must be at least 0, got " + index);
      }
    }

    /**
     * The mask of this layer at one training step, the same on every backend: element {@code j}
     * (row-major over the whole batch's {@code [N, ...]} activation) is 0 if {@code u_j < p} and {@code
     * (float) (1 / (1 - p))} otherwise, {@code u_j} the successive {@code nextDouble()} of {@code
     * Noise.seeded(seed).split(stream).split(step).split(index).generator()}.
     *
     * @param seed the model's seed
     * @param step the optimiser step being taken, 1-based
     * @param size {@code N} times the item size
     * @return the mask
     */
    public float[] mask(long seed, long step, int size) {
      io.github.diffusion4j.random.RandomGenerator g =
          io.github.diffusion4j.random.Noise.seeded(seed).split(stream).split(step).split(index).generator();
      float keep = (float) (1.0 / (1.0 - p));
      float[] mask = new float[size];
      for (int j = 0; j < size; j++) {
        mask[j] = g.nextDouble() < p ? 0f : keep;
      }
      return mask;
    }
  }

  /**
   * The same values with another item shape of the same size (row-major), e.g. an image flattened to a
   * vector.
   *
   * @param itemShape the new shape of an item
   */
  record Reshape(Shape itemShape) implements Layer {
    /**
     * Validates the value.
     *
     * @param itemShape the new item shape, not null
     */
    public Reshape {
      if (itemShape == null) {
        throw new IllegalArgumentException("reshape needs a shape");
      }
    }
  }

  private static void requireName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a layer with parameters needs a state-dict name");
    }
  }

  private static void requirePositive(String what, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(what + " must be positive, got " + v);
    }
  }
}
