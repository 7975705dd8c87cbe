package io.github.diffusion4j.config;

import io.github.diffusion4j.io.FileProblems;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Reads configurations: YAML files, YAML text, the bundled configs, and {@code key.path=value}
 * overrides. Every kind of bad input is reported as a one-line {@link ConfigException}
 * ({@code file:line:col: key.path: message}).
 *
 * <pre>{@code
 * DiffusionConfig config = ConfigLoader.load(Path.of("run.yaml"), List.of("training.epochs=5"));
 * DiffusionConfig tutorial = ConfigLoader.bundled("tutorial");
 * }</pre>
 *
 * <p>Keys left out take their defaults ({@link #defaults()}); relative paths of IDX files are resolved
 * against the YAML file's folder (the working directory for text, bundled configs and overrides) and
 * kept absolute.
 */
public final class ConfigLoader {
  private static final String RESOURCES = "/io/github/diffusion4j/config/";
  private static final List<String> BUNDLED = List.of("default", "tutorial", "ddpm-cifar10", "ddpm-celeba", "ddpm-lsun256");

  private ConfigLoader() {}

  /**
   * Loads a YAML file.
   *
   * @param yaml the file
   * @return the validated configuration
   * @throws ConfigException if the file is missing, a directory, unreadable, not UTF-8, empty, not valid
   *     YAML, or holds bad keys or values
   */
  public static DiffusionConfig load(Path yaml) {
    return load(yaml, List.of());
  }

  /**
   * Loads a YAML file and applies overrides.
   *
   * @param yaml the file
   * @param overrides {@code key.path=value} strings (the CLI's {@code --set}), applied in order; the value
   *     is read as YAML: a scalar, {@code [a, b]} or {@code {k: v}}
   * @return the validated configuration
   * @throws ConfigException for bad input; errors in an override name it ({@code --set
   *     training.epochs=abc: training.epochs: expected an integer, got 'abc'})
   */
  public static DiffusionConfig load(Path yaml, List<String> overrides) {
    String source = yaml.toString();
    byte[] bytes = read(yaml, source);
    String text = YamlTree.decodeUtf8(bytes, source);
    Path parent = yaml.toAbsolutePath().normalize().getParent();
    return bind(text, source, parent, overrides);
  }

  /**
   * Loads YAML text; relative IDX paths are resolved against the working directory.
   *
   * @param yaml the YAML text
   * @param sourceName the name used in error messages, e.g. {@code run.yaml}
   * @return the validated configuration
   * @throws ConfigException for bad input
   */
  public static DiffusionConfig loadString(String yaml, String sourceName) {
    return loadString(yaml, sourceName, List.of());
  }

  /**
   * Loads YAML text and applies overrides.
   *
   * @param yaml the YAML text
   * @param sourceName the name used in error messages
   * @param overrides {@code key.path=value} strings, applied in order
   * @return the validated configuration
   * @throws ConfigException for bad input
   */
  public static DiffusionConfig loadString(String yaml, String sourceName, List<String> overrides) {
    Objects.requireNonNull(yaml, "yaml");
    return bind(yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml, sourceName, workingDirectory(),
        overrides);
  }

  /**
   * An override that sets a key to a text, read as that text whatever it holds: an override's value is read as
   * YAML, so a folder named {@code d: x}, {@code [runs]} or {@code runs #2} would be a mapping, a list or cut at the
   * comment, and {@code yes} a boolean; the value is written as the run folder's {@code config.yaml} writes strings
   * (plain where that reads back the same, else double-quoted with escapes).
   *
   * @param key the key's path, e.g. {@code output.dir}
   * @param text the value
   * @return {@code key=value}, for {@link #load(Path, List)} and the other methods taking overrides
   */
  public static String stringOverride(String key, String text) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(text, "text");
    return key + "=" + YamlText.string(text);
  }

  /**
   * Loads a configuration shipped with diffusion4j.
   *
   * @param name {@code tutorial} (the DDPM tutorial's exact setup) or {@code default} (the recommended
   *     setup for the gradient data); see {@link #bundledNames()}
   * @return the configuration
   * @throws ConfigException if there is no such bundled config
   */
  public static DiffusionConfig bundled(String name) {
    return bundled(name, List.of());
  }

  /**
   * Loads a bundled configuration and applies overrides.
   *
   * @param name the bundled config's name
   * @param overrides {@code key.path=value} strings, applied in order
   * @return the configuration
   * @throws ConfigException if there is no such bundled config, or for a bad override
   */
  public static DiffusionConfig bundled(String name, List<String> overrides) {
    return bind(bundledYaml(name), "bundled:" + name + ".yaml", workingDirectory(), overrides);
  }

  /**
   * The YAML text of a bundled configuration (with its comments), e.g. to copy and edit.
   *
   * @param name the bundled config's name
   * @return the text
   * @throws ConfigException if there is no such bundled config
   */
  public static String bundledYaml(String name) {
    if (!BUNDLED.contains(name)) {
      throw new ConfigException("bundled:" + name, 0, 0, "",
          "no bundled config named '" + name + "'; " + Suggestions.didYouMean(name, BUNDLED));
    }
    try (InputStream in = ConfigLoader.class.getResourceAsStream(RESOURCES + name + ".yaml")) {
      if (in == null) {
        throw new IllegalStateException("bundled config " + name + ".yaml is missing from the jar");
      }
      return YamlTree.decodeUtf8(in.readAllBytes(), name + ".yaml");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read bundled config " + name + ".yaml", e);
    }
  }

  /**
   * The names of the bundled configurations.
   *
   * @return {@code [default, tutorial, ddpm-cifar10, ddpm-celeba, ddpm-lsun256]}
   */
  public static List<String> bundledNames() {
    return BUNDLED;
  }

  /**
   * The schema's defaults: the configuration of a file that sets nothing. (The recommended setup is
   * {@code bundled("default")}.)
   *
   * @return the default configuration
   */
  public static DiffusionConfig defaults() {
    return Defaults.CONFIG;
  }

  /** Computed once, on first use (not during the schema's initialisation). */
  private static final class Defaults {
    static final DiffusionConfig CONFIG =
        new Binder("defaults", workingDirectory()).bind(Node.MapNode.empty(Location.of("defaults")));
  }

  private static DiffusionConfig bind(String text, String source, Path baseDir, List<String> overrides) {
    return bindLocated(text, source, baseDir, overrides).config();
  }

  private static LoadedConfig bindLocated(String text, String source, Path baseDir, List<String> overrides) {
    Objects.requireNonNull(overrides, "overrides");
    Node.MapNode root = YamlTree.parseDocument(text, source);
    root = Overrides.withoutOtherSamplersOptions(root, Overrides.apply(root, overrides));
    DiffusionConfig config = new Binder(source, baseDir).bind(root);
    return new LoadedConfig(config, root, source, path -> Schema.ROOT.holdsDefault(config, path));
  }

  /**
   * Like {@link #load(Path, List)}, keeping the location of every value for later errors.
   *
   * @param yaml the file
   * @param overrides {@code key.path=value} strings
   * @return the configuration and its locations
   * @throws ConfigException on any bad input
   */
  public static LoadedConfig read(Path yaml, List<String> overrides) {
    String source = yaml.toString();
    byte[] bytes = read(yaml, source);
    String text = YamlTree.decodeUtf8(bytes, source);
    return bindLocated(text, source, yaml.toAbsolutePath().normalize().getParent(), overrides);
  }

  /**
   * Like {@link #bundled(String, List)}, keeping locations.
   *
   * @param name a bundled configuration's name
   * @param overrides {@code key.path=value} strings
   * @return the configuration and its locations
   * @throws ConfigException if the name is unknown or an override is bad
   */
  public static LoadedConfig readBundled(String name, List<String> overrides) {
    return bindLocated(bundledYaml(name), "bundled:" + name + ".yaml", workingDirectory(), overrides);
  }

  /**
   * Like {@link #loadString(String, String, List)}, keeping locations.
   *
   * @param yaml the YAML text
   * @param sourceName the name used in errors
   * @param overrides {@code key.path=value} strings
   * @return the configuration and its locations
   */
  public static LoadedConfig readString(String yaml, String sourceName, List<String> overrides) {
    Objects.requireNonNull(yaml, "yaml");
    return bindLocated(yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml, sourceName, workingDirectory(),
        overrides);
  }

  /**
   * Whether an override sets a key path, a key below it, or a section that holds it ({@code data={...}} sets
   * {@code data.image_shape}): for callers that must know whether the user chose a value before the configuration
   * is read.
   *
   * @param overrides {@code key.path=value} strings
   * @param keyPath e.g. {@code threads}, {@code data.image_shape}
   * @return whether one of them touches it
   */
  public static boolean overridesTouch(List<String> overrides, String keyPath) {
    for (String o : overrides) {
      int eq = o == null ? -1 : o.indexOf('=');
      String key = eq < 0 ? "" : o.substring(0, eq).strip(); // as Overrides.apply reads it
      if (!key.isEmpty() && (key.equals(keyPath) || key.startsWith(keyPath + ".") || keyPath.startsWith(key + "."))) {
        return true;
      }
    }
    return false;
  }

  private static byte[] read(Path yaml, String source) {
    if (Files.isDirectory(yaml)) {
      throw new ConfigException(source, 0, 0, "", "is a directory, not a YAML file");
    }
    if (Files.exists(yaml) && !Files.isRegularFile(yaml)) {
      // checked before reading: a FIFO would block until something writes to it
      throw new ConfigException(source, 0, 0, "", FileProblems.ofReading(yaml).orElse("is not a regular file"));
    }
    try {
      // UTF-8 takes at most 4 bytes a character: a larger file is refused before it is read into memory
      long size = Files.isRegularFile(yaml) ? Files.size(yaml) : 0;
      if (size > 4L * YamlTree.MAX_CODE_POINTS) {
        throw new ConfigException(source, 0, 0, "", "holds " + size + " bytes; a config file holds at most "
            + YamlTree.MAX_CODE_POINTS + " characters");
      }
      return Files.readAllBytes(yaml);
    } catch (NoSuchFileException e) {
      throw new ConfigException(source, 0, 0, "",
          "no such file (looked for " + yaml.toAbsolutePath().normalize() + ")");
    } catch (AccessDeniedException e) {
      throw new ConfigException(source, 0, 0, "", "cannot read the file: permission denied");
    } catch (IOException e) {
      throw new ConfigException(source, 0, 0, "", "cannot read the file: " + FileProblems.describe(e));
    }
  }

  private static Path workingDirectory() {
    return Path.of("").toAbsolutePath();
  }
}
