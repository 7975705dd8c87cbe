package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;

/**
 * {@link Layer.GroupNorm} on {@code [N, C, H, W]} or {@code [N, C]}: with {@code G} groups of {@code C / G}
 * consecutive channels, {@code y = (x - mean_g) / sqrt(var_g + eps) * gamma_c + beta_c}, mean and biased
 * variance over each item's group (its channels and positions).
 *
 * <p>libtorch has no group norm in DJL's bindings, so the normalisation is {@code layer_norm} of the input
 * viewed as {@code [N, G, C/G * H * W]} (a view of a contiguous input; a copy otherwise) with a constant unit
 * scale and zero shift (constants of this kernel, on the parameters' manager), viewed back, then the
 * per-channel affine with the weight and bias leaves shaped {@code [C, 1, 1]} (or {@code [C]}) to broadcast.
 * Backward (libtorch's autograd): {@code layer_norm}'s backward (it saves the group means and reciprocal
 * deviations, {@code 2 N G} floats) and the affine's (it saves the normalised input).
 *
 * <p>Memory: the intermediates' handles are closed as soon as they are used, so in prediction only the output
 * outlives the call; in training libtorch's graph keeps what it saved.
 */
final class GroupNormKernel implements Kernel {
  private final DjlParameters parameters;
  private final PtNDArray weight;
  private final PtNDArray bias;
  private final PtNDArray ones;
  private final PtNDArray zeros;
  private final ai.djl.ndarray.types.Shape normalized;
  private final long groups;
  private final long rest;
  private final double eps;

  /**
   * Binds the layer to its parameters.
   *
   * @param parameters the network's parameters
   * @param layer the layer
   * @param itemShape the shape of one item of the input, {@code [C, H, W]} or {@code [C]}
   */
  GroupNormKernel(DjlParameters parameters, Layer.GroupNorm layer, Shape itemShape) {
    int c = layer.channels();
    long[] affine = itemShape.rank() == 1 ? new long[] {c} : new long[itemShape.rank()];
    if (itemShape.rank() > 1) {
      Arrays.fill(affine, 1);
      affine[0] = c;
    }
    this.parameters = parameters;
    this.weight = parameters.leaf(layer.name() + ".weight", affine);
    this.bias = parameters.leaf(layer.name() + ".bias", affine);
    this.groups = layer.groups();
    this.rest = (long) itemShape.size() / groups;
    float[] one = new float[Math.toIntExact(rest)];
    Arrays.fill(one, 1f);
    this.ones = parameters.constant(one, rest);
    this.zeros = parameters.constant(new float[Math.toIntExact(rest)], rest);
    this.normalized = new ai.djl.ndarray.types.Shape(rest);
    this.eps = layer.eps();
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    DjlPass.of(pass).uses(parameters);
    PtNDArray x = DjlPass.nd(inputs[0]);
    long[] dims = x.getShape().getShape();
    PtNDArray grouped = JniUtils.reshape(x, new long[] {dims[0], groups, rest});
    PtNDArray normed = JniUtils.layerNorm(grouped, normalized, ones, zeros, eps);
    grouped.close();
    PtNDArray back = JniUtils.reshape(normed, dims);
    normed.close();
    PtNDArray scaled = JniUtils.mul(back, weight);
    back.close();
    PtNDArray y = JniUtils.add(scaled, bias);
    scaled.close();
    return DjlPass.value(y);
  }
}
