package io.github.diffusion4j.schedule;

/**
 * The forward-process schedule in double precision, computed once: {@code beta_t}, {@code alpha_t = 1 -
 * beta_t} and {@code alphaBar_t = prod_{s <= t} alpha_s} for {@code t = 0 .. T-1} (zero-based, as in
 * diffusers: index {@code t} is the paper's step {@code t + 1}).
 *
 * <p>Immutable and thread-safe.
 */
public final class Schedule {
  private final ScheduleSpec spec;
  private final double[] betas;
  private final double[] alphas;
  private final double[] alphaBars;

  private Schedule(ScheduleSpec spec, double[] betas) {
    this.spec = spec;
    int n = betas.length;
    this.betas = betas;
    this.alphas = new double[n];
    this.alphaBars = new double[n];
    double prod = 1.0;
    for (int i = 0; i < n; i++) {
      alphas[i] = 1.0 - betas[i];
      prod *= alphas[i];
      alphaBars[i] = prod;
    }
  }

  /**
   * Builds the schedule a spec describes.
   *
   * @param spec the spec
   * @return the schedule
   * @throws IllegalArgumentException if a beta falls outside (0, 1), which only explicit endpoints can
   *     cause
   */
  public static Schedule of(ScheduleSpec spec) {
    double[] b =
        spec.betaSchedule().betas(spec.numTrainTimesteps(), spec.betaStart(), spec.betaEnd());
    for (int i = 0; i < b.length; i++) {
      if (!(b[i] > 0 && b[i] < 1)) {
        throw new IllegalArgumentException(
            "beta[" + i + "] = " + b[i] + " is outside (0, 1); betas must be in (0, 1)");
      }
    }
    if (spec.rescaleBetasZeroSnr()) {
      b = rescaleZeroTerminalSnr(b);
    }
    return new Schedule(spec, b);
  }

  /**
   * Rescales betas so the terminal signal-to-noise ratio is zero (Lin et al. 2024, "Common Diffusion
   * Noise Schedules and Sample Steps are Flawed", algorithm 1): shift and scale {@code sqrt(alphaBar)}
   * so its last value is 0 and its first is unchanged.
   *
   * @param betas the betas
   * @return the rescaled betas; the last is exactly 1
   */
  static double[] rescaleZeroTerminalSnr(double[] betas) {
    int n = betas.length;
    double[] sqrtBar = new double[n];
    double prod = 1.0;
    for (int i = 0; i < n; i++) {
      prod *= 1.0 - betas[i];
      sqrtBar[i] = Math.sqrt(prod);
    }
    double a0 = sqrtBar[0];
    double aT = sqrtBar[n - 1];
    double[] bar = new double[n];
    for (int i = 0; i < n; i++) {
      double s = (sqrtBar[i] - aT) * (a0 / (a0 - aT));
      bar[i] = s * s;
    }
    double[] out = new double[n];
    out[0] = 1.0 - bar[0];
    for (int i = 1; i < n; i++) {
      out[i] = 1.0 - bar[i] / bar[i - 1];
    }
    return out;
  }

  /**
   * The spec this schedule was built from.
   *
   * @return the spec
   */
  public ScheduleSpec spec() {
    return spec;
  }

  /**
   * {@code T}, the number of training timesteps.
   *
   * @return the length of the schedule
   */
  public int size() {
    return betas.length;
  }

  /**
   * {@code beta_t}.
   *
   * @param t a timestep in {@code [0, T)}
   * @return the forward-process variance of step {@code t}
   * @throws IllegalArgumentException if {@code t} is outside {@code [0, T)}
   */
  public double beta(int t) {
    return betas[checkTimestep(t)];
  }

  /**
   * {@code alpha_t = 1 - beta_t}.
   *
   * @param t a timestep in {@code [0, T)}
   * @return the value
   * @throws IllegalArgumentException if {@code t} is outside {@code [0, T)}
   */
  public double alpha(int t) {
    return alphas[checkTimestep(t)];
  }

  /**
   * {@code alphaBar_t}, the product of the alphas up to and including {@code t} (Ho et al. eq. 4).
   *
   * @param t a timestep in {@code [0, T)}
   * @return the value
   * @throws IllegalArgumentException if {@code t} is outside {@code [0, T)}
   */
  public double alphaBar(int t) {
    return alphaBars[checkTimestep(t)];
  }

  /**
   * {@code alphaBar_t}, or 1 for {@code t < 0} (the clean data, before the first step).
   *
   * @param t a timestep in {@code [-1, T)}
   * @return the value
   * @throws IllegalArgumentException if {@code t} is outside {@code [-1, T)}
   */
  public double alphaBarOrOne(int t) {
    if (t < -1 || t >= alphaBars.length) {
      throw new IllegalArgumentException("timestep " + t + " is outside [-1, " + alphaBars.length + ")");
    }
    return t == -1 ? 1.0 : alphaBars[t];
  }

  /**
   * Checks that a plan was made for this schedule's number of training timesteps (a plan of another {@code T}
   * would walk timesteps whose alpha-bars mean something else).
   *
   * @param plan the plan
   * @throws IllegalArgumentException if the plan's {@link Timesteps#numTrainTimesteps()} is not {@link #size()}
   */
  public void checkPlan(Timesteps plan) {
    if (plan.numTrainTimesteps() != alphaBars.length) {
      throw new IllegalArgumentException("the plan is made for " + plan.numTrainTimesteps() + " training timesteps, "
          + "the schedule has " + alphaBars.length + "; make it with Timesteps.*(" + alphaBars.length + ", steps)");
    }
  }

  private int checkTimestep(int t) {
    if (t < 0 || t >= alphaBars.length) {
      throw new IllegalArgumentException("timestep " + t + " is outside [0, " + alphaBars.length + ")");
    }
    return t;
  }

  /**
   * The variance of the forward posterior {@code q(x_prev | x_t, x_0)} between two timesteps of a plan
   * (Ho et al. eq. 7, generalised to strides as in diffusers):
   * {@code (1 - alphaBar_prev) / (1 - alphaBar_t) * (1 - alphaBar_t / alphaBar_prev)}.
   * This is also DDIM's {@code sigma_t^2 / eta^2} (Song et al. eq. 16).
   *
   * @param t the current timestep, in {@code [0, T)}
   * @param alphaBarPrev {@code alphaBar} at the previous (smaller) timestep of the plan, 1 past the end
   * @return the variance, 0 when {@code alphaBarPrev} is 1
   * @throws IllegalArgumentException if {@code t} is outside {@code [0, T)}
   */
  public double posteriorVariance(int t, double alphaBarPrev) {
    double abT = alphaBars[checkTimestep(t)];
    return (1.0 - alphaBarPrev) / (1.0 - abT) * (1.0 - abT / alphaBarPrev);
  }

  /**
   * The posterior variance for consecutive steps: {@code beta~_t = (1 - alphaBar_{t-1}) / (1 -
   * alphaBar_t) * beta_t} (Ho et al. eq. 7), 0 at {@code t = 0}.
   *
   * @param t a timestep in {@code [0, T)}
   * @return the variance
   * @throws IllegalArgumentException if {@code t} is outside {@code [0, T)}
   */
  public double posteriorVariance(int t) {
    return posteriorVariance(t, alphaBarOrOne(t - 1));
  }

  /**
   * A copy of the betas.
   *
   * @return {@code T} values
   */
  public double[] betas() {
    return betas.clone();
  }

  /**
   * A copy of the alphas.
   *
   * @return {@code T} values
   */
  public double[] alphas() {
    return alphas.clone();
  }

  /**
   * A copy of the alpha-bars ({@code alphas_cumprod} in diffusers).
   *
   * @return {@code T} values
   */
  public double[] alphaBars() {
    return alphaBars.clone();
  }

  @Override
  public String toString() {
    return "Schedule" + spec;
  }
}
