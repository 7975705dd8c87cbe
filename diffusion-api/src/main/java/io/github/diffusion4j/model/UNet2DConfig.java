package io.github.diffusion4j.model;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The configuration of diffusers' {@code UNet2DModel} (its {@code config.json}), as far as the layer kinds can
 * compute it: every value of the published DDPM models (google/ddpm-cifar10-32, ddpm-celebahq-256,
 * ddpm-church-256, ddpm-bedroom-256, ddpm-cat-256) and the other values whose blocks are made of the same
 * layers. {@link #fromMap} reads a {@code config.json} with diffusers' defaults for absent keys (those of
 * {@code UNet2DModel.__init__} in diffusers' {@code models/unets/unet_2d.py}); an unsupported value is an
 * {@link InvalidValue} naming the key and what is supported. {@link UNet2DSpec} is the network.
 *
 * <p>Values that must keep diffusers' default (and are written with it): {@code center_input_sample: false},
 * {@code time_embedding_type: "positional"}, {@code downsample_type} and {@code upsample_type: "conv"},
 * {@code resnet_time_scale_shift: "default"}, {@code class_embed_type} and {@code num_class_embeds: null}.
 * {@code num_train_timesteps} only matters for a learned time embedding and is ignored.
 *
 * @param sampleSize {@code sample_size} as {@code [height, width]}, or empty when the config has none
 * @param inChannels {@code in_channels}
 * @param outChannels {@code out_channels}
 * @param flipSinToCos {@code flip_sin_to_cos}: cosines first in the timestep embedding
 * @param freqShift {@code freq_shift}: the embedding's {@code downscale_freq_shift}
 * @param downBlockTypes {@code down_block_types}: {@value #DOWN_BLOCK} or {@value #ATTN_DOWN_BLOCK} per level
 * @param midBlock whether {@code mid_block_type} is {@value #MID_BLOCK} (else null: no middle block)
 * @param upBlockTypes {@code up_block_types}: {@value #UP_BLOCK} or {@value #ATTN_UP_BLOCK} per level, deepest
 *     first
 * @param blockOutChannels {@code block_out_channels}, one per level
 * @param layersPerBlock {@code layers_per_block}: residual blocks per level down (one more up)
 * @param midBlockScaleFactor {@code mid_block_scale_factor}: the middle's residual sums are divided by it
 * @param downsamplePadding {@code downsample_padding}: 1 pads every side; 0 pads right and bottom only
 * @param dropout {@code dropout} of the residual blocks (training only)
 * @param actFn {@code act_fn}: {@code silu} (also {@code swish}) or {@code relu}, the residual blocks'
 *     nonlinearity
 * @param attentionHeadDim {@code attention_head_dim}; empty for null (one head over all channels)
 * @param normNumGroups {@code norm_num_groups}
 * @param attnNormNumGroups {@code attn_norm_num_groups}: the middle attention's GroupNorm groups; empty for null
 *     ({@code norm_num_groups})
 * @param normEps {@code norm_eps}
 * @param addAttention {@code add_attention}: whether the middle block has attention
 * @param timeEmbeddingDim {@code time_embedding_dim}; empty for null ({@code 4 * block_out_channels[0]})
 */
public record UNet2DConfig(
    List<Integer> sampleSize,
    int inChannels,
    int outChannels,
    boolean flipSinToCos,
    double freqShift,
    List<String> downBlockTypes,
    boolean midBlock,
    List<String> upBlockTypes,
    List<Integer> blockOutChannels,
    int layersPerBlock,
    double midBlockScaleFactor,
    int downsamplePadding,
    double dropout,
    String actFn,
    OptionalInt attentionHeadDim,
    int normNumGroups,
    OptionalInt attnNormNumGroups,
    double normEps,
    boolean addAttention,
    OptionalInt timeEmbeddingDim) {

  /** The class name of a {@code config.json} this record describes. */
  public static final String CLASS_NAME = "UNet2DModel";
  /** A level of residual blocks. */
  public static final String DOWN_BLOCK = "DownBlock2D";
  /** A level of residual blocks, each followed by attention. */
  public static final String ATTN_DOWN_BLOCK = "AttnDownBlock2D";
  /** A level of residual blocks on the way up. */
  public static final String UP_BLOCK = "UpBlock2D";
  /** A level of residual blocks on the way up, each followed by attention. */
  public static final String ATTN_UP_BLOCK = "AttnUpBlock2D";
  /** The middle block: residual block, attention, residual block. */
  public static final String MID_BLOCK = "UNetMidBlock2D";

  /** The diffusers version whose {@code UNet2DModel} keys {@link #toMap()} writes. */
  public static final String DIFFUSERS_VERSION = "0.32.0";

  private static final int MAX_LEVELS = 16;
  private static final int MAX_CHANNELS = 1 << 14;

  /** The keys {@code UNet2DModel.__init__} takes, besides those that start with an underscore. */
  public static final Set<String> KEYS = Set.of("sample_size", "in_channels", "out_channels", "center_input_sample",
      "time_embedding_type", "time_embedding_dim", "freq_shift", "flip_sin_to_cos", "down_block_types",
      "mid_block_type", "up_block_types", "block_out_channels", "layers_per_block", "mid_block_scale_factor",
      "downsample_padding", "downsample_type", "upsample_type", "dropout", "act_fn", "attention_head_dim",
      "norm_num_groups", "attn_norm_num_groups", "norm_eps", "resnet_time_scale_shift", "add_attention",
      "class_embed_type", "num_class_embeds", "num_train_timesteps");

  /** A config value this SDK cannot compute, or a malformed one; {@link #key()} names it. */
  public static final class InvalidValue extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String key;
    private final String detail;

    /**
     * Creates the exception.
     *
     * @param key the config key
     * @param detail what is wrong and what is allowed
     */
    public InvalidValue(String key, String detail) {
      super(key + ": " + shorten(detail));
      this.key = key;
      this.detail = shorten(detail);
    }

    /** The middle of a detail longer than 500 characters cut out: it may quote a value of megabytes. */
    private static String shorten(String detail) {
      return detail.length() <= 500 ? detail
          : detail.substring(0, 300) + " ... (" + (detail.length() - 400) + " characters) ... "
              + detail.substring(detail.length() - 100);
    }

    /**
     * The key at fault.
     *
     * @return e.g. {@code "down_block_types"}
     */
    public String key() {
      return key;
    }

    /**
     * What is wrong, without the key.
     *
     * @return the detail
     */
    public String detail() {
      return detail;
    }
  }

  /**
   * Validates the values and copies the lists.
   *
   * @param sampleSize {@code [height, width]} or empty
   * @param inChannels {@code in_channels}, positive
   * @param outChannels {@code out_channels}, positive
   * @param flipSinToCos {@code flip_sin_to_cos}
   * @param freqShift {@code freq_shift}, finite, below half of {@code block_out_channels[0]}
   * @param downBlockTypes one supported type per level
   * @param midBlock whether there is a middle block
   * @param upBlockTypes one supported type per level
   * @param blockOutChannels positive, each a multiple of {@code norm_num_groups}
   * @param layersPerBlock at least 1
   * @param midBlockScaleFactor finite, not zero
   * @param downsamplePadding 0 or 1
   * @param dropout in [0, 1)
   * @param actFn {@code silu}, {@code swish} or {@code relu}
   * @param attentionHeadDim positive and at most the channels of each level with attention, or empty
   * @param normNumGroups positive
   * @param attnNormNumGroups positive, dividing the deepest level's channels where the middle block has attention, or
   *     empty
   * @param normEps positive
   * @param addAttention whether the middle block has attention
   * @param timeEmbeddingDim positive, or empty
   * @throws InvalidValue naming the key at fault
   */
  public UNet2DConfig {
    sampleSize = sampleSize == null ? List.of() : List.copyOf(sampleSize);
    if (!sampleSize.isEmpty() && (sampleSize.size() != 2 || sampleSize.get(0) < 1 || sampleSize.get(1) < 1)) {
      throw new InvalidValue("sample_size", "must be a positive integer or [height, width], got " + sampleSize);
    }
    positive("in_channels", inChannels, MAX_CHANNELS);
    positive("out_channels", outChannels, MAX_CHANNELS);
    if (blockOutChannels == null || blockOutChannels.isEmpty() || blockOutChannels.size() > MAX_LEVELS) {
      throw new InvalidValue("block_out_channels", "must list 1 to " + MAX_LEVELS + " levels, got " + blockOutChannels);
    }
    blockOutChannels = List.copyOf(blockOutChannels);
    for (int c : blockOutChannels) {
      if (c < 1 || c > MAX_CHANNELS) {
        throw new InvalidValue("block_out_channels", "entries must be in [1, " + MAX_CHANNELS + "], got " + blockOutChannels);
      }
    }
    int levels = blockOutChannels.size();
    downBlockTypes = blockTypes("down_block_types", downBlockTypes, levels, DOWN_BLOCK, ATTN_DOWN_BLOCK);
    upBlockTypes = blockTypes("up_block_types", upBlockTypes, levels, UP_BLOCK, ATTN_UP_BLOCK);
    positive("layers_per_block", layersPerBlock, 64);
    if (!Double.isFinite(midBlockScaleFactor) || midBlockScaleFactor == 0) {
      throw new InvalidValue("mid_block_scale_factor", "must be a finite number other than 0, got " + midBlockScaleFactor);
    }
    if (downsamplePadding != 0 && downsamplePadding != 1) {
      throw new InvalidValue("downsample_padding", "supported are 0 (pad right and bottom) and 1, got " + downsamplePadding);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new InvalidValue("dropout", "must be in [0, 1), got " + dropout);
    }
    if (actFn == null || !Set.of("silu", "swish", "relu").contains(actFn.toLowerCase(Locale.ROOT))) {
      throw new InvalidValue("act_fn", "supported are silu, swish and relu, got " + actFn);
    }
    actFn = actFn.toLowerCase(Locale.ROOT);
    positive("norm_num_groups", normNumGroups, MAX_CHANNELS);
    for (int c : blockOutChannels) {
      if (c % normNumGroups != 0) {
        throw new InvalidValue("norm_num_groups", normNumGroups + " groups must divide every entry of block_out_channels "
            + blockOutChannels + " (GroupNorm)");
      }
    }
    if (!(normEps > 0) || Double.isInfinite(normEps)) {
      throw new InvalidValue("norm_eps", "must be a positive number, got " + normEps);
    }
    attentionHeadDim = attentionHeadDim == null ? OptionalInt.empty() : attentionHeadDim;
    attnNormNumGroups = attnNormNumGroups == null ? OptionalInt.empty() : attnNormNumGroups;
    timeEmbeddingDim = timeEmbeddingDim == null ? OptionalInt.empty() : timeEmbeddingDim;
    if (attentionHeadDim.isPresent()) {
      positive("attention_head_dim", attentionHeadDim.getAsInt(), MAX_CHANNELS);
      for (int i = 0; i < levels; i++) {
        boolean attention = downBlockTypes.get(i).equals(ATTN_DOWN_BLOCK) || upBlockTypes.get(levels - 1 - i).equals(ATTN_UP_BLOCK)
            || (i == levels - 1 && midBlock && addAttention);
        if (attention && attentionHeadDim.getAsInt() > blockOutChannels.get(i)) {
          throw new InvalidValue("attention_head_dim", attentionHeadDim.getAsInt() + " exceeds the " + blockOutChannels.get(i)
              + " channels of level " + i + ", which has attention (diffusers would build 0 heads)");
        }
      }
    }
    int deepest = blockOutChannels.get(levels - 1);
    if (attnNormNumGroups.isPresent()) {
      positive("attn_norm_num_groups", attnNormNumGroups.getAsInt(), MAX_CHANNELS);
      // only the middle block's attention has it (diffusers' UNetMidBlock2D): without one any count loads there
      if (midBlock && addAttention && deepest % attnNormNumGroups.getAsInt() != 0) {
        throw new InvalidValue("attn_norm_num_groups", attnNormNumGroups.getAsInt() + " groups must divide the middle block's "
            + deepest + " channels");
      }
    }
    if (timeEmbeddingDim.isPresent()) {
      positive("time_embedding_dim", timeEmbeddingDim.getAsInt(), 1 << 16);
    }
    int half = blockOutChannels.get(0) / 2;
    if (!Double.isFinite(freqShift) || !(half - freqShift > 0)) {
      throw new InvalidValue("freq_shift", "must be below half of block_out_channels[0] (" + half + "), got " + freqShift);
    }
  }

  private static void positive(String key, int v, int max) {
    if (v < 1 || v > max) {
      throw new InvalidValue(key, "must be an integer in [1, " + max + "], got " + v);
    }
  }

  /** A value for a message, at most about 200 characters: a file may hold a list of a million entries. */
  static String brief(Object v) {
    String s = String.valueOf(v);
    if (s.length() <= 200) {
      return s;
    }
    return s.substring(0, 196) + " ..." + (v instanceof List<?> l ? " (" + l.size() + " entries)" : "");
  }

  private static List<String> blockTypes(String key, List<String> types, int levels, String plain, String attention) {
    if (types == null || types.size() != levels) {
      throw new InvalidValue(key, "must list one block type per entry of block_out_channels (" + levels + "), got "
          + (types == null ? "none" : types.size() + ": " + brief(types)));
    }
    List<String> out = new ArrayList<>();
    for (String t : types) {
      // diffusers' get_down_block / get_up_block accept the same names with a "UNetRes" prefix
      String name = t != null && t.startsWith("UNetRes") ? t.substring(7) : t;
      if (!plain.equals(name) && !attention.equals(name)) {
        throw new InvalidValue(key, "block type '" + brief(t) + "' is not supported; supported are " + plain + " and "
            + attention);
      }
      out.add(name);
    }
    return List.copyOf(out);
  }

  /**
   * This configuration with another {@code sample_size}: the same network, drawn at another image size.
   *
   * @param size {@code [height, width]}, or empty for none
   * @return the new configuration
   */
  public UNet2DConfig withSampleSize(List<Integer> size) {
    return new UNet2DConfig(size, inChannels, outChannels, flipSinToCos, freqShift, downBlockTypes, midBlock,
        upBlockTypes, blockOutChannels, layersPerBlock, midBlockScaleFactor, downsamplePadding, dropout, actFn,
        attentionHeadDim, normNumGroups, attnNormNumGroups, normEps, addAttention, timeEmbeddingDim);
  }

  /**
   * The number of levels.
   *
   * @return {@code block_out_channels.size()}
   */
  public int levels() {
    return blockOutChannels.size();
  }

  /**
   * Whether a level's down block has attention after each residual block.
   *
   * @param level the level, 0 the first
   * @return true for {@value #ATTN_DOWN_BLOCK}
   */
  public boolean downAttention(int level) {
    return downBlockTypes.get(level).equals(ATTN_DOWN_BLOCK);
  }

  /**
   * Whether an up block (in running order, the deepest first) has attention after each residual block.
   *
   * @param index the up block's index
   * @return true for {@value #ATTN_UP_BLOCK}
   */
  public boolean upAttention(int index) {
    return upBlockTypes.get(index).equals(ATTN_UP_BLOCK);
  }

  /**
   * The width of the timestep embedding after its two linear layers.
   *
   * @return {@code time_embedding_dim}, or {@code 4 * block_out_channels[0]}
   */
  public int timeEmbedDim() {
    return timeEmbeddingDim.orElse(4 * blockOutChannels.get(0));
  }

  /**
   * The head width of an attention block over {@code channels} channels, as diffusers computes it.
   *
   * @param channels the block's channels
   * @return {@code attention_head_dim}, or {@code channels} when it is null
   */
  public int headDim(int channels) {
    return attentionHeadDim.orElse(channels);
  }

  // ------------------------------------------------------------------------------------------ maps

  /**
   * Reads a {@code config.json} given as plain values (strings, numbers, booleans, null, lists): diffusers'
   * defaults for absent keys, keys that start with an underscore ignored except {@code _class_name}, which must
   * be {@value #CLASS_NAME}. Keys outside {@link #KEYS} are ignored here (diffusers ignores them with a
   * warning); {@link #unknownKeys} lists them.
   *
   * @param values the keys and values
   * @return the configuration
   * @throws InvalidValue naming the key of a malformed or unsupported value
   */
  public static UNet2DConfig fromMap(Map<String, ?> values) {
    Values v = new Values(values);
    Object className = values.get("_class_name");
    if (className != null && !CLASS_NAME.equals(className)) {
      throw new InvalidValue("_class_name", "'" + className + "' is not supported; this reads " + CLASS_NAME
          + " configs (unconditional pixel-space U-Nets)");
    }
    v.fixed("center_input_sample", false);
    v.fixed("time_embedding_type", "positional");
    v.fixed("downsample_type", "conv");
    v.fixed("upsample_type", "conv");
    v.fixed("resnet_time_scale_shift", "default");
    v.fixed("class_embed_type", null);
    v.fixed("num_class_embeds", null);
    Object mid = v.raw("mid_block_type", MID_BLOCK);
    if (mid != null && !MID_BLOCK.equals(mid)) {
      throw new InvalidValue("mid_block_type", "'" + mid + "' is not supported; supported are " + MID_BLOCK + " and null");
    }
    return new UNet2DConfig(
        v.sampleSize(),
        v.integer("in_channels", 3),
        v.integer("out_channels", 3),
        v.bool("flip_sin_to_cos", true),
        v.number("freq_shift", 0),
        v.strings("down_block_types", List.of(DOWN_BLOCK, ATTN_DOWN_BLOCK, ATTN_DOWN_BLOCK, ATTN_DOWN_BLOCK)),
        mid != null,
        v.strings("up_block_types", List.of(ATTN_UP_BLOCK, ATTN_UP_BLOCK, ATTN_UP_BLOCK, UP_BLOCK)),
        v.integers("block_out_channels", List.of(224, 448, 672, 896)),
        v.integer("layers_per_block", 2),
        v.number("mid_block_scale_factor", 1),
        v.integer("downsample_padding", 1),
        v.number("dropout", 0),
        v.string("act_fn", "silu"),
        v.optionalInteger("attention_head_dim", OptionalInt.of(8)),
        v.integer("norm_num_groups", 32),
        v.optionalInteger("attn_norm_num_groups", OptionalInt.empty()),
        v.number("norm_eps", 1e-5),
        v.bool("add_attention", true),
        v.optionalInteger("time_embedding_dim", OptionalInt.empty()));
  }

  /**
   * The keys of a {@code config.json} that {@code UNet2DModel} does not take (and do not start with an
   * underscore).
   *
   * @param values the keys and values
   * @return the unknown keys, sorted
   */
  public static Set<String> unknownKeys(Map<String, ?> values) {
    return keysNotIn(values, KEYS);
  }

  /**
   * The keys of a diffusers configuration file ({@code config.json}, {@code scheduler_config.json}) that are not
   * among those its class takes, leaving out the metadata whose keys start with an underscore
   * ({@code _class_name}, {@code _diffusers_version}).
   *
   * @param values the file's keys and values
   * @param taken the keys the class takes
   * @return the other keys, sorted
   */
  public static Set<String> keysNotIn(Map<String, ?> values, Set<String> taken) {
    Set<String> out = new TreeSet<>();
    for (String k : values.keySet()) {
      if (!k.startsWith("_") && !taken.contains(k)) {
        out.add(k);
      }
    }
    return out;
  }

  /**
   * The {@code config.json} content, every key {@code UNet2DModel} takes, sorted as diffusers writes them,
   * with {@code _class_name} and {@code _diffusers_version}.
   *
   * @return the keys and plain values (null for JSON null)
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new TreeMap<>();
    m.put("_class_name", CLASS_NAME);
    m.put("_diffusers_version", DIFFUSERS_VERSION);
    m.put("act_fn", actFn);
    m.put("add_attention", addAttention);
    m.put("attention_head_dim", attentionHeadDim.isPresent() ? (Object) attentionHeadDim.getAsInt() : null);
    m.put("attn_norm_num_groups", attnNormNumGroups.isPresent() ? (Object) attnNormNumGroups.getAsInt() : null);
    m.put("block_out_channels", blockOutChannels);
    m.put("center_input_sample", false);
    m.put("class_embed_type", null);
    m.put("down_block_types", downBlockTypes);
    m.put("downsample_padding", downsamplePadding);
    m.put("downsample_type", "conv");
    m.put("dropout", dropout);
    m.put("flip_sin_to_cos", flipSinToCos);
    m.put("freq_shift", plainNumber(freqShift));
    m.put("in_channels", inChannels);
    m.put("layers_per_block", layersPerBlock);
    m.put("mid_block_scale_factor", plainNumber(midBlockScaleFactor));
    m.put("mid_block_type", midBlock ? MID_BLOCK : null);
    m.put("norm_eps", normEps);
    m.put("norm_num_groups", normNumGroups);
    m.put("num_class_embeds", null);
    m.put("num_train_timesteps", null);
    m.put("out_channels", outChannels);
    m.put("resnet_time_scale_shift", "default");
    Object size = null;
    if (!sampleSize.isEmpty()) {
      size = sampleSize.get(0).equals(sampleSize.get(1)) ? (Object) sampleSize.get(0) : sampleSize;
    }
    m.put("sample_size", size);
    m.put("time_embedding_dim", timeEmbeddingDim.isPresent() ? (Object) timeEmbeddingDim.getAsInt() : null);
    m.put("time_embedding_type", "positional");
    m.put("up_block_types", upBlockTypes);
    m.put("upsample_type", "conv");
    return m;
  }

  /** An integral double as an integer (diffusers writes {@code "freq_shift": 1}). */
  private static Object plainNumber(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1 << 30 ? (Object) (int) d : (Object) d;
  }

  /** Typed reads of plain values, with the default for absent keys. */
  private static final class Values {
    private final Map<String, ?> values;

    Values(Map<String, ?> values) {
      this.values = new LinkedHashMap<>(values);
    }

    Object raw(String key, Object dflt) {
      return values.containsKey(key) ? values.get(key) : dflt;
    }

    void fixed(String key, Object supported) {
      if (!values.containsKey(key)) {
        return;
      }
      Object v = values.get(key);
      boolean same = supported == null ? v == null : supported.equals(v);
      if (!same) {
        throw new InvalidValue(key, describe(v) + " is not supported; only " + describe(supported)
            + " (the value of the published DDPM models) can be computed with this SDK's layer kinds");
      }
    }

    private static String describe(Object v) {
      return v == null ? "null" : v instanceof String s ? "'" + brief(s) + "'" : brief(v);
    }

    private static InvalidValue wrong(String key, String expected, Object v) {
      return new InvalidValue(key, "expected " + expected + ", got " + describe(v));
    }

    static boolean isInteger(Object v) {
      if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
        return true;
      }
      return v instanceof BigInteger b && b.bitLength() < 32;
    }

    static int toInt(String key, Object v) {
      if (v instanceof BigInteger b) {
        return b.intValueExact();
      }
      long l = ((Number) v).longValue();
      if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
        throw wrong(key, "an integer", v);
      }
      return (int) l;
    }

    int integer(String key, int dflt) {
      Object v = raw(key, dflt);
      if (!isInteger(v)) {
        throw wrong(key, "an integer", v);
      }
      return toInt(key, v);
    }

    OptionalInt optionalInteger(String key, OptionalInt dflt) {
      if (!values.containsKey(key)) {
        return dflt;
      }
      Object v = values.get(key);
      if (v == null) {
        return OptionalInt.empty();
      }
      if (!isInteger(v)) {
        throw wrong(key, "an integer or null", v);
      }
      return OptionalInt.of(toInt(key, v));
    }

    double number(String key, double dflt) {
      Object v = raw(key, dflt);
      if (!(v instanceof Number) || v instanceof BigDecimal b && b.abs().compareTo(BigDecimal.valueOf(Double.MAX_VALUE)) > 0) {
        throw wrong(key, "a number", v);
      }
      return ((Number) v).doubleValue();
    }

    boolean bool(String key, boolean dflt) {
      Object v = raw(key, dflt);
      if (!(v instanceof Boolean b)) {
        throw wrong(key, "true or false", v);
      }
      return b;
    }

    String string(String key, String dflt) {
      Object v = raw(key, dflt);
      if (!(v instanceof String s)) {
        throw wrong(key, "a string", v);
      }
      return s;
    }

    List<String> strings(String key, List<String> dflt) {
      Object v = raw(key, dflt);
      if (!(v instanceof List<?> l)) {
        throw wrong(key, "a list of block type names", v);
      }
      List<String> out = new ArrayList<>();
      for (Object o : l) {
        if (!(o instanceof String s)) {
          throw wrong(key, "a list of block type names", v);
        }
        out.add(s);
      }
      return out;
    }

    List<Integer> integers(String key, List<Integer> dflt) {
      Object v = raw(key, dflt);
      if (!(v instanceof List<?> l) || l.size() > MAX_LEVELS) {
        throw wrong(key, "a list of at most " + MAX_LEVELS + " integers", v);
      }
      List<Integer> out = new ArrayList<>();
      for (Object o : l) {
        if (!isInteger(o)) {
          throw wrong(key, "a list of integers", v);
        }
        out.add(toInt(key, o));
      }
      return out;
    }

    List<Integer> sampleSize() {
      Object v = raw("sample_size", null);
      if (v == null) {
        return List.of();
      }
      if (isInteger(v)) {
        int s = toInt("sample_size", v);
        return List.of(s, s);
      }
      if (v instanceof List<?> l && l.size() == 2 && isInteger(l.get(0)) && isInteger(l.get(1))) {
        return List.of(toInt("sample_size", l.get(0)), toInt("sample_size", l.get(1)));
      }
      throw wrong("sample_size", "an integer, [height, width] or null", v);
    }
  }
}
