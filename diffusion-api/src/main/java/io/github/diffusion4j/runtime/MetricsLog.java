package io.github.diffusion4j.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.training.EpochSummary;
import io.github.diffusion4j.training.LogRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per line, flushed as written. Lines of {@code "type":"train"}
 * carry the tutorial's per-step quantities; lines of {@code "type":"eval"} the per-epoch evaluation loss.
 */
final class MetricsLog {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;

  MetricsLog(Path file) {
    this.file = file;
  }

  /** Keeps only lines up to a step (a resumed run rewrites what the interrupted run logged after it). */
  void truncateAfter(long step) {
    if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    io.github.diffusion4j.io.FileProblems.ofReading(file).ifPresent(p -> {
      throw new IllegalStateException(file + ": " + p + "; it should be the run's metrics log");
    });
    try {
      List<String> kept = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        try {
          if (!line.isBlank() && JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= step) {
            kept.add(line);
          }
        } catch (IOException e) {
          // a torn last line from a killed run: drop it
        }
      }
      AtomicFiles.writeString(file, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot rewrite the metrics log: " + e.getMessage(), e);
    }
  }

  void log(LogRecord r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "train");
    o.put("step", r.step());
    o.put("epoch", r.epoch() + 1);
    o.put("examples_seen", r.examplesSeen());
    o.put("train_loss", r.trainLoss());
    o.put("mean_loss", r.meanLoss());
    o.put("elapsed", r.elapsedSeconds());
    o.put("steps_per_s", r.stepsPerSecond());
    o.put("y_hat_mean", r.predictionMean());
    o.put("y_hat_var", r.predictionVariance());
    o.put("noised_mean", r.noisedMean());
    o.put("noised_var", r.noisedVariance());
    append(o);
  }

  void epoch(EpochSummary e) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "eval");
    o.put("step", e.step());
    o.put("epoch", e.epoch() + 1);
    o.put("train_loss", e.trainLoss());
    if (e.evalLoss().isPresent()) {
      o.put("eval_loss", e.evalLoss().getAsDouble());
    }
    o.put("elapsed", e.elapsedSeconds());
    append(o);
  }

  private void append(ObjectNode o) {
    try {
      Files.writeString(file, o.toString() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot write the metrics log: " + e.getMessage(), e);
    }
  }
}
