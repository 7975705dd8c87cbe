package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Objects;

/**
 * Inpainting with an unconditional model, as RePaint does it with a pretrained DDPM (Lugmayr et al. 2022, "RePaint:
 * Inpainting using Denoising Diffusion Probabilistic Models", Algorithm 1): sampling starts from pure noise and walks
 * the whole plan with any sampler, and after every reverse step the region to keep is put back,
 * the picture noised by the forward process to the step's next timestep:
 *
 * <pre>
 * x_{t-1} = keep * (sqrt(abar_{t-1}) x0 + sqrt(1 - abar_{t-1}) z) + (1 - keep) * x_{t-1}^sampler,   keep = 1 - mask
 * </pre>
 *
 * <p>{@code abar_{t-1}} is the alpha-bar of the plan's next timestep; after the last step it is 1, so the region
 * kept is exactly the picture. It is a {@link StepConstraint}: the sampler's own step is untouched (DDPM, DDIM and a
 * user's sampler alike), and {@link SamplingLoop} applies it after each step.
 *
 * <p><b>The mask's convention</b>: one value per pixel in {@code [0, 1]}, applied to every channel; <b>1 (white in a
 * mask file) is the region to regenerate, 0 (black) the region to keep</b>, as image editors and Stable Diffusion's
 * inpainting pipelines have it. Values between blend the two by the formula above. (RePaint's code and diffusers'
 * {@code RePaintScheduler.step(..., mask_image)} use the opposite convention: there 1 marks the known pixels; pass
 * {@code 1 - mask} from there.)
 *
 * <p><b>Noise</b>: the known region's {@code z} of plan position {@code k} for sample number {@code s} is the first
 * {@code C * H * W} normals of {@code root.split(}{@value #KNOWN_REGION_NOISE}{@code ).split(k).split(s)} ({@code k}
 * the walk's operation number where it resamples, below), with
 * {@code root = Noise.seeded(seed).withVersion(noise)} of the request: a stream of its own, independent of the
 * request's {@code x_T} and step noise ({@code root.split(k + 1)}, {@link SamplingRequest}) and of how the samples are
 * batched or split over threads, so sample {@code i}'s result is the same in any batch (up to the rounding of the
 * model's products, as plain sampling). It is drawn only for batches that keep a pixel, and not after the last step.
 *
 * <p><b>Arithmetic</b>: in float32 on the heap ({@code a = (float) sqrt(abar)}, {@code b = (float) sqrt(1 - abar)},
 * {@code keep * known + (1 - keep) * x}), the same bits on every backend for the same sampler output. A pixel with
 * {@code keep = 0} is the sampler's value untouched and one with {@code keep = 1} is {@code a x0 + b z} (after the
 * last step {@code x0} itself), so an all-regenerate mask samples exactly what plain sampling samples (a batch that
 * keeps no pixel is not even copied), and an all-keep mask returns the picture.
 *
 * <pre>{@code
 * try (TensorScope s = tensors.openScope()) {
 *   Inpainting fill = Inpainting.of(d.schedule(), d.request(n, seed), pictures, masks);
 *   float[] out = Normalization.denormalize(fill.sample(d.sampler(), model, tensors, SamplingListener.NONE)
 *       .toFloatArray());
 * }
 * }</pre>
 *
 * <p><b>Resampling</b> ({@link #sample(Sampler, NoisePredictor, TensorFactory, SamplingListener, Resampling)}, RePaint's
 * {@code j} and {@code r}): the walk goes back {@code j} positions now and then, noising the whole sample forward in
 * one draw ({@link Resampling}), and walks them again. Operation {@code v} of the walk ({@link Resampling#route}) uses
 * the step noise {@code root.split(v + 1)}, the known region's noise {@code root.split(-1).split(v)} and, for a jump,
 * {@code root.split(}{@value #JUMP_NOISE}{@code ).split(v)}, each split by sample number; up to the first jump the walk
 * is the plain one, bit for bit. The listener sees every reverse step (a position walked again is shown again) and
 * no jump. Multistep samplers start over after a jump (their previous step is forgotten).
 *
 * <p>{@code Diffusion.inpaint} samples any number batch by batch, as {@code diffusion sample --init --mask} does.
 */
public final class Inpainting implements StepConstraint {
  /**
   * The split of the request's root stream that the known region's noise comes from (the request's own noise uses
   * {@code split(0)} to {@code split(plan size)}, so a negative tag never meets it).
   */
  public static final long KNOWN_REGION_NOISE = -1;

  /** The split of the request's root stream that a resampling jump's noise comes from. */
  public static final long JUMP_NOISE = -2;

  private final Schedule schedule;
  private final SamplingRequest request;
  private final float[] images;
  private final float[] keep;
  /** Per sample: whether its mask keeps any pixel. */
  private final boolean[] keepsAny;

  private Inpainting(Schedule schedule, SamplingRequest request, float[] images, float[] keep, boolean[] keepsAny) {
    this.schedule = schedule;
    this.request = request;
    this.images = images;
    this.keep = keep;
    this.keepsAny = keepsAny;
  }

  /**
   * An inpainting of {@code request.count()} pictures.
   *
   * @param schedule the model's schedule
   * @param request what to sample: the whole plan from pure noise, the count, the seed, the first sample's number
   * @param images {@code request.count()} pictures {@code [C, H, W]}, one after another, in the model's range
   *     {@code [-1, 1]} (e.g. from {@link io.github.diffusion4j.data.ImageFit#read}); copied
   * @param masks {@code request.count()} masks {@code [H, W]}, one after another, in {@code [0, 1]}: 1 regenerate,
   *     0 keep (see the class's comment); copied
   * @return the constraint
   * @throws IllegalArgumentException if the plan is not the schedule's, the images are not {@code request.count()}
   *     of its shape, the masks not {@code request.count()} of {@code [H, W]}, or a picture value is NaN or
   *     infinite or a mask value outside {@code [0, 1]} (or NaN), naming the sample (counted as the request's
   *     samples: from its {@code firstSample()})
   */
  public static Inpainting of(Schedule schedule, SamplingRequest request, float[] images, float[] masks) {
    Objects.requireNonNull(schedule, "schedule must not be null");
    Objects.requireNonNull(request, "request must not be null");
    Objects.requireNonNull(images, "images must not be null");
    Objects.requireNonNull(masks, "masks must not be null");
    schedule.checkPlan(request.plan());
    Shape image = request.imageShape();
    if (image.rank() != 3) {
      throw new IllegalArgumentException("inpainting needs images [C, H, W], the request's are " + image);
    }
    long values = (long) request.count() * image.size();
    if (images.length != values) {
      throw new IllegalArgumentException("images: " + images.length + " values, expected " + values + " ("
          + request.count() + " images of " + image + ")");
    }
    ImageToImage.checkFinite(request, images);
    int hw = image.dim(1) * image.dim(2);
    long maskValues = (long) request.count() * hw;
    if (masks.length != maskValues) {
      throw new IllegalArgumentException("masks: " + masks.length + " values, expected " + maskValues + " ("
          + request.count() + " masks of [" + image.dim(1) + ", " + image.dim(2) + "], one value a pixel)");
    }
    float[] keep = new float[masks.length];
    boolean[] keepsAny = new boolean[request.count()];
    for (int j = 0; j < masks.length; j++) {
      float m = masks[j];
      if (!(m >= 0 && m <= 1)) {
        throw new IllegalArgumentException("masks: sample " + (request.firstSample() + j / hw) + ", pixel " + j % hw
            + " is " + m + "; a mask's values are in [0, 1] (1: regenerate, 0: keep)");
      }
      keep[j] = 1 - m;
      keepsAny[j / hw] |= m < 1;
    }
    return new Inpainting(schedule, request, images.clone(), keep, keepsAny);
  }

  /**
   * The request this inpainting samples.
   *
   * @return the request given to {@link #of}
   */
  public SamplingRequest request() {
    return request;
  }

  /**
   * Samples the request: {@link SamplingLoop#run(Sampler, NoisePredictor, TensorFactory, SamplingRequest,
   * SamplingListener, StepConstraint)} with this constraint.
   *
   * @param sampler any sampler (its {@link Sampler#step} is walked by the loop)
   * @param model the model
   * @param tensors the backend's factory
   * @param listener sees every step, the known region put back
   * @return the samples {@code [count, C, H, W]} in the model's range (not denormalised), owned by the caller's
   *     current scope
   */
  public Tensor sample(Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingListener listener) {
    return SamplingLoop.run(sampler, model, tensors, request, listener, this);
  }

  /**
   * Samples the request with RePaint's resampling (see the class's comment); {@link Resampling#NONE} is
   * {@link #sample(Sampler, NoisePredictor, TensorFactory, SamplingListener)}.
   *
   * @param sampler any sampler
   * @param model the model
   * @param tensors the backend's factory
   * @param listener sees every reverse step
   * @param resampling the jump length and the number of walks of each jumping position
   * @return the samples {@code [count, C, H, W]} in the model's range, owned by the caller's current scope
   */
  public Tensor sample(Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingListener listener,
      Resampling resampling) {
    Objects.requireNonNull(resampling, "resampling must not be null (Resampling.NONE for none)");
    if (resampling.isNone()) {
      return sample(sampler, model, tensors, listener);
    }
    return SamplingLoop.run(sampler, model, tensors, request, listener, this,
        resampling.route(request.plan().size()), this::jump);
  }

  /**
   * A resampling jump: the whole sample noised forward from level {@code from} to level {@code to} in one draw,
   * {@code sqrt(abar_to / abar_from) x + sqrt(1 - abar_to / abar_from) z}.
   */
  private Tensor jump(TensorFactory tensors, SamplingRequest batch, int from, int to, int visit, Tensor x) {
    first(batch);
    Timesteps plan = batch.plan();
    double high = schedule.alphaBar(plan.get(to));
    double low = from >= plan.size() ? 1 : schedule.alphaBar(plan.get(from));
    float a = (float) Math.sqrt(high / low);
    float b = (float) Math.sqrt(1 - high / low);
    float[] v = x.toFloatArray();
    float[] z = noise(batch, JUMP_NOISE, visit);
    for (int j = 0; j < v.length; j++) {
      v[j] = a * v[j] + b * z[j];
    }
    return tensors.fromArray(v, batch.batchShape());
  }

  /** The normals of {@code root.split(purpose).split(visit)}, split by sample, for a batch. */
  private static float[] noise(SamplingRequest batch, long purpose, int visit) {
    return SamplingLoop.fillPerSample(SamplingLoop.noiseRoot(batch).split(purpose).split(visit), batch,
        new float[batch.batchShape().size()]);
  }

  /**
   * The known region's noise after the walk's step {@code visit} (the plan position, unless the walk resamples) for
   * every sample of a batch (see the class's comment): what {@link #apply} blends in.
   *
   * @param batch the samples (their seed, noise version, first sample and count)
   * @param visit the step's number in the walk
   * @return {@code batch.count() * C * H * W} standard normals
   */
  public static float[] knownRegionNoise(SamplingRequest batch, int visit) {
    Objects.requireNonNull(batch, "batch must not be null");
    return noise(batch, KNOWN_REGION_NOISE, visit);
  }

  /**
   * Puts the known region back into one step's sample (the formula of the class's comment).
   *
   * @param tensors the factory; the result is a tensor of its current scope
   * @param batch the samples walked: this inpainting's request or a slice of it
   * @param index the plan position whose step made {@code sample}
   * @param visit the step's number in the walk (the known region's noise is keyed by it)
   * @param sample {@code x_{t-1}} of the batch
   * @return {@code sample} itself where the batch keeps no pixel, else a new tensor
   * @throws IllegalArgumentException if the batch is not a part of this inpainting's request (other samples, image
   *     shape or plan)
   */
  @Override
  public Tensor apply(TensorFactory tensors, SamplingRequest batch, int index, int visit, Tensor sample) {
    int from = first(batch);
    boolean any = false;
    for (int i = 0; i < batch.count() && !any; i++) {
      any = keepsAny[from + i];
    }
    if (!any) {
      return sample;
    }
    Timesteps plan = batch.plan();
    int prevT = plan.next(index);
    boolean end = prevT < 0;
    float[] z = end ? null : knownRegionNoise(batch, visit);
    double abar = end ? 1 : schedule.alphaBar(prevT);
    float a = (float) Math.sqrt(abar);
    float b = (float) Math.sqrt(1 - abar);
    Shape image = request.imageShape();
    int k = image.size();
    int hw = image.dim(1) * image.dim(2);
    float[] x = sample.toFloatArray();
    for (int i = 0; i < batch.count(); i++) {
      int s = from + i;
      if (!keepsAny[s]) {
        continue;
      }
      for (int j = 0; j < k; j++) {
        float w = keep[s * hw + j % hw];
        if (w == 0) {
          continue;
        }
        int at = i * k + j;
        float x0 = images[s * k + j];
        float known = end ? x0 : a * x0 + b * z[at];
        x[at] = w == 1 ? known : w * known + (1 - w) * x[at];
      }
    }
    return tensors.fromArray(x, batch.batchShape());
  }

  /** The index of the batch's first sample in this inpainting's request, after checking the batch is a part of it. */
  private int first(SamplingRequest batch) {
    long from = batch.firstSample() - request.firstSample();
    if (from < 0 || from + batch.count() > request.count() || !batch.imageShape().equals(request.imageShape())
        || !batch.plan().equals(request.plan())) {
      throw new IllegalArgumentException("inpainting: the batch of samples " + batch.firstSample() + " to "
          + (batch.firstSample() + batch.count() - 1) + " (" + batch.imageShape() + ", " + batch.plan().size()
          + " steps) is not a part of the request of samples " + request.firstSample() + " to "
          + (request.firstSample() + request.count() - 1) + " (" + request.imageShape() + ", " + request.plan().size()
          + " steps)");
    }
    return (int) from;
  }
}
