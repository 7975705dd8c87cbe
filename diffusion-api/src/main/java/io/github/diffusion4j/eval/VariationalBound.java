package io.github.diffusion4j.eval;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * The variational bound on the negative log-likelihood of data under a diffusion model, in bits per
 * dimension, exactly as the DDPM authors compute it ({@code GaussianDiffusion2.calc_bpd_loop},
 * {@code _vb_terms_bpd} and {@code _prior_bpd} in {@code diffusion_tf/diffusion_utils_2.py} of
 * hojonathanho/diffusion; Ho et al. 2020, eq. 5):
 *
 * <pre>
 *   L = L_T + sum_{t=1}^{T-1} L_t + L_0, per image, divided by (C * H * W * ln 2)
 *   L_T = KL(q(x_T | x_0) || N(0, I))                              the prior term, in closed form
 *   L_t = KL(q(x_t | x_{t+1}, x_0) || p(x_t | x_{t+1}))           for t = 1 .. T-1
 *   L_0 = -log p(x_0 | x_1), the discretised Gaussian decoder on 256 levels
 * </pre>
 *
 * <p><b>Timesteps.</b> The authors' {@code t} is zero-based like this SDK's timesteps ({@code x_t} is the
 * sample after {@code t + 1} noising steps, {@code q_sample}'s "t == 0 means diffused for 1 step"), so the
 * term the authors compute at their {@code t} is computed here at SDK timestep {@code t}: it is the paper's
 * {@code L_t} (eq. 5, whose {@code x_{t+1}} is the SDK's {@code x_t}); {@code t = 0} is the decoder term.
 *
 * <p><b>The model's step.</b> {@code p(x_{t-1} | x_t) = N(mu, sigma^2)} with {@code mu} the posterior mean
 * (eq. 7) at the model's predicted {@code x_0} (from epsilon, sample or v; clipped to {@code [-1, 1]} when
 * {@code clipDenoised}, as the authors' evaluation does by default) and the fixed variance of the
 * configured type: {@code fixed_small} the posterior variance {@code beta~_t}, {@code fixed_large}
 * {@code beta_t}; at {@code t = 0} both use {@code beta~_1} (the authors' "clipped" log-variance, since
 * {@code beta~_0 = 0}). The true posterior's log-variance is clipped the same way. The tutorial's
 * variance ({@code sigma = beta}) is not one of the authors' and is refused.
 *
 * <p><b>Data.</b> Images in {@code [-1, 1]} are rounded to the 256 levels {@code k / 127.5 - 1}
 * ({@link GaussianTerms#level}): 8-bit data (IDX files) is unchanged, generated gradients are rounded as an
 * 8-bit image file would store them. The bound is of that discrete data.
 *
 * <p><b>Noise and batching.</b> Like the authors' loop, each term uses one draw of {@code x_t = sqrt(abar_t)
 * x_0 + sqrt(1 - abar_t) eps}; {@code eps} for image {@code i} (its index in the set) at timestep {@code t}
 * is the portable stream {@code Noise.seeded(seed).split(NOISE_STREAM).split(t).split(i)}, so results do
 * not depend on the batch size or the backend, and the full bound and an estimate share their noise. The
 * arithmetic outside the model is double precision ({@code x_t} is rounded to float32 once, and that value
 * is what both the model and the posterior see).
 *
 * <p><b>Estimate.</b> With {@link BoundOptions#timesteps()} {@code = K < T}, each image evaluates the prior,
 * the decoder term and one timestep from each of {@code K - 1} strata of {@code [1, T)}, weighted by the
 * stratum's size ({@link TimestepStrata}; the draws come from {@code split(TIMESTEP_STREAM).split(i)}). This
 * is an unbiased estimate of the same bound at {@code K / T} of the cost.
 *
 * <p>Immutable and thread-safe; {@link #evaluate} streams over the images a batch at a time, so its memory
 * does not grow with their number.
 */
public final class VariationalBound {
  /** The split of the seed that forms {@code x_t}: "VLB_NOIS". */
  public static final long NOISE_STREAM = 0x564C425F4E4F4953L;
  /** The split of the seed that draws an estimate's timesteps: "VLB_TIME". */
  public static final long TIMESTEP_STREAM = 0x564C425F54494D45L;

  private static final double LN2 = Math.log(2.0);

  private final Schedule schedule;
  private final PredictionType predictionType;
  private final VarianceType varianceType;
  private final boolean clipDenoised;
  private final int numTimesteps;
  private final double[] sqrtAlphaBar;
  private final double[] sqrtOneMinusAlphaBar;
  private final double[] posteriorMeanCoef1;
  private final double[] posteriorMeanCoef2;
  private final double[] posteriorLogVariance;
  private final double[] modelLogVariance;
  private final double[] x0FromNoisy;
  private final double[] x0FromOutput;

  /**
   * Prepares the bound of a model family.
   *
   * @param schedule the forward process, {@code T >= 2}
   * @param predictionType what the model predicts
   * @param varianceType the reverse-process variance: {@code FIXED_SMALL} or {@code FIXED_LARGE}
   * @param clipDenoised whether to clip the predicted {@code x_0} to {@code [-1, 1]} (the authors' default)
   * @throws IllegalArgumentException for the tutorial's variance type, {@code T < 2}, or epsilon prediction on
   *     a schedule whose last alpha-bar is 0
   */
  public VariationalBound(Schedule schedule, PredictionType predictionType, VarianceType varianceType,
      boolean clipDenoised) {
    if (varianceType == VarianceType.TUTORIAL) {
      throw new IllegalArgumentException("variance type '" + varianceType.configName() + "' (sigma = beta) is not "
          + "one of the DDPM authors' fixed variances; the bound is defined for fixed_small and fixed_large");
    }
    int n = schedule.size();
    if (n < 2) {
      throw new IllegalArgumentException("the bound needs at least 2 timesteps, got T = " + n);
    }
    if (predictionType == PredictionType.EPSILON && !(schedule.alphaBar(n - 1) > 0)) {
      throw new IllegalArgumentException("epsilon prediction cannot give x_0 where alphaBar is 0 (a zero "
          + "terminal SNR schedule); use sample or v_prediction");
    }
    this.schedule = schedule;
    this.predictionType = predictionType;
    this.varianceType = varianceType;
    this.clipDenoised = clipDenoised;
    this.numTimesteps = n;
    sqrtAlphaBar = new double[n];
    sqrtOneMinusAlphaBar = new double[n];
    posteriorMeanCoef1 = new double[n];
    posteriorMeanCoef2 = new double[n];
    posteriorLogVariance = new double[n];
    modelLogVariance = new double[n];
    x0FromNoisy = new double[n];
    x0FromOutput = new double[n];
    double[] posteriorVariance = new double[n];
    for (int t = 0; t < n; t++) {
      double ab = schedule.alphaBar(t);
      double abPrev = schedule.alphaBarOrOne(t - 1);
      double beta = schedule.beta(t);
      sqrtAlphaBar[t] = Math.sqrt(ab);
      sqrtOneMinusAlphaBar[t] = Math.sqrt(1.0 - ab);
      // Ho et al. eq. 7, in the authors' form
      posteriorVariance[t] = beta * (1.0 - abPrev) / (1.0 - ab);
      posteriorMeanCoef1[t] = beta * Math.sqrt(abPrev) / (1.0 - ab);
      posteriorMeanCoef2[t] = (1.0 - abPrev) * Math.sqrt(schedule.alpha(t)) / (1.0 - ab);
      double[] c = predictionType.sampleCoefficients(ab);
      x0FromNoisy[t] = c[0];
      x0FromOutput[t] = c[1];
    }
    for (int t = 0; t < n; t++) {
      // beta~_0 = 0: the authors use beta~_1 at t = 0 for both the posterior and the model
      double clipped = Math.log(posteriorVariance[t == 0 ? 1 : t]);
      posteriorLogVariance[t] = clipped;
      modelLogVariance[t] = switch (varianceType) {
        case FIXED_SMALL -> clipped;
        case FIXED_LARGE -> t == 0 ? clipped : Math.log(schedule.beta(t));
        default -> throw new AssertionError(varianceType);
      };
    }
  }

  /**
   * The schedule.
   *
   * @return the forward process
   */
  public Schedule schedule() {
    return schedule;
  }

  /**
   * The prior term {@code L_T = KL(q(x_T | x_0) || N(0, I))} of one image, in bits per dimension (the
   * authors' {@code _prior_bpd}); needs no model.
   *
   * @param x0 images in {@code [-1, 1]} (rounded to the 256 levels first)
   * @param offset where the image starts
   * @param length its number of values, {@code C * H * W}
   * @return the term
   */
  public double priorBpd(float[] x0, int offset, int length) {
    int last = numTimesteps - 1;
    double logVar = Math.log(1.0 - schedule.alphaBar(last));
    double sum = 0;
    for (int j = offset, end = offset + length; j < end; j++) {
      sum += GaussianTerms.normalKl(sqrtAlphaBar[last] * GaussianTerms.level(x0[j]), logVar, 0.0, 0.0);
    }
    return sum / length / LN2;
  }

  /**
   * The terms {@code L_t} of a batch, one per item at its own timestep, in bits per dimension (the authors'
   * {@code _vb_terms_bpd}): the model is called once at {@code x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t)
   * eps}, and the term is the decoder's negative log-likelihood where {@code t = 0} and the KL divergence
   * elsewhere.
   *
   * @param model the model
   * @param tensors the model's backend
   * @param imageShape {@code [C, H, W]}
   * @param x0 the clean batch in {@code [-1, 1]}, {@code n * C * H * W} values (rounded to the 256 levels)
   * @param timesteps each item's timestep in {@code [0, T)}; {@code n} values
   * @param eps the noise, as long as {@code x0}
   * @param bpd where item {@code i}'s term goes, at least {@code n} long
   * @param x0Mse where item {@code i}'s mean squared error of the predicted {@code x_0} goes (may be null), at
   *     least {@code n} long
   * @throws IllegalArgumentException if the arrays do not hold {@code n} items, or a timestep is outside
   *     {@code [0, T)}
   */
  public void terms(NoisePredictor model, TensorFactory tensors, Shape imageShape, float[] x0, int[] timesteps,
      float[] eps, double[] bpd, double[] x0Mse) {
    int n = timesteps.length;
    int d = imageShape.size();
    if (x0.length != (long) n * d || eps.length != x0.length) {
      throw new IllegalArgumentException("x0 and eps must hold " + n + " images of " + imageShape + ", got "
          + x0.length + " and " + eps.length + " values");
    }
    if (bpd.length < n || (x0Mse != null && x0Mse.length < n)) {
      throw new IllegalArgumentException("bpd and x0Mse must hold a value for each of the " + n + " items, got "
          + bpd.length + " and " + (x0Mse == null ? "no" : Integer.toString(x0Mse.length)) + " places");
    }
    for (int t : timesteps) {
      if (t < 0 || t >= numTimesteps) {
        throw new IllegalArgumentException("timestep " + t + " is outside [0, " + numTimesteps + ")");
      }
    }
    double[] level = new double[x0.length];
    float[] noisy = new float[x0.length];
    for (int i = 0; i < n; i++) {
      int t = timesteps[i];
      for (int j = i * d, end = j + d; j < end; j++) {
        level[j] = GaussianTerms.level(x0[j]);
        noisy[j] = (float) (sqrtAlphaBar[t] * level[j] + sqrtOneMinusAlphaBar[t] * eps[j]);
      }
    }
    float[] output;
    try (TensorScope scope = tensors.openScope()) {
      Tensor batch = tensors.fromArray(noisy, Shape.batchOf(n, imageShape));
      output = NoisePredictor.checkOutput(model.predict(batch, timesteps), batch, () -> "likelihood bound")
          .toFloatArray();
    }
    for (int i = 0; i < n; i++) {
      int t = timesteps[i];
      double c1 = posteriorMeanCoef1[t];
      double c2 = posteriorMeanCoef2[t];
      double trueLogVar = posteriorLogVariance[t];
      double modelLogVar = modelLogVariance[t];
      double sum = 0;
      double sq = 0;
      for (int j = i * d, end = j + d; j < end; j++) {
        double xt = noisy[j];
        double predX0 = x0FromNoisy[t] * xt + x0FromOutput[t] * output[j];
        if (clipDenoised) {
          predX0 = Math.min(Math.max(predX0, -1.0), 1.0);
        }
        double modelMean = c1 * predX0 + c2 * xt;
        if (t == 0) {
          sum -= GaussianTerms.discretizedLogLikelihood(level[j], modelMean, 0.5 * modelLogVar);
        } else {
          double trueMean = c1 * level[j] + c2 * xt;
          sum += GaussianTerms.normalKl(trueMean, trueLogVar, modelMean, modelLogVar);
        }
        double e = predX0 - level[j];
        sq += e * e;
      }
      bpd[i] = sum / d / LN2;
      if (x0Mse != null) {
        x0Mse[i] = sq / d;
      }
    }
  }

  /**
   * The bound (or its estimate) of a model on a set of images, streamed a batch at a time (the authors'
   * {@code calc_bpd_loop}, over all images).
   *
   * @param model the model
   * @param tensors the model's backend
   * @param images the images, in {@code [-1, 1]}
   * @param options how many images, the batch size, the seed and the timesteps per image
   * @param listener sees the progress and each batch's per-image values
   * @return the report
   * @throws IllegalArgumentException if {@code options.timesteps()} is above {@code T}, or a batch would not
   *     fit in a Java array
   */
  public BoundReport evaluate(NoisePredictor model, TensorFactory tensors, Dataset images, BoundOptions options,
      BoundListener listener) {
    TimestepStrata strata = options.timesteps() == 0
        ? TimestepStrata.every(numTimesteps) : TimestepStrata.of(numTimesteps, options.timesteps());
    int n = options.count() == 0 ? images.size() : Math.min(options.count(), images.size());
    Shape imageShape = images.imageShape();
    int d = imageShape.size();
    int batch = Math.min(options.batchSize(), n);
    if ((long) batch * d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a batch of " + batch + " images of " + imageShape
          + " does not fit in one array; use a smaller batch size");
    }
    int k = strata.size();
    Noise noiseRoot = Noise.seeded(options.seed()).split(NOISE_STREAM);
    Noise timestepRoot = Noise.seeded(options.seed()).split(TIMESTEP_STREAM);

    float[] x0 = new float[batch * d];
    float[] eps = new float[batch * d];
    int[][] drawn = new int[batch][k];
    double[] term = new double[batch];
    double[] mse = new double[batch];
    double[] termSum = new double[numTimesteps];
    double[] mseSum = new double[numTimesteps];
    long[] termCount = new long[numTimesteps];
    double priorSum = 0;
    double decoderSum = 0;
    double klSum = 0;
    double mean = 0;
    double m2 = 0;
    long total = (long) n * k;
    long done = 0;
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      float[] x0b = b == batch ? x0 : new float[b * d];
      float[] epsb = b == batch ? eps : new float[b * d];
      double[] totals = new double[b];
      double[] prior = new double[b];
      double[] decoder = new double[b];
      for (int i = 0; i < b; i++) {
        images.copyImage(start + i, x0b, i * d);
        prior[i] = priorBpd(x0b, i * d, d);
        totals[i] = prior[i];
        strata.draw(timestepRoot.split(start + i).generator(), drawn[i]);
      }
      int[] ts = new int[b];
      // from the last stratum down, as the authors' loop runs from T - 1 down to 0
      for (int j = k - 1; j >= 0; j--) {
        for (int i = 0; i < b; i++) {
          ts[i] = drawn[i][j];
          noiseRoot.split(ts[i]).split(start + i).fillNormal(epsb, i * d, d);
        }
        terms(model, tensors, imageShape, x0b, ts, epsb, term, mse);
        int w = strata.weight(j);
        for (int i = 0; i < b; i++) {
          totals[i] += w * term[i];
          if (j == 0) {
            decoder[i] = term[i];
          }
          termSum[ts[i]] += term[i];
          mseSum[ts[i]] += mse[i];
          termCount[ts[i]]++;
        }
        done += b;
        listener.onProgress(done, total);
      }
      for (int i = 0; i < b; i++) {
        priorSum += prior[i];
        decoderSum += decoder[i];
        klSum += totals[i] - prior[i] - decoder[i];
        // Welford's running mean and sum of squared deviations
        long count = (long) start + i + 1;
        double delta = totals[i] - mean;
        mean += delta / count;
        m2 += delta * (totals[i] - mean);
      }
      listener.onImages(start, totals);
    }
    List<BoundTerm> terms = new ArrayList<>(numTimesteps);
    for (int t = 0; t < numTimesteps; t++) {
      long c = termCount[t];
      terms.add(new BoundTerm(t, c == 0 ? Double.NaN : termSum[t] / c, c, c == 0 ? Double.NaN : mseSum[t] / c));
    }
    double sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0.0;
    return new BoundReport(n, numTimesteps, k, mean, sd, priorSum / n, decoderSum / n, klSum / n, terms,
        predictionType, varianceType, clipDenoised, options.seed());
  }
}
