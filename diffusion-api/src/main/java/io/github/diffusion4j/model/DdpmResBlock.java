package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import java.util.Map;

/**
 * The residual block of the DDPM U-Net's PyTorch port, as {@link UNetSpec} and {@link DdpmUNetSpec} both
 * name and compute it:
 *
 * <pre>
 *   h = conv1(SiLU(norm1(x))) + temb_proj(SiLU(temb))[:, :, None, None]
 *   h = conv2(dropout(SiLU(norm2(h))))
 *   return (nin_shortcut(x) if in != out else x) + h        conv1, conv2 3x3; nin_shortcut 1x1
 * </pre>
 *
 * @param groups the GroupNorm groups
 * @param eps the GroupNorm epsilon
 * @param dropout the dropout probability during training
 * @param dropoutStream the split index of the dropout masks' stream
 */
record DdpmResBlock(int groups, double eps, double dropout, long dropoutStream) {

  /**
   * Adds a block's parameters to a state-dict layout, in the port's order.
   *
   * @param m the layout
   * @param prefix the block's prefix, e.g. {@code "down.0.block.0"}
   * @param in the input's channels
   * @param out the output's channels
   * @param embeddingChannels the width of the timestep embedding
   */
  static void parameters(Map<String, int[]> m, String prefix, int in, int out, int embeddingChannels) {
    String p = prefix + ".";
    UNetLayouts.norm(m, p + "norm1", in);
    UNetLayouts.conv(m, p + "conv1", in, out, 3);
    UNetLayouts.linear(m, p + "temb_proj", embeddingChannels, out);
    UNetLayouts.norm(m, p + "norm2", out);
    UNetLayouts.conv(m, p + "conv2", out, out, 3);
    if (in != out) {
      UNetLayouts.conv(m, p + "nin_shortcut", in, out, 1);
    }
  }

  /**
   * A block's layers.
   *
   * @param b the network being built
   * @param x the block's input
   * @param tembAct {@code SiLU(temb)}
   * @param prefix the block's prefix
   * @param in the input's channels
   * @param out the output's channels (a shortcut exists iff they differ from the input's)
   * @param index the block's index among the network's residual blocks (its dropout masks' key)
   * @return the block's output
   */
  Node layers(NetworkBuilder b, Node x, Node tembAct, String prefix, int in, int out, int index) {
    String p = prefix + ".";
    Node h = b.conv(p + "conv1", b.silu(b.groupNorm(p + "norm1", x, groups, eps)), out, 3, 1, Layer.Padding.of(1));
    h = b.add(h, b.linear(p + "temb_proj", tembAct, out));
    h = b.silu(b.groupNorm(p + "norm2", h, groups, eps));
    h = b.dropout(h, dropout, dropoutStream, index);
    h = b.conv(p + "conv2", h, out, 3, 1, Layer.Padding.of(1));
    Node skip = in != out ? b.conv(p + "nin_shortcut", x, out, 1, 1, Layer.Padding.of(0)) : x;
    return b.add(skip, h);
  }
}
