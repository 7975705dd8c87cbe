package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.GroupNorm} on {@code [N, C, H, W]} or {@code [N, C]}: with {@code G} groups of {@code C / G}
 * consecutive channels, {@code y = (x - mean_g) / sqrt(var_g + eps) * gamma_c + beta_c}, mean and biased
 * variance over each item's group (its channels and positions).
 *
 * <p>libtorch's own {@code group_norm} (one kernel: statistics, then the normalisation with the affine applied
 * as it goes), reached through {@link ScriptOps} since DJL's bindings have no group norm. When the network's
 * only reader of this layer's output is an activation ({@link io.github.diffusion4j.nn.Network#soleActivation}),
 * the same module applies it ({@code torch.silu} or {@code torch.relu}) and that activation's kernel passes its
 * input on: the normalised values before the activation are never a tensor of the network's. Weight and bias
 * leaves {@code [C]}. Backward (libtorch's autograd): {@code group_norm}'s (it saves the group means and
 * reciprocal deviations, {@code 2 N G} floats) and the activation's.
 */
final class GroupNormKernel implements Kernel {
  private final ScriptOps.Module module;
  private final DjlParameters parameters;
  private final PtNDArray weight;
  private final PtNDArray bias;

  /**
   * Binds the layer to its parameters.
   *
   * @param ops the backend's TorchScript operators
   * @param parameters the network's parameters
   * @param layer the layer
   * @param activation the activation applied to the result here, or null
   */
  GroupNormKernel(ScriptOps ops, DjlParameters parameters, Layer.GroupNorm layer, Layer.Function activation) {
    this.module = ops.groupNorm(layer.groups(), layer.eps(), activation);
    this.parameters = parameters;
    this.weight = parameters.leaf(layer.name() + ".weight", layer.channels());
    this.bias = parameters.leaf(layer.name() + ".bias", layer.channels());
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    DjlPass.of(pass).uses(parameters);
    return DjlPass.value(module.apply(DjlPass.nd(inputs[0]), weight, bias));
  }
}
