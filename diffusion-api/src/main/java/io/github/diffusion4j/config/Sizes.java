package io.github.diffusion4j.config;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every configured size checked against what it multiplies into, before anything is allocated or
 * created: the arrays a configuration implies (the training set, a batch, each weight tensor, the flat
 * parameter vector, a U-Net's largest activation) must fit in one Java array, and together the memory
 * they need must fit in the heap. Each failure names the key to change and the largest value that fits.
 * All arithmetic is in {@code long} (saturating), so no product can overflow into a negative number.
 */
final class Sizes {
  /** The most elements one Java array (and so one tensor) holds, as {@link Shape} allows. */
  static final long MAX_ARRAY = io.github.diffusion4j.tensor.Shape.MAX_ELEMENTS;

  /**
   * Copies of a set's floats the heap holds at the peak of reading it: one. The IDX reader decodes into the array
   * it returns, 1 MiB of the file at a time (a plain file, or a gzip file whose size field gives the length;
   * only a gzip file whose size field disagrees, as a concatenation of several has, is read whole first, one byte
   * a value more), and generated gradients are normalised in place; folders and CIFAR-10 are read from a
   * memory-mapped cache and not charged here. Two copies were charged until 2026-12-07, which refused heaps the
   * data fit in (Fashion-MNIST's training set: 359 MB charged, read in 180 MB; {@code DataPeakTest} reads it in
   * what is charged).
   */
  private static final int DATA_PEAK_COPIES = 1;

  /**
   * Heap copies of the parameters: the weights, EMA and Adam's two moments are each copied into a state
   * dict when a checkpoint is written, and a backend holds weights, gradients, moments and EMA natively.
   */
  private static final int PARAMETER_COPIES = 8;

  /** Double arrays of length T a schedule keeps (betas, alphas, alpha-bars and derived values). */
  private static final int SCHEDULE_ARRAYS = 8;

  private Sizes() {}

  /**
   * The sections sizes depend on (a record of its own so that {@link DiffusionConfig}'s constructor can
   * check before it is built).
   *
   * @param model the architecture
   * @param schedule the schedule
   * @param training the training loop
   */
  record Model(ModelConfig model, ScheduleConfig schedule, TrainingConfig training) {}

  /** One use of memory, charged to the key that controls it. */
  record Part(String key, String what, long bytes) {}

  /**
   * Checks that the arrays of the data fit: the training and evaluation sets, a batch, and (for the MLP) a
   * batch's activations.
   *
   * @param c the sections
   * @param image {@code [C, H, W]}
   * @param trainImages the training images that will be used
   * @param evalImages the evaluation images that will be used
   * @throws ConfigException at the key to change
   */
  static void checkData(Model c, Shape image, long trainImages, long evalImages) {
    long k = image.size();
    String shape = image.toCompactString();
    fits(DataConfig.TRAIN_SIZE.path(), trainImages, k, "images of " + shape, "the training set");
    fits(DataConfig.EVAL_SIZE.path(), evalImages, k, "images of " + shape, "the evaluation set");
    int batch = c.training().batchSize();
    fits(TrainingConfig.BATCH_SIZE.path(), batch, k, "images of " + shape, "a batch");
    if (c.model().kind() == ModelConfig.Kind.MLP) {
      int hidden = c.model().hidden();
      long widest = Math.max(hidden, k + 1);
      if (times(batch, widest) > MAX_ARRAY) {
        ConfigException atBatch = new ConfigException(TrainingConfig.BATCH_SIZE.path(), "with model.hidden " + hidden
            + ", a batch of " + batch + " makes activations of " + times(batch, widest) + " values, more than one "
            + "tensor holds (" + MAX_ARRAY + "); use at most " + MAX_ARRAY / widest);
        ConfigException atHidden = new ConfigException(ModelConfig.HIDDEN.path(), "with training.batch_size " + batch
            + ", makes activations of " + times(batch, widest) + " values, more than one tensor holds ("
            + MAX_ARRAY + "); use at most " + MAX_ARRAY / batch);
        // reported at the larger of the two factors when both were written
        throw hidden > batch ? ConfigException.either(atHidden, atBatch) : ConfigException.either(atBatch, atHidden);
      }
    }
  }

  /**
   * Checks that an architecture's arrays fit: each weight tensor, the flat parameter vector, and for a
   * U-Net the widest activation of one image and the attention matrix.
   *
   * @param model the model's configuration (for the keys)
   * @param spec the architecture
   * @param image {@code [C, H, W]}
   * @throws ConfigException at the key to change
   */
  static void checkModel(ModelConfig model, ModelSpec spec, Shape image) {
    long total = 0;
    for (Map.Entry<String, int[]> e : shapes(spec).entrySet()) {
      long n = product(e.getValue());
      if (n > MAX_ARRAY) {
        throw new ConfigException(modelKey(model), "makes the weight '" + e.getKey() + "' " + dims(e.getValue())
            + " = " + n + " values, more than one tensor holds (" + MAX_ARRAY + ")" + modelHint(model));
      }
      total = add(total, n);
    }
    if (total > MAX_ARRAY) {
      throw new ConfigException(modelKey(model), "makes " + total + " parameters, more than one flat parameter "
          + "vector holds (" + MAX_ARRAY + ")" + modelHint(model));
    }
    Network network;
    try {
      network = spec.network();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(modelKey(model), "makes an activation of one image too large: " + e.getMessage()
          + modelHint(model));
    }
    for (Node n : network.nodes()) {
      if (n.layer() instanceof Layer.Attention) {
        long positions = n.itemShape().size() / n.itemShape().dim(0);
        if (times(positions, positions) > MAX_ARRAY) {
          throw new ConfigException(
              model.kind() == ModelConfig.Kind.UNET ? ModelConfig.ATTENTION.path() : modelKey(model),
              "self-attention over the " + positions + " positions needs " + times(positions, positions)
                  + " weights per image, more than one tensor holds (" + MAX_ARRAY + "); add a level to "
                  + "model.channel_mult or use attention at smaller resolutions");
        }
      }
    }
  }

  /**
   * The memory a training run needs at least, by the key that controls each part.
   *
   * @param c the configuration
   * @param image {@code [C, H, W]}
   * @param trainImages the training images that will be used
   * @param evalImages the evaluation images that will be used
   * @return the parts, largest first
   */
  static List<Part> memory(Model c, Shape image, long trainImages, long evalImages) {
    long k = image.size();
    List<Part> parts = new ArrayList<>();
    String shape = image.toCompactString();
    parts.add(new Part(DataConfig.TRAIN_SIZE.path(), "the training set (" + trainImages + " images of " + shape + ")",
        times(times(trainImages, k), 4L * DATA_PEAK_COPIES)));
    parts.add(new Part(DataConfig.EVAL_SIZE.path(), "the evaluation set (" + evalImages + " images of " + shape + ")",
        times(times(evalImages, k), 4L * DATA_PEAK_COPIES)));
    long params = 0;
    for (int[] s : shapes(spec(c, image)).values()) {
      params = add(params, product(s));
    }
    parts.add(new Part(modelKey(c.model()), "the model (" + params + " parameters)", times(params, 4L * PARAMETER_COPIES)));
    parts.add(new Part(ScheduleConfig.NUM_TRAIN_TIMESTEPS.path(),
        "the schedule (" + c.schedule().spec().numTrainTimesteps() + " timesteps)",
        times(c.schedule().spec().numTrainTimesteps(), 8L * SCHEDULE_ARRAYS)));
    parts.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
    return parts;
  }

  /**
   * Checks that the memory a run needs fits in the heap.
   *
   * @param c the configuration
   * @param image {@code [C, H, W]}
   * @param trainImages training images used
   * @param evalImages evaluation images used
   * @param maxHeapBytes the most the heap may grow to ({@code Runtime.maxMemory()})
   * @throws ConfigException at the key of the largest part
   */
  static void checkMemory(Model c, Shape image, long trainImages, long evalImages, long maxHeapBytes) {
    List<Part> parts = memory(c, image, trainImages, evalImages);
    long total = 0;
    for (Part p : parts) {
      total = add(total, p.bytes());
    }
    if (total > maxHeapBytes) {
      Part top = parts.get(0);
      throw new ConfigException(top.key(), top.what() + " needs " + mb(top.bytes()) + " of memory and the rest of the "
          + "run " + mb(total - top.bytes()) + ", more than the " + mb(maxHeapBytes) + " the Java heap may grow to; "
          + "lower " + top.key() + " or give the JVM more memory (-Xmx; ./diffusion reads DIFFUSION_JAVA_OPTS)");
    }
  }

  /**
   * Checks that {@code sampling.count} images fit in one request: a sampling request spans its whole count,
   * so its {@code [count, C, H, W]} must be a shape one tensor may have (found only after training, before).
   *
   * @param count the images to generate
   * @param image {@code [C, H, W]}
   * @throws ConfigException at {@code sampling.count}
   */
  static void checkSampleCount(int count, Shape image) {
    fits(SamplingConfig.COUNT.path(), count, image.size(), "images of " + image.toCompactString(), "the samples");
  }

  private static void fits(String key, long count, long perItem, String items, String what) {
    if (times(count, perItem) > MAX_ARRAY) {
      throw ConfigException.either(
          new ConfigException(key, count + " " + items + " make " + what + " " + times(count, perItem)
              + " values, more than one Java array holds (" + MAX_ARRAY + "); use at most " + MAX_ARRAY / perItem),
          new ConfigException(DataConfig.IMAGE_SHAPE.path(), "with " + key + " " + count + ", images of " + perItem
              + " values make " + what + " " + times(count, perItem) + " values, more than one Java array holds ("
              + MAX_ARRAY + "); use smaller images"));
    }
  }

  private static ModelSpec spec(Model c, Shape image) {
    return c.model().toSpec(image, c.schedule().spec().numTrainTimesteps());
  }

  /** The weight layout of an architecture. */
  private static Map<String, int[]> shapes(ModelSpec spec) {
    return spec.parameterShapes();
  }

  private static String modelKey(ModelConfig c) {
    return c.kind() == ModelConfig.Kind.MLP ? ModelConfig.HIDDEN.path() : ModelConfig.BASE_CHANNELS.path();
  }

  private static String modelHint(ModelConfig c) {
    return c.kind() == ModelConfig.Kind.MLP ? "; use a smaller hidden width"
        : "; use fewer channels (base_channels, channel_mult)";
  }

  private static long product(int[] dims) {
    long n = 1;
    for (int d : dims) {
      n = times(n, d);
    }
    return n;
  }

  private static String dims(int[] d) {
    return java.util.Arrays.toString(d);
  }

  /** {@code a * b}, saturating at {@code Long.MAX_VALUE} (both non-negative). */
  static long times(long a, long b) {
    long r = a * b;
    long hi = Math.multiplyHigh(a, b);
    return hi != 0 || r < 0 ? Long.MAX_VALUE : r;
  }

  private static long add(long a, long b) {
    long r = a + b;
    return r < 0 ? Long.MAX_VALUE : r;
  }

  private static String mb(long bytes) {
    return bytes == Long.MAX_VALUE ? "more than 8 EB"
        : String.format(Locale.ROOT, "%,.0f MB", bytes / (1024.0 * 1024.0));
  }
}
