package io.github.diffusion4j.config;

import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The noise predictor's architecture ({@code model:}). Keys of the other kind must stay at their
 * defaults.
 *
 * @param kind {@link Kind#MLP}, {@link Kind#UNET}, {@link Kind#DDPM} or {@link Kind#UNET2D}
 * @param hidden mlp: the hidden width, at least 1
 * @param baseChannels unet, ddpm: channels of the first level, at least 1
 * @param channelMult unet, ddpm: the channel multiplier of each level, not empty, each at least 1
 * @param numResBlocks unet, ddpm: residual blocks per level, at least 1
 * @param attention unet: self-attention at the lowest resolution
 * @param groups unet: GroupNorm groups, dividing {@code baseChannels * m} for every multiplier
 * @param dropout unet, ddpm: dropout probability, in [0, 1)
 * @param attnResolutions ddpm: the image sizes of the levels with attention
 * @param unet2d unet2d: diffusers' {@code UNet2DModel} config ({@code config.json}'s keys)
 */
public record ModelConfig(
    Kind kind,
    int hidden,
    int baseChannels,
    List<Integer> channelMult,
    int numResBlocks,
    boolean attention,
    int groups,
    double dropout,
    List<Integer> attnResolutions,
    ConfigSection unet2d) {

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  private static final String MLP = Kind.MLP.configName();
  private static final String UNET = Kind.UNET.configName();
  private static final String DDPM = Kind.DDPM.configName();
  private static final String UNET2D = Kind.UNET2D.configName();

  static final Key<ModelConfig, Kind> KIND = Key.of("model.kind", ModelConfig::kind,
      ValueType.enumeration(Kind.class, Kind::configName), Kind.MLP,
      "architecture of the noise predictor: mlp (the tutorial's two-layer MLP), unet (the DDPM U-Net in "
          + "miniature, docs/unet.md), ddpm (the DDPM authors' U-Net family, docs/ddpm.md) or unet2d (diffusers' "
          + "UNet2DModel, docs/diffusers.md)");
  static final Key<ModelConfig, Integer> HIDDEN = Key.of("model.hidden", ModelConfig::hidden,
      ValueType.atLeast(1), 128, "hidden width of the MLP").onlyFor(MLP);
  static final Key<ModelConfig, Integer> BASE_CHANNELS = Key.of("model.base_channels",
      ModelConfig::baseChannels, ValueType.atLeast(1), 32, "channels of the first UNet level (the DDPM authors' ch)")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 128);
  static final Key<ModelConfig, List<Integer>> CHANNEL_MULT = Key.of("model.channel_mult",
      ModelConfig::channelMult, ValueType.intList(1, true), List.of(1, 2, 2),
      "channel multiplier of each UNet level (one level per entry; the DDPM authors' ch_mult)").onlyFor(UNET, DDPM)
      .defaultFor(DDPM, List.of(1, 2, 2, 2));
  static final Key<ModelConfig, Integer> NUM_RES_BLOCKS = Key.of("model.num_res_blocks",
      ModelConfig::numResBlocks, ValueType.atLeast(1), 1, "residual blocks per UNet level on the way down")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 2);
  static final Key<ModelConfig, Boolean> ATTENTION = Key.of("model.attention", ModelConfig::attention,
      ValueType.bool(), true, "self-attention at the lowest UNet resolution").onlyFor(UNET);
  static final Key<ModelConfig, Integer> GROUPS = Key.of("model.groups", ModelConfig::groups,
      ValueType.atLeast(1), 8, "GroupNorm groups; must divide the channels of every UNet level")
      .onlyFor(UNET);
  static final Key<ModelConfig, Double> DROPOUT = Key.of("model.dropout", ModelConfig::dropout,
      ValueType.number(0, true, 1, false), 0.0, "dropout probability in the UNet's residual blocks")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 0.1);
  static final Key<ModelConfig, List<Integer>> ATTN_RESOLUTIONS = Key.of("model.attn_resolutions",
      ModelConfig::attnResolutions, ValueType.intList(1, false), List.of(16),
      "image sizes (height) of the levels with self-attention after every residual block, down and up; the "
          + "middle always has it").onlyFor(DDPM);
  static final Key<ModelConfig, ConfigSection> UNET2D_CONFIG = Key.of("model.unet2d", ModelConfig::unet2d,
      ValueType.section(), ConfigSection.empty("model.unet2d"),
      "diffusers' UNet2DModel config: the keys of its config.json, verbatim (absent keys take diffusers' defaults)")
      .onlyFor(UNET2D);

  /** The architectures ({@code model.kind}). */
  public enum Kind {
    /** The tutorial's two-layer MLP ({@link MlpSpec}). */
    MLP("mlp"),
    /** The DDPM U-Net in miniature ({@link UNetSpec}). */
    UNET("unet"),
    /** The DDPM authors' U-Net family ({@link DdpmUNetSpec}). */
    DDPM("ddpm"),
    /** diffusers' {@code UNet2DModel} ({@link UNet2DSpec}). */
    UNET2D("unet2d");

    private final String configName;

    Kind(String configName) {
      this.configName = configName;
    }

    /**
     * The configuration name.
     *
     * @return e.g. {@code "mlp"}
     */
    public String configName() {
      return configName;
    }
  }

  /**
   * Validates the values.
   *
   * @param kind {@link Kind#MLP}, {@link Kind#UNET}, {@link Kind#DDPM} or {@link Kind#UNET2D}
   * @param hidden mlp: the hidden width, at least 1
   * @param baseChannels unet, ddpm: channels of the first level, at least 1
   * @param channelMult unet, ddpm: the channel multiplier of each level, not empty, each at least 1
   * @param numResBlocks unet, ddpm: residual blocks per level, at least 1
   * @param attention unet: self-attention at the lowest resolution
   * @param groups unet: GroupNorm groups, dividing {@code baseChannels * m} for every multiplier
   * @param dropout unet, ddpm: dropout probability, in [0, 1)
   * @param attnResolutions ddpm: the image sizes of the levels with attention
   * @param unet2d unet2d: diffusers' {@code UNet2DModel} config ({@code config.json}'s keys), required
   * @throws ConfigException naming the key at fault
   */
  public ModelConfig {
    KIND.check(kind);
    HIDDEN.check(hidden);
    BASE_CHANNELS.check(baseChannels);
    channelMult = CHANNEL_MULT.check(channelMult == null ? null : List.copyOf(channelMult));
    NUM_RES_BLOCKS.check(numResBlocks);
    ATTENTION.check(attention);
    GROUPS.check(groups);
    DROPOUT.check(dropout);
    attnResolutions = ATTN_RESOLUTIONS.check(attnResolutions == null ? null : List.copyOf(attnResolutions));
    unet2d = UNET2D_CONFIG.check(unet2d);
    String k = kind.configName();
    HIDDEN.requireDefaultUnlessFor(k, hidden);
    BASE_CHANNELS.requireDefaultUnlessFor(k, baseChannels);
    CHANNEL_MULT.requireDefaultUnlessFor(k, channelMult);
    NUM_RES_BLOCKS.requireDefaultUnlessFor(k, numResBlocks);
    ATTENTION.requireDefaultUnlessFor(k, attention);
    GROUPS.requireDefaultUnlessFor(k, groups);
    DROPOUT.requireDefaultUnlessFor(k, dropout);
    ATTN_RESOLUTIONS.requireDefaultUnlessFor(k, attnResolutions);
    UNET2D_CONFIG.requireDefaultUnlessFor(k, unet2d);
    if (kind == Kind.UNET2D) {
      unet2dConfig(unet2d);
    }
    for (int m : kind == Kind.UNET ? channelMult : List.<Integer>of()) {
      if ((long) baseChannels * m % groups != 0) {
        throw ConfigException.either(
            new ConfigException(GROUPS.path(), "must divide the channels of every level, but "
                + "base_channels " + baseChannels + " x channel_mult " + m + " = " + (long) baseChannels * m
                + " is not a multiple of " + groups),
            new ConfigException(BASE_CHANNELS.path(), "base_channels " + baseChannels
                + " x channel_mult " + m + " must be a multiple of groups (" + groups + ")"));
      }
    }
  }

  /**
   * The tutorial's MLP.
   *
   * @param hidden the hidden width
   * @return the config
   */
  public static ModelConfig mlp(int hidden) {
    String k = Kind.MLP.configName();
    return new ModelConfig(Kind.MLP, hidden, BASE_CHANNELS.defaultFor(k),
        CHANNEL_MULT.defaultFor(k), NUM_RES_BLOCKS.defaultFor(k), ATTENTION.defaultFor(k),
        GROUPS.defaultFor(k), DROPOUT.defaultFor(k), ATTN_RESOLUTIONS.defaultFor(k),
        UNET2D_CONFIG.defaultFor(k));
  }

  /**
   * diffusers' {@code UNet2DModel} with a given {@code config.json} content ({@code model.kind: unet2d}).
   *
   * @param values the keys and plain values of the {@code config.json}
   * @return the config
   * @throws ConfigException naming {@code model.unet2d.<key>} if a value is not supported
   */
  public static ModelConfig ofUNet2D(Map<String, ?> values) {
    String k = Kind.UNET2D.configName();
    return new ModelConfig(Kind.UNET2D, HIDDEN.defaultFor(k), BASE_CHANNELS.defaultFor(k),
        CHANNEL_MULT.defaultFor(k), NUM_RES_BLOCKS.defaultFor(k), ATTENTION.defaultFor(k),
        GROUPS.defaultFor(k), DROPOUT.defaultFor(k), ATTN_RESOLUTIONS.defaultFor(k),
        ConfigSection.of(UNET2D_CONFIG.path(), values));
  }

  /** The {@code UNet2DModel} config of {@code model.unet2d}, errors located at its keys. */
  private static UNet2DConfig unet2dConfig(ConfigSection section) {
    Map<String, Object> values = section.toMap();
    if (values.isEmpty()) {
      throw new ConfigException(UNET2D_CONFIG.path(), "is required for model.kind unet2d: the keys of "
          + "diffusers' UNet2DModel config.json, e.g. {block_out_channels: [128, 256, 256, 256], ...} "
          + "(docs/diffusers.md)");
    }
    Set<String> unknown = UNet2DConfig.unknownKeys(values);
    if (!unknown.isEmpty()) {
      String key = unknown.iterator().next();
      throw section.error(key, "not a UNet2DModel key; " + Suggestions.didYouMean(key, new ArrayList<>(
          new TreeSet<>(UNet2DConfig.KEYS))));
    }
    try {
      return UNet2DConfig.fromMap(values);
    } catch (UNet2DConfig.InvalidValue e) {
      throw section.error(e.key(), e.detail());
    }
  }

  /**
   * The architecture for a data shape and schedule.
   *
   * @param imageShape {@code [C, H, W]}
   * @param numTrainTimesteps {@code T}
   * @return the spec: {@link MlpSpec} for mlp, {@link UNetSpec} for unet, {@link DdpmUNetSpec} for ddpm,
   *     {@link UNet2DSpec} for unet2d
   * @throws ConfigException for a U-Net whose levels do not fit the image ({@code model.channel_mult}) or
   *     whose base channels cannot carry the timestep embedding or its GroupNorm ({@code model.base_channels}),
   *     or for an architecture whose weights or activations would not fit in one tensor (the key that sizes
   *     them)
   */
  public ModelSpec toSpec(Shape imageShape, int numTrainTimesteps) {
    ModelSpec spec = spec(imageShape, numTrainTimesteps);
    Sizes.checkModel(this, spec, imageShape);
    return spec;
  }

  private ModelSpec spec(Shape imageShape, int numTrainTimesteps) {
    if (kind == Kind.MLP) {
      return new MlpSpec(imageShape, numTrainTimesteps, hidden);
    }
    if (kind == Kind.UNET2D) {
      try {
        return new UNet2DSpec(imageShape, numTrainTimesteps, unet2dConfig(unet2d));
      } catch (UNet2DConfig.InvalidValue e) {
        throw unet2d.error(e.key(), e.detail() + " (data.image_shape is " + imageShape + ")");
      }
    }
    if (kind == Kind.DDPM) {
      if (baseChannels % DdpmUNetSpec.GROUPS != 0) {
        throw new ConfigException(BASE_CHANNELS.path(), "must be a multiple of " + DdpmUNetSpec.GROUPS
            + " for ddpm (its GroupNorm has " + DdpmUNetSpec.GROUPS + " groups), got " + baseChannels);
      }
      if (imageShape.rank() == 3 && imageShape.dim(1) != imageShape.dim(2)) {
        throw new ConfigException(DataConfig.IMAGE_SHAPE.path(), "the ddpm model takes square images, got "
            + imageShape + "; use model.kind unet or crop the images");
      }
    }
    if (baseChannels < 4 || baseChannels % 2 != 0) {
      throw new ConfigException(BASE_CHANNELS.path(), "must be even and at least 4 for unet (the "
          + "timestep embedding has base_channels / 2 frequencies), got " + baseChannels);
    }
    int halvings = channelMult.size() - 1;
    long factor = 1L << Math.min(halvings, 62); // beyond 2^31 no image side is a multiple
    if (imageShape.rank() == 3 && (imageShape.dim(1) % factor != 0 || imageShape.dim(2) % factor != 0)) {
      throw new ConfigException(CHANNEL_MULT.path(), channelMult.size() + " levels halve the image "
          + halvings + " times, so its height and width must be multiples of "
          + (halvings <= 62 ? Long.toString(factor) : "2^" + halvings)
          + ", but the image shape is " + imageShape + "; use fewer levels or pad the images");
    }
    try {
      if (kind == Kind.DDPM) {
        return new DdpmUNetSpec(imageShape, numTrainTimesteps, baseChannels, channelMult, numResBlocks,
            attnResolutions, dropout);
      }
      return new UNetSpec(imageShape, numTrainTimesteps, baseChannels, channelMult, numResBlocks, attention, groups,
          dropout);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(BASE_CHANNELS.path(), e.getMessage());
    }
  }
}
