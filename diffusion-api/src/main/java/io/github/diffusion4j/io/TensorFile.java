package io.github.diffusion4j.io;

import io.github.diffusion4j.model.StateDict;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a safetensors file: the tensors, in the order of their data in the file, and the
 * free-form {@code __metadata__} strings.
 *
 * @param tensors the tensors, converted to float32
 * @param metadata the {@code __metadata__} map (empty if the file has none), unmodifiable
 */
public record TensorFile(StateDict tensors, Map<String, String> metadata) {
  /**
   * Copies the metadata into an unmodifiable map and checks for nulls.
   *
   * @param tensors the tensors, converted to float32
   * @param metadata the {@code __metadata__} map (empty if the file has none), unmodifiable
   */
  public TensorFile {
    if (tensors == null) {
      throw new IllegalArgumentException("tensors must not be null");
    }
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata == null ? Map.of() : metadata));
  }
}
