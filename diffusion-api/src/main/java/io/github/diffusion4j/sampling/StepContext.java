package io.github.diffusion4j.sampling;

import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * Everything one reverse step may use. The noise is drawn only if the sampler asks for it, and the step's
 * predicted {@code x_0} is needed only if someone reads it ({@link #predictedX0Wanted()}).
 */
public final class StepContext {
  private final Timesteps plan;
  private final int index;
  private final Tensor sample;
  private final Tensor modelOutput;
  private final Supplier<Tensor> noise;
  private final ReverseStepResult previous;
  private final boolean predictedX0Wanted;
  private Tensor drawnNoise;

  /**
   * Creates a context.
   *
   * @param plan the plan being walked
   * @param index the position in the plan
   * @param sample {@code x_t}
   * @param modelOutput the model's output for {@code x_t} at {@code plan.get(index)}
   * @param noise supplies this step's portable standard-normal noise, shaped like the sample
   * @param previous the previous step's result, or null at the first step (multistep samplers use it)
   */
  public StepContext(
      Timesteps plan,
      int index,
      Tensor sample,
      Tensor modelOutput,
      Supplier<Tensor> noise,
      ReverseStepResult previous) {
    this(plan, index, sample, modelOutput, noise, previous, true);
  }

  /**
   * Creates a context that may tell the sampler that no one reads the step's predicted {@code x_0}.
   *
   * @param plan the plan being walked
   * @param index the position in the plan
   * @param sample {@code x_t}
   * @param modelOutput the model's output for {@code x_t} at {@code plan.get(index)}
   * @param noise supplies this step's portable standard-normal noise, shaped like the sample
   * @param previous the previous step's result, or null at the first step (multistep samplers use it)
   * @param predictedX0Wanted false when neither a listener nor the caller reads the result's predicted
   *     {@code x_0} ({@link #predictedX0Wanted()})
   * @throws IllegalArgumentException if {@code index} is not a position of the plan
   */
  public StepContext(
      Timesteps plan,
      int index,
      Tensor sample,
      Tensor modelOutput,
      Supplier<Tensor> noise,
      ReverseStepResult previous,
      boolean predictedX0Wanted) {
    java.util.Objects.requireNonNull(plan, "plan");
    java.util.Objects.requireNonNull(sample, "sample");
    java.util.Objects.requireNonNull(modelOutput, "modelOutput");
    java.util.Objects.requireNonNull(noise, "noise");
    if (index < 0 || index >= plan.size()) {
      throw new IllegalArgumentException("step index " + index + " is outside the plan's [0, " + plan.size() + ")");
    }
    this.plan = plan;
    this.index = index;
    this.sample = sample;
    this.modelOutput = modelOutput;
    this.noise = noise;
    this.previous = previous;
    this.predictedX0Wanted = predictedX0Wanted;
  }

  /**
   * The plan.
   *
   * @return the plan
   */
  public Timesteps plan() {
    return plan;
  }

  /**
   * The position in the plan.
   *
   * @return the index, from 0
   */
  public int index() {
    return index;
  }

  /**
   * The current timestep {@code t = plan().get(index())}.
   *
   * @return the timestep
   */
  public int timestep() {
    return plan.get(index);
  }

  /**
   * The next timestep of the plan, or -1 at the last step.
   *
   * @return the previous (smaller) timestep
   */
  public int prevTimestep() {
    return plan.next(index);
  }

  /**
   * Whether this is the last step of the plan.
   *
   * @return true at the last step
   */
  public boolean isLast() {
    return index == plan.size() - 1;
  }

  /**
   * {@code x_t}.
   *
   * @return the current sample
   */
  public Tensor sample() {
    return sample;
  }

  /**
   * The model output at this step.
   *
   * @return the output
   */
  public Tensor modelOutput() {
    return modelOutput;
  }

  /**
   * This step's noise {@code z}: standard normal, the shape of the sample, portable. Drawn on first use.
   *
   * @return the noise
   */
  public Tensor noise() {
    if (drawnNoise == null) {
      drawnNoise = noise.get();
    }
    return drawnNoise;
  }

  /**
   * Whether {@link #noise()} was called.
   *
   * @return true once this step's noise was drawn
   */
  public boolean drewNoise() {
    return drawnNoise != null;
  }

  /**
   * The previous step's result.
   *
   * @return the result, or null at the first step
   */
  public ReverseStepResult previous() {
    return previous;
  }

  /**
   * Whether anyone outside the sampler reads this step's {@link ReverseStepResult#predictedX0()}: false when
   * the loop runs without a listener that reads it ({@link SamplingListener#readsPredictedX0()}). A sampler may
   * then return null for it instead of computing it (the built-in samplers save a pass over the batch a step);
   * a sampler that reads its own {@code previous().predictedX0()} at the next step keeps computing it, and one that
   * calls another sampler's {@code step} and reads the result's predicted {@code x_0} passes it a context of its own
   * that wants it (the seven-argument constructor). Where it is true, a null predicted {@code x_0} is an error
   * naming the sampler and the step ({@link Sampler#sample}'s loop checks each step's result).
   *
   * @return whether the step's predicted {@code x_0} is read after the step
   */
  public boolean predictedX0Wanted() {
    return predictedX0Wanted;
  }
}
