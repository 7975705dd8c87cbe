package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The DDPM U-Nets of this SDK as diffusers' {@code UNet2DModel}: the equivalent {@link UNet2DConfig} and the
 * weights under diffusers' names, so that a model trained here loads with {@code UNet2DModel.from_pretrained}.
 *
 * <p>The names follow diffusers' {@code scripts/convert_ddpm_original_checkpoint_to_diffusers.py} (the script
 * that made google/ddpm-*), written to the current attention names ({@code to_q}, {@code to_k}, {@code to_v},
 * {@code to_out.0}, which diffusers renames the script's {@code query}, {@code key}, {@code value},
 * {@code proj_attn} to on load): {@code temb.dense.0/1} become {@code time_embedding.linear_1/2}, {@code norm_out}
 * {@code conv_norm_out}; {@code down.i.block.j} {@code down_blocks.i.resnets.j} (with {@code temb_proj} as
 * {@code time_emb_proj} and {@code nin_shortcut} as {@code conv_shortcut}); {@code down.i.attn.j}
 * {@code down_blocks.i.attentions.j} (with {@code norm} as {@code group_norm} and the 1x1 convolutions' weights
 * {@code [C, C, 1, 1]} as linear weights {@code [C, C]}); {@code down.i.downsample.conv}
 * {@code down_blocks.i.downsamplers.0.conv}; {@code mid.block_1/2} {@code mid_block.resnets.0/1} and
 * {@code mid.attn_1} {@code mid_block.attentions.0}; {@code up.i.*} {@code up_blocks.(L-1-i).*}, the up path
 * being numbered from the deepest level in diffusers.
 *
 * <p>The DDPM authors' model ({@link DdpmUNetSpec}) becomes exactly diffusers' equivalent except for the
 * timestep embedding's rounding: diffusers computes the frequencies as {@code exp((i * -ln 10000) / (half - 1))}
 * where the authors compute {@code exp(i * -(ln 10000 / (half - 1)))}, which differ by an ulp for some {@code i}
 * (the same difference there is between google/ddpm-* in diffusers and the authors' checkpoints); the two models'
 * outputs differ by under 1e-6 relative (docs/diffusers_reference.py measures it for the published shapes). The
 * miniature U-Net ({@link UNetSpec}) has its fused {@code qkv} split in three; its embedding is computed in double
 * precision there and in float32 in diffusers.
 */
public final class DiffusersConversion {
  private static final Pattern LEVEL = Pattern.compile("(down|up)\\.(\\d+)\\.(block|attn)\\.(\\d+)\\.(.+)");
  private static final Pattern RESAMPLE = Pattern.compile("(down)\\.(\\d+)\\.downsample\\.conv\\.(.+)|(up)\\.(\\d+)\\.upsample\\.conv\\.(.+)");

  private DiffusersConversion() {}

  /**
   * The {@code UNet2DModel} configuration of a spec, its {@code sample_size} the spec's image size (also where a
   * {@code model.unet2d} configuration left it null and took the size from {@code data.image_shape}: diffusers'
   * {@code DDPMPipeline} draws its noise at {@code sample_size}, and a folder without it samples nowhere).
   *
   * @param spec a {@link UNet2DSpec}, {@link DdpmUNetSpec} or {@link UNetSpec}
   * @return the configuration
   * @throws IllegalArgumentException for another kind (the tutorial's MLP has no diffusers equivalent)
   */
  public static UNet2DConfig config(ModelSpec spec) {
    Shape image = spec.imageShape();
    List<Integer> size = List.of(image.dim(1), image.dim(2));
    if (spec instanceof UNet2DSpec u) {
      return u.config().withSampleSize(size);
    }
    List<Integer> mult = spec instanceof DdpmUNetSpec d ? d.channelMult()
        : spec instanceof UNetSpec u ? u.channelMult() : List.of(1);
    if (mult.get(0) != 1) { // diffusers has conv_in and the timestep embedding at block_out_channels[0]
      throw new IllegalArgumentException("model.channel_mult " + mult + " starts with " + mult.get(0) + ", which a "
          + "diffusers UNet2DModel cannot express: its conv_in and timestep embedding have the first level's "
          + "channels, this model's have base_channels; only a channel_mult starting with 1 has an equivalent");
    }
    if (spec instanceof DdpmUNetSpec d) {
      int l = d.levels();
      String[] down = new String[l];
      String[] up = new String[l];
      Integer[] channels = new Integer[l];
      for (int i = 0; i < l; i++) {
        channels[i] = d.channels(i);
        down[i] = d.attentionAt(i) ? UNet2DConfig.ATTN_DOWN_BLOCK : UNet2DConfig.DOWN_BLOCK;
        up[l - 1 - i] = d.attentionAt(i) ? UNet2DConfig.ATTN_UP_BLOCK : UNet2DConfig.UP_BLOCK;
      }
      return new UNet2DConfig(size, image.dim(0), image.dim(0), false, 1, List.of(down), true, List.of(up),
          List.of(channels), d.numResBlocks(), 1, 0, d.dropout(), "silu", OptionalInt.empty(), DdpmUNetSpec.GROUPS,
          OptionalInt.empty(), DdpmUNetSpec.GROUP_NORM_EPS, true, OptionalInt.empty());
    }
    if (spec instanceof UNetSpec u) {
      int l = u.levels();
      Integer[] channels = new Integer[l];
      for (int i = 0; i < l; i++) {
        channels[i] = u.channels(i);
      }
      List<String> down = java.util.Collections.nCopies(l, UNet2DConfig.DOWN_BLOCK);
      List<String> up = java.util.Collections.nCopies(l, UNet2DConfig.UP_BLOCK);
      return new UNet2DConfig(size, image.dim(0), image.dim(0), false, 1, down, true, up, List.of(channels),
          u.numResBlocks(), 1, 1, u.dropout(), "silu", OptionalInt.empty(), u.groups(), OptionalInt.empty(),
          UNetSpec.GROUP_NORM_EPS, u.attention(), OptionalInt.empty());
    }
    throw new IllegalArgumentException("model.kind " + spec.kind() + " has no diffusers UNet2DModel equivalent; "
        + "supported are " + UNet2DSpec.KIND + ", " + DdpmUNetSpec.KIND + " and " + UNetSpec.KIND);
  }

  /**
   * The {@code UNet2DModel} equivalent of a spec.
   *
   * @param spec a {@link UNet2DSpec}, {@link DdpmUNetSpec} or {@link UNetSpec}
   * @return the spec of the same function with diffusers' names
   */
  public static UNet2DSpec spec(ModelSpec spec) {
    return spec instanceof UNet2DSpec u ? u : new UNet2DSpec(spec.imageShape(), spec.numTrainTimesteps(), config(spec));
  }

  /**
   * A DDPM-layout name (the authors' {@code Model} and the miniature U-Net) under diffusers' name.
   *
   * @param name a state-dict name of {@link DdpmUNetSpec} or {@link UNetSpec} (not the fused {@code qkv})
   * @param levels the number of levels
   * @return the diffusers name
   * @throws IllegalArgumentException for a name outside the layout
   */
  public static String diffusersName(String name, int levels) {
    String[] fixed = {"temb.dense.0.", "time_embedding.linear_1.", "temb.dense.1.", "time_embedding.linear_2.",
        "norm_out.", "conv_norm_out.", "conv_in.", "conv_in.", "conv_out.", "conv_out.",
        "mid.block_1.", "mid_block.resnets.0.", "mid.block_2.", "mid_block.resnets.1.",
        "mid.attn_1.", "mid_block.attentions.0."};
    for (int i = 0; i < fixed.length; i += 2) {
      if (name.startsWith(fixed[i])) {
        String rest = name.substring(fixed[i].length());
        String block = fixed[i + 1];
        if (block.startsWith("mid_block.resnets")) {
          rest = resnetPart(rest);
        } else if (block.startsWith("mid_block.attentions")) {
          rest = attentionPart(rest);
        }
        return block + rest;
      }
    }
    Matcher m = LEVEL.matcher(name);
    if (m.matches()) {
      boolean down = m.group(1).equals("down");
      int level = Integer.parseInt(m.group(2));
      int index = down ? level : levels - 1 - level;
      boolean res = m.group(3).equals("block");
      return (down ? "down_blocks." : "up_blocks.") + index + (res ? ".resnets." : ".attentions.") + m.group(4) + "."
          + (res ? resnetPart(m.group(5)) : attentionPart(m.group(5)));
    }
    m = RESAMPLE.matcher(name);
    if (m.matches()) {
      if (m.group(1) != null) {
        return "down_blocks." + m.group(2) + ".downsamplers.0.conv." + m.group(3);
      }
      return "up_blocks." + (levels - 1 - Integer.parseInt(m.group(5))) + ".upsamplers.0.conv." + m.group(6);
    }
    throw new IllegalArgumentException("'" + name + "' is not a name of the DDPM U-Net layout");
  }

  private static String resnetPart(String rest) {
    if (rest.startsWith("temb_proj.")) {
      return "time_emb_proj." + rest.substring("temb_proj.".length());
    }
    if (rest.startsWith("nin_shortcut.")) {
      return "conv_shortcut." + rest.substring("nin_shortcut.".length());
    }
    return rest;
  }

  private static String attentionPart(String rest) {
    String[] map = {"norm.", "group_norm.", "q.", "to_q.", "k.", "to_k.", "v.", "to_v.", "proj_out.", "to_out.0."};
    for (int i = 0; i < map.length; i += 2) {
      if (rest.startsWith(map[i])) {
        return map[i + 1] + rest.substring(map[i].length());
      }
    }
    throw new IllegalArgumentException("'" + rest + "' is not a parameter of a DDPM attention block");
  }

  /**
   * Weights of a spec under the names and shapes of its {@code UNet2DModel} equivalent ({@link #spec}), in that
   * spec's state-dict order.
   *
   * @param spec a {@link UNet2DSpec}, {@link DdpmUNetSpec} or {@link UNetSpec}
   * @param weights weights in {@code spec}'s layout
   * @return the same weights in diffusers' layout
   * @throws IllegalArgumentException if the weights do not fit {@code spec}
   */
  public static StateDict weights(ModelSpec spec, StateDict weights) {
    weights.requireLayout(spec.parameterShapes(), spec.kind() + " weights");
    if (spec instanceof UNet2DSpec) {
      return weights;
    }
    UNet2DSpec target = spec(spec);
    int levels = target.config().levels();
    Map<String, FloatArray> renamed = new LinkedHashMap<>();
    for (Map.Entry<String, FloatArray> e : weights.entries().entrySet()) {
      String name = e.getKey();
      FloatArray a = e.getValue();
      if (name.startsWith("mid.attn_1.qkv.")) {
        String what = name.substring("mid.attn_1.qkv.".length());
        int c = a.shape().dim(0) / 3;
        float[] all = a.toArray();
        int per = all.length / 3;
        String[] parts = {"to_q.", "to_k.", "to_v."};
        for (int p = 0; p < 3; p++) {
          Shape shape = what.equals("weight") ? Shape.of(c, c) : Shape.of(c);
          renamed.put("mid_block.attentions.0." + parts[p] + what,
              FloatArray.wrap(shape, Arrays.copyOfRange(all, p * per, (p + 1) * per)));
        }
        continue;
      }
      String to = diffusersName(name, levels);
      if (to.contains(".attentions.") && a.shape().rank() == 4) {
        a = FloatArray.wrap(Shape.of(a.shape().dim(0), a.shape().dim(1)), a.toArray());
      }
      renamed.put(to, a);
    }
    StateDict.Builder out = StateDict.builder();
    for (String name : target.parameterShapes().keySet()) {
      FloatArray a = renamed.get(name);
      if (a == null) {
        throw new IllegalStateException("no weight maps to diffusers' '" + name + "'");
      }
      out.put(name, a);
    }
    StateDict result = out.build();
    result.requireLayout(target.parameterShapes(), "diffusers weights");
    return result;
  }

  /**
   * The inverse of {@link #weights}: weights in the layout of a spec's {@code UNet2DModel} equivalent ({@link #spec}),
   * such as a diffusers folder's, under the spec's own names and shapes, so that a published model can be the start
   * of a run of the equivalent architecture (the attention's {@code [C, C]} linear weights become {@code [C, C, 1, 1]}
   * convolutions, and the miniature U-Net's {@code to_q}, {@code to_k}, {@code to_v} its fused {@code qkv}).
   *
   * @param spec a {@link UNet2DSpec}, {@link DdpmUNetSpec} or {@link UNetSpec}
   * @param weights weights in the layout of {@code spec(spec)}
   * @return the same weights in {@code spec}'s layout, in its state-dict order
   * @throws IllegalArgumentException if the weights do not fit {@code spec}'s diffusers equivalent
   */
  public static StateDict fromDiffusers(ModelSpec spec, StateDict weights) {
    UNet2DSpec target = spec(spec);
    weights.requireLayout(target.parameterShapes(), "diffusers weights of the configured " + spec.kind());
    if (spec instanceof UNet2DSpec) {
      return weights;
    }
    int levels = target.config().levels();
    StateDict.Builder out = StateDict.builder();
    for (Map.Entry<String, int[]> e : spec.parameterShapes().entrySet()) {
      String name = e.getKey();
      Shape shape = Shape.of(e.getValue());
      float[] data;
      if (name.startsWith("mid.attn_1.qkv.")) {
        String what = name.substring("mid.attn_1.qkv.".length());
        data = new float[shape.size()];
        int at = 0;
        for (String part : new String[] {"to_q.", "to_k.", "to_v."}) {
          float[] p = weights.get("mid_block.attentions.0." + part + what).toArray();
          System.arraycopy(p, 0, data, at, p.length);
          at += p.length;
        }
      } else {
        data = weights.get(diffusersName(name, levels)).toArray(); // a [C, C] linear weight is a [C, C, 1, 1] one
      }
      out.put(name, FloatArray.wrap(shape, data));
    }
    return out.build();
  }
}
