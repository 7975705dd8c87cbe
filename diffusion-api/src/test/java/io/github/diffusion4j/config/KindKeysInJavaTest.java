package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A record built in Java (not from YAML, whose binder refuses such keys first, located) refuses every key that applies
 * only to other kinds when it is given a value other than the kind's default: each {@code onlyFor} key of
 * {@code data} and {@code model}, for each kind it does not apply to, with a value a valid record of a kind it applies
 * to has. A key whose check is missing from its record's constructor fails here.
 */
class KindKeysInJavaTest {
  /** For each data kind, a valid configuration that sets every key of that kind to a value other than its default. */
  private static final Map<String, String> DATA = Map.of(
      "gradients", "data:\n  kind: gradients\n  image_shape: [3, 16, 16]\n  train_size: 200\n",
      "idx", "data:\n  kind: idx\n  train_images: a.idx\n  train_labels: b.idx\n  eval_images: c.idx\n"
          + "  eval_labels: d.idx\n  pad_to: 32\n",
      "folder", "data:\n  kind: folder\n  root: pics\n  eval_root: more\n  image_shape: [3, 16, 16]\n  resize: pad\n"
          + "  upscale: true\n  bad_data: skip\n  cache_dir: cache\n",
      "cifar10", "data:\n  kind: cifar10\n  root: c10\n  image_shape: [3, 16, 16]\n  resize: pad\n  upscale: true\n"
          + "  bad_data: skip\n  cache_dir: cache\n");

  private static final String IMAGES = "data:\n  image_shape: [3, 32, 32]\n";

  /** The same for each model kind. */
  private static final Map<String, String> MODEL = Map.of(
      "mlp", IMAGES + "model:\n  kind: mlp\n  hidden: 32\n",
      "unet", IMAGES + "model:\n  kind: unet\n  base_channels: 16\n  channel_mult: [1, 2]\n  num_res_blocks: 3\n"
          + "  attention: false\n  groups: 4\n  dropout: 0.2\n",
      "ddpm", IMAGES + "model:\n  kind: ddpm\n  base_channels: 64\n  channel_mult: [1, 2]\n  num_res_blocks: 1\n"
          + "  dropout: 0.0\n  attn_resolutions: [32]\n",
      "unet2d", IMAGES + "model:\n  kind: unet2d\n  unet2d: {\"block_out_channels\": [32, 64], \"sample_size\": 32, "
          + "\"norm_num_groups\": 8, \"down_block_types\": [\"DownBlock2D\", \"DownBlock2D\"], "
          + "\"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\"]}\n");

  @Test
  void dataRecordsRefuseOtherKindsKeys() {
    int refused = walk(Schema.DATA, DATA, DiffusionConfig::data);
    // idx's five keys x 3 other kinds, root and folder/cifar10's four fitting keys x 2, eval_root (folder's) x 3
    assertEquals(5 * 3 + 5 * 2 + 3, refused);
  }

  @Test
  void modelRecordsRefuseOtherKindsKeys() {
    int refused = walk(Schema.MODEL, MODEL, DiffusionConfig::model);
    // hidden x 3 other kinds, base_channels/channel_mult/num_res_blocks/dropout x 2, attention/groups x 3,
    // attn_resolutions x 3, unet2d x 3
    assertEquals(3 + 4 * 2 + 2 * 3 + 3 + 3, refused);
  }

  /**
   * For every key of {@code section} that applies to some kinds only, and every other kind: the other kind's record
   * with this key's value taken from a record it applies to is refused at the key. Returns the number of refusals.
   */
  private static <R> int walk(Section<R> section, Map<String, String> fixtures, Function<DiffusionConfig, R> part) {
    Map<String, R> records = new LinkedHashMap<>();
    fixtures.forEach((kind, yaml) -> {
      R r = part.apply(ConfigLoader.loadString(yaml, kind + ".yaml"));
      assertEquals(kind, section.kindOf(r), "the fixture's kind");
      records.put(kind, r);
    });
    int refused = 0;
    for (Section.Member<R> member : section.members()) {
      if (!(member instanceof Key<R, ?> key) || key.onlyFor() == null) {
        continue;
      }
      for (Map.Entry<String, R> base : records.entrySet()) {
        String kind = base.getKey();
        if (key.appliesTo(kind)) {
          continue;
        }
        R donor = records.get(key.onlyFor().split(", ")[0]);
        refused += refuses(section, key, kind, base.getValue(), donor);
      }
    }
    return refused;
  }

  private static <R, T> int refuses(Section<R> section, Key<R, T> key, String kind, R base, R donor) {
    T value = key.get(donor);
    assertNotEquals(key.defaultFor(kind), value, key.path() + ": the donor's value must not be " + kind + "'s default");
    Section.Values values = new Section.Values();
    for (Section.Member<R> m : section.members()) {
      Key<R, ?> k = (Key<R, ?>) m;
      values.put(k, k == key ? value : k.get(base));
    }
    assertFalse(key.appliesTo(kind));
    ConfigException e = assertThrows(ConfigException.class, () -> section.build(values),
        key.path() + " = " + value + " for kind " + kind);
    assertTrue(e.getMessage().startsWith(key.path() + ": applies only when kind is "), e.getMessage());
    return 1;
  }
}
