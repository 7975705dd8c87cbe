package io.github.diffusion4j.io;

import io.github.diffusion4j.model.StateDict;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What resuming a training run needs beyond the weights: the optimiser's state (e.g. Adam's moments)
 * and the counters. Stored as {@code training_state.safetensors}: the tensors are {@code optimizer},
 * and the counters are strings in {@code __metadata__} under {@value #STEP}, {@value #EPOCH} and
 * {@value #NOISE_POSITION}, next to the {@code extra} entries.
 *
 * <p>Scalar counters of the optimiser (Adam's step count) belong in {@code extra} as decimal strings,
 * not in {@code optimizer}: a float32 counts exactly only up to 2^24.
 *
 * @param step the number of optimiser steps done, at least 0
 * @param epoch the number of passes over the data done, at least 0
 * @param noisePosition where the run's noise stream continues (e.g. the index of the next batch's
 *     noise split)
 * @param optimizer the optimiser's tensors, PyTorch-style names
 * @param extra further strings to keep (must not use the reserved keys)
 */
public record TrainingState(
    long step, long epoch, long noisePosition, StateDict optimizer, Map<String, String> extra) {

  /** The metadata key of {@link #step()}. */
  public static final String STEP = "step";

  /** The metadata key of {@link #epoch()}. */
  public static final String EPOCH = "epoch";

  /** The metadata key of {@link #noisePosition()}. */
  public static final String NOISE_POSITION = "noise_position";

  private static final Set<String> RESERVED = Set.of(STEP, EPOCH, NOISE_POSITION);

  /**
   * Validates and copies.
   *
   * @param step the number of optimiser steps done, at least 0
   * @param epoch the number of passes over the data done, at least 0
   * @param noisePosition where the run's noise stream continues (e.g. the index of the next batch's noise
   *     split)
   * @param optimizer the optimiser's tensors, PyTorch-style names
   * @param extra further strings to keep (must not use the reserved keys)
   * @throws IllegalArgumentException if a counter is negative or {@code extra} uses a reserved key
   */
  public TrainingState {
    if (step < 0) {
      throw new IllegalArgumentException("step must be at least 0, got " + step);
    }
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be at least 0, got " + epoch);
    }
    if (optimizer == null) {
      throw new IllegalArgumentException("optimizer state must not be null (use an empty StateDict)");
    }
    extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra == null ? Map.of() : extra));
    for (String k : extra.keySet()) {
      if (RESERVED.contains(k)) {
        throw new IllegalArgumentException("extra key '" + k + "' is reserved; reserved are " + RESERVED);
      }
    }
  }

  /**
   * A state with no extra strings.
   *
   * @param step the step
   * @param epoch the epoch
   * @param noisePosition the noise position
   * @param optimizer the optimiser tensors
   * @return the state
   */
  public static TrainingState of(long step, long epoch, long noisePosition, StateDict optimizer) {
    return new TrainingState(step, epoch, noisePosition, optimizer, Map.of());
  }

  /** The metadata of the safetensors file. */
  Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>(extra);
    m.put(STEP, Long.toString(step));
    m.put(EPOCH, Long.toString(epoch));
    m.put(NOISE_POSITION, Long.toString(noisePosition));
    return m;
  }

  /**
   * Rebuilds the state from a safetensors file's content.
   *
   * @param file the content
   * @param source the file, for messages
   * @return the state
   * @throws CheckpointException if a counter is missing or not an integer
   */
  static TrainingState from(TensorFile file, String source) {
    Map<String, String> extra = new LinkedHashMap<>(file.metadata());
    long step = counter(extra, STEP, source);
    long epoch = counter(extra, EPOCH, source);
    long noise = counter(extra, NOISE_POSITION, source);
    try {
      return new TrainingState(step, epoch, noise, file.tensors(), extra);
    } catch (IllegalArgumentException e) {
      throw CheckpointException.of(source, e.getMessage());
    }
  }

  private static long counter(Map<String, String> metadata, String key, String source) {
    String v = metadata.remove(key);
    if (v == null) {
      throw CheckpointException.of(
          source, "__metadata__ has no '" + key + "'; a training state needs " + STEP + ", " + EPOCH
              + " and " + NOISE_POSITION);
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw CheckpointException.of(
          source, "__metadata__." + key + " must be an integer, got '" + StrictJson.abbreviate(v) + "'");
    }
  }
}
