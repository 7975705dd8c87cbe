package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.settings.InvalidPropertyException;
import io.github.diffusion4j.settings.SystemSwitch;
import java.util.Locale;
import java.util.Random;

/**
 * libtorch's 2-D convolution, made correct on every CPU.
 *
 * <p><b>The bug routed around.</b> libtorch 2.7.1's bundled oneDNN convolution kernels give wrong results on
 * some CPUs (seen on AMD EPYC Zen 5, family 0x1A, AVX-512 with bf16/vnni; Debian's PyTorch 1.13 with oneDNN 2.6
 * is correct there): the forward pass is wrong when the input channels exceed the kernel's channel
 * block (16 for AVX-512, 8 where oneDNN is limited to AVX2) and are not a multiple of it; the input gradient
 * is wrong when the output channels are not a multiple of the block, and for every stride-2 convolution, and
 * can read freed memory (NaN). The weight
 * gradient and {@code linear} are correct. {@code docs/djl-convolutions.md} has the details and the upstream
 * report.
 *
 * <p><b>Strategies.</b> {@link Strategy#DIRECT} calls {@code torch.convolution} as it is. {@link
 * Strategy#CHANNEL_PADDED} stays on oneDNN's well-trodden paths: input channels above 8 are padded with zero
 * channels to a multiple of 16 (the weight gets matching zero input channels), and when a gradient is being
 * recorded the output channels are padded likewise and sliced back, and a strided convolution is computed as
 * the stride-1 convolution subsampled by the stride (the same numbers, stride-squared times the arithmetic,
 * only for the few downsampling layers and only in training). Zero channels add exact zeros, so the results equal the direct
 * ones up to summation order.
 *
 * <p><b>Layout of prediction passes.</b> libtorch hands a convolution of a plain {@code [N, C, H, W]} array to
 * oneDNN with a reorder of the input into oneDNN's blocked layout before it and of the output back after it;
 * in the default U-Net's forward pass these copies were 18% of oneDNN's time. An input in the channels-last
 * layout (the same shape, strides of {@code [N, H, W, C]}) goes to oneDNN's channels-last kernels without
 * them, and the output stays channels-last, as do the element-wise operations, group norms, concatenations
 * and upsamplings that follow, so the next convolution's input is channels-last already ({@link
 * PtArrays#channelsLast} copies it only where it is not, e.g. after the attention's reshapes). This is done
 * where no gradient is recorded (DDPM and DDIM sampling, evaluation): the forward pass of the default U-Net
 * ran in 0.66 s against 0.78 s (docs/benchmarks.md). Training keeps the plain layout: libtorch's channels-last
 * group norm backward kernel and the element-wise gradients of mixed layouts cost more than the reorders saved.
 * The numbers are those of the plain layout up to summation order.
 *
 * <p><b>Choice.</b> The first convolution of the process runs a self-check ({@link SelfCheck}): small
 * convolutions that exercise every failure above, forward, input gradient and weight gradient, compared with
 * plain Java in double precision. The direct strategy is used where it passes; otherwise the padded one, if it
 * passes; if neither does, every convolution fails with a {@link IllegalStateException} that says so, rather
 * than compute silently wrong numbers. With the direct strategy, the self-check runs again on channels-last
 * inputs, and prediction passes use that layout only if it passes too (the system property {@value
 * #CHANNELS_LAST_PROPERTY}{@code =false} turns it off, for diagnosis and comparisons). The system property
 * {@value #PROPERTY} ({@code direct} or {@code padded}) forces a strategy, for tests and diagnosis; a forced
 * strategy that fails the self-check is refused too.
 *
 * <p>The decisions are functions of explicit inputs, so that every branch is tested on any CPU: {@link #decide} (the
 * choice, given the self-checks' results), {@link #plan} (how one convolution is computed, given its strategy, grad
 * mode and dimensions) and {@link #channelsLastInput}.
 */
final class Convolution {
  /** The system property that forces a strategy. */
  static final String PROPERTY = "diffusion4j.djl.convolution";

  /** The system property that turns channels-last inputs of prediction passes off ({@code false}). */
  static final String CHANNELS_LAST_PROPERTY = "diffusion4j.djl.channelsLast";

  /** The channel block padded to: AVX-512's 16, a multiple of AVX2's 8. */
  static final int BLOCK = 16;

  /**
   * The most input channels left unpadded: AVX2's block. Above it the padded strategy pads to a multiple of {@link
   * #BLOCK}: on the Zen 5 with oneDNN limited to AVX2 ({@code ONEDNN_MAX_CPU_ISA=AVX2}, as the tests' {@code isa-avx2}
   * profile sets), the forward pass was wrong for 9 to 15 input channels (above AVX2's block of 8, not a multiple of
   * it), which a threshold of 16 left unpadded.
   */
  static final int UNPADDED_INPUT_CHANNELS = 8;

  private static final Shape ONE = new Shape(1, 1);

  /** How convolutions are computed. */
  enum Strategy {
    /** {@code torch.convolution} as it is. */
    DIRECT,
    /** Channels padded to the block, strided convolutions as subsampled stride-1 ones when recording gradients. */
    CHANNEL_PADDED
  }

  /**
   * The outcome of the self-check: the strategy chosen, or why none could be.
   *
   * @param strategy the strategy, or null if none is correct on this CPU
   * @param channelsLast whether prediction passes give the convolutions channels-last inputs
   * @param directFailure why the direct strategy failed the self-check, or null
   * @param refusal why no strategy is used, or null
   */
  record Choice(Strategy strategy, boolean channelsLast, String directFailure, String refusal) {

    /**
     * Whether the workaround is in use.
     *
     * @return true when the direct convolutions failed the self-check
     */
    boolean workaround() {
      return strategy == Strategy.CHANNEL_PADDED;
    }

    /**
     * The strategy, where there is one.
     *
     * @return the strategy
     * @throws IllegalStateException with the refusal, if no strategy is correct on this CPU
     */
    Strategy require() {
      if (strategy == null) {
        throw new IllegalStateException("djl: " + refusal);
      }
      return strategy;
    }

    /**
     * One line for {@code diffusion info}.
     *
     * @return the description
     */
    String describe() {
      if (strategy == null) {
        return "convolutions: unusable on this CPU (" + refusal + ")";
      }
      if (strategy == Strategy.DIRECT) {
        return "convolutions: libtorch/oneDNN direct (self-check passed)"
            + (channelsLast ? ", channels-last in prediction passes" : "");
      }
      return "convolutions: channel-padded workaround active (libtorch's oneDNN convolutions failed the "
          + "self-check on this CPU: " + directFailure + ")";
    }
  }

  private static volatile Choice choice;

  private Convolution() {}

  /**
   * The strategy of this process, chosen by the self-check the first time it is asked for.
   *
   * @param manager a manager for the self-check's arrays (they are closed before this returns)
   * @return the choice
   */
  static Choice choice(PtNDManager manager) {
    Choice c = choice;
    if (c == null) {
      synchronized (Convolution.class) {
        c = choice;
        if (c == null) {
          c = choose(manager, System.getProperty(PROPERTY));
          choice = c;
        }
      }
    }
    return c;
  }

  /**
   * The choice the self-check would make with a forced strategy (or none), without caching it.
   *
   * @param manager a manager for the self-check's arrays
   * @param forced the value of {@value #PROPERTY}, or null
   * @return the choice
   */
  static Choice chooseForTest(PtNDManager manager, String forced) {
    return choose(manager, forced);
  }

  private static Choice choose(PtNDManager manager, String forced) {
    boolean channelsLastAllowed = channelsLastAllowed(); // read first: a bad value is refused before any self-check
    return decide(forced, channelsLastAllowed, (strategy, layout) -> SelfCheck.run(manager, strategy, layout));
  }

  /** A self-check of a strategy on an input layout ({@link SelfCheck#run(PtNDManager, Strategy, boolean)}). */
  @FunctionalInterface
  interface Check {
    /**
     * Runs the self-check.
     *
     * @param strategy the strategy
     * @param channelsLast whether the inputs are given channels-last
     * @return null if it passes, else what failed first
     */
    String run(Strategy strategy, boolean channelsLast);
  }

  /**
   * The choice for a value of {@value #PROPERTY}, the channels-last switch and the self-checks' results, running
   * only the checks it needs: the forced strategy's, else the direct one's and, where that fails, the channel-padded
   * one's; then, for the direct strategy where the switch allows it, the direct one's on channels-last inputs. A
   * forced strategy that fails is refused, never replaced by the other.
   *
   * @param forced the value of {@value #PROPERTY}, or null
   * @param channelsLastAllowed whether {@value #CHANNELS_LAST_PROPERTY} allows channels-last inputs
   * @param check the self-check
   * @return the choice
   * @throws IllegalArgumentException if {@code forced} names no strategy
   */
  static Choice decide(String forced, boolean channelsLastAllowed, Check check) {
    Strategy s = forcedStrategy(forced);
    if (s != null) {
      String failure = check.run(s, false);
      return failure == null
          ? new Choice(s, channelsLastAllowed && channelsLastPasses(s, check), null, null)
          : new Choice(null, false, failure, "the forced strategy " + forced + " failed the self-check: " + failure);
    }
    String direct = check.run(Strategy.DIRECT, false);
    if (direct == null) {
      return new Choice(Strategy.DIRECT, channelsLastAllowed && channelsLastPasses(Strategy.DIRECT, check), null, null);
    }
    String padded = check.run(Strategy.CHANNEL_PADDED, false);
    if (padded == null) {
      return new Choice(Strategy.CHANNEL_PADDED, false, direct, null);
    }
    return new Choice(null, false, direct, "the direct convolutions failed (" + direct + ") and so did the "
        + "channel-padded workaround (" + padded + "); use the nd4j backend on this machine");
  }

  /**
   * Reads a value of {@value #PROPERTY}.
   *
   * @param forced the value, or null or blank for none
   * @return the forced strategy, or null
   * @throws IllegalArgumentException naming the property, the value and the allowed ones
   */
  static Strategy forcedStrategy(String forced) {
    if (forced == null || forced.isBlank()) {
      return null;
    }
    try {
      return Strategy.valueOf(forced.strip().toUpperCase(Locale.ROOT).replace("PADDED", "CHANNEL_PADDED"));
    } catch (IllegalArgumentException e) {
      throw new InvalidPropertyException(
          "system property " + PROPERTY + ": unknown strategy '" + forced + "' (allowed: direct, padded)");
    }
  }

  /**
   * Checks the values of {@value #PROPERTY} and {@value #CHANNELS_LAST_PROPERTY} without running the self-check:
   * the backend calls this when it is created, so a bad value fails there, before any work.
   *
   * @throws IllegalArgumentException naming the property, the value and the allowed ones
   */
  static void checkProperties() {
    forcedStrategy(System.getProperty(PROPERTY));
    channelsLastAllowed();
  }

  /**
   * Whether {@value #CHANNELS_LAST_PROPERTY} allows channels-last inputs (unset, blank or {@code true}). Read before
   * any self-check, so a bad value is refused on every machine, whichever strategy this CPU ends up with.
   */
  private static boolean channelsLastAllowed() {
    return SystemSwitch.read(CHANNELS_LAST_PROPERTY, true);
  }

  /** Whether channels-last inputs are correct here: the direct strategy, passing its self-check on them. */
  private static boolean channelsLastPasses(Strategy strategy, Check check) {
    return strategy == Strategy.DIRECT && check.run(strategy, true) == null;
  }

  /**
   * How one convolution is computed, as its strategy and the thread's grad mode decide (docs/djl-convolutions.md).
   * The direct strategy computes it as asked; the channel-padded one pads input channels above {@link
   * #UNPADDED_INPUT_CHANNELS} to a multiple of {@link #BLOCK} and, while a gradient is recorded, the output channels
   * too, and computes a strided convolution as the stride-1 one subsampled.
   *
   * @param padFirst whether the input is padded explicitly first (asymmetric padding), rather than by the convolution
   * @param inputChannels the input channels convolved: the weight's, or more (zero channels added)
   * @param outputChannels the output channels computed: the weight's, or more (sliced back)
   * @param stride the convolution's stride
   * @param subsample the stride its output is then subsampled by, 1 for none
   */
  record Plan(boolean padFirst, long inputChannels, long outputChannels, int stride, int subsample) {}

  /**
   * The plan of a convolution: a function of its strategy, grad mode and dimensions alone (no CPU, no thread count).
   *
   * @param strategy the strategy
   * @param recording whether libtorch records a gradient (grad mode on)
   * @param ci the weight's input channels
   * @param co the weight's output channels
   * @param stride the stride, at least 1
   * @param pad the padding {@code top, left, bottom, right}
   * @return the plan
   */
  static Plan plan(Strategy strategy, boolean recording, long ci, long co, int stride, int[] pad) {
    boolean padFirst = pad[0] != pad[2] || pad[1] != pad[3];
    if (strategy == Strategy.DIRECT) {
      return new Plan(padFirst, ci, co, stride, 1);
    }
    long ciPadded = ci <= UNPADDED_INPUT_CHANNELS ? ci : roundUp(ci);
    long coPadded = recording ? roundUp(co) : co;
    boolean subsample = recording && stride != 1;
    return new Plan(padFirst, ciPadded, coPadded, subsample ? 1 : stride, subsample ? stride : 1);
  }

  /**
   * Whether a convolution is given its input channels-last: where the choice says so ({@link Choice#channelsLast})
   * and no gradient is recorded (training keeps the plain layout).
   *
   * @param chosen the choice's {@link Choice#channelsLast}
   * @param recording whether libtorch records a gradient
   * @return whether the input is made channels-last
   */
  static boolean channelsLastInput(boolean chosen, boolean recording) {
    return chosen && !recording;
  }

  /**
   * A 2-D convolution with this process's strategy.
   *
   * @param manager the manager of the self-check, the first time
   * @param x the input {@code [N, Ci, H, W]}
   * @param w the weight {@code [Co, Ci, k, k]}
   * @param b the bias {@code [Co]}, or null for none
   * @param stride the stride, at least 1
   * @param pad the padding {@code top, left, bottom, right}
   * @return the output (a new array; the intermediates' handles are closed)
   * @throws IllegalStateException if no strategy is correct on this CPU
   */
  static PtNDArray apply(PtNDManager manager, PtNDArray x, PtNDArray w, PtNDArray b, int stride, int[] pad) {
    Choice c = choice(manager);
    Strategy strategy = c.require();
    boolean recording = JniUtils.isGradMode();
    return apply(strategy, channelsLastInput(c.channelsLast(), recording), recording, x, w, b, stride, pad);
  }

  /**
   * A 2-D convolution with a given strategy.
   *
   * @param strategy the strategy
   * @param x the input {@code [N, Ci, H, W]}
   * @param w the weight {@code [Co, Ci, k, k]}
   * @param b the bias {@code [Co]}, or null for none
   * @param stride the stride, at least 1
   * @param pad the padding {@code top, left, bottom, right}
   * @return the output (a new array; the intermediates' handles are closed)
   */
  static PtNDArray apply(Strategy strategy, PtNDArray x, PtNDArray w, PtNDArray b, int stride, int[] pad) {
    return apply(strategy, false, x, w, b, stride, pad);
  }

  /**
   * A 2-D convolution with a given strategy and input layout.
   *
   * @param strategy the strategy
   * @param channelsLast whether the input is given to libtorch channels-last ({@link PtArrays#channelsLast})
   * @param x the input {@code [N, Ci, H, W]}
   * @param w the weight {@code [Co, Ci, k, k]}
   * @param b the bias {@code [Co]}, or null for none
   * @param stride the stride, at least 1
   * @param pad the padding {@code top, left, bottom, right}
   * @return the output (a new array, channels-last when the input was; the intermediates' handles are closed)
   */
  static PtNDArray apply(
      Strategy strategy, boolean channelsLast, PtNDArray x, PtNDArray w, PtNDArray b, int stride, int[] pad) {
    return apply(strategy, channelsLast, JniUtils.isGradMode(), x, w, b, stride, pad);
  }

  private static PtNDArray apply(Strategy strategy, boolean channelsLast, boolean recording, PtNDArray x, PtNDArray w,
      PtNDArray b, int stride, int[] pad) {
    Plan plan = plan(strategy, recording, w.getShape().get(1), w.getShape().get(0), stride, pad);
    PtNDArray padded = plan.padFirst() ? JniUtils.pad(x, new long[] {pad[1], pad[3], pad[0], pad[2]}, 0.0) : x;
    PtNDArray in = channelsLast ? PtArrays.channelsLast(padded) : padded;
    Shape padding = plan.padFirst() ? new Shape(0, 0) : new Shape(pad[0], pad[1]);
    try {
      return run(plan, in, w, b, padding);
    } finally {
      closeIfNew(in, padded);
      closeIfNew(padded, x);
    }
  }

  private static long roundUp(long c) {
    return (c + BLOCK - 1) / BLOCK * BLOCK;
  }

  /**
   * Closes the handle of an intermediate array (libtorch keeps what a recorded graph saved).
   *
   * @param a the intermediate
   * @param original the array it was made from, which stays open
   */
  private static void closeIfNew(PtNDArray a, PtNDArray original) {
    if (a != null && a != original) {
      a.close();
    }
  }

  /** Computes a convolution by its plan: zero channels added, convolved, subsampled and sliced back as it says. */
  private static PtNDArray run(Plan plan, PtNDArray x, PtNDArray w, PtNDArray b, Shape padding) {
    long ci = w.getShape().get(1);
    long co = w.getShape().get(0);
    long ciPadded = plan.inputChannels();
    long coPadded = plan.outputChannels();
    PtNDArray xx = ciPadded == ci ? x : JniUtils.pad(x, new long[] {0, 0, 0, 0, 0, ciPadded - ci}, 0.0);
    PtNDArray ww =
        ciPadded == ci && coPadded == co
            ? w
            : JniUtils.pad(w, new long[] {0, 0, 0, 0, 0, ciPadded - ci, 0, coPadded - co}, 0.0);
    PtNDArray bb = coPadded == co || b == null ? b : JniUtils.pad(b, new long[] {0, coPadded - co}, 0.0);
    PtNDArray y = JniUtils.convolution(xx, ww, bb, new Shape(plan.stride(), plan.stride()), padding, ONE, 1);
    closeIfNew(xx, x);
    closeIfNew(ww, w);
    closeIfNew(bb, b);
    int subsample = plan.subsample();
    if (subsample != 1) {
      PtNDArray rows = JniUtils.slice(y, 2, 0, y.getShape().get(2), subsample);
      y.close();
      y = JniUtils.slice(rows, 3, 0, rows.getShape().get(3), subsample);
      rows.close();
    }
    if (coPadded == co) {
      return y;
    }
    PtNDArray sliced = JniUtils.slice(y, 1, 0, co, 1);
    y.close();
    return sliced;
  }

  /**
   * The self-check: convolutions that exercise each known failure, compared with plain Java.
   */
  static final class SelfCheck {
    /** {@code {N, Ci, H, Co, k, stride, padTop, padLeft, padBottom, padRight}} of each probe. */
    static final int[][] PROBES = {
      {2, 24, 8, 8, 3, 1, 1, 1, 1, 1}, // input channels above the block, not a multiple: forward
      {2, 12, 8, 8, 3, 1, 1, 1, 1, 1}, // the same with AVX2's block of 8 (oneDNN limited to AVX2)
      {2, 16, 8, 24, 3, 1, 1, 1, 1, 1}, // output channels not a multiple: input gradient
      {2, 40, 6, 3, 3, 1, 1, 1, 1, 1}, // both, and a small output (conv_out)
      {2, 16, 8, 16, 3, 2, 1, 1, 1, 1}, // stride 2: input gradient
      {2, 32, 8, 32, 3, 2, 0, 0, 1, 1}, // stride 2, right/bottom padding (DDPM's downsampling)
      {3, 24, 4, 40, 1, 1, 0, 0, 0, 0}, // 1x1 (shortcut, attention)
    };

    /** Relative tolerance of a float32 convolution against double precision. */
    static final double TOLERANCE = 1e-4;

    private SelfCheck() {}

    /**
     * Runs every probe with a strategy.
     *
     * @param manager a manager for the arrays (closed afterwards)
     * @param strategy the strategy
     * @return null if every probe passes, else a description of the first failure
     */
    static String run(PtNDManager manager, Strategy strategy) {
      return run(manager, strategy, false);
    }

    /**
     * Runs every probe with a strategy and input layout.
     *
     * @param manager a manager for the arrays (closed afterwards)
     * @param strategy the strategy
     * @param channelsLast whether the inputs are given channels-last
     * @return null if every probe passes, else a description of the first failure
     */
    static String run(PtNDManager manager, Strategy strategy, boolean channelsLast) {
      Random r = new Random(20251201L);
      for (int[] p : PROBES) {
        String failure = probe(manager, strategy, channelsLast, p, r);
        if (failure != null) {
          return failure;
        }
      }
      return null;
    }

    /**
     * One probe.
     *
     * @param manager a manager for the arrays
     * @param strategy the strategy
     * @param p the probe's dimensions (see {@link #PROBES})
     * @param r the source of the random inputs
     * @return null if it passes, else what failed
     */
    static String probe(PtNDManager manager, Strategy strategy, int[] p, Random r) {
      return probe(manager, strategy, false, p, r);
    }

    /**
     * One probe with a given input layout.
     *
     * @param manager a manager for the arrays
     * @param strategy the strategy
     * @param channelsLast whether the input is given channels-last
     * @param p the probe's dimensions (see {@link #PROBES})
     * @param r the source of the random inputs
     * @return null if it passes, else what failed
     */
    static String probe(PtNDManager manager, Strategy strategy, boolean channelsLast, int[] p, Random r) {
      int n = p[0];
      int ci = p[1];
      int h = p[2];
      int co = p[3];
      int k = p[4];
      int stride = p[5];
      int[] pad = {p[6], p[7], p[8], p[9]};
      ReferenceConvolution ref = new ReferenceConvolution(n, ci, h, h, co, k, stride, pad);
      float[] x = gaussian(r, n * ci * h * h);
      float[] w = gaussian(r, co * ci * k * k);
      float[] bias = gaussian(r, co);
      float[] dy = gaussian(r, n * co * ref.outH() * ref.outW());
      float[][] expected = ref.run(x, w, bias, dy);
      boolean before = JniUtils.isGradMode();
      try (PtNDManager sub = (PtNDManager) manager.newSubManager()) {
        PtNDArray xa = PtArrays.fromArray(sub, x, n, ci, h, h);
        PtNDArray wa = PtArrays.fromArray(sub, w, co, ci, k, k);
        PtNDArray ba = PtArrays.fromArray(sub, bias, co);
        PtNDArray dya = PtArrays.fromArray(sub, dy, n, co, ref.outH(), ref.outW());
        JniUtils.setGradMode(false);
        String f = compare("forward (no gradient)", PtArrays.read(PtArrays.contiguous(apply(strategy, channelsLast, xa, wa, ba, stride, pad)), expected[0].length), expected[0]);
        if (f == null) {
          JniUtils.attachGradient(xa, true);
          JniUtils.attachGradient(wa, true);
          JniUtils.setGradMode(true);
          PtNDArray y = apply(strategy, channelsLast, xa, wa, ba, stride, pad);
          JniUtils.backward(y, dya, false, false);
          JniUtils.setGradMode(false);
          f = compare("forward", PtArrays.read(PtArrays.contiguous(JniUtils.detachGradient(y)), expected[0].length), expected[0]);
          if (f == null) {
            f = compare("input gradient", PtArrays.read(PtArrays.contiguous(JniUtils.getGradient(xa)), expected[1].length), expected[1]);
          }
          if (f == null) {
            f = compare("weight gradient", PtArrays.read(PtArrays.contiguous(JniUtils.getGradient(wa)), expected[2].length), expected[2]);
          }
        }
        return f == null
            ? null
            : String.format(
                Locale.ROOT,
                "%s of a %dx%d stride-%d convolution [%d, %d, %d, %d]%s -> %d channels: %s",
                f.substring(0, f.indexOf(':')), k, k, stride, n, ci, h, h, channelsLast ? " channels-last" : "",
                co, f.substring(f.indexOf(':') + 2));
      } finally {
        JniUtils.setGradMode(before);
      }
    }

    /** Standard normal values from {@code r}, as floats. */
    static float[] gaussian(Random r, int size) {
      float[] a = new float[size];
      for (int i = 0; i < size; i++) {
        a[i] = (float) r.nextGaussian();
      }
      return a;
    }

    /** Null if {@code actual} is within {@link #TOLERANCE} of {@code expected} (relative to its largest value). */
    static String compare(String what, float[] actual, float[] expected) {
      double scale = 1e-30;
      for (float e : expected) {
        scale = Math.max(scale, Math.abs(e));
      }
      for (int i = 0; i < expected.length; i++) {
        double d = Math.abs((double) actual[i] - expected[i]);
        if (!(d <= TOLERANCE * scale)) {
          return String.format(
              Locale.ROOT, "%s: element %d is %s, expected %.6g (relative error %.2g)", what, i, actual[i],
              expected[i], d / scale);
        }
      }
      return null;
    }
  }
}
