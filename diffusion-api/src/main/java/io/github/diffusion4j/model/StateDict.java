package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Named float32 arrays in a fixed order: a model's weights (PyTorch {@code state_dict} names and
 * layouts), an optimiser's state, or anything else stored in a checkpoint. Immutable.
 */
public final class StateDict {
  /** How many names a layout error lists: a 256x256 model has 450, which made one error line of 25 KB. */
  private static final int NAMES_SHOWN = 5;

  private final Map<String, FloatArray> entries;

  private StateDict(Map<String, FloatArray> entries) {
    this.entries = Collections.unmodifiableMap(entries);
  }

  /**
   * A state dict with the given entries, in the map's iteration order.
   *
   * @param entries the entries
   * @return the state dict
   * @throws NullPointerException if a name or an array is null
   */
  public static StateDict of(Map<String, FloatArray> entries) {
    Builder b = builder();
    entries.forEach(b::put);
    return b.build();
  }

  /**
   * A builder that keeps insertion order.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The names, in order.
   *
   * @return the names
   */
  public Set<String> names() {
    return entries.keySet();
  }

  /**
   * The entries, in order.
   *
   * @return an unmodifiable view
   */
  public Map<String, FloatArray> entries() {
    return entries;
  }

  /**
   * One entry.
   *
   * @param name the name
   * @return the entry
   * @throws IllegalArgumentException if there is no entry of that name
   */
  public FloatArray get(String name) {
    FloatArray a = entries.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no entry '" + name + "'; entries are " + entries.keySet());
    }
    return a;
  }

  /**
   * Whether an entry exists.
   *
   * @param name the name
   * @return true if present
   */
  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  /**
   * The number of entries.
   *
   * @return the count
   */
  public int size() {
    return entries.size();
  }

  /**
   * Checks that this state dict has exactly the expected names and shapes, and only finite values.
   *
   * @param expected the shapes by name
   * @param what what is being loaded, for the message (e.g. "model weights")
   * @throws IllegalArgumentException naming the first problem
   */
  public void requireLayout(Map<String, int[]> expected, String what) {
    Map<String, int[]> found = new LinkedHashMap<>();
    entries.forEach((k, v) -> found.put(k, v.shape().dims()));
    requireShapes(found, expected, what);
    for (String name : expected.keySet()) {
      FloatArray a = entries.get(name);
      int bad = a.firstNonFinite();
      if (bad >= 0) {
        throw new IllegalArgumentException(
            what + ": '" + name + "' has a non-finite value (" + a.get(bad) + ") at index " + bad);
      }
    }
  }

  /**
   * Checks that the names and shapes found (of a file's tensors, before they are read) are exactly the expected
   * ones: the names and shapes part of {@link #requireLayout}, with its messages.
   *
   * @param found the shapes by name (a dimension may be 0: an empty tensor)
   * @param expected the shapes by name
   * @param what what is being loaded, for the message (e.g. "model weights")
   * @throws IllegalArgumentException naming the first missing entry, the first of another shape, or the first
   *     entry not expected
   */
  public static void requireShapes(Map<String, int[]> found, Map<String, int[]> expected, String what) {
    for (Map.Entry<String, int[]> e : expected.entrySet()) {
      int[] shape = found.get(e.getKey());
      if (shape == null) {
        List<String> missing = expected.keySet().stream().filter(k -> !found.containsKey(k)).toList();
        List<String> unexpected = found.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        throw new IllegalArgumentException(
            what + ": missing '" + e.getKey() + "' (expected shape " + Arrays.toString(e.getValue()) + ")"
                + others(missing.size() - 1, "missing", missing.subList(1, missing.size()))
                + "; the file has " + found.size() + " entries, the model expects " + expected.size()
                + (unexpected.isEmpty() ? "" : "; not expected: " + abbreviated(unexpected)));
      }
      if (!Arrays.equals(shape, e.getValue())) {
        throw new IllegalArgumentException(
            what + ": '" + e.getKey() + "' has shape " + Arrays.toString(shape) + ", expected "
                + Arrays.toString(e.getValue()));
      }
    }
    for (String name : found.keySet()) {
      if (!expected.containsKey(name)) {
        List<String> unexpected = found.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        throw new IllegalArgumentException(
            what + ": unexpected entry '" + name + "'"
                + others(unexpected.size() - 1, "unexpected", unexpected.subList(1, unexpected.size()))
                + "; the file has " + found.size() + " entries, the model expects " + expected.size()
                + " (" + abbreviated(expected.keySet()) + ")");
      }
    }
  }

  private static String others(int count, String kind, Collection<String> names) {
    return count <= 0 ? "" : " and " + count + " more " + kind + " (" + abbreviated(names) + ")";
  }

  private static String abbreviated(Collection<String> names) {
    List<String> all = List.copyOf(names);
    String shown = String.join(", ", all.subList(0, Math.min(NAMES_SHOWN, all.size())));
    return all.size() > NAMES_SHOWN ? shown + ", ... " + (all.size() - NAMES_SHOWN) + " more" : shown;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StateDict s && s.entries.equals(entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("StateDict{");
    entries.forEach((k, v) -> b.append(k).append(v.shape()).append(", "));
    if (!entries.isEmpty()) {
      b.setLength(b.length() - 2);
    }
    return b.append('}').toString();
  }

  /** Builds a {@link StateDict} in insertion order. */
  public static final class Builder {
    private final LinkedHashMap<String, FloatArray> entries = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds an entry.
     *
     * @param name a name not yet used
     * @param array the values
     * @return this builder
     * @throws IllegalArgumentException if the name is already used
     * @throws NullPointerException if the name or the array is null
     */
    public Builder put(String name, FloatArray array) {
      java.util.Objects.requireNonNull(name, "a state dict entry's name must not be null");
      java.util.Objects.requireNonNull(array, () -> "state dict entry '" + name + "' must not be null");
      if (entries.putIfAbsent(name, array) != null) {
        throw new IllegalArgumentException("duplicate entry '" + name + "'");
      }
      return this;
    }

    /**
     * Adds an entry from values and a shape.
     *
     * @param name a name not yet used
     * @param shape the shape
     * @param data the values (copied)
     * @return this builder
     */
    public Builder put(String name, int[] shape, float[] data) {
      return put(name, FloatArray.of(Shape.of(shape), data));
    }

    /**
     * Builds the state dict.
     *
     * @return the state dict
     */
    public StateDict build() {
      return new StateDict(new LinkedHashMap<>(entries));
    }
  }
}
