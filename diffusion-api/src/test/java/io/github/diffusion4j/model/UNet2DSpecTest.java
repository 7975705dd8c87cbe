package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UNet2DSpecTest {

  /** google/ddpm-cifar10-32's config.json (diffusers 0.0.4), as published. */
  static Map<String, Object> cifar10() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("_class_name", "UNet2DModel");
    m.put("_diffusers_version", "0.0.4");
    m.put("act_fn", "silu");
    m.put("attention_head_dim", null);
    m.put("block_out_channels", List.of(128, 256, 256, 256));
    m.put("center_input_sample", false);
    m.put("down_block_types", List.of("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"));
    m.put("downsample_padding", 0);
    m.put("flip_sin_to_cos", false);
    m.put("freq_shift", 1);
    m.put("in_channels", 3);
    m.put("layers_per_block", 2);
    m.put("mid_block_scale_factor", 1);
    m.put("norm_eps", 1e-6);
    m.put("norm_num_groups", 32);
    m.put("out_channels", 3);
    m.put("sample_size", 32);
    m.put("time_embedding_type", "positional");
    m.put("up_block_types", List.of("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"));
    return m;
  }

  /** The config.json shared by google/ddpm-celebahq-256, -church-256, -bedroom-256 and -cat-256. */
  static Map<String, Object> lsun256() {
    Map<String, Object> m = cifar10();
    m.put("block_out_channels", List.of(128, 128, 256, 256, 512, 512));
    m.put("down_block_types", List.of("DownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "DownBlock2D"));
    m.put("up_block_types", List.of("UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"));
    m.put("sample_size", 256);
    return m;
  }

  @Test
  void thePublishedConfigsHaveTheDdpmParameterCounts() {
    assertEquals(35_746_307, UNet2DSpec.of(UNet2DConfig.fromMap(cifar10()), 1000).network().parameterCount());
    assertEquals(113_673_219, UNet2DSpec.of(UNet2DConfig.fromMap(lsun256()), 1000).network().parameterCount());
  }

  @Test
  void theDdpmModelsConvertToThePublishedConfigs() {
    UNet2DConfig c = DiffusersConversion.config(DdpmUNetSpec.cifar10());
    UNet2DConfig published = UNet2DConfig.fromMap(cifar10());
    assertEquals(published.blockOutChannels(), c.blockOutChannels());
    assertEquals(published.downBlockTypes(), c.downBlockTypes());
    assertEquals(published.upBlockTypes(), c.upBlockTypes());
    assertEquals(new UNet2DConfig(published.sampleSize(), 3, 3, false, 1, published.downBlockTypes(), true,
        published.upBlockTypes(), published.blockOutChannels(), 2, 1, 0, 0.1, "silu", OptionalInt.empty(), 32,
        OptionalInt.empty(), 1e-6, true, OptionalInt.empty()), c, "the same as published, with the model's dropout");
    UNet2DConfig lsun = DiffusersConversion.config(DdpmUNetSpec.lsun256());
    UNet2DConfig publishedLsun = UNet2DConfig.fromMap(lsun256());
    assertEquals(publishedLsun, lsun);
  }

  @Test
  void absentKeysTakeDiffusersDefaults() {
    Map<String, Object> m = new HashMap<>();
    m.put("sample_size", 32);
    UNet2DConfig c = UNet2DConfig.fromMap(m);
    assertEquals(List.of(224, 448, 672, 896), c.blockOutChannels());
    assertEquals(OptionalInt.of(8), c.attentionHeadDim(), "attention_head_dim defaults to 8 when absent");
    assertEquals(1, c.downsamplePadding());
    assertTrue(c.flipSinToCos());
    assertEquals(0.0, c.freqShift());
    assertEquals(1e-5, c.normEps());
    assertEquals(List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), c.downBlockTypes());
    Network n = UNet2DSpec.of(c, 1000).network();
    Layer.Attention first = n.nodes().stream().map(x -> x.layer()).filter(l -> l instanceof Layer.Attention)
        .map(l -> (Layer.Attention) l).findFirst().orElseThrow();
    assertEquals(448 / 8, first.heads(), "the first attention level (AttnDownBlock2D, 448 channels) has 448 / 8 heads");
  }

  @Test
  void nullHeadDimMeansOneHeadOverAllChannels() {
    Network n = UNet2DSpec.of(UNet2DConfig.fromMap(cifar10()), 1000).network();
    long attentions = n.nodes().stream().filter(x -> x.layer() instanceof Layer.Attention a && a.heads() == 1).count();
    assertEquals(2 + 3 + 1, attentions, "2 down, 3 up, the middle, each with one head");
    Map<String, Object> m = cifar10();
    m.put("attention_head_dim", 64);
    n = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000).network();
    assertTrue(n.nodes().stream().allMatch(x -> !(x.layer() instanceof Layer.Attention a) || a.heads() == 4));
  }

  @Test
  void paddingZeroPadsRightAndBottomAndTheMiddleRegistersAfterTheUpBlocks() {
    UNet2DSpec s = UNet2DSpec.of(UNet2DConfig.fromMap(cifar10()), 1000);
    Layer.Conv2d down = s.network().nodes().stream().map(x -> x.layer())
        .filter(l -> l instanceof Layer.Conv2d c && c.name().equals("down_blocks.0.downsamplers.0.conv"))
        .map(l -> (Layer.Conv2d) l).findFirst().orElseThrow();
    assertEquals(new Layer.Padding(0, 0, 1, 1), down.padding());
    List<String> names = new ArrayList<>(s.parameterShapes().keySet());
    assertTrue(names.indexOf("mid_block.attentions.0.to_q.weight") > names.indexOf("up_blocks.3.resnets.2.conv2.bias"));
    assertTrue(names.indexOf("down_blocks.1.attentions.0.group_norm.weight") < names.indexOf("down_blocks.1.resnets.0.norm1.weight"),
        "an attention level registers its attentions before its resnets");
    assertEquals(List.of(256, 256), List.of(s.parameterShapes().get("down_blocks.1.attentions.0.to_q.weight")[0],
        s.parameterShapes().get("down_blocks.1.attentions.0.to_q.weight")[1]), "linear weights [out, in]");
    Map<String, Object> m = cifar10();
    m.put("downsample_padding", 1);
    s = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000);
    assertTrue(s.network().nodes().stream().anyMatch(x -> x.layer() instanceof Layer.Conv2d c && c.stride() == 2
        && c.padding().equals(Layer.Padding.of(1))));
  }

  /**
   * {@code attn_norm_num_groups} is the group count of the middle block's attention alone (diffusers' {@code
   * UNetMidBlock2D}): it must divide the deepest level's channels where that attention exists, and is not refused
   * where it does not (diffusers loads such a config).
   */
  @Test
  void attentionNormGroupsMustDivideTheMiddleAttentionsChannelsOnlyWhereThereIsOne() {
    Map<String, Object> m = cifar10(); // the deepest level has 256 channels
    m.put("attn_norm_num_groups", 3);
    UNet2DConfig.InvalidValue e = assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m));
    assertEquals("attn_norm_num_groups", e.key());
    assertTrue(e.detail().contains("3 groups must divide the middle block's 256 channels"), e.detail());
    m.put("add_attention", false);
    assertFalse(UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000).parameterShapes().keySet().stream()
        .anyMatch(k -> k.startsWith("mid_block.attentions")));
    m.put("add_attention", true);
    m.put("mid_block_type", null);
    assertFalse(UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000).parameterShapes().keySet().stream()
        .anyMatch(k -> k.startsWith("mid_block")));
  }

  @Test
  void theMiddleBlockCanGoWithoutAttentionOrAltogether() {
    Map<String, Object> m = cifar10();
    m.put("add_attention", false);
    UNet2DSpec s = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000);
    assertEquals(2 + 3, s.network().nodes().stream().filter(x -> x.layer() instanceof Layer.Attention).count());
    assertTrue(s.parameterShapes().containsKey("mid_block.resnets.1.conv2.weight"));
    assertFalse(s.parameterShapes().keySet().stream().anyMatch(k -> k.startsWith("mid_block.attentions")));
    m.put("mid_block_type", null);
    s = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000);
    assertFalse(s.parameterShapes().keySet().stream().anyMatch(k -> k.startsWith("mid_block")));
    assertEquals(35_746_307 - UNet2DSpec.of(UNet2DConfig.fromMap(cifar10()), 1000).parameterShapes().entrySet().stream()
        .filter(e -> e.getKey().startsWith("mid_block")).mapToLong(e -> java.util.Arrays.stream(e.getValue())
            .asLongStream().reduce(1, (a, b) -> a * b)).sum(), s.network().parameterCount());
  }

  @Test
  void theMiddleScaleFactorDividesItsResidualSums() {
    Map<String, Object> m = cifar10();
    m.put("mid_block_scale_factor", 2.0);
    Network n = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000).network();
    long halves = n.nodes().stream().filter(x -> x.layer() instanceof Layer.Add a && a.scale() == 0.5).count();
    assertEquals(3, halves, "two resnets and the attention of the middle block");
  }

  /**
   * {@code dropout} acts where diffusers' {@code ResnetBlock2D} has it: in every residual block, between the
   * nonlinearity after {@code norm2} and {@code conv2}, each block with its own mask index. The golden outputs are
   * predictions, which dropout leaves alone, so only the network's structure shows a dropout that is dropped or
   * misplaced.
   */
  @Test
  void dropoutActsBeforeEveryResidualBlocksSecondConvolution() {
    Map<String, Object> m = cifar10();
    m.put("dropout", 0.1);
    UNet2DSpec s = UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000);
    Network n = s.network();
    List<String> resnets = s.resnetPrefixes();
    List<Integer> indices = new ArrayList<>();
    for (Node x : n.nodes()) {
      if (!(x.layer() instanceof Layer.Conv2d c) || !c.name().endsWith(".conv2")) {
        continue;
      }
      Node d = n.node(x.inputs().get(0));
      assertTrue(d.layer() instanceof Layer.Dropout, c.name() + " reads " + d.layer() + ", not the dropout");
      Layer.Dropout dropout = (Layer.Dropout) d.layer();
      assertEquals(0.1, dropout.p(), c.name());
      assertEquals(UNet2DSpec.DROPOUT_STREAM, dropout.stream(), c.name());
      assertEquals(resnets.indexOf(c.name().substring(0, c.name().length() - ".conv2".length())), dropout.index(), c.name());
      Node act = n.node(d.inputs().get(0));
      assertEquals(new Layer.Activation(Layer.Function.SILU), act.layer(), c.name() + ": dropout follows the nonlinearity");
      assertTrue(n.node(act.inputs().get(0)).layer() instanceof Layer.GroupNorm g && g.name().endsWith(".norm2"),
          c.name() + ": the nonlinearity follows norm2");
      indices.add(dropout.index());
    }
    assertEquals(resnets.size(), indices.size(), "one dropout per residual block");
    assertEquals(resnets.size(), indices.stream().distinct().count(), "each with its own masks");
    assertEquals(resnets.size(), n.nodes().stream().filter(x -> x.layer() instanceof Layer.Dropout).count(),
        "no dropout elsewhere");
  }

  @Test
  void theConfigRoundTripsThroughItsMap() {
    for (Map<String, Object> m : List.of(cifar10(), lsun256())) {
      UNet2DConfig c = UNet2DConfig.fromMap(m);
      assertEquals(c, UNet2DConfig.fromMap(c.toMap()));
      assertEquals(UNet2DConfig.KEYS.size() + 2, c.toMap().size(), "every key, and _class_name, _diffusers_version");
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "center_input_sample|true|center_input_sample",
      "time_embedding_type|fourier|time_embedding_type",
      "resnet_time_scale_shift|scale_shift|resnet_time_scale_shift",
      "act_fn|gelu|act_fn",
      "downsample_padding|2|downsample_padding",
      "mid_block_type|UNetMidBlock2DCrossAttn|mid_block_type",
      "_class_name|UNet2DConditionModel|_class_name",
      "norm_num_groups|48|norm_num_groups",
      "attention_head_dim|512|attention_head_dim",
      "freq_shift|64|freq_shift",
      "layers_per_block|two|layers_per_block",
      "class_embed_type|timestep|class_embed_type",
      "downsample_type|resnet|downsample_type"})
  void anUnsupportedValueNamesItsKey(String key, String value, String named) {
    Map<String, Object> m = cifar10();
    Object v = value.equals("true") ? (Object) true : value.matches("\\d+") ? (Object) Integer.parseInt(value) : value;
    m.put(key, v);
    UNet2DConfig.InvalidValue e = assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m));
    assertEquals(named, e.key(), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  /**
   * A config.json value of the wrong type or out of range is refused with one line naming its key, what it was and
   * what is allowed, as diffusers would fail to build the model from it (or build another).
   */
  @Test
  void aValueOfTheWrongTypeOrRangeNamesItsKeyWhatItWasAndWhatIsAllowed() {
    List<Object[]> cases = List.of(
        new Object[] {"sample_size", List.of(0, 32), "sample_size: must be a positive integer or [height, width], got [0, 32]"},
        new Object[] {"sample_size", List.of(32), "sample_size: expected an integer, [height, width] or null, got [32]"},
        new Object[] {"block_out_channels", List.of(), "block_out_channels: must list 1 to 16 levels, got []"},
        new Object[] {"block_out_channels", List.of(128, 0, 256, 256),
            "block_out_channels: entries must be in [1, 16384], got [128, 0, 256, 256]"},
        new Object[] {"block_out_channels", List.of(128, "256", 256, 256),
            "block_out_channels: expected a list of integers, got [128, 256, 256, 256]"},
        new Object[] {"mid_block_scale_factor", 0, "mid_block_scale_factor: must be a finite number other than 0, got 0.0"},
        new Object[] {"mid_block_scale_factor", "1", "mid_block_scale_factor: expected a number, got '1'"},
        new Object[] {"dropout", 1, "dropout: must be in [0, 1), got 1.0"},
        new Object[] {"norm_eps", 0, "norm_eps: must be a positive number, got 0.0"},
        new Object[] {"in_channels", 0, "in_channels: must be an integer in [1, 16384], got 0"},
        new Object[] {"in_channels", 1L << 40, "in_channels: expected an integer, got 1099511627776"},
        new Object[] {"attention_head_dim", 8.5, "attention_head_dim: expected an integer or null, got 8.5"},
        new Object[] {"flip_sin_to_cos", "false", "flip_sin_to_cos: expected true or false, got 'false'"},
        new Object[] {"act_fn", 1, "act_fn: expected a string, got 1"},
        new Object[] {"down_block_types", "DownBlock2D", "down_block_types: expected a list of block type names, got "
            + "'DownBlock2D'"},
        new Object[] {"up_block_types", List.of("UpBlock2D", 2, "AttnUpBlock2D", "UpBlock2D"),
            "up_block_types: expected a list of block type names, got [UpBlock2D, 2, AttnUpBlock2D, UpBlock2D]"});
    for (Object[] c : cases) {
      Map<String, Object> m = cifar10();
      m.put((String) c[0], c[1]);
      UNet2DConfig.InvalidValue e = assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m),
          c[0] + ": " + c[1]);
      assertEquals(c[0], e.key(), e.getMessage());
      assertEquals(c[2], e.getMessage());
    }
  }

  /** A list of a million entries, or a string of a million characters, is not copied into the one-line message. */
  @Test
  void hugeValuesAreAbbreviatedInMessages() {
    List<Object> million = java.util.Collections.nCopies(1_000_000, 8);
    for (String key : List.of("block_out_channels", "down_block_types", "act_fn")) {
      Map<String, Object> m = cifar10();
      m.put(key, key.equals("down_block_types") ? java.util.Collections.nCopies(1_000_000, "DownBlock2D")
          : key.equals("act_fn") ? "x".repeat(1_000_000) : million);
      UNet2DConfig.InvalidValue e = assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m));
      assertEquals(key, e.key(), e.getMessage());
      assertTrue(e.getMessage().length() < 500, () -> e.getMessage().length() + " characters: "
          + e.getMessage().substring(0, 300));
    }
  }

  @Test
  void anUnknownBlockTypeListsTheSupportedOnes() {
    Map<String, Object> m = cifar10();
    m.put("down_block_types", List.of("DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D", "DownBlock2D"));
    UNet2DConfig.InvalidValue e = assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m));
    assertEquals("down_block_types", e.key());
    assertTrue(e.getMessage().contains("CrossAttnDownBlock2D") && e.getMessage().contains("AttnDownBlock2D"), e.getMessage());
    m.put("down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"));
    assertEquals("down_block_types", assertThrows(UNet2DConfig.InvalidValue.class, () -> UNet2DConfig.fromMap(m)).key());
  }

  @Test
  void theImageMustFitTheConfig() {
    UNet2DConfig c = UNet2DConfig.fromMap(cifar10());
    assertEquals("sample_size", assertThrows(UNet2DConfig.InvalidValue.class,
        () -> new UNet2DSpec(Shape.of(3, 64, 64), 1000, c)).key());
    assertEquals("in_channels", assertThrows(UNet2DConfig.InvalidValue.class,
        () -> new UNet2DSpec(Shape.of(1, 32, 32), 1000, c)).key());
    Map<String, Object> m = cifar10();
    m.put("out_channels", 6);
    assertEquals("out_channels", assertThrows(UNet2DConfig.InvalidValue.class,
        () -> UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000)).key());
    m.put("out_channels", 3);
    m.put("sample_size", 36);
    assertEquals("sample_size", assertThrows(UNet2DConfig.InvalidValue.class,
        () -> UNet2DSpec.of(UNet2DConfig.fromMap(m), 1000)).key());
  }

  @Test
  void aNullSampleSizeIsExportedAsTheImageSizeTheModelWasBuiltFor() {
    // model.unet2d without sample_size takes the size from data.image_shape; the exported config.json said null,
    // which neither diffusers' DDPMPipeline nor this SDK's own loader can sample from without being told the size
    Map<String, Object> m = cifar10();
    m.put("sample_size", null);
    UNet2DConfig exported = DiffusersConversion.config(new UNet2DSpec(Shape.of(3, 16, 24), 1000, UNet2DConfig.fromMap(m)));
    assertEquals(List.of(16, 24), exported.sampleSize());
    assertEquals(List.of(16, 24), exported.toMap().get("sample_size"));
    m.put("sample_size", 32);
    UNet2DConfig given = UNet2DConfig.fromMap(m);
    assertEquals(given, DiffusersConversion.config(UNet2DSpec.of(given, 1000)));
  }

  @Test
  void unknownKeysAreListed() {
    Map<String, Object> m = cifar10();
    m.put("some_future_key", 1);
    m.put("_name_or_path", "x");
    assertEquals(java.util.Set.of("some_future_key"), UNet2DConfig.unknownKeys(m));
    UNet2DConfig.fromMap(m);
  }

  @Test
  void theInitialWeightsStartEveryBlockAsTheIdentity() {
    UNet2DSpec s = UNet2DSpec.of(UNet2DConfig.fromMap(Map.of("sample_size", 8, "block_out_channels", List.of(32, 64),
        "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D"), "up_block_types", List.of("AttnUpBlock2D", "UpBlock2D"),
        "layers_per_block", 1)), 1000);
    StateDict w = s.initialWeights(3);
    assertEquals(s.initialWeights(3), w, "deterministic");
    assertEquals(0f, w.get("down_blocks.1.attentions.0.to_out.0.weight").get(5));
    assertEquals(0f, w.get("up_blocks.0.resnets.1.conv2.weight").get(0));
    assertEquals(1f, w.get("conv_norm_out.weight").get(0));
    assertEquals(1f, w.get("mid_block.attentions.0.group_norm.weight").get(3));
    assertTrue(w.get("conv_in.weight").get(0) != 0f);
  }

  @Test
  void theMiniatureUNetConvertsWithItsQkvSplit() {
    UNetSpec u = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    StateDict w = u.initialWeights(5);
    StateDict d = DiffusersConversion.weights(u, w);
    assertEquals(u.network().parameterCount(), DiffusersConversion.spec(u).network().parameterCount());
    float[] qkv = w.get("mid.attn_1.qkv.weight").toArray();
    float[] k = d.get("mid_block.attentions.0.to_k.weight").toArray();
    int c = u.channels(u.levels() - 1);
    assertEquals(qkv[c * c + 7], k[7]);
    assertEquals(c * c, k.length);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DiffusersConversion.config(new MlpSpec(Shape.of(3, 5, 5), 100, 16)));
    assertTrue(e.getMessage().contains("mlp"), e.getMessage());
  }

  /**
   * The miniature U-Net's own values reach its diffusers config: its dropout (predictions do not show it, but a run
   * of the converted model trains with it and the exported {@code config.json} states it), its GroupNorm groups and
   * eps, and a middle without attention.
   */
  @Test
  void theMiniatureUNetConvertsWithItsDropoutGroupsEpsAndMiddle() {
    UNetSpec u = new UNetSpec(Shape.of(1, 8, 8), 1000, 8, List.of(1, 2), 1, false, 4, 0.2);
    UNet2DConfig c = DiffusersConversion.config(u);
    assertEquals(0.2, c.dropout(), "dropout");
    assertEquals(4, c.normNumGroups(), "norm_num_groups");
    assertEquals(UNetSpec.GROUP_NORM_EPS, c.normEps(), "norm_eps");
    assertTrue(c.midBlock(), "mid_block_type");
    assertFalse(c.addAttention(), "add_attention");
  }

  @Test
  void diffusersWeightsConvertBackToEachUNetsOwnLayout() {
    UNetSpec mini = UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
    DdpmUNetSpec ddpm = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    for (ModelSpec spec : List.of(mini, ddpm)) {
      StateDict w = spec.initialWeights(7);
      StateDict back = DiffusersConversion.fromDiffusers(spec, DiffusersConversion.weights(spec, w));
      assertEquals(w, back, spec.kind() + ": names, shapes (the attention's [C, C, 1, 1]), order and values");
      assertEquals(List.copyOf(w.names()), List.copyOf(back.names()), "in the spec's state-dict order");
    }
    UNet2DSpec u = DiffusersConversion.spec(ddpm);
    StateDict d = u.initialWeights(2);
    assertEquals(d, DiffusersConversion.fromDiffusers(u, d), "a UNet2DModel's weights are its own");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DiffusersConversion.fromDiffusers(mini, d));
    assertTrue(e.getMessage().startsWith("diffusers weights of the configured unet"), e.getMessage());
  }
}
