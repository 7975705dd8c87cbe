package io.github.diffusion4j.sampling;

import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Objects;

/**
 * Image-to-image sampling, SDEdit (Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with Stochastic
 * Differential Equations"): given images are noised by the forward process to a timestep part of the way down the
 * plan, and any sampler denoises them from there. The strength says how far up: at {@code 1} sampling starts at
 * the plan's first timestep, where little of the image is left; at small strengths the image's layout and colours
 * survive and its details are the model's.
 *
 * <p>Of a plan of {@code n} positions the last {@code floor(n * strength)} are walked (at least one), as diffusers'
 * image-to-image pipelines choose them ({@code StableDiffusionImg2ImgPipeline.get_timesteps}); sampling starts from
 * {@code x = sqrt(a) x0 + sqrt(1 - a) z}, {@code a} the alpha-bar of the first walked timestep and {@code z} each
 * sample's initial noise {@code x_T} in the request's noise layout, so sample {@code i} of a seed starts from the
 * same values however the samples are batched, and DDPM's step noise is the request's as in plain sampling.
 *
 * <pre>{@code
 * try (TensorScope s = tensors.openScope()) {   // the noised start is a tensor of the current scope
 *   SamplingRequest edit = ImageToImage.request(tensors, d.schedule(), d.request(n, seed), images, 0.6);
 *   float[] out = d.sampleImages(model, d.sampler(), edit, SamplingListener.NONE);
 * }
 * }</pre>
 *
 * <p>A request with initial latents is sampled as one batch; {@code Diffusion.sampleFromImages} samples any number
 * batch by batch (one request per batch of {@code request.slice(first, n)}: each sample's start is the same however
 * they are sliced), as {@code diffusion sample --init} does.
 */
public final class ImageToImage {
  private ImageToImage() {}

  /**
   * The positions walked at a strength: the last {@code floor(n * strength)} of a plan of {@code n}.
   *
   * @param plan the whole plan
   * @param strength how far up the images are noised, in {@code (0, 1]}
   * @return the plan's tail
   * @throws IllegalArgumentException if the strength is outside {@code (0, 1]} or walks no position of the plan
   */
  public static Timesteps plan(Timesteps plan, double strength) {
    Objects.requireNonNull(plan, "plan must not be null");
    if (!(strength > 0 && strength <= 1)) {
      throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
    }
    int n = walked(plan.size(), strength);
    if (n < 1) {
      throw new IllegalArgumentException("strength " + strength + " walks no step of a " + plan.size()
          + "-step plan (it walks floor(steps x strength)); give at least " + minimum(plan.size()) + ", or more steps");
    }
    return plan.last(n);
  }

  /** diffusers' {@code int(num_inference_steps * strength)}, in the same double arithmetic. */
  private static int walked(int steps, double strength) {
    return (int) (steps * strength);
  }

  /**
   * The smallest strength of six decimals that walks one step of {@code steps}: {@code 1 / steps} rounded up (1/49
   * itself walks none: 49 x 0.02040816326530612 is just below 1).
   */
  static double minimum(int steps) {
    double s = Math.ceil(1e6 / steps) / 1e6;
    while (walked(steps, s) < 1) {
      s = Math.nextUp(s);
    }
    return s;
  }

  /**
   * A request that starts from the images noised to the first timestep of {@link #plan(Timesteps, double)}.
   *
   * @param tensors the backend's factory; the starting tensor is made in its current scope (the sampler does not
   *     close it)
   * @param schedule the model's schedule
   * @param request what to sample: its plan is the whole plan, its count the images'
   * @param images {@code request.count()} images {@code [C, H, W]}, one after another, in the model's range
   *     {@code [-1, 1]} (e.g. from {@link io.github.diffusion4j.data.ImageFit#read})
   * @param strength how far up the images are noised, in {@code (0, 1]}
   * @return the request with the shorter plan and the noised images as its initial latents
   * @throws IllegalArgumentException if the strength walks no step, the plan is not the schedule's, the images
   *     are not {@code request.count()} of its shape or hold a NaN or an infinite value, or the request has
   *     initial latents of its own
   */
  public static SamplingRequest request(TensorFactory tensors, Schedule schedule, SamplingRequest request,
      float[] images, double strength) {
    Objects.requireNonNull(tensors, "tensors must not be null");
    Objects.requireNonNull(schedule, "schedule must not be null");
    Objects.requireNonNull(request, "request must not be null");
    Objects.requireNonNull(images, "images must not be null");
    if (request.initialNoise().isPresent()) {
      throw new IllegalArgumentException("the request has initial latents of its own; image-to-image sampling "
          + "starts from the images (give a request without them)");
    }
    schedule.checkPlan(request.plan());
    Timesteps walked = plan(request.plan(), strength);
    int values = request.batchShape().size();
    if (images.length != values) {
      throw new IllegalArgumentException("images: " + images.length + " values, expected " + values + " ("
          + request.count() + " images of " + request.imageShape() + ")");
    }
    checkFinite(request, images);
    // the forward process's closed form as the training loop computes it (data.ForwardProcess, a layer above)
    double alphaBar = schedule.alphaBar(walked.get(0));
    float a = (float) Math.sqrt(alphaBar);
    float b = (float) Math.sqrt(1.0 - alphaBar);
    float[] x = SamplingLoop.noiseValues(request, -1);
    for (int i = 0; i < x.length; i++) {
      x[i] = a * images[i] + b * x[i];
    }
    SamplingRequest part = request.withPlan(walked);
    return part.withInitialNoise(tensors.fromArray(x, part.batchShape()));
  }

  /**
   * Refuses a NaN or an infinite value among the pictures, naming its sample (counted from the request's first),
   * channel and pixel: it would be noised and sampled into NaN, said only after sampling as a diverged model. (Any
   * finite value is taken here: a model's data may be latents rather than pictures; {@code Diffusion}'s batch-by-batch
   * methods, which take pictures in {@code [-1, 1]}, refuse values outside it.)
   *
   * @param request the pictures' request: its first sample and image shape {@code [C, H, W]}
   * @param images {@code request.count()} pictures, one after another, of the request's length
   */
  static void checkFinite(SamplingRequest request, float[] images) {
    Shape image = request.imageShape();
    int k = image.size();
    int hw = image.rank() == 3 ? image.dim(1) * image.dim(2) : k;
    for (int j = 0; j < images.length; j++) {
      if (!Float.isFinite(images[j])) {
        int value = j % k;
        throw new IllegalArgumentException("images: sample " + (request.firstSample() + j / k) + ", value " + value
            + " (channel " + value / hw + ", pixel " + value % hw + ") is " + images[j] + "; a picture's values must "
            + "be finite");
      }
    }
  }
}
