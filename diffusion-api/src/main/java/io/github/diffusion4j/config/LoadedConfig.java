package io.github.diffusion4j.config;

import java.util.Map;

/**
 * A configuration together with where each of its values came from, so that checks made after loading
 * (an unknown backend or sampler name, a checkpoint that does not match) can still report
 * {@code file:line:col: key.path: message}.
 */
public final class LoadedConfig {
  private final DiffusionConfig config;
  private final Node.MapNode root;
  private final String source;

  LoadedConfig(DiffusionConfig config, Node.MapNode root, String source) {
    this.config = config;
    this.root = root;
    this.source = source;
  }

  /**
   * A configuration built in code: errors name the key but no file.
   *
   * @param config the configuration
   * @return the wrapper
   */
  public static LoadedConfig of(DiffusionConfig config) {
    return new LoadedConfig(config, null, null);
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
}
