package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigWriter;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.io.CheckpointContent;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.io.TrainingState;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.training.TrainingProgress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Between models and checkpoint contents. */
final class Checkpoints {
  /** The extra training-state key with Adam's exact step count (the tensor entry is float32). */
  static final String ADAM_STEP = "adam_step";
  /** The {@code training_state} strings of {@link TrainingProgress.Losses} (absent before 2026-12-06: none summed). */
  static final String EPOCH_LOSS_SUM = "epoch_loss_sum";
  static final String EPOCH_LOSS_STEPS = "epoch_loss_steps";
  static final String INTERVAL_LOSS_SUM = "interval_loss_sum";
  static final String INTERVAL_LOSS_STEPS = "interval_loss_steps";

  private Checkpoints() {}

  static SchedulerConfig schedulerConfig(DiffusionConfig c) {
    return SchedulerConfig.of(c.schedule().spec(), c.schedule().predictionType(), c.sampling().varianceType(),
        c.sampling().clipping(), c.sampling().timestepSpacing(), c.sampling().stepsOffset())
        .withSetAlphaToOne(c.sampling().setAlphaToOne());
  }

  /** Everything needed to resume, refusing weights that are not finite. */
  static CheckpointContent content(DiffusionConfig config, TrainableModel model, boolean ema, TrainingProgress p) {
    StateDict weights = model.stateDict();
    requireFinite(weights, "model weights");
    CheckpointContent c = CheckpointContent.of(weights, ConfigWriter.toYaml(config))
        .withScheduler(schedulerConfig(config))
        .withTrainingState(new TrainingState(p.step(), p.epoch(), p.batchInEpoch(), model.optimizerState(),
            Map.of(ADAM_STEP, Long.toString(model.stepCount()),
                EPOCH_LOSS_SUM, Double.toString(p.losses().epochSum()),
                EPOCH_LOSS_STEPS, Integer.toString(p.losses().epochSteps()),
                INTERVAL_LOSS_SUM, Double.toString(p.losses().intervalSum()),
                INTERVAL_LOSS_STEPS, Integer.toString(p.losses().intervalSteps()))));
    if (ema) {
      StateDict e = model.emaStateDict();
      requireFinite(e, "EMA weights");
      c = c.withEma(e);
    }
    return c;
  }

  static void requireFinite(StateDict d, String what) {
    for (Map.Entry<String, io.github.diffusion4j.model.FloatArray> e : d.entries().entrySet()) {
      int bad = e.getValue().firstNonFinite();
      if (bad >= 0) {
        throw new IllegalStateException(what + " '" + e.getKey() + "' became " + e.getValue().get(bad)
            + "; training diverged (lower training.learning_rate or set training.max_grad_norm); "
            + "no checkpoint was written, earlier checkpoints are kept");
      }
    }
  }

  /** Refuses a checkpoint file's tensor holding NaN or an infinity, naming the file, the tensor and the index. */
  static void requireFiniteIn(Path file, StateDict d) {
    for (Map.Entry<String, FloatArray> e : d.entries().entrySet()) {
      int bad = e.getValue().firstNonFinite();
      if (bad >= 0) {
        throw new CheckpointException(file + ": tensor '" + e.getKey() + "' holds " + e.getValue().get(bad)
            + " at index " + bad + "; checkpoints are written with finite values only, so the file is damaged");
      }
    }
  }

  /** Restores weights, EMA and optimiser state; returns where to resume. */
  static TrainingProgress restore(Path dir, CheckpointContent c, TrainableModel model) {
    // content() never writes a non-finite value, so one here is damage (behind a manifest that matches it, or
    // none); resumed, it would fail as a divergence of the training at its first step
    requireFiniteIn(dir.resolve(io.github.diffusion4j.io.Checkpoint.MODEL_FILE), c.model());
    c.ema().ifPresent(e -> requireFiniteIn(dir.resolve(io.github.diffusion4j.io.Checkpoint.EMA_FILE), e));
    c.trainingState().ifPresent(s -> requireFiniteIn(
        dir.resolve(io.github.diffusion4j.io.Checkpoint.TRAINING_STATE_FILE), s.optimizer()));
    loadWeights(dir, model, c.model(), io.github.diffusion4j.io.Checkpoint.MODEL_FILE, null);
    c.ema().ifPresent(e -> {
      try {
        model.loadEmaStateDict(e);
      } catch (IllegalArgumentException ex) {
        throw new CheckpointException(dir.resolve(io.github.diffusion4j.io.Checkpoint.EMA_FILE) + ": "
            + ex.getMessage());
      }
    });
    TrainingState s = c.trainingState().orElseThrow(() -> new CheckpointException(
        dir + ": has no training_state.safetensors, so it cannot be resumed (it can still be sampled)"));
    Path stateFile = dir.resolve(io.github.diffusion4j.io.Checkpoint.TRAINING_STATE_FILE);
    java.util.OptionalLong adamStep = adamStep(stateFile, s.extra());
    try {
      if (adamStep.isPresent()) {
        model.loadOptimizerState(s.optimizer(), adamStep.getAsLong());
      } else {
        model.loadOptimizerState(s.optimizer()); // an older checkpoint: the float32 'step' tensor's count
      }
    } catch (IllegalArgumentException ex) {
      throw new CheckpointException(dir.resolve(io.github.diffusion4j.io.Checkpoint.TRAINING_STATE_FILE) + ": "
          + ex.getMessage());
    }
    if (s.epoch() > Integer.MAX_VALUE || s.noisePosition() > Integer.MAX_VALUE) {
      throw new CheckpointException(dir.resolve(io.github.diffusion4j.io.Checkpoint.TRAINING_STATE_FILE)
          + ": epoch or batch out of range");
    }
    return new TrainingProgress((int) s.epoch(), (int) s.noisePosition(), s.step(),
        losses(dir.resolve(io.github.diffusion4j.io.Checkpoint.TRAINING_STATE_FILE), s.extra()));
  }

  /**
   * Adam's exact step count ({@value #ADAM_STEP}); empty for a checkpoint written without it, whose count is then the
   * float32 {@code step} tensor's (exact up to 2^24 steps).
   */
  static java.util.OptionalLong adamStep(Path file, Map<String, String> extra) {
    String v = extra.get(ADAM_STEP);
    if (v == null) {
      return java.util.OptionalLong.empty();
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n >= 0) {
        return java.util.OptionalLong.of(n);
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new CheckpointException(file + ": " + ADAM_STEP + " '" + v + "' is not a step count (a whole number at "
        + "least 0)");
  }

  /** The prefix of the tutorial's schedule buffers in its module's state dict ({@code NoiseSchedule}). */
  static final String TUTORIAL_SCHEDULE = "noise_schedule.";

  /**
   * Loads weights into a model. The tutorial's PyTorch module keeps its schedule as buffers of a submodule
   * ({@code noise_schedule.betas}, {@code .alphas}, {@code .alpha_bars}); they are checked against the configured
   * schedule and left out (the schedule lives in the configuration here).
   *
   * @param file the weight file's name, for messages
   * @param schedule the configured schedule, to check such buffers against (null: no buffers expected)
   */
  static void loadWeights(Path dir, TrainableModel model, StateDict weights, String file, Schedule schedule) {
    if (schedule != null) {
      weights = withoutScheduleBuffers(dir.resolve(file), weights, schedule);
    }
    try {
      model.loadStateDict(weights);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(dir.resolve(file) + ": does not fit the model of config.yaml ("
          + model.spec().kind() + " for " + model.spec().imageShape().toCompactString() + " images): "
          + e.getMessage());
    }
  }

  /**
   * The weights without the tutorial's schedule buffers, after checking each against the configured schedule to
   * float32 precision (relative 1e-5: the tutorial computes them in float32, this SDK in double).
   */
  static StateDict withoutScheduleBuffers(Path file, StateDict weights, Schedule schedule) {
    if (weights.names().stream().noneMatch(n -> n.startsWith(TUTORIAL_SCHEDULE))) {
      return weights;
    }
    Map<String, double[]> expected = Map.of(TUTORIAL_SCHEDULE + "betas", schedule.betas(),
        TUTORIAL_SCHEDULE + "alphas", schedule.alphas(), TUTORIAL_SCHEDULE + "alpha_bars", schedule.alphaBars());
    StateDict.Builder rest = StateDict.builder();
    String where = file + ": ";
    for (Map.Entry<String, FloatArray> e : weights.entries().entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(TUTORIAL_SCHEDULE)) {
        rest.put(name, e.getValue());
        continue;
      }
      double[] want = expected.get(name);
      if (want == null) {
        throw new CheckpointException(where + "'" + name + "' is not one of the tutorial's schedule buffers "
            + new java.util.TreeSet<>(expected.keySet()));
      }
      FloatArray a = e.getValue();
      if (a.shape().rank() != 1 || a.size() != want.length) {
        throw new CheckpointException(where + "'" + name + "' has shape " + a.shape() + " but the configured schedule "
            + "has schedule.num_train_timesteps = " + want.length + " steps");
      }
      for (int t = 0; t < want.length; t++) {
        if (Math.abs(a.get(t) - want[t]) > 1e-5 * Math.abs(want[t]) + 1e-7) {
          throw new CheckpointException(where + "'" + name + "'[" + t + "] is " + a.get(t) + " but the configured schedule"
              + " (config.yaml's schedule.*) gives " + want[t] + "; the model was trained with another schedule");
        }
      }
    }
    return rest.build();
  }

  /**
   * The losses summed before a checkpoint; none for a checkpoint written before they were recorded (its resumed
   * epoch then logs the mean of its resumed steps, as it did).
   */
  static TrainingProgress.Losses losses(Path file, Map<String, String> extra) {
    if (!extra.containsKey(EPOCH_LOSS_SUM)) {
      return TrainingProgress.Losses.NONE;
    }
    for (String key : List.of(EPOCH_LOSS_STEPS, INTERVAL_LOSS_SUM, INTERVAL_LOSS_STEPS)) {
      if (!extra.containsKey(key)) {
        throw new CheckpointException(file + ": loss sums: " + EPOCH_LOSS_SUM + " is given but " + key + " is missing"
            + " (a checkpoint holds all four of " + EPOCH_LOSS_SUM + ", " + EPOCH_LOSS_STEPS + ", " + INTERVAL_LOSS_SUM
            + " and " + INTERVAL_LOSS_STEPS + ", or none)");
      }
    }
    try {
      return new TrainingProgress.Losses(Double.parseDouble(extra.get(EPOCH_LOSS_SUM)),
          Integer.parseInt(extra.get(EPOCH_LOSS_STEPS)), Double.parseDouble(extra.get(INTERVAL_LOSS_SUM)),
          Integer.parseInt(extra.get(INTERVAL_LOSS_STEPS)));
    } catch (RuntimeException e) { // a missing string, a malformed number, a negative count
      throw new CheckpointException(file + ": loss sums " + extra.get(EPOCH_LOSS_SUM) + "/"
          + extra.get(EPOCH_LOSS_STEPS) + "/" + extra.get(INTERVAL_LOSS_SUM) + "/" + extra.get(INTERVAL_LOSS_STEPS)
          + " are not two finite sums and two step counts: " + e.getMessage());
    }
  }
}
