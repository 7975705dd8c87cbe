package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;

/**
 * The tutorial's workload (images 3x5x5, MLP hidden 128, T = 100 linear betas, Adam lr 1e-3, batch 128)
 * driven the way the trainer and the samplers drive a backend, for the soak test and the benchmark.
 */
final class TutorialWorkload implements AutoCloseable {
  static final Shape IMAGE = Shape.of(3, 5, 5);
  static final int T = 100;
  static final int HIDDEN = 128;
  static final int BATCH = 128;
  static final MlpSpec SPEC = new MlpSpec(IMAGE, T, HIDDEN);

  final Backend backend;
  final TensorFactory tensors;
  final TrainableModel model;
  final Schedule schedule = Schedule.of(ScheduleSpec.linear(T));
  private final ForwardProcess forward = new ForwardProcess(schedule);
  private final Noise root;
  private final float[] data;
  private final int images;
  private final int k = IMAGE.size();
  private final Shape batchShape = Shape.batchOf(BATCH, IMAGE);
  private final float[] x0 = new float[BATCH * k];
  private final float[] eps = new float[BATCH * k];
  private final float[] xt = new float[BATCH * k];
  private final int[] t = new int[BATCH];

  /**
   * Creates the workload.
   *
   * @param backend the backend under test
   * @param images the dataset size
   * @param seed the seed of data, weights and noise
   */
  TutorialWorkload(Backend backend, int images, long seed) {
    this.backend = backend;
    this.tensors = backend.tensors();
    this.model = backend.createModel(SPEC, OptimizerSpec.adam(1e-3), seed);
    this.root = Noise.seeded(seed);
    this.images = images;
    this.data = GradientImages.generate(images, IMAGE, root.split(-1));
    for (int i = 0; i < data.length; i++) {
      data[i] = data[i] * 2f - 1f; // [0, 1] -> [-1, 1]
    }
  }

  /**
   * One training step as a trainer runs it: gather a random batch from the heap dataset, draw timesteps
   * and portable noise, form {@code x_t} on the heap, copy in, step; all in one scope.
   *
   * @param step the step number (keys the randomness)
   * @return the loss
   */
  double trainStep(long step) {
    Noise n = root.split(step);
    RandomGenerator g = n.split(0).generator();
    for (int i = 0; i < BATCH; i++) {
      System.arraycopy(data, g.nextInt(images) * k, x0, i * k, k);
      t[i] = g.nextInt(T);
    }
    n.split(1).fillPerItem(eps, BATCH, k, 0);
    forward.noise(x0, t, eps, xt);
    try (TensorScope s = tensors.openScope()) {
      return model.step(tensors.fromArray(xt, batchShape), t, tensors.fromArray(eps, batchShape)).loss();
    }
  }

  /** Ancestral DDPM (Algorithm 2 with sigma^2 = beta, as the PyTorch timing script). */
  Sampler ddpm() {
    return new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.NONE, tensors);
  }

  /** Deterministic DDIM. */
  Sampler ddim() {
    return new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, tensors);
  }

  /**
   * Samples and drops the result.
   *
   * @param sampler the sampler
   * @param count images
   * @param plan the timesteps
   * @param seed the noise seed
   * @return the mean of the samples (so the work cannot be optimised away)
   */
  double sample(Sampler sampler, int count, Timesteps plan, long seed) {
    try (TensorScope s = tensors.openScope()) {
      Tensor x = sampler.sample(model, tensors, SamplingRequest.of(count, IMAGE, seed, plan));
      return x.mean();
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
