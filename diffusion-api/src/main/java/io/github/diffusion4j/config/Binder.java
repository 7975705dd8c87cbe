package io.github.diffusion4j.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Binds a located tree to the records, driven by the {@link Schema}: rejects unknown keys (with "did
 * you mean") and keys of another kind, reads each value with its type, fills defaults, and builds the
 * records, whose constructors check ranges and combinations. Every error leaves here located at the
 * key it names (or at the nearest enclosing key the user wrote).
 */
final class Binder {
  private final String source;
  private final Path baseDir;

  /**
   * A binder.
   *
   * @param source the name of the main source, for errors that have no better location
   * @param baseDir the folder relative paths are resolved against
   */
  Binder(String source, Path baseDir) {
    this.source = source;
    this.baseDir = baseDir;
  }

  /**
   * Binds a whole configuration.
   *
   * @param root the root mapping
   * @return the validated configuration
   * @throws ConfigException located
   */
  DiffusionConfig bind(Node.MapNode root) {
    try {
      return bindSection(Schema.ROOT, root);
    } catch (ConfigException e) {
      throw locate(e, root);
    }
  }

  private <R> R bindSection(Section<R> section, Node.MapNode node) {
    for (Map.Entry<String, Node.Entry> e : node.entries().entrySet()) {
      if (section.member(e.getKey()) == null) {
        String path = child(section.path(), e.getKey());
        throw new ConfigException(path, "unknown key; " + Suggestions.didYouMean(e.getKey(), section.names()))
            .at(e.getValue().keyLocation());
      }
    }
    String kind = null;
    if (section.kindKey() != null) {
      kind = Section.kindName(section.kindKey(), read(section.kindKey(), node.get(section.kindKey().name()), null));
    }
    Section.Values values = new Section.Values();
    for (Section.Member<R> m : section.members()) {
      Node.Entry entry = node.get(m.name());
      if (m instanceof Key<R, ?> key) {
        if (entry != null && !key.appliesTo(kind)) {
          throw notApplicable(key, kind, entry, node.get(section.kindKey().name()), section.path());
        }
        values.put(key, read(key, entry, kind));
      } else {
        Section.Sub<R, ?> sub = (Section.Sub<R, ?>) m;
        values.put(sub, bindSection(sub.section(), sectionNode(sub.section(), entry, node)));
      }
    }
    return section.build(values);
  }

  /**
   * A key given for a kind it does not apply to, located at the key; but where an override changed the kind of a
   * section the file gives keys of (the bundled tutorial's {@code model.hidden} under {@code --set model.kind=unet}),
   * at the override, with the way to replace the whole section: the file's key cannot be removed from there.
   */
  private static ConfigException notApplicable(Key<?, ?> key, String kind, Node.Entry entry, Node.Entry kindEntry,
      String sectionPath) {
    Location keyAt = entry.keyLocation();
    if (kindEntry == null || !Overrides.isOverride(kindEntry.keyLocation()) || Overrides.isOverride(keyAt)) {
      return key.notApplicable(kind).at(keyAt);
    }
    String given = keyAt.source() + (keyAt.line() > 0 ? ":" + keyAt.line() + ":" + keyAt.column() : "");
    return key.notApplicable(kind, "it is given at " + given + ": give the section whole to change its kind (--set '"
        + sectionPath + "={kind: " + kind + "}' replaces it, with the keys of that kind you add)")
        .at(kindEntry.keyLocation());
  }

  private <T> T read(Key<?, T> key, Node.Entry entry, String kind) {
    if (entry == null) {
      return key.defaultFor(kind);
    }
    Path base = Overrides.isOverride(entry.keyLocation()) ? Path.of("").toAbsolutePath() : baseDir;
    return key.type().read(entry.value(), key.path(), base);
  }

  private Node.MapNode sectionNode(Section<?> section, Node.Entry entry, Node.MapNode parent) {
    if (entry == null) {
      return Node.MapNode.empty(parent.location());
    }
    Node v = entry.value();
    if (v instanceof Node.MapNode m) {
      return m;
    }
    if (v instanceof Node.ScalarNode s && s.kind() == Node.Kind.NULL) {
      return Node.MapNode.empty(s.location());
    }
    throw new ConfigException(section.path(), "expected a mapping (a section with keys "
        + String.join(", ", section.names()) + "), got " + v.describe()).at(entry.keyLocation());
  }

  private static String child(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /**
   * Adds a location to an error from a record: that of the first of its alternatives whose key an override
   * ({@code --set}) gave, else of the first whose key the user wrote, else that of the nearest enclosing key that
   * was written, else the source alone. A clash between two keys that an override caused is the override's
   * ({@code --set model.base_channels=30} against the file's {@code groups: 8} pointed at the file's groups line).
   */
  ConfigException locate(ConfigException e, Node.MapNode root) {
    if (e.located()) {
      return e;
    }
    List<ConfigException> candidates = new ArrayList<>();
    candidates.add(e);
    candidates.addAll(e.alternatives());
    ConfigException inFile = null;
    Location inFileAt = null;
    for (ConfigException c : candidates) {
      Optional<Location> at = find(root, c.path(), false);
      if (at.isPresent() && !Objects.equals(at.get().source(), source)) {
        return c.at(at.get());
      }
      if (at.isPresent() && inFile == null) {
        inFile = c;
        inFileAt = at.get();
      }
    }
    if (inFile != null) {
      return inFile.at(inFileAt);
    }
    return e.at(find(root, e.path(), true).orElse(Location.of(source)));
  }

  /**
   * The location of a key path ({@code a.b[2].c}): of the key itself, or, with {@code nearest}, of the
   * deepest part of the path that exists.
   */
  private static Optional<Location> find(Node.MapNode root, String path, boolean nearest) {
    Node node = root;
    Location found = null;
    for (String segment : path.split("\\.")) {
      int bracket = segment.indexOf('[');
      String name = bracket < 0 ? segment : segment.substring(0, bracket);
      if (!(node instanceof Node.MapNode m) || m.get(name) == null) {
        return nearest ? Optional.ofNullable(found) : Optional.empty();
      }
      found = m.get(name).keyLocation();
      node = m.get(name).value();
      while (bracket >= 0) {
        int close = segment.indexOf(']', bracket);
        int index = Integer.parseInt(segment.substring(bracket + 1, close));
        if (!(node instanceof Node.ListNode l) || index >= l.items().size()) {
          return nearest ? Optional.of(found) : Optional.empty();
        }
        node = l.items().get(index);
        found = node.location();
        bracket = segment.indexOf('[', close);
      }
    }
    return Optional.ofNullable(found);
  }
}
