package io.github.diffusion4j.training;

/** The loss became NaN or infinite; the message names the step and suggests a cause. */
public class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final long step;

  /**
   * Creates the exception.
   *
   * @param step the step whose loss was not finite
   * @param message the explanation
   */
  public TrainingDivergedException(long step, String message) {
    super(message);
    this.step = step;
  }

  /**
   * Creates the exception with what found it.
   *
   * @param step the step whose loss was not finite
   * @param message the explanation
   * @param cause the exception this one adds to (e.g. the trainer's, with where the last checkpoint is)
   */
  public TrainingDivergedException(long step, String message, Throwable cause) {
    super(message, cause);
    this.step = step;
  }

  /**
   * The step whose loss was not finite.
   *
   * @return the step number (from 1)
   */
  public long step() {
    return step;
  }
}
