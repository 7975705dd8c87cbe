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

/**
 * diffusers' {@code UNet2DModel} ({@code model.kind: unet2d}), built from its {@code config.json}
 * ({@link UNet2DConfig}) with diffusers' parameter names, shapes and state-dict order, so that a diffusers
 * folder's {@code diffusion_pytorch_model.safetensors} loads as it is. Written from diffusers'
 * {@code models/unets/unet_2d.py}, {@code unet_2d_blocks.py} ({@code DownBlock2D}, {@code AttnDownBlock2D},
 * {@code UNetMidBlock2D}, {@code UpBlock2D}, {@code AttnUpBlock2D}), {@code resnet.py} ({@code ResnetBlock2D}),
 * {@code embeddings.py} ({@code Timesteps}, {@code TimestepEmbedding}), {@code attention_processor.py}
 * ({@code Attention} with {@code _from_deprecated_attn_block}), {@code downsampling.py} and {@code upsampling.py};
 * {@code docs/diffusers_reference.py} is the PyTorch reference the tests compare with.
 *
 * <pre>
 *   emb   = time_embedding.linear_2(SiLU(time_embedding.linear_1(timesteps(t))))   float32, diffusers' order
 *   h     = conv_in(x); res = [h]
 *   down_blocks.i:  layers_per_block x { h = resnets.j(h); if Attn: h = attentions.j(h); res.push(h) };
 *                   if not last: h = downsamplers.0.conv(h) (3x3 stride 2; downsample_padding 0 pads right and
 *                   bottom by one, 1 every side); res.push(h)
 *   mid_block:      h = resnets.0(h); if add_attention: h = attentions.0(h); h = resnets.1(h)
 *                   (residual sums divided by mid_block_scale_factor)
 *   up_blocks.i:    layers_per_block + 1 x { h = resnets.j(cat(h, res.pop())); if Attn: h = attentions.j(h) };
 *                   if not last: h = upsamplers.0.conv(nearest x2 of h)
 *   out   = conv_out(SiLU(conv_norm_out(h)))
 *   resnet(x):      h = conv1(act(norm1(x))) + time_emb_proj(act(emb)); h = conv2(dropout(act(norm2(h))));
 *                   (conv_shortcut(x) if the channels change else x) + h
 *   attention(x):   n = group_norm(x); q, k, v = to_q, to_k, to_v of n (linear over channels, heads =
 *                   C / attention_head_dim); x + to_out.0(softmax(q k^T / sqrt(head_dim)) v)
 * </pre>
 *
 * <p>State-dict order is PyTorch's module registration order in diffusers' code: {@code conv_in},
 * {@code time_embedding}, {@code down_blocks}, {@code up_blocks}, {@code mid_block} (assigned after the up
 * blocks' list), {@code conv_norm_out}, {@code conv_out}; within an attention block level its
 * {@code attentions} before its {@code resnets}.
 *
 * @param imageShape {@code [in_channels, H, W]}; {@code H} and {@code W} multiples of {@code 2^(levels - 1)}
 * @param numTrainTimesteps {@code T} of the schedule (from {@code scheduler_config.json})
 * @param config the {@code UNet2DModel} configuration
 */
public record UNet2DSpec(Shape imageShape, int numTrainTimesteps, UNet2DConfig config) implements ModelSpec {

  /** The configuration name, {@code "unet2d"}. */
  public static final String KIND = "unet2d";

  /** The split index of the initialisation stream ({@code "UNET2D_I"}). */
  public static final long INIT_STREAM = 0x554E455432445F49L;

  /** The split index of the dropout stream ({@code "UNET2D_D"}). */
  public static final long DROPOUT_STREAM = 0x554E455432445F44L;

  /**
   * Validates the shape against the configuration.
   *
   * @param imageShape {@code [in_channels, H, W]}, matching {@code sample_size} when the config has one
   * @param numTrainTimesteps {@code T}, positive
   * @param config the configuration; {@code out_channels} must equal {@code in_channels}
   * @throws UNet2DConfig.InvalidValue naming the config key at fault
   * @throws IllegalArgumentException if the image shape is malformed
   */
  public UNet2DSpec {
    if (config == null) {
      throw new IllegalArgumentException("a UNet2DModel config is required");
    }
    if (imageShape == null || imageShape.rank() != 3) {
      throw new IllegalArgumentException("image_shape must be [C, H, W], got " + imageShape);
    }
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException("num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (imageShape.dim(0) != config.inChannels()) {
      throw new UNet2DConfig.InvalidValue("in_channels", config.inChannels() + " does not match the images' "
          + imageShape.dim(0) + " channels " + imageShape);
    }
    if (config.outChannels() != config.inChannels()) {
      throw new UNet2DConfig.InvalidValue("out_channels", config.outChannels() + " differs from in_channels "
          + config.inChannels() + "; a noise predictor's output has the input's shape (a learned variance is not supported)");
    }
    List<Integer> size = config.sampleSize();
    if (!size.isEmpty() && (size.get(0) != imageShape.dim(1) || size.get(1) != imageShape.dim(2))) {
      throw new UNet2DConfig.InvalidValue("sample_size", size + " does not match the image size "
          + imageShape.dim(1) + "x" + imageShape.dim(2));
    }
    int factor = 1 << (config.levels() - 1);
    if (imageShape.dim(1) % factor != 0 || imageShape.dim(2) % factor != 0) {
      throw new UNet2DConfig.InvalidValue("sample_size", config.levels() + " levels halve the image "
          + (config.levels() - 1) + " times, so its height and width must be multiples of " + factor + ", got "
          + imageShape.dim(1) + "x" + imageShape.dim(2));
    }
  }

  /**
   * The spec of a configuration whose {@code sample_size} gives the image size.
   *
   * @param config the configuration, with a {@code sample_size}
   * @param numTrainTimesteps {@code T}
   * @return the spec
   * @throws UNet2DConfig.InvalidValue if the config has no {@code sample_size}
   */
  public static UNet2DSpec of(UNet2DConfig config, int numTrainTimesteps) {
    if (config.sampleSize().isEmpty()) {
      throw new UNet2DConfig.InvalidValue("sample_size", "is null; the image size must be given");
    }
    return new UNet2DSpec(Shape.of(config.inChannels(), config.sampleSize().get(0), config.sampleSize().get(1)),
        numTrainTimesteps, config);
  }

  @Override
  public String kind() {
    return KIND;
  }

  private int channels(int level) {
    return config.blockOutChannels().get(level);
  }

  private int levels() {
    return config.levels();
  }

  /** A residual block: prefix, channels in and out, the factor its sum is divided by. */
  private record Res(String prefix, int in, int out, double scale) {}

  /** An attention block: prefix, channels, GroupNorm groups, heads, head width, output factor. */
  private record Attn(String prefix, int channels, int groups, int heads, int headDim, double scale) {
    int inner() {
      return heads * headDim;
    }
  }

  /** One level's blocks, in running order (resnet, attention, resnet, attention, ...). */
  private record Level(List<Res> resnets, List<Attn> attentions, String resample) {}

  private Attn attn(String prefix, int c, int groups, double scale) {
    int d = config.headDim(c);
    return new Attn(prefix, c, groups, c / d, d, scale);
  }

  private List<Level> downLevels() {
    List<Level> out = new ArrayList<>();
    int outC = channels(0);
    for (int i = 0; i < levels(); i++) {
      int inC = outC;
      outC = channels(i);
      String p = "down_blocks." + i + ".";
      List<Res> res = new ArrayList<>();
      List<Attn> att = new ArrayList<>();
      for (int j = 0; j < config.layersPerBlock(); j++) {
        res.add(new Res(p + "resnets." + j, j == 0 ? inC : outC, outC, 1.0));
        if (config.downAttention(i)) {
          att.add(attn(p + "attentions." + j, outC, config.normNumGroups(), 1.0));
        }
      }
      out.add(new Level(res, att, i < levels() - 1 ? p + "downsamplers.0.conv" : null));
    }
    return out;
  }

  private Level midLevel() {
    int c = channels(levels() - 1);
    double s = config.midBlockScaleFactor();
    List<Attn> att = config.addAttention()
        ? List.of(attn("mid_block.attentions.0", c, config.attnNormNumGroups().orElse(config.normNumGroups()), s))
        : List.of();
    return new Level(List.of(new Res("mid_block.resnets.0", c, c, s), new Res("mid_block.resnets.1", c, c, s)), att, null);
  }

  private List<Level> upLevels() {
    List<Level> out = new ArrayList<>();
    int l = levels();
    int outC = channels(l - 1);
    for (int i = 0; i < l; i++) {
      int prevOut = outC;
      outC = channels(l - 1 - i);
      int inC = channels(Math.max(l - 2 - i, 0));
      String p = "up_blocks." + i + ".";
      List<Res> res = new ArrayList<>();
      List<Attn> att = new ArrayList<>();
      for (int j = 0; j <= config.layersPerBlock(); j++) {
        int skip = j == config.layersPerBlock() ? inC : outC;
        res.add(new Res(p + "resnets." + j, (j == 0 ? prevOut : outC) + skip, outC, 1.0));
        if (config.upAttention(i)) {
          att.add(attn(p + "attentions." + j, outC, config.normNumGroups(), 1.0));
        }
      }
      out.add(new Level(res, att, i < l - 1 ? p + "upsamplers.0.conv" : null));
    }
    return out;
  }

  /**
   * Every residual block in state-dict order: the index numbers its dropout masks.
   *
   * @return the prefixes
   */
  public List<String> resnetPrefixes() {
    List<String> out = new ArrayList<>();
    downLevels().forEach(l -> l.resnets().forEach(r -> out.add(r.prefix())));
    upLevels().forEach(l -> l.resnets().forEach(r -> out.add(r.prefix())));
    if (config.midBlock()) {
      midLevel().resnets().forEach(r -> out.add(r.prefix()));
    }
    return out;
  }

  @Override
  public LinkedHashMap<String, int[]> parameterShapes() {
    LinkedHashMap<String, int[]> m = new LinkedHashMap<>();
    UNetLayouts.conv(m, "conv_in", config.inChannels(), channels(0), 3);
    UNetLayouts.linear(m, "time_embedding.linear_1", channels(0), config.timeEmbedDim());
    UNetLayouts.linear(m, "time_embedding.linear_2", config.timeEmbedDim(), config.timeEmbedDim());
    List<Level> all = new ArrayList<>(downLevels());
    all.addAll(upLevels());
    if (config.midBlock()) {
      all.add(midLevel());
    }
    for (Level level : all) {
      for (Attn a : level.attentions()) {
        UNetLayouts.norm(m, a.prefix() + ".group_norm", a.channels());
        UNetLayouts.linear(m, a.prefix() + ".to_q", a.channels(), a.inner());
        UNetLayouts.linear(m, a.prefix() + ".to_k", a.channels(), a.inner());
        UNetLayouts.linear(m, a.prefix() + ".to_v", a.channels(), a.inner());
        UNetLayouts.linear(m, a.prefix() + ".to_out.0", a.inner(), a.channels());
      }
      for (Res r : level.resnets()) {
        UNetLayouts.norm(m, r.prefix() + ".norm1", r.in());
        UNetLayouts.conv(m, r.prefix() + ".conv1", r.in(), r.out(), 3);
        UNetLayouts.linear(m, r.prefix() + ".time_emb_proj", config.timeEmbedDim(), r.out());
        UNetLayouts.norm(m, r.prefix() + ".norm2", r.out());
        UNetLayouts.conv(m, r.prefix() + ".conv2", r.out(), r.out(), 3);
        if (r.in() != r.out()) {
          UNetLayouts.conv(m, r.prefix() + ".conv_shortcut", r.in(), r.out(), 1);
        }
      }
      if (level.resample() != null) {
        int c = level.resnets().get(level.resnets().size() - 1).out();
        UNetLayouts.conv(m, level.resample(), c, c, 3);
      }
    }
    UNetLayouts.norm(m, "conv_norm_out", channels(0));
    UNetLayouts.conv(m, "conv_out", channels(0), config.outChannels(), 3);
    return m;
  }

  /**
   * The timestep embedding of diffusers' {@code Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)}:
   * {@code get_timestep_embedding} in float32.
   *
   * @return the layer
   */
  public Layer.TimestepEmbedding embedding() {
    return new Layer.TimestepEmbedding(channels(0), config.flipSinToCos(), config.freqShift(), 10000.0,
        Layer.Precision.FLOAT32);
  }

  @Override
  public Network network() {
    NetworkBuilder b = new NetworkBuilder(parameterShapes());
    List<String> dropouts = resnetPrefixes();
    Node x = b.input(imageShape);
    int ted = config.timeEmbedDim();
    Node emb = b.linear("time_embedding.linear_1", b.timestepEmbedding(embedding()), ted);
    emb = b.linear("time_embedding.linear_2", b.silu(emb), ted);
    Node embAct = act(b, emb);
    Node h = b.conv("conv_in", x, channels(0), 3, 1, Layer.Padding.of(1));
    Deque<Node> res = new ArrayDeque<>();
    res.push(h);
    Layer.Padding down = config.downsamplePadding() == 0 ? new Layer.Padding(0, 0, 1, 1) : Layer.Padding.of(1);
    for (Level level : downLevels()) {
      for (int j = 0; j < level.resnets().size(); j++) {
        h = resnet(b, h, embAct, level.resnets().get(j), dropouts);
        if (!level.attentions().isEmpty()) {
          h = attention(b, h, level.attentions().get(j));
        }
        res.push(h);
      }
      if (level.resample() != null) {
        h = b.conv(level.resample(), h, h.itemShape().dim(0), 3, 2, down);
        res.push(h);
      }
    }
    if (config.midBlock()) {
      Level mid = midLevel();
      h = resnet(b, h, embAct, mid.resnets().get(0), dropouts);
      if (!mid.attentions().isEmpty()) {
        h = attention(b, h, mid.attentions().get(0));
      }
      h = resnet(b, h, embAct, mid.resnets().get(1), dropouts);
    }
    for (Level level : upLevels()) {
      for (int j = 0; j < level.resnets().size(); j++) {
        h = resnet(b, b.concat(h, res.pop()), embAct, level.resnets().get(j), dropouts);
        if (!level.attentions().isEmpty()) {
          h = attention(b, h, level.attentions().get(j));
        }
      }
      if (level.resample() != null) {
        h = b.conv(level.resample(), b.upsample(h, 2), h.itemShape().dim(0), 3, 1, Layer.Padding.of(1));
      }
    }
    h = b.silu(b.groupNorm("conv_norm_out", h, config.normNumGroups(), config.normEps()));
    return b.build(b.conv("conv_out", h, config.outChannels(), 3, 1, Layer.Padding.of(1)));
  }

  /** The residual blocks' nonlinearity ({@code act_fn}). */
  private Node act(NetworkBuilder b, Node x) {
    return config.actFn().equals("relu") ? b.relu(x) : b.silu(x);
  }

  private Node resnet(NetworkBuilder b, Node x, Node embAct, Res r, List<String> dropouts) {
    String p = r.prefix() + ".";
    int groups = config.normNumGroups();
    double eps = config.normEps();
    Node h = b.conv(p + "conv1", act(b, b.groupNorm(p + "norm1", x, groups, eps)), r.out(), 3, 1, Layer.Padding.of(1));
    h = b.add(h, b.linear(p + "time_emb_proj", embAct, r.out()));
    h = act(b, b.groupNorm(p + "norm2", h, groups, eps));
    h = b.dropout(h, config.dropout(), DROPOUT_STREAM, dropouts.indexOf(r.prefix()));
    h = b.conv(p + "conv2", h, r.out(), 3, 1, Layer.Padding.of(1));
    Node skip = r.in() != r.out() ? b.conv(p + "conv_shortcut", x, r.out(), 1, 1, Layer.Padding.of(0)) : x;
    return b.add(skip, h, 1.0 / r.scale());
  }

  private Node attention(NetworkBuilder b, Node x, Attn a) {
    String p = a.prefix() + ".";
    Layer.Padding none = Layer.Padding.of(0);
    Node n = b.groupNorm(p + "group_norm", x, a.groups(), config.normEps());
    Node q = b.conv(p + "to_q", n, a.inner(), 1, 1, none);
    Node k = b.conv(p + "to_k", n, a.inner(), 1, 1, none);
    Node v = b.conv(p + "to_v", n, a.inner(), 1, 1, none);
    Node o = b.conv(p + "to_out.0", b.attention(q, k, v, a.heads()), a.channels(), 1, 1, none);
    return b.add(o, x, 1.0 / a.scale());
  }

  /**
   * Whether an entry is a GroupNorm parameter in diffusers' naming.
   *
   * @param name a state-dict name
   * @return true for {@code norm1}, {@code norm2}, {@code group_norm} and {@code conv_norm_out}
   */
  public static boolean isNorm(String name) {
    String layer = UNetLayouts.layer(name);
    return layer.equals("norm1") || layer.equals("norm2") || layer.equals("group_norm") || layer.equals("conv_norm_out");
  }

  /**
   * The initial weights for a seed, the same on every backend (for training this architecture from scratch):
   * GroupNorm weights 1 and biases 0; every other bias 0; the weights that end a residual path ({@code conv2},
   * {@code to_out.0}) and {@code conv_out} 0; every other weight {@code (2u - 1) / sqrt(fan_in)}, {@code u} the
   * successive {@code nextDouble()} of {@code Noise.seeded(seed).split(INIT_STREAM).split(i)}, {@code i} the
   * entry's index in state-dict order.
   *
   * @param seed the run's seed
   * @return the weights
   */
  @Override
  public StateDict initialWeights(long seed) {
    return UNetLayouts.initialWeights(parameterShapes(), Noise.seeded(seed).split(INIT_STREAM), UNet2DSpec::isNorm,
        name -> name.endsWith(".conv2.weight") || name.endsWith(".to_out.0.weight") || name.equals("conv_out.weight"));
  }

}
