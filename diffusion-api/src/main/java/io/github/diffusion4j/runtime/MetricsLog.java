package io.github.diffusion4j.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.FileProblems;
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
 * carry the tutorial's per-step quantities and the rate the step was taken with ({@code "lr"}); lines of
 * {@code "type":"eval"} the per-epoch evaluation loss;
 * a line of {@code "type":"data"} at each start what the data is ({@link DataReport}: counts, skipped
 * images, the cache).
 */
final class MetricsLog {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;

  MetricsLog(Path file) {
    this.file = file;
  }

  /**
   * Keeps only the lines logged up to a position (a resumed run rewrites what the interrupted run logged after it),
   * rewriting the file atomically: those of steps up to {@code step}, less the evaluations of epoch {@code epoch} and
   * later. A position at an epoch's last step before its evaluation (a run stopped during it) evaluates that epoch
   * first when resumed; a resume killed after it logged the evaluation, before a checkpoint past it, left that line at
   * the position's step, and the next resume logged the evaluation again.
   *
   * @param step the position's step (-1 for none: the log starts again)
   * @param epoch the position's epoch, counted from 0: the first whose evaluation is not before it
   */
  void truncateAfter(long step, int epoch) {
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
          if (line.isBlank()) {
            continue;
          }
          com.fasterxml.jackson.databind.JsonNode o = JSON.readTree(line);
          // an evaluation's line counts its epoch from 1
          boolean evaluatedAfter = o.path("type").asText().equals("eval")
              && o.path("epoch").asLong(Long.MAX_VALUE) > epoch;
          if (o.path("step").asLong(Long.MAX_VALUE) <= step && !evaluatedAfter) {
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
    if (Double.isFinite(r.learningRate())) {
      o.put("lr", r.learningRate());
    }
    append(o);
  }

  /** What the run trains on: a line of {@code "type":"data"} at the step it starts from. */
  void data(DataReport report, long step) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "data");
    o.put("step", step);
    o.put("kind", report.kind());
    part(o.putObject("train"), report.train());
    report.eval().ifPresent(e -> part(o.putObject("eval"), e));
    append(o);
  }

  private static void part(ObjectNode o, DataReport.Part p) {
    o.put("source", p.source());
    o.put("images", p.images());
    o.put("available", p.available());
    o.put("skipped", p.skippedCount());
    if (!p.skipped().isEmpty()) {
      var list = o.putArray("skipped_files");
      p.skipped().forEach(s -> list.addObject().put("file", s.file().toString()).put("problem", s.problem()));
    }
    if (!p.classes().isEmpty()) {
      var list = o.putArray("classes");
      p.classes().forEach(list::add);
    }
    p.cacheFile().ifPresent(f -> {
      ObjectNode c = o.putObject("cache");
      c.put("file", f.toString());
      c.put("status", p.cacheStatus().orElseThrow().name().toLowerCase(java.util.Locale.ROOT));
      p.cacheNote().ifPresent(n -> c.put("reason", n));
      c.put("build_seconds", p.cacheSeconds());
    });
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
      throw new UncheckedIOException(file + ": cannot write the metrics log: " + FileProblems.describe(e), e);
    }
  }
}
