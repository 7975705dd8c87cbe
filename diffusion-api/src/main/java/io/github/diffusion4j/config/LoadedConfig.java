package io.github.diffusion4j.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A configuration together with where each of its values came from, so that checks made after loading
 * (an unknown backend or sampler name, a checkpoint that does not match) can still report
 * {@code file:line:col: key.path: message}.
 */
public final class LoadedConfig {
  private final DiffusionConfig config;
  private final Node.MapNode root;
  private final String source;
  private final Predicate<String> holdsDefault;

  /**
   * A configuration and where its values came from.
   *
   * @param holdsDefault whether the key at a path holds its default ({@link ConfigLoader} asks the schema)
   */
  LoadedConfig(DiffusionConfig config, Node.MapNode root, String source,
      Predicate<String> holdsDefault) {
    this.config = config;
    this.root = root;
    this.source = source;
    this.holdsDefault = holdsDefault;
  }

  /**
   * A configuration built in code: errors name the key but no file.
   *
   * @param config the configuration
   * @return the wrapper
   */
  public static LoadedConfig of(DiffusionConfig config) {
    return new LoadedConfig(config, null, null, path -> true);
  }

  /**
   * The configuration.
   *
   * @return the validated records
   */
  public DiffusionConfig config() {
    return config;
  }

  /**
   * Where the configuration came from (a path, a resource name or an override list).
   *
   * @return the source name, or null for a configuration built in code
   */
  public String source() {
    return source;
  }

  /**
   * An error about a key, located at its value in the file or the override that set it (or, when the key was
   * left to its default, at the nearest enclosing section the file has, else at the file itself).
   *
   * @param keyPath a dotted key path such as {@code sampling.sampler}
   * @param detail what is wrong and what is allowed
   * @return the exception to throw
   */
  public ConfigException error(String keyPath, String detail) {
    if (root == null) {
      return new ConfigException(keyPath, detail);
    }
    Location file = Location.of(source);
    Location at = file;
    Node node = root;
    String[] parts = keyPath.split("\\.");
    int found = 0;
    for (String part : parts) {
      if (!(node instanceof Node.MapNode map)) {
        break;
      }
      Map<String, Node.Entry> entries = map.entries();
      Node.Entry e = entries.get(part);
      if (e == null) {
        break;
      }
      node = e.value();
      at = node.location();
      found++;
    }
    if (found < parts.length && !java.util.Objects.equals(at.source(), source)) {
      // the key has its default, and the nearest section the path has came from an override (--set training.x=1),
      // which is not what is at fault: the file is
      at = file;
    }
    return new ConfigException(at.source(), at.line(), at.column(), keyPath, detail);
  }

  /**
   * The settings given (in the file or by an override) that the rest of the configuration leaves without
   * effect, each as one located line, e.g. {@code run.yaml:14:22: sampling.clip_sample_range: has no effect:
   * sampling.clip_sample is false}. Nothing is refused for them; {@code train} and {@code config --check}
   * show them as warnings ({@code Diffusion.check}). Defaults are never listed, even where the file gives them (a
   * run's {@code config.yaml} lists every key), nor is a configuration built in code.
   *
   * @return the lines, in key order; empty if there are none
   */
  public List<String> ineffectiveSettings() {
    List<String> out = new ArrayList<>();
    if (root == null) {
      return out;
    }
    SamplingConfig s = config.sampling();
    // (sampling.eta and variance_type are not listed with the other sampler: they are what --sampler ddim or ddpm
    // samples the run with later, as the bundled DDPM configs set the authors' variance beside ddim)
    note(out, "sampling.steps_offset", !s.timesteps().isEmpty()
        || s.timestepSpacing() != io.github.diffusion4j.schedule.TimestepSpacing.LEADING,
        "only a leading plan adds it (sampling.timestep_spacing: leading, without explicit sampling.timesteps)");
    // thresholding replaces clipping where both are on (SampleClipping.apply, as diffusers' schedulers)
    note(out, "sampling.clip_sample", s.thresholding(), "sampling.thresholding is true and replaces it");
    note(out, "sampling.clip_sample_range", !s.clipSample() || s.thresholding(), s.clipSample()
        ? "sampling.thresholding is true and replaces clipping" : "sampling.clip_sample is false");
    note(out, "sampling.dynamic_thresholding_ratio", !s.thresholding(), "sampling.thresholding is false");
    note(out, "sampling.sample_max_value", !s.thresholding(), "sampling.thresholding is false");
    if (!config.training().ema().enabled() && given("training.ema")
        && node("training.ema") instanceof Node.MapNode ema) {
      for (String key : ema.entries().keySet()) {
        note(out, "training.ema." + key, !key.equals("enabled"), "training.ema.enabled is false");
      }
    }
    note(out, "data.eval_size", config.data().kind() == DataConfig.Kind.FOLDER && config.data().evalRoot().isEmpty(),
        "a folder without data.eval_root has no evaluation images");
    ModelConfig m = config.model();
    if (m.kind() == ModelConfig.Kind.DDPM && config.data().imageShape().isPresent()) {
      // the levels' image sizes: the height halved once per level after the first
      List<Integer> sizes = new ArrayList<>();
      for (int i = 0, h = config.data().imageShape().get().dim(1); i < m.channelMult().size(); i++, h /= 2) {
        sizes.add(h);
      }
      List<Integer> unused = m.attnResolutions().stream().filter(r -> !sizes.contains(r)).toList();
      note(out, "model.attn_resolutions", !unused.isEmpty(), "no level has the image size "
          + (unused.size() == 1 ? unused.get(0) : unused) + " (the levels' sizes are " + sizes + ")");
    }
    return out;
  }

  private void note(List<String> out, String keyPath, boolean ineffective, String why) {
    // a default is not a setting, even where a file restates it (a run's config.yaml lists every key)
    if (ineffective && given(keyPath) && !holdsDefault.test(keyPath)) {
      out.add(error(keyPath, "has no effect: " + why).getMessage());
    }
  }

  /**
   * Whether a key was given in the file or by an override, rather than left to its default (a configuration
   * built in code gives none).
   *
   * @param keyPath a dotted key path such as {@code sampling.noise_version}
   * @return true if the file or an override sets it
   */
  public boolean given(String keyPath) {
    return node(keyPath) != null;
  }

  /**
   * Whether an override ({@code --set}, an option that stands for a key, or an override a Java caller gave) set the
   * key, rather than the file or its default.
   *
   * @param keyPath a dotted key path such as {@code sampling.eta}
   * @return true if the value at the key came from an override
   */
  public boolean overridden(String keyPath) {
    Node node = node(keyPath);
    return node != null && !java.util.Objects.equals(node.location().source(), source);
  }

  private Node node(String keyPath) {
    Node node = root;
    for (String part : keyPath.split("\\.")) {
      if (!(node instanceof Node.MapNode map) || map.get(part) == null) {
        return null;
      }
      node = map.get(part).value();
    }
    return node;
  }
}
