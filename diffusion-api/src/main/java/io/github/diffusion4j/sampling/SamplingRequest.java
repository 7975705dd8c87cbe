package io.github.diffusion4j.sampling;

import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.Optional;

/**
 * One sampling run.
 *
 * <p>Noise layout (portable and independent of batching): with
 * {@code root = Noise.seeded(seed).withVersion(noise)}, item {@code i} of the run is sample number
 * {@code firstSample + i}; its initial noise {@code x_T} is {@code root.split(0).split(firstSample + i)} and
 * the noise of plan position {@code k} is {@code root.split(k + 1).split(firstSample + i)}. So samples 0..9
 * drawn in one batch get the same noise as samples 0..4 and 5..9 drawn in two, and equal them up to the rounding
 * of the model's products (a backend may round a product of five rows differently from one of ten; in the last
 * bits). A request uses noise version 1 unless
 * {@link #withNoise(NoiseVersion)} says otherwise ({@code Diffusion.request} applies the configuration's
 * {@code sampling.noise_version}).
 *
 * @param count the number of samples, positive
 * @param imageShape the shape of one sample, {@code [C, H, W]}
 * @param seed the seed of the noise
 * @param plan the timesteps to walk
 * @param initialNoise the starting latents {@code x_T}, shape {@code [count, C, H, W]}, instead of drawing
 *     them (for interpolation and tests); not closed by the sampler
 * @param firstSample the number of the first sample (see the noise layout), at least 0
 * @param noise how the noise's words become normals
 */
public record SamplingRequest(
    int count,
    Shape imageShape,
    long seed,
    Timesteps plan,
    Optional<Tensor> initialNoise,
    long firstSample,
    NoiseVersion noise) {

  /**
   * Validates the values.
   *
   * @param count the number of samples, positive
   * @param imageShape the shape of one sample, {@code [C, H, W]}
   * @param seed the seed of the noise
   * @param plan the timesteps to walk
   * @param initialNoise the starting latents {@code x_T}, shape {@code [count, C, H, W]}, instead of drawing
   *     them (for interpolation and tests); not closed by the sampler
   * @param firstSample the number of the first sample (see the noise layout), at least 0
   * @param noise how the noise's words become normals
   */
  public SamplingRequest {
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, got " + count);
    }
    if (imageShape == null || plan == null || initialNoise == null || noise == null) {
      throw new IllegalArgumentException("imageShape, plan, initialNoise and noise must not be null");
    }
    if (firstSample < 0) {
      throw new IllegalArgumentException("firstSample must be at least 0, got " + firstSample);
    }
    // the whole run's shape only where initial noise is given: a run of more than 2^31 values (sampled, and
    // sharded by diffusion spark, batch by batch) has no such shape, and needs none
    initialNoise.ifPresent(
        x -> {
          Shape expected = Shape.batchOf(count, imageShape);
          if (!x.shape().equals(expected)) {
            throw new IllegalArgumentException(
                "initial noise has shape " + x.shape() + ", expected " + expected);
          }
        });
  }

  /**
   * A request that draws its own initial noise, with noise version 1 ({@link NoiseVersion#ZIGGURAT}).
   *
   * @param count the number of samples
   * @param imageShape {@code [C, H, W]}
   * @param seed the seed
   * @param plan the plan
   * @return the request
   */
  public static SamplingRequest of(int count, Shape imageShape, long seed, Timesteps plan) {
    return new SamplingRequest(count, imageShape, seed, plan, Optional.empty(), 0, NoiseVersion.ZIGGURAT);
  }

  /**
   * This request with another noise version ({@code sampling.noise_version}).
   *
   * @param version the version
   * @return the new request
   */
  public SamplingRequest withNoise(NoiseVersion version) {
    return new SamplingRequest(count, imageShape, seed, plan, initialNoise, firstSample, version);
  }

  /**
   * This request starting from given latents.
   *
   * @param xT the initial noise, {@code [count, C, H, W]}
   * @return the new request
   */
  public SamplingRequest withInitialNoise(Tensor xT) {
    return new SamplingRequest(count, imageShape, seed, plan, Optional.of(xT), firstSample, noise);
  }

  /**
   * This request with another plan.
   *
   * @param newPlan the timesteps to walk
   * @return the new request
   */
  public SamplingRequest withPlan(Timesteps newPlan) {
    return new SamplingRequest(count, imageShape, seed, newPlan, initialNoise, firstSample, noise);
  }

  /**
   * This request for a slice of a larger run: samples {@code first} to {@code first + n - 1} of the run's seed,
   * numbered from the run's start (not from this request's {@link #firstSample()}: a slice of a slice names the
   * run's numbers again); any numbers may be asked for, also beyond this request's {@link #count()} (a run has
   * as many samples as are drawn).
   *
   * @param first the number of the first sample, counted from the run's start
   * @param n the number of samples in the slice
   * @return the new request (without initial noise)
   */
  public SamplingRequest slice(long first, int n) {
    return new SamplingRequest(n, imageShape, seed, plan, Optional.empty(), first, noise);
  }

  /**
   * The batch shape {@code [count, C, H, W]}.
   *
   * @return the shape
   */
  public Shape batchShape() {
    return Shape.batchOf(count, imageShape);
  }
}
