package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DDPM U-Net in miniature ({@code model.kind: unet}), after Ho et al. (2020), with the module names
 * of its PyTorch port. The PyTorch module {@code docs/unet_reference.py} is the definition: its
 * {@code state_dict()} names, order and layouts are {@link #parameterShapes()}, its eval-mode
 * {@code forward} is the function every backend computes; {@code docs/unet.md} describes it in words.
 *
 * <p>In short, with {@code ch = baseChannels}, {@code L = channelMult.size()} levels and {@code ch_i =
 * ch * channelMult[i]}:
 *
 * <pre>
 *   temb  = dense.1(SiLU(dense.0(sinusoidal(t, ch))))                 ch -&gt; 4ch -&gt; 4ch
 *   hs    = [conv_in(x)]                                               3x3, C -&gt; ch
 *   level i = 0..L-1:  numResBlocks x ResBlock(-&gt; ch_i), each output pushed on hs;
 *                      if i &lt; L-1: conv 3x3 stride 2 pad 1 (downsample), pushed on hs
 *   mid   = ResBlock, [single-head self-attention], ResBlock
 *   level i = L-1..0:  numResBlocks+1 x ResBlock(cat(h, hs.pop()) -&gt; ch_i);
 *                      if i &gt; 0: nearest x2 upsample, conv 3x3
 *   out   = conv_out(SiLU(norm_out(h)))                                3x3, ch_0 -&gt; C
 *
 *   ResBlock(x):  h = conv1(SiLU(norm1(x))) + temb_proj(SiLU(temb))[:, :, None, None]
 *                 h = conv2(dropout(SiLU(norm2(h))))
 *                 return (nin_shortcut(x) if in != out else x) + h        nin_shortcut 1x1
 *   Attention(x): q, k, v = split(qkv(norm(x)), 3 along channels)       qkv 1x1, C -&gt; 3C
 *                 w = softmax over keys of (q^T k / sqrt(C)) ; return x + proj_out(v w^T)
 * </pre>
 *
 * GroupNorm has {@code groups} groups, {@code eps = 1e-5}, and a per-channel affine weight and bias.
 *
 * @param imageShape {@code [C, H, W]}; {@code H} and {@code W} must be multiples of {@code 2^(L-1)}
 * @param numTrainTimesteps {@code T}; timesteps given to the model are in {@code [0, T)}
 * @param baseChannels {@code ch}, even and at least 4 (the embedding has {@code ch / 2} frequencies)
 * @param channelMult the channel multiplier of each level, not empty, each at least 1
 * @param numResBlocks residual blocks per level on the way down, at least 1
 * @param attention whether the middle has self-attention
 * @param groups GroupNorm groups, dividing every level's channels (and so every block's input)
 * @param dropout the dropout probability inside residual blocks during training, in [0, 1)
 */
public record UNetSpec(
    Shape imageShape,
    int numTrainTimesteps,
    int baseChannels,
    List<Integer> channelMult,
    int numResBlocks,
    boolean attention,
    int groups,
    double dropout)
    implements ModelSpec {

  /** The configuration name, {@code "unet"}. */
  public static final String KIND = "unet";

  /** GroupNorm's {@code eps} (PyTorch's default). */
  public static final double GROUP_NORM_EPS = 1e-5;

  /** The split index of the initialisation stream ({@code "UNET_INI"}): see {@link #initialWeights}. */
  public static final long INIT_STREAM = 0x554E45545F494E49L;

  /** The split index of the dropout stream ({@code "UNET_DRO"}): see {@link #dropoutMask}. */
  public static final long DROPOUT_STREAM = 0x554E45545F44524FL;

  /**
   * Validates the values and copies the list.
   *
   * @param imageShape {@code [C, H, W]}; {@code H} and {@code W} must be multiples of {@code 2^(L-1)}
   * @param numTrainTimesteps {@code T}; timesteps given to the model are in {@code [0, T)}
   * @param baseChannels {@code ch}, even and at least 4 (the embedding has {@code ch / 2} frequencies)
   * @param channelMult the channel multiplier of each level, not empty, each at least 1
   * @param numResBlocks residual blocks per level on the way down, at least 1
   * @param attention whether the middle has self-attention
   * @param groups GroupNorm groups, dividing every level's channels (and so every block's input)
   * @param dropout the dropout probability inside residual blocks during training, in [0, 1)
   */
  public UNetSpec {
    if (imageShape == null || imageShape.rank() != 3) {
      throw new IllegalArgumentException("image_shape must be [C, H, W], got " + imageShape);
    }
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException("num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (baseChannels < 4 || baseChannels % 2 != 0) {
      throw new IllegalArgumentException(
          "base_channels must be even and at least 4 (the timestep embedding has base_channels / 2 "
              + "frequencies), got " + baseChannels);
    }
    if (channelMult == null || channelMult.isEmpty()) {
      throw new IllegalArgumentException("channel_mult must list at least one level, got " + channelMult);
    }
    channelMult = List.copyOf(channelMult);
    for (int m : channelMult) {
      if (m < 1) {
        throw new IllegalArgumentException("channel_mult entries must be at least 1, got " + channelMult);
      }
      if ((long) baseChannels * m > 1 << 16) {
        throw new IllegalArgumentException(
            "base_channels x channel_mult must be at most 65536, got " + (long) baseChannels * m);
      }
      if (groups < 1 || baseChannels * m % groups != 0) {
        throw new IllegalArgumentException(
            "groups (" + groups + ") must divide the channels of every level; base_channels " + baseChannels
                + " x channel_mult " + m + " = " + baseChannels * m);
      }
    }
    if (numResBlocks < 1) {
      throw new IllegalArgumentException("num_res_blocks must be at least 1, got " + numResBlocks);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
    int factor = 1 << Math.min(channelMult.size() - 1, 30);
    if (channelMult.size() > 31 || imageShape.dim(1) % factor != 0 || imageShape.dim(2) % factor != 0) {
      throw new IllegalArgumentException(
          "image_shape " + imageShape + ": " + channelMult.size() + " levels halve the image "
              + (channelMult.size() - 1) + " times, so height and width must be multiples of " + factor
              + "; use fewer levels or pad the images");
    }
  }

  /**
   * The default miniature U-Net for an image shape: {@code ch = 32}, {@code channelMult = [1, 2, 2]}, one
   * residual block per level, attention in the middle, 8 groups, no dropout.
   *
   * @param imageShape {@code [C, H, W]}, {@code H} and {@code W} multiples of 4
   * @param numTrainTimesteps {@code T}
   * @return the spec
   */
  public static UNetSpec defaults(Shape imageShape, int numTrainTimesteps) {
    return new UNetSpec(imageShape, numTrainTimesteps, 32, List.of(1, 2, 2), 1, true, 8, 0.0);
  }

  @Override
  public String kind() {
    return KIND;
  }

  /**
   * The number of resolutions {@code L}.
   *
   * @return {@code channelMult().size()}
   */
  public int levels() {
    return channelMult.size();
  }

  /**
   * The channels of a level, {@code ch * channelMult[level]}.
   *
   * @param level {@code 0 <= level < levels()}
   * @return the channels
   */
  public int channels(int level) {
    return baseChannels * channelMult.get(level);
  }

  /**
   * The shape of one item's activation inside a level, {@code [c, H / 2^level, W / 2^level]}.
   *
   * @param level the level
   * @param c the channels
   * @return the shape
   */
  public Shape activation(int level, int c) {
    return Shape.of(c, imageShape.dim(1) >> level, imageShape.dim(2) >> level);
  }

  /**
   * The width of the timestep embedding after the two dense layers, {@code 4 * ch}.
   *
   * @return the embedding width
   */
  public int embeddingChannels() {
    return 4 * baseChannels;
  }

  /**
   * One residual block: its state-dict prefix and channels.
   *
   * @param prefix e.g. {@code "down.0.block.0"} (names are {@code prefix + ".conv1.weight"} etc.)
   * @param inChannels the input's channels
   * @param outChannels the output's channels; a {@code nin_shortcut} exists iff they differ
   * @param level the level whose resolution it runs at ({@code H / 2^level} by {@code W / 2^level})
   */
  public record ResBlock(String prefix, int inChannels, int outChannels, int level) {

    /**
     * Whether the block has a 1x1 {@code nin_shortcut} (input and output channels differ).
     *
     * @return true if it does
     */
    public boolean hasShortcut() {
      return inChannels != outChannels;
    }
  }

  /**
   * The residual blocks of a level on the way down, in order: {@code down.<level>.block.<j>}.
   *
   * @param level the level
   * @return {@code numResBlocks} blocks
   */
  public List<ResBlock> downBlocks(int level) {
    List<ResBlock> out = new ArrayList<>();
    int in = level == 0 ? baseChannels : channels(level - 1);
    for (int j = 0; j < numResBlocks; j++) {
      out.add(new ResBlock("down." + level + ".block." + j, in, channels(level), level));
      in = channels(level);
    }
    return out;
  }

  /**
   * The channels of the skip connections, in the order they are pushed on the way down: {@code conv_in},
   * then per level its blocks and (but at the last level) its downsampling.
   *
   * @return the channels of each pushed activation
   */
  private List<Integer> skipChannels() {
    List<Integer> hs = new ArrayList<>();
    hs.add(baseChannels);
    for (int i = 0; i < levels(); i++) {
      for (int j = 0; j < numResBlocks; j++) {
        hs.add(channels(i));
      }
      if (i < levels() - 1) {
        hs.add(channels(i));
      }
    }
    return hs;
  }

  /**
   * The residual blocks of a level on the way up, in the order they run: {@code up.<level>.block.<j>},
   * {@code j = 0..numResBlocks}, block {@code j}'s input being the concatenation (along channels) of the
   * running activation and the most recent unused skip activation, in that order.
   *
   * @param level the level
   * @return {@code numResBlocks + 1} blocks
   */
  public List<ResBlock> upBlocks(int level) {
    List<Integer> hs = skipChannels();
    int h = channels(levels() - 1);
    for (int i = levels() - 1; i >= 0; i--) {
      List<ResBlock> out = new ArrayList<>();
      for (int j = 0; j <= numResBlocks; j++) {
        int skip = hs.remove(hs.size() - 1);
        out.add(new ResBlock("up." + i + ".block." + j, h + skip, channels(i), i));
        h = channels(i);
      }
      if (i == level) {
        return out;
      }
    }
    throw new IllegalArgumentException("level must be in [0, " + levels() + "), got " + level);
  }

  /**
   * The middle's first or second residual block, {@code mid.block_1} or {@code mid.block_2}.
   *
   * @param which 1 or 2
   * @return the block
   */
  public ResBlock midBlock(int which) {
    if (which != 1 && which != 2) {
      throw new IllegalArgumentException("the middle has blocks 1 and 2, got " + which);
    }
    int c = channels(levels() - 1);
    return new ResBlock("mid.block_" + which, c, c, levels() - 1);
  }

  /**
   * Every residual block in state-dict order (down, middle, then up by level 0, 1, ...): a block's index
   * here numbers its dropout mask.
   *
   * @return the blocks
   */
  public List<ResBlock> resBlocks() {
    List<ResBlock> out = new ArrayList<>();
    for (int i = 0; i < levels(); i++) {
      out.addAll(downBlocks(i));
    }
    out.add(midBlock(1));
    out.add(midBlock(2));
    for (int i = 0; i < levels(); i++) {
      out.addAll(upBlocks(i));
    }
    return out;
  }

  /**
   * The state-dict layout (names and shapes, in PyTorch's order, the order of
   * {@code docs/unet_reference.py}'s {@code state_dict()}): conv weights {@code [out, in, kh, kw]}, linear
   * weights {@code [out, in]}.
   *
   * @return the shapes by name
   */
  @Override
  public LinkedHashMap<String, int[]> parameterShapes() {
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    int ch = baseChannels;
    int temb = embeddingChannels();
    UNetLayouts.linear(m, "temb.dense.0", ch, temb);
    UNetLayouts.linear(m, "temb.dense.1", temb, temb);
    UNetLayouts.conv(m, "conv_in", imageShape.dim(0), ch, 3);
    for (int i = 0; i < levels(); i++) {
      for (ResBlock b : downBlocks(i)) {
        resBlock(m, b);
      }
      if (i < levels() - 1) {
        UNetLayouts.conv(m, "down." + i + ".downsample.conv", channels(i), channels(i), 3);
      }
    }
    resBlock(m, midBlock(1));
    if (attention) {
      int c = channels(levels() - 1);
      UNetLayouts.norm(m, "mid.attn_1.norm", c);
      UNetLayouts.conv(m, "mid.attn_1.qkv", c, 3 * c, 1);
      UNetLayouts.conv(m, "mid.attn_1.proj_out", c, c, 1);
    }
    resBlock(m, midBlock(2));
    for (int i = 0; i < levels(); i++) {
      for (ResBlock b : upBlocks(i)) {
        resBlock(m, b);
      }
      if (i > 0) {
        UNetLayouts.conv(m, "up." + i + ".upsample.conv", channels(i), channels(i), 3);
      }
    }
    UNetLayouts.norm(m, "norm_out", ch * channelMult.get(0));
    UNetLayouts.conv(m, "conv_out", channels(0), imageShape.dim(0), 3);
    return m;
  }

  private void resBlock(Map<String, int[]> m, ResBlock b) {
    DdpmResBlock.parameters(m, b.prefix(), b.inChannels(), b.outChannels(), embeddingChannels());
  }

  /**
   * The number of parameters (about 1.06 million for the defaults on 1x32x32).
   *
   * @return the total size of all entries
   */
  public int parameterCount() {
    long n = 0;
    for (int[] s : parameterShapes().values()) {
      n += size(s);
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("the U-Net has " + n + " parameters, more than one array can hold");
    }
    return (int) n;
  }

  private static int size(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /**
   * Whether an entry is a GroupNorm parameter ({@code norm1}, {@code norm2}, {@code norm},
   * {@code norm_out}).
   *
   * @param name a state-dict name
   * @return true for GroupNorm weights and biases
   */
  public static boolean isNorm(String name) {
    return UNetLayouts.isDdpmNorm(name);
  }

  /**
   * Whether an entry starts at zero: every bias, and the weights of the layers that end a residual path
   * ({@code conv2} of every residual block, the attention's {@code proj_out}) and of {@code conv_out}, as
   * in DDPM, so every residual block starts as the identity and the network starts by predicting 0.
   *
   * @param name a state-dict name
   * @return true if {@link #initialWeights} sets it to zero
   */
  public static boolean isZeroInit(String name) {
    return !isNorm(name) && (name.endsWith(".bias") || UNetLayouts.isDdpmZeroWeight(name));
  }

  /**
   * The initial weights for a seed, the same on every backend. Entry {@code i} (0-based, in state-dict
   * order) is
   *
   * <ul>
   *   <li>GroupNorm weights: 1; GroupNorm biases: 0;
   *   <li>{@linkplain #isZeroInit zero-initialised} entries: 0;
   *   <li>every other (convolution or linear) weight: {@code (2u - 1) / sqrt(fan_in)} rounded to float,
   *       {@code fan_in} the product of all but the first dimension (PyTorch's default bound), with
   *       {@code u} the successive {@code nextDouble()} of
   *       {@code Noise.seeded(seed).split(INIT_STREAM).split(i).generator()} in row-major order.
   * </ul>
   *
   * @param seed the run's seed
   * @return the weights
   */
  @Override
  public StateDict initialWeights(long seed) {
    return UNetLayouts.initialWeights(
        parameterShapes(), Noise.seeded(seed).split(INIT_STREAM), UNetSpec::isNorm, UNetSpec::isZeroInit);
  }

  /**
   * Ho et al.'s sinusoidal embedding as this U-Net computes it: {@code ch} wide, {@code [sin, cos]},
   * frequencies {@code exp(-ln(10000) i / (half - 1))}, in double precision rounded to float once.
   *
   * @return the embedding layer
   */
  public Layer.TimestepEmbedding embedding() {
    return new Layer.TimestepEmbedding(baseChannels, false, 1.0, 10000.0, Layer.Precision.DOUBLE);
  }

  /**
   * The embedding of integer timesteps, {@code [N, ch]} row-major (see {@link #embedding()}).
   *
   * @param timesteps the timesteps
   * @return {@code timesteps.length * ch} values
   */
  public float[] timestepEmbedding(int[] timesteps) {
    return embedding().compute(timesteps);
  }

  /**
   * The dropout mask of one residual block at one training step, the same on every backend: element
   * {@code j} (row-major over the block's {@code [N, C, H, W]} activation before {@code conv2}) is 0 if
   * {@code u_j < dropout} and {@code (float) (1 / (1 - dropout))} otherwise, {@code u_j} the successive
   * {@code nextDouble()} of {@code Noise.seeded(seed).split(DROPOUT_STREAM).split(step).split(block)
   * .generator()}.
   *
   * @param seed the model's seed (the one it was created with)
   * @param step the optimiser step being taken, 1-based (Adam's {@code t} after the step)
   * @param block the block's index in {@link #resBlocks()}
   * @param size the number of elements, {@code N * C * H * W}
   * @return the mask
   */
  public float[] dropoutMask(long seed, long step, int block, int size) {
    return new Layer.Dropout(dropout, DROPOUT_STREAM, block).mask(seed, step, size);
  }


  /**
   * The U-Net as layers, with the names of {@link #parameterShapes()}.
   *
   * @return the network
   */
  @Override
  public Network network() {
    NetworkBuilder b = new NetworkBuilder(parameterShapes());
    List<ResBlock> all = resBlocks();
    java.util.Map<String, Integer> index = new java.util.HashMap<>();
    for (int i = 0; i < all.size(); i++) {
      index.put(all.get(i).prefix(), i);
    }
    Node x = b.input(imageShape);
    Node temb = b.linear("temb.dense.1", b.silu(b.linear("temb.dense.0", b.timestepEmbedding(embedding()), embeddingChannels())), embeddingChannels());
    Node tembAct = b.silu(temb);
    java.util.ArrayDeque<Node> hs = new java.util.ArrayDeque<>();
    Node h = b.conv("conv_in", x, baseChannels, 3, 1, Layer.Padding.of(1));
    hs.push(h);
    for (int level = 0; level < levels(); level++) {
      for (ResBlock rb : downBlocks(level)) {
        h = resBlock(b, h, tembAct, rb, index.get(rb.prefix()));
        hs.push(h);
      }
      if (level < levels() - 1) {
        h = b.conv("down." + level + ".downsample.conv", h, channels(level), 3, 2, Layer.Padding.of(1));
        hs.push(h);
      }
    }
    h = resBlock(b, h, tembAct, midBlock(1), index.get("mid.block_1"));
    if (attention) {
      int c = channels(levels() - 1);
      Node qkv = b.conv("mid.attn_1.qkv", b.groupNorm("mid.attn_1.norm", h, groups, GROUP_NORM_EPS), 3 * c, 1, 1, Layer.Padding.of(0));
      Node a = b.attention(b.sliceChannels(qkv, 0, c), b.sliceChannels(qkv, c, 2 * c), b.sliceChannels(qkv, 2 * c, 3 * c), 1);
      h = b.add(h, b.conv("mid.attn_1.proj_out", a, c, 1, 1, Layer.Padding.of(0)));
    }
    h = resBlock(b, h, tembAct, midBlock(2), index.get("mid.block_2"));
    for (int level = levels() - 1; level >= 0; level--) {
      for (ResBlock rb : upBlocks(level)) {
        h = resBlock(b, b.concat(h, hs.pop()), tembAct, rb, index.get(rb.prefix()));
      }
      if (level > 0) {
        h = b.conv("up." + level + ".upsample.conv", b.upsample(h, 2), channels(level), 3, 1, Layer.Padding.of(1));
      }
    }
    Node out = b.conv("conv_out", b.silu(b.groupNorm("norm_out", h, groups, GROUP_NORM_EPS)), imageShape.dim(0), 3, 1, Layer.Padding.of(1));
    return b.build(out);
  }

  private Node resBlock(NetworkBuilder b, Node x, Node tembAct, ResBlock rb, int index) {
    return new DdpmResBlock(groups, GROUP_NORM_EPS, dropout, DROPOUT_STREAM)
        .layers(b, x, tembAct, rb.prefix(), rb.inChannels(), rb.outChannels(), index);
  }
}
