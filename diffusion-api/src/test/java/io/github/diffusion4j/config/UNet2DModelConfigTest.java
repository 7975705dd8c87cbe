package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.tensor.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code model.kind: unet2d}: diffusers' {@code config.json} as a mapping, checked where it is written. */
class UNet2DModelConfigTest {
  private static final String CIFAR = """
      data:
        image_shape: [3, 32, 32]
      model:
        kind: unet2d
        unet2d: {"_class_name": "UNet2DModel", "attention_head_dim": null, "block_out_channels": [128, 256, 256, 256],
                 "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
                 "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1, "norm_eps": 1e-06,
                 "sample_size": 32, "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]}
      schedule:
        num_train_timesteps: 1000
      """;

  @Test
  void aConfigJsonPastedAsYamlBuildsTheModel() {
    DiffusionConfig c = ConfigLoader.loadString(CIFAR, "run.yaml");
    UNet2DSpec spec = assertInstanceOf(UNet2DSpec.class, c.model().toSpec(Shape.of(3, 32, 32), 1000));
    assertEquals(List.of(128, 256, 256, 256), spec.config().blockOutChannels());
    assertEquals(35_746_307, spec.network().parameterCount());
    DiffusionConfig again = ConfigLoader.loadString(ConfigWriter.toYaml(c), "again.yaml");
    assertEquals(c, again, "the resolved config.yaml carries the mapping");
  }

  @Test
  void badValuesAreLocatedAtTheirKey() {
    ConfigException e = ConfigErrorsTest.error(CIFAR.replace("\"downsample_padding\": 0", "\"downsample_padding\": 2"));
    assertEquals("run.yaml:7:12: model.unet2d.downsample_padding: supported are 0 (pad right and bottom) and 1, got 2",
        e.getMessage());
    e = ConfigErrorsTest.error(CIFAR.replace("[128, 256, 256, 256]", "[128, 200, 256, 256]"));
    assertEquals("model.unet2d.norm_num_groups", e.path(), "an absent key's error is located at its section");
    assertEquals("run.yaml", e.file());
  }

  @Test
  void unsupportedValuesAndUnknownKeysAreNamed() {
    ConfigException e = ConfigErrorsTest.error(CIFAR.replace("\"freq_shift\": 1", "\"time_embedding_type\": \"fourier\""));
    assertEquals("model.unet2d.time_embedding_type", e.path());
    e = ConfigErrorsTest.error(CIFAR.replace("\"freq_shift\": 1", "\"freq_shfit\": 1"));
    assertEquals("model.unet2d.freq_shfit", e.path());
    assertEquals("not a UNet2DModel key; did you mean 'freq_shift'?", e.detail().replaceAll(" \\(allowed.*", ""));
    e = ConfigErrorsTest.error("model:\n  kind: unet2d\n");
    assertEquals("model.unet2d", e.path());
    e = ConfigErrorsTest.error("model:\n  kind: ddpm\n  unet2d: {sample_size: 32}\n");
    assertEquals("model.unet2d", e.path());
  }

  @Test
  void theImageMustFitTheSampleSize() {
    DiffusionConfig c = ConfigLoader.loadString(CIFAR, "run.yaml");
    ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
        () -> c.model().toSpec(Shape.of(3, 64, 64), 1000));
    assertEquals("model.unet2d.sample_size", e.path());
  }

  @Test
  void aModelConfigCanBeBuiltFromAConfigJson() {
    ModelConfig m = ModelConfig.ofUNet2D(Map.of("sample_size", 8, "block_out_channels", List.of(32, 32),
        "down_block_types", List.of("DownBlock2D", "DownBlock2D"), "up_block_types", List.of("UpBlock2D", "UpBlock2D")));
    assertEquals(ModelConfig.Kind.UNET2D, m.kind());
    assertInstanceOf(UNet2DSpec.class, m.toSpec(Shape.of(3, 8, 8), 10));
  }
}
