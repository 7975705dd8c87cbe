package io.github.diffusion4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.eval.BoundReport;
import io.github.diffusion4j.eval.BoundTerm;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.io.GifWriter;
import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.io.SampleWriter;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Writing what the commands produce: image grids, raw samples, GIFs, frame strips, the loss chart and the
 * likelihood chart.
 */
public final class OutputFiles {
  private OutputFiles() {}

  /**
   * Fails with a one-line bad-input error unless {@code file}'s folder exists and files can be created in it, its name
   * fits in {@link FileProblems#MAX_NAME_BYTES}, and {@code file} is not a folder: the check of an output file's
   * option before anything is computed (also {@code diffusion spark eval --json}'s, before its job).
   *
   * @param option the option that names the file, for the message
   * @param file the file to be written
   * @throws BadInputException if it cannot be written there
   */
  public static void checkWritable(String option, Path file) {
    fileName(option, file);
    FileProblems.ofNameLength(file).ifPresent(problem -> {
      throw new BadInputException(option + " " + file + ": " + problem);
    });
    Path parent = file.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new BadInputException(option + " " + file + ": " + (parent != null && Files.exists(parent)
          ? parent + " is a file, not a folder" : "the folder " + parent + " does not exist"));
    }
    if (!FileProblems.canCreateFilesIn(parent)) {
      throw new BadInputException(option + " " + file + ": the folder " + parent + " is not writable");
    }
    if (Files.isDirectory(file)) {
      throw new BadInputException(option + " " + file + ": is a folder; give a file name");
    }
  }

  /**
   * Fails with a one-line bad-input error unless a folder can be written at {@code folder} (created with its
   * missing parents): no file in its way, and its nearest existing ancestor writable.
   */
  static void checkFolderWritable(String option, Path folder) {
    io.github.diffusion4j.io.FileProblems.ofWritingInto(folder).ifPresent(problem -> {
      throw new BadInputException(option + " " + folder + ": " + problem);
    });
  }

  /** Whether a path is a folder with nothing in it (an output folder made beforehand, which a writer may replace). */
  static boolean isEmptyFolder(Path p) {
    if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (java.util.stream.Stream<Path> entries = Files.list(p)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Refuses, before a model is loaded (a minute and gigabytes for a 256x256 model), what {@link #samples} would
   * refuse for {@code count} images of {@code image}: a grid too large to show, a file larger than its disk's free
   * space.
   */
  static void checkCapacity(String option, Path file, int count, Shape image) {
    if (format(option, file).equals("png")) {
      checkDrawable(option, file, image, "write " + option + " FILE.npy or FILE.safetensors instead");
      try {
        ImageGrid.checkSize(Shape.batchOf(count, image), gridOf(count));
      } catch (IllegalArgumentException e) {
        throw tooManyForAGrid(option, count, e);
      }
    } else {
      SampleWriter.check(file, image, count, Map.of());
    }
  }

  /**
   * Refuses a picture ({@code --out x.png}, {@code --gif}, {@code --frames}, a strip) of images that a picture cannot
   * show: anything but 1 (gray) or 3 (RGB) channels, as a diffusers folder with {@code in_channels: 4} samples.
   */
  static void checkDrawable(String option, Path file, Shape image, String instead) {
    if (!ImageGrid.canShow(image)) {
      throw new BadInputException(option + " " + file + ": a picture shows images of 1 (grayscale) or 3 (RGB) "
          + "channels, but this model's images are " + image + "; " + instead);
    }
  }

  /** The square grid {@code sample --out x.png} draws. */
  private static ImageGrid.Options gridOf(int count) {
    return ImageGrid.Options.defaults().withNrow((int) Math.ceil(Math.sqrt(count)));
  }

  private static BadInputException tooManyForAGrid(String option, int count, IllegalArgumentException e) {
    return new BadInputException("--count " + count + ": " + e.getMessage() + "; for more, write " + option
        + " FILE.npy or FILE.safetensors");
  }

  /**
   * The last name of {@code file}, failing with a one-line bad-input error where it has none (a root such as
   * {@code /}, which names a folder and no file in it).
   */
  static String fileName(String option, Path file) {
    Path name = file.getFileName();
    if (name == null) {
      throw new BadInputException(option + " " + file + ": is a folder (the root); give a file name");
    }
    return name.toString();
  }

  /** The output formats {@code --out} accepts, by extension. */
  static String format(String option, Path file) {
    String n = fileName(option, file).toLowerCase(Locale.ROOT);
    for (String ext : List.of(".png", ".npy", ".safetensors")) {
      if (n.endsWith(ext)) {
        return ext.substring(1);
      }
    }
    throw new BadInputException(option + " " + file + ": unknown format; use .png (a grid), .npy or .safetensors "
        + "(raw float32 N x C x H x W in [0, 1])");
  }

  /**
   * Where sampled images go as they are produced, batch by batch: a PNG grid drawn cell by cell, or raw
   * samples streamed to {@code .npy} / {@code .safetensors}. Nothing appears under the file's name until
   * {@link #commit()}.
   */
  interface SampleOutput extends Diffusion.ImageSink, AutoCloseable {
    /** Writes the file (atomically). */
    void commit();

    @Override
    void close();
  }

  /**
   * Prepares the output for {@code count} images, checking before anything is sampled that a grid can show
   * them (a grid of more than {@link ImageGrid#MAX_PIXELS} pixels is refused, naming the option).
   */
  static SampleOutput samples(String option, Path file, int count, Shape image, Map<String, String> metadata) {
    if (format(option, file).equals("png")) {
      ImageGrid.Canvas canvas;
      try {
        canvas = ImageGrid.canvas(Shape.batchOf(count, image), gridOf(count));
      } catch (IllegalArgumentException e) {
        throw tooManyForAGrid(option, count, e);
      }
      return new SampleOutput() {
        @Override
        public void accept(long first, float[] images, int n) {
          canvas.draw(Math.toIntExact(first), images, n);
        }

        @Override
        public void commit() {
          ImageGrid.writePng(file, canvas.finish());
        }

        @Override
        public void close() {}
      };
    }
    SampleWriter w = SampleWriter.create(file, image, count, metadata);
    return new SampleOutput() {
      @Override
      public void accept(long first, float[] images, int n) {
        w.write(images, n);
      }

      @Override
      public void commit() {
        w.commit();
      }

      @Override
      public void close() {
        w.close();
      }
    };
  }

  /** An animated GIF of trajectory frames, each a grid of the recorded images. */
  static void writeGif(Path file, List<float[]> frames, Shape image) {
    int n = frames.get(0).length / image.size();
    int nrow = (int) Math.ceil(Math.sqrt(n));
    List<float[]> all = new ArrayList<>(frames);
    for (int i = 0; i < 6; i++) {
      all.add(frames.get(frames.size() - 1));
    }
    GifWriter.writeGrids(file, all, Shape.batchOf(n, image), ImageGrid.Options.defaults().withNrow(nrow), 120, 0);
  }

  /**
   * The tutorial's sequential-denoising figure: one row per recorded image, one column per frame, titled
   * with the step.
   */
  static void writeFrames(Path file, List<float[]> frames, List<Integer> steps, Shape image, int planSize, int columns) {
    int pick = Math.min(columns, frames.size());
    List<Integer> chosen = new ArrayList<>();
    for (int c = 0; c < pick; c++) {
      chosen.add((int) Math.round((double) c * (frames.size() - 1) / Math.max(pick - 1, 1)));
    }
    int k = image.size();
    int rows = frames.get(0).length / k;
    float[] grid = new float[rows * pick * k];
    List<String> titles = new ArrayList<>();
    for (int c = 0; c < pick; c++) {
      float[] f = frames.get(chosen.get(c));
      for (int r = 0; r < rows; r++) {
        System.arraycopy(f, r * k, grid, (r * pick + c) * k, k);
      }
      int s = steps.get(chosen.get(c));
      titles.add(s < 0 ? "noise" : "step " + (s + 1) + "/" + planSize);
    }
    ImageGrid.writePng(file, grid, Shape.batchOf(rows * pick, image),
        ImageGrid.Options.defaults().withNrow(pick).withColumnTitles(titles));
  }

  /** The loss chart from {@code metrics.jsonl}: training loss per log interval, evaluation loss per epoch. */
  static void writeLossChart(Path metrics, Path png) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Double> ts = new ArrayList<>();
    List<Double> tl = new ArrayList<>();
    List<Double> es = new ArrayList<>();
    List<Double> el = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = json.readTree(line);
      if ("train".equals(n.path("type").asText())) {
        ts.add(n.path("step").asDouble());
        tl.add(n.path("mean_loss").asDouble());
      } else if (n.has("eval_loss")) {
        es.add(n.path("step").asDouble());
        el.add(n.path("eval_loss").asDouble());
      }
    }
    List<Series> series = new ArrayList<>();
    if (!ts.isEmpty()) {
      series.add(new Series("train (mean per log interval)", ts, tl, Style.LINE));
    }
    if (!es.isEmpty()) {
      series.add(new Series("eval (per epoch)", es, el, Style.LINE_AND_POINTS));
    }
    writeChart(png, "Loss", "step", "MSE", series);
  }

  /**
   * The likelihood chart: each term of the variational bound against its index {@code t} (the decoder at
   * 0, the KL terms, the prior at {@code T}), on a logarithmic axis; an estimate's terms are the mean of
   * the images that drew them, shown as points.
   */
  static void writeBoundChart(BoundReport r, Path png) throws IOException {
    List<Double> kt = new ArrayList<>();
    List<Double> kv = new ArrayList<>();
    for (BoundTerm t : r.terms()) {
      if (t.t() > 0 && t.count() > 0 && t.bpd() > 0 && Double.isFinite(t.bpd())) {
        kt.add((double) t.t());
        kv.add(t.bpd());
      }
    }
    List<Series> series = new ArrayList<>();
    if (!kt.isEmpty()) {
      series.add(new Series(r.isEstimate() ? "KL terms L_t, as drawn" : "KL terms L_t",
          kt, kv, r.isEstimate() ? Style.POINTS : Style.LINE));
    }
    double decoder = r.terms().get(0).bpd();
    if (decoder > 0 && Double.isFinite(decoder)) {
      series.add(new Series("decoder L_0", List.of(0.0), List.of(decoder), Style.POINTS));
    }
    if (r.priorBpd() > 0 && Double.isFinite(r.priorBpd())) {
      series.add(new Series("prior L_T", List.of((double) r.numTrainTimesteps()), List.of(r.priorBpd()), Style.POINTS));
    }
    String how = r.isEstimate()
        ? "estimate from " + r.timestepsPerImage() + " of " + r.numTrainTimesteps() + " timesteps"
        : "all " + r.numTrainTimesteps() + " timesteps";
    writeChart(png, String.format(Locale.ROOT, "Variational bound: %.4f bits/dim (%d images, %s)", r.totalBpd(),
        r.images(), how), "t (L_t of Ho et al. eq. 5; the model is called at timestep t)", "bits per dimension", series);
  }

  /** How a series is drawn. */
  enum Style { LINE, LINE_AND_POINTS, POINTS }

  /** One series of a chart. */
  record Series(String name, List<Double> x, List<Double> y, Style style) {}

  /** How many decades the positive finite y values of the series span (0 for none). */
  static double decades(List<Series> series) {
    double min = Double.POSITIVE_INFINITY;
    double max = 0;
    for (Series s : series) {
      for (double y : s.y()) {
        if (y > 0 && Double.isFinite(y)) {
          min = Math.min(min, y);
          max = Math.max(max, y);
        }
      }
    }
    return max > 0 ? Math.log10(max / min) : 0;
  }

  /** A chart with a logarithmic y axis, drawn to a PNG; nothing is written when there is no series. */
  static void writeChart(Path png, String title, String xTitle, String yTitle, List<Series> series) throws IOException {
    if (series.isEmpty()) {
      return;
    }
    System.setProperty("java.awt.headless", "true");
    ImageGrid.writePng(png, BitmapEncoder.getBufferedImage(chart(title, xTitle, yTitle, series)));
  }

  /** The chart {@link #writeChart} draws. */
  static XYChart chart(String title, String xTitle, String yTitle, List<Series> series) {
    XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(xTitle)
        .yAxisTitle(yTitle).build();
    chart.getStyler().setYAxisLogarithmic(true);
    // labels at 2, 3, ..., 9 times a power of ten as well where the values span two decades or less (a loss curve
    // between 0.2 and 0.03 had one label, 0.1); powers of ten alone over a wider span (the bound's terms), which the
    // intermediate labels would crowd
    chart.getStyler().setYAxisLogarithmicDecadeOnly(decades(series) > 2);
    for (Series s : series) {
      XYSeries xy = chart.addSeries(s.name(), s.x(), s.y());
      xy.setMarker(s.style() == Style.LINE ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
      if (s.style() == Style.POINTS) {
        xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
      }
    }
    return chart;
  }
}
