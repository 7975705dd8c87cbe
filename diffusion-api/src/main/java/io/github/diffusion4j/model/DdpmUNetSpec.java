package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DDPM U-Net family ({@code model.kind: ddpm}) exactly as the DDPM authors' model, in the PyTorch layout of
 * {@code Model} in ermongroup/ddim's {@code models/diffusion.py} (pesser/pytorch_diffusion's port of Ho et
 * al.'s TensorFlow code): the same state-dict names, order and shapes, so the published CIFAR-10, CelebA, LSUN
 * and CelebA-HQ checkpoints' tensors map one to one. {@code docs/ddpm_reference.py} is the PyTorch reference
 * module the tests compare with.
 *
 * <p>With {@code L = channelMult.size()} levels, {@code ch_i = ch * channelMult[i]} and {@code ch_{-1} = ch}:
 *
 * <pre>
 *   temb  = dense.1(SiLU(dense.0(embedding(t, ch))))         [sin, cos], f_i = exp(-ln(10000) i / (ch/2 - 1)), float32
 *   hs    = [conv_in(x)]                                      3x3, C -&gt; ch
 *   level i:  numResBlocks x { h = ResBlock(h -&gt; ch_i); if res(i) in attnResolutions: h = Attn(h) }, each pushed;
 *             if i &lt; L-1: pad right and bottom by 1, conv 3x3 stride 2 (down.i.downsample.conv), pushed
 *   mid   = ResBlock, Attn, ResBlock                          (mid.block_1, mid.attn_1, mid.block_2)
 *   level i = L-1..0:  numResBlocks+1 x { h = ResBlock(cat(h, hs.pop()) -&gt; ch_i); attention as on the way down };
 *             if i &gt; 0: nearest x2, conv 3x3 (up.i.upsample.conv)
 *   out   = conv_out(SiLU(norm_out(h)))                       3x3, ch_0 -&gt; C
 *   ResBlock(x): h = conv1(SiLU(norm1(x))) + temb_proj(SiLU(temb)); h = conv2(dropout(SiLU(norm2(h))));
 *                (nin_shortcut(x) if channels change else x) + h           nin_shortcut 1x1
 *   Attn(x):     q, k, v = 1x1 convs of norm(x); x + proj_out(softmax(q^T k / sqrt(C)) applied to v)
 * </pre>
 *
 * GroupNorm has 32 groups and {@code eps = 1e-6}; {@code res(i) = H / 2^i}. Images are square.
 *
 * @param imageShape {@code [C, H, H]}; {@code H} a multiple of {@code 2^(L-1)}
 * @param numTrainTimesteps {@code T}
 * @param baseChannels {@code ch} (the authors' {@code ch}), a multiple of 32
 * @param channelMult the authors' {@code ch_mult}
 * @param numResBlocks residual blocks per level on the way down (the up path has one more)
 * @param attnResolutions the resolutions whose levels have attention after each residual block
 * @param dropout the dropout probability of the residual blocks in training, in [0, 1)
 */
public record DdpmUNetSpec(
    Shape imageShape,
    int numTrainTimesteps,
    int baseChannels,
    List<Integer> channelMult,
    int numResBlocks,
    List<Integer> attnResolutions,
    double dropout)
    implements ModelSpec {

  /** The configuration name, {@code "ddpm"}. */
  public static final String KIND = "ddpm";

  /** GroupNorm's groups in the DDPM models. */
  public static final int GROUPS = 32;

  /** GroupNorm's {@code eps} in the DDPM models. */
  public static final double GROUP_NORM_EPS = 1e-6;

  /** The split index of the initialisation stream ({@code "DDPM_INI"}). */
  public static final long INIT_STREAM = 0x4444504D5F494E49L;

  /** The split index of the dropout stream ({@code "DDPM_DRO"}). */
  public static final long DROPOUT_STREAM = 0x4444504D5F44524FL;

  /**
   * Validates the values and copies the lists.
   *
   * @param imageShape {@code [C, H, H]}; {@code H} a multiple of {@code 2^(L-1)}
   * @param numTrainTimesteps {@code T}, positive
   * @param baseChannels {@code ch}, a positive multiple of 32
   * @param channelMult the multipliers, not empty, each at least 1
   * @param numResBlocks at least 1
   * @param attnResolutions resolutions, each positive
   * @param dropout in [0, 1)
   */
  public DdpmUNetSpec {
    if (imageShape == null || imageShape.rank() != 3) {
      throw new IllegalArgumentException("image_shape must be [C, H, W], got " + imageShape);
    }
    if (imageShape.dim(1) != imageShape.dim(2)) {
      throw new IllegalArgumentException("the ddpm model takes square images, got " + imageShape);
    }
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException("num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (baseChannels < GROUPS || baseChannels % GROUPS != 0) {
      throw new IllegalArgumentException(
          "base_channels must be a positive multiple of " + GROUPS + " (the ddpm model's GroupNorm has " + GROUPS
              + " groups), got " + baseChannels);
    }
    if (channelMult == null || channelMult.isEmpty() || channelMult.size() > 16) {
      throw new IllegalArgumentException("channel_mult must list 1 to 16 levels, got " + channelMult);
    }
    channelMult = List.copyOf(channelMult);
    for (int m : channelMult) {
      if (m < 1 || (long) baseChannels * m > 1 << 14) {
        throw new IllegalArgumentException(
            "channel_mult entries must be at least 1 and base_channels x entry at most 16384, got " + channelMult);
      }
    }
    if (numResBlocks < 1 || numResBlocks > 64) {
      throw new IllegalArgumentException("num_res_blocks must be in [1, 64], got " + numResBlocks);
    }
    attnResolutions = List.copyOf(attnResolutions == null ? List.of() : attnResolutions);
    for (int r : attnResolutions) {
      if (r < 1) {
        throw new IllegalArgumentException("attn_resolutions must be positive, got " + attnResolutions);
      }
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
    int factor = 1 << (channelMult.size() - 1);
    if (imageShape.dim(1) % factor != 0) {
      throw new IllegalArgumentException(
          "image_shape " + imageShape + ": " + channelMult.size() + " levels halve the image "
              + (channelMult.size() - 1) + " times, so its size must be a multiple of " + factor);
    }
  }

  /**
   * The CIFAR-10 model (Ho et al. 2020; ermongroup/ddim configs/cifar10.yml): 32x32 RGB, ch 128, ch_mult [1, 2,
   * 2, 2], 2 residual blocks, attention at 16, dropout 0.1, T = 1000.
   *
   * @return the spec
   */
  public static DdpmUNetSpec cifar10() {
    return new DdpmUNetSpec(Shape.of(3, 32, 32), 1000, 128, List.of(1, 2, 2, 2), 2, List.of(16), 0.1);
  }

  /**
   * The CelebA 64x64 model of the DDIM authors (configs/celeba.yml): ch_mult [1, 2, 2, 2, 4], attention at 16,
   * dropout 0.1.
   *
   * @return the spec
   */
  public static DdpmUNetSpec celeba() {
    return new DdpmUNetSpec(Shape.of(3, 64, 64), 1000, 128, List.of(1, 2, 2, 2, 4), 2, List.of(16), 0.1);
  }

  /**
   * The 256x256 models (LSUN church and bedroom, CelebA-HQ): ch_mult [1, 1, 2, 2, 4, 4], attention at 16, no
   * dropout.
   *
   * @return the spec
   */
  public static DdpmUNetSpec lsun256() {
    return new DdpmUNetSpec(Shape.of(3, 256, 256), 1000, 128, List.of(1, 1, 2, 2, 4, 4), 2, List.of(16), 0.0);
  }

  /**
   * The spec whose state dict is a given layout (a checkpoint of the authors' {@code Model}): {@code ch} and the
   * channels from {@code conv_in} and each level's first block, the blocks per level, and the levels with
   * attention; the image size is not in a state dict and is given.
   *
   * @param layout names and shapes, as in the checkpoint
   * @param imageSize the image size the model was trained for
   * @param numTrainTimesteps {@code T}
   * @param dropout the training dropout (not in a state dict; it does not change sampling)
   * @return the spec, whose {@link #parameterShapes()} are exactly the layout's names and shapes
   * @throws IllegalArgumentException naming the first entry that does not fit the authors' model
   */
  public static DdpmUNetSpec fromLayout(Map<String, int[]> layout, int imageSize, int numTrainTimesteps, double dropout) {
    int[] in = layout.get("conv_in.weight");
    if (in == null || in.length != 4) {
      throw new IllegalArgumentException("no conv_in.weight of rank 4: not the DDPM authors' Model layout");
    }
    int ch = in[0];
    if (ch < 1) {
      throw new IllegalArgumentException("conv_in.weight has shape " + java.util.Arrays.toString(in)
          + ": an empty tensor, not the DDPM authors' Model layout");
    }
    int levels = 0;
    while (layout.containsKey("down." + levels + ".block.0.conv1.weight")) {
      levels++;
    }
    if (levels == 0) {
      throw new IllegalArgumentException("no down.0.block.0.conv1.weight: not the DDPM authors' Model layout");
    }
    List<Integer> mult = new ArrayList<>();
    List<Integer> attn = new ArrayList<>();
    for (int i = 0; i < levels; i++) {
      int out = layout.get("down." + i + ".block.0.conv1.weight")[0];
      if (out % ch != 0) {
        throw new IllegalArgumentException("down." + i + " has " + out + " channels, not a multiple of ch = " + ch);
      }
      mult.add(out / ch);
      if (layout.containsKey("down." + i + ".attn.0.q.weight")) {
        attn.add(imageSize >> i);
      }
    }
    int blocks = 0;
    while (layout.containsKey("down.0.block." + blocks + ".conv1.weight")) {
      blocks++;
    }
    DdpmUNetSpec spec = new DdpmUNetSpec(Shape.of(in[1], imageSize, imageSize), numTrainTimesteps, ch, mult, blocks,
        attn, dropout);
    Map<String, int[]> want = spec.parameterShapes();
    for (Map.Entry<String, int[]> e : want.entrySet()) {
      int[] got = layout.get(e.getKey());
      if (got == null) {
        throw new IllegalArgumentException("missing '" + e.getKey() + "' of the DDPM authors' Model with ch " + ch
            + ", ch_mult " + mult + ", num_res_blocks " + blocks);
      }
      if (!java.util.Arrays.equals(got, e.getValue())) {
        throw new IllegalArgumentException("'" + e.getKey() + "' has shape " + java.util.Arrays.toString(got) + " but the DDPM "
            + "authors' Model with ch " + ch + ", ch_mult " + mult + " has " + java.util.Arrays.toString(e.getValue()));
      }
    }
    for (String name : layout.keySet()) {
      if (!want.containsKey(name)) {
        throw new IllegalArgumentException("'" + name + "' is not a parameter of the DDPM authors' Model");
      }
    }
    return spec;
  }

  @Override
  public String kind() {
    return KIND;
  }

  /**
   * The number of levels.
   *
   * @return {@code channelMult().size()}
   */
  public int levels() {
    return channelMult.size();
  }

  /**
   * A level's channels.
   *
   * @param level the level
   * @return {@code ch * channelMult[level]}
   */
  public int channels(int level) {
    return baseChannels * channelMult.get(level);
  }

  /**
   * Whether a level has attention after its residual blocks.
   *
   * @param level the level
   * @return true if its resolution is listed in {@link #attnResolutions()}
   */
  public boolean attentionAt(int level) {
    return attnResolutions.contains(imageShape.dim(1) >> level);
  }

  /**
   * The width of the timestep embedding after the dense layers.
   *
   * @return {@code 4 * ch}
   */
  public int embeddingChannels() {
    return 4 * baseChannels;
  }

  /** A residual block: prefix, input and output channels. */
  private record Block(String prefix, int in, int out) {}

  /** The way down as the authors' model builds it: per level its blocks. */
  private List<List<Block>> downBlocks() {
    List<List<Block>> levels = new ArrayList<>();
    for (int i = 0; i < levels(); i++) {
      List<Block> blocks = new ArrayList<>();
      int in = i == 0 ? baseChannels : channels(i - 1);
      for (int j = 0; j < numResBlocks; j++) {
        blocks.add(new Block("down." + i + ".block." + j, in, channels(i)));
        in = channels(i);
      }
      levels.add(blocks);
    }
    return levels;
  }

  /** The way up, per level (index = level), blocks in running order. */
  private List<List<Block>> upBlocks() {
    List<List<Block>> levels = new ArrayList<>();
    for (int i = 0; i < levels(); i++) {
      levels.add(null);
    }
    int blockIn = channels(levels() - 1);
    for (int i = levels() - 1; i >= 0; i--) {
      List<Block> blocks = new ArrayList<>();
      int skipIn = channels(i);
      for (int j = 0; j <= numResBlocks; j++) {
        if (j == numResBlocks) {
          skipIn = i == 0 ? baseChannels : channels(i - 1);
        }
        blocks.add(new Block("up." + i + ".block." + j, blockIn + skipIn, channels(i)));
        blockIn = channels(i);
      }
      levels.set(i, blocks);
    }
    return levels;
  }

  /**
   * Every residual block in state-dict order (down, middle, up by level 0, 1, ...): the index numbers its
   * dropout masks.
   *
   * @return the prefixes
   */
  public List<String> resBlockPrefixes() {
    List<String> out = new ArrayList<>();
    downBlocks().forEach(l -> l.forEach(b -> out.add(b.prefix())));
    out.add("mid.block_1");
    out.add("mid.block_2");
    upBlocks().forEach(l -> l.forEach(b -> out.add(b.prefix())));
    return out;
  }

  /**
   * The state-dict layout of the authors' module, in its order ({@code temb}, {@code conv_in}, {@code down},
   * {@code mid}, {@code up}, {@code norm_out}, {@code conv_out}; within a level its blocks, then its attention
   * blocks, then its resampling).
   *
   * @return the shapes by name
   */
  @Override
  public LinkedHashMap<String, int[]> parameterShapes() {
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    int temb = embeddingChannels();
    UNetLayouts.linear(m, "temb.dense.0", baseChannels, temb);
    UNetLayouts.linear(m, "temb.dense.1", temb, temb);
    UNetLayouts.conv(m, "conv_in", imageShape.dim(0), baseChannels, 3);
    List<List<Block>> down = downBlocks();
    for (int i = 0; i < levels(); i++) {
      for (Block b : down.get(i)) {
        resBlock(m, b);
      }
      if (attentionAt(i)) {
        for (int j = 0; j < numResBlocks; j++) {
          attention(m, "down." + i + ".attn." + j, channels(i));
        }
      }
      if (i < levels() - 1) {
        UNetLayouts.conv(m, "down." + i + ".downsample.conv", channels(i), channels(i), 3);
      }
    }
    int c = channels(levels() - 1);
    resBlock(m, new Block("mid.block_1", c, c));
    attention(m, "mid.attn_1", c);
    resBlock(m, new Block("mid.block_2", c, c));
    List<List<Block>> up = upBlocks();
    for (int i = 0; i < levels(); i++) {
      for (Block b : up.get(i)) {
        resBlock(m, b);
      }
      if (attentionAt(i)) {
        for (int j = 0; j <= numResBlocks; j++) {
          attention(m, "up." + i + ".attn." + j, channels(i));
        }
      }
      if (i > 0) {
        UNetLayouts.conv(m, "up." + i + ".upsample.conv", channels(i), channels(i), 3);
      }
    }
    UNetLayouts.norm(m, "norm_out", channels(0));
    UNetLayouts.conv(m, "conv_out", channels(0), imageShape.dim(0), 3);
    return m;
  }

  private void resBlock(Map<String, int[]> m, Block b) {
    DdpmResBlock.parameters(m, b.prefix(), b.in(), b.out(), embeddingChannels());
  }

  private static void attention(Map<String, int[]> m, String prefix, int c) {
    UNetLayouts.norm(m, prefix + ".norm", c);
    for (String x : new String[] {"q", "k", "v", "proj_out"}) {
      UNetLayouts.conv(m, prefix + "." + x, c, c, 1);
    }
  }

  /**
   * The timestep embedding of the authors' code ({@code get_timestep_embedding}, float32).
   *
   * @return the layer
   */
  public Layer.TimestepEmbedding embedding() {
    return new Layer.TimestepEmbedding(baseChannels, false, 1.0, 10000.0, Layer.Precision.FLOAT32_DDPM);
  }

  @Override
  public Network network() {
    NetworkBuilder b = new NetworkBuilder(parameterShapes());
    List<String> blocks = resBlockPrefixes();
    Node x = b.input(imageShape);
    Node temb = b.linear("temb.dense.0", b.timestepEmbedding(embedding()), embeddingChannels());
    temb = b.linear("temb.dense.1", b.silu(temb), embeddingChannels());
    Node tembAct = b.silu(temb);
    Deque<Node> hs = new ArrayDeque<>();
    Node h = b.conv("conv_in", x, baseChannels, 3, 1, Layer.Padding.of(1));
    hs.push(h);
    List<List<Block>> down = downBlocks();
    for (int i = 0; i < levels(); i++) {
      for (int j = 0; j < numResBlocks; j++) {
        Block blk = down.get(i).get(j);
        h = resBlock(b, hs.peek(), tembAct, blk, blocks.indexOf(blk.prefix()));
        if (attentionAt(i)) {
          h = attention(b, h, "down." + i + ".attn." + j);
        }
        hs.push(h);
      }
      if (i < levels() - 1) {
        hs.push(b.conv("down." + i + ".downsample.conv", hs.peek(), channels(i), 3, 2, new Layer.Padding(0, 0, 1, 1)));
      }
    }
    int c = channels(levels() - 1);
    h = hs.peek();
    h = resBlock(b, h, tembAct, new Block("mid.block_1", c, c), blocks.indexOf("mid.block_1"));
    h = attention(b, h, "mid.attn_1");
    h = resBlock(b, h, tembAct, new Block("mid.block_2", c, c), blocks.indexOf("mid.block_2"));
    List<List<Block>> up = upBlocks();
    for (int i = levels() - 1; i >= 0; i--) {
      for (int j = 0; j <= numResBlocks; j++) {
        Block blk = up.get(i).get(j);
        h = resBlock(b, b.concat(h, hs.pop()), tembAct, blk, blocks.indexOf(blk.prefix()));
        if (attentionAt(i)) {
          h = attention(b, h, "up." + i + ".attn." + j);
        }
      }
      if (i > 0) {
        h = b.conv("up." + i + ".upsample.conv", b.upsample(h, 2), channels(i), 3, 1, Layer.Padding.of(1));
      }
    }
    h = b.silu(b.groupNorm("norm_out", h, GROUPS, GROUP_NORM_EPS));
    return b.build(b.conv("conv_out", h, imageShape.dim(0), 3, 1, Layer.Padding.of(1)));
  }

  private Node resBlock(NetworkBuilder b, Node x, Node tembAct, Block blk, int index) {
    return new DdpmResBlock(GROUPS, GROUP_NORM_EPS, dropout, DROPOUT_STREAM)
        .layers(b, x, tembAct, blk.prefix(), blk.in(), blk.out(), index);
  }

  private static Node attention(NetworkBuilder b, Node x, String prefix) {
    int c = x.itemShape().dim(0);
    Node n = b.groupNorm(prefix + ".norm", x, GROUPS, GROUP_NORM_EPS);
    Layer.Padding none = Layer.Padding.of(0);
    Node q = b.conv(prefix + ".q", n, c, 1, 1, none);
    Node k = b.conv(prefix + ".k", n, c, 1, 1, none);
    Node v = b.conv(prefix + ".v", n, c, 1, 1, none);
    return b.add(x, b.conv(prefix + ".proj_out", b.attention(q, k, v, 1), c, 1, 1, none));
  }

  /**
   * Whether an entry is a GroupNorm parameter.
   *
   * @param name a state-dict name
   * @return true for {@code norm1}, {@code norm2}, {@code norm} (attention) and {@code norm_out}
   */
  public static boolean isNorm(String name) {
    return UNetLayouts.isDdpmNorm(name);
  }

  /**
   * The initial weights for a seed, the same on every backend: GroupNorm weights 1 and biases 0; every other
   * bias 0; the weights that end a residual path ({@code conv2}, {@code proj_out}) and {@code conv_out} 0, so
   * every block starts as the identity; every other weight {@code (2u - 1) / sqrt(fan_in)} with {@code u} the
   * successive {@code nextDouble()} of {@code Noise.seeded(seed).split(INIT_STREAM).split(i).generator()}, {@code
   * i} the entry's index in state-dict order. (The authors' TensorFlow code draws from a variance-scaling
   * initialiser; the published checkpoints replace these weights anyway.)
   *
   * @param seed the run's seed
   * @return the weights
   */
  @Override
  public StateDict initialWeights(long seed) {
    return UNetLayouts.initialWeights(parameterShapes(), Noise.seeded(seed).split(INIT_STREAM), DdpmUNetSpec::isNorm,
        UNetLayouts::isDdpmZeroWeight);
  }

}
