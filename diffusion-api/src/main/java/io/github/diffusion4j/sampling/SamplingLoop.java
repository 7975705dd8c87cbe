package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntConsumer;

/**
 * The reverse-process loop every {@link Sampler} shares: it shows the listener {@code x_T}
 * ({@link SamplingListener#onStart}), then per plan position, in its own
 * {@link TensorScope}, call the model, then the sampler's step, then the listener; keep only the step's
 * result and release the step before it. Noise follows the layout documented on
 * {@link SamplingRequest}.
 *
 * <p>When the backend was given more than one thread ({@link TensorFactory#threads()}), the loop splits the
 * batch into that many slices of consecutive images and walks each on a thread of its own (the calling thread
 * walks the first), under {@link TensorFactory#confineToCallingThread()}, in step: every slice makes step
 * {@code k} before the listener sees it, joined into one batch ({@link JoinedBatch}, copied only if read).
 * An image's noise is a pure function of the request, the step and the image's number, so a slice draws its own;
 * the slices share nothing but the model and the sampler. The samples equal one thread's up to rounding: a
 * backend may round an image's model output differently in a smaller batch (OpenBLAS's products of few rows,
 * convolutions that take images in chunks sized by the batch; the backends' thread tests bound it), and the
 * reference backend, which computes every image alone, gives the same bits. A small model's
 * step is too short to split inside it (each operation's hand-over between threads costs more than its half of
 * the work on a two-core machine), and whole slices need none: the tutorial MLP's DDPM-100 of 1,000 images
 * took 0.031-0.035 s on two threads against 0.051-0.055 on one (docs/benchmarks.md, "A batch split over the
 * threads"). A batch of one image,
 * or one with given initial noise, is walked whole; there, a thread of the loop's own draws each step's noise
 * while the model runs; it starts on the first step and on every step after one that drew noise, so a sampler
 * that never draws noise (DDIM with {@code eta = 0}) costs one unused draw at most.
 */
public final class SamplingLoop {
  /**
   * The slice threads no run is using: a run takes what it needs and gives them back when it ends, so threads
   * are made once per process (a thread's first native operations cost more than a small model's whole run: the
   * tutorial MLP's DDIM-20 of 1,000 images on DJL took 0.0071-0.0076 s with new threads a run, 0.0049 with
   * reused ones). They are daemons and park 300 us after their last job.
   */
  private static final ConcurrentLinkedQueue<LoopThread<Void>> IDLE_SLICE_THREADS = new ConcurrentLinkedQueue<>();

  private SamplingLoop() {}

  /**
   * The initial latents of a request: {@code x_T}, drawn from the request's noise layout unless given.
   *
   * @param tensors the factory
   * @param request the request
   * @return the latents (the request's own tensor if it has one)
   */
  public static Tensor initialNoise(TensorFactory tensors, SamplingRequest request) {
    return request.initialNoise().orElseGet(() -> stepNoise(tensors, request, -1));
  }

  /**
   * The noise of plan position {@code index} ({@code -1} for {@code x_T}).
   *
   * @param tensors the factory
   * @param request the request
   * @param index the plan position, or -1
   * @return standard-normal noise of the batch shape
   */
  public static Tensor stepNoise(TensorFactory tensors, SamplingRequest request, int index) {
    return tensors.fromArray(noiseValues(request, index), request.batchShape());
  }

  /** The values of {@link #stepNoise}, on the heap. */
  static float[] noiseValues(SamplingRequest request, int index) {
    return noiseValues(request, index, new float[request.batchShape().size()]);
  }

  /**
   * The values of {@link #stepNoise} written into {@code data} (the loop's one buffer, reused every step:
   * a new array per step would be zeroed by the JVM first, a pass over the batch for nothing).
   */
  static float[] noiseValues(SamplingRequest request, int index, float[] data) {
    return fillPerSample(noiseRoot(request).split(index + 1L), request, data);
  }

  /** The request's noise root, whose splits are the run's streams: step noise, latents, inpainting's. */
  static Noise noiseRoot(SamplingRequest request) {
    return Noise.seeded(request.seed()).withVersion(request.noise());
  }

  /**
   * Fills {@code data} with a stream's normals, split by sample ({@code request.firstSample()} on), so that a sample's
   * values do not depend on the batch it is drawn in.
   */
  static float[] fillPerSample(Noise stream, SamplingRequest request, float[] data) {
    stream.fillPerItem(data, request.count(), request.batchShape().itemSize(), request.firstSample());
    return data;
  }

  /**
   * Runs a sampler over a request's plan.
   *
   * @param sampler the sampler
   * @param model the model
   * @param tensors the factory
   * @param request the request
   * @param listener the listener
   * @return the final samples, owned by the caller's current scope
   * @throws IllegalStateException if a step's result is not a sample of the batch's shape, or the final samples
   *     hold NaN or infinite values (they are not returned, so not written)
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted (checked before each
   *     step, and by the networks of this SDK between two layers; the thread stays interrupted and every tensor of
   *     the run is released)
   */
  public static Tensor run(
      Sampler sampler,
      NoisePredictor model,
      TensorFactory tensors,
      SamplingRequest request,
      SamplingListener listener) {
    return run(sampler, model, tensors, request, listener, null);
  }

  /**
   * Runs a sampler over a request's plan with a constraint applied after every step ({@link StepConstraint}: the
   * loop walks on from the constrained sample, and the listener sees it), e.g. {@link Inpainting}. The sampler's
   * {@link Sampler#step} is called as in {@link #run(Sampler, NoisePredictor, TensorFactory, SamplingRequest,
   * SamplingListener)} (a sampler that overrides {@link Sampler#sample} is walked by this loop here all the same).
   *
   * @param sampler the sampler
   * @param model the model
   * @param tensors the factory
   * @param request the request
   * @param listener the listener
   * @param constraint applied to each step's sample, or null for none (plain sampling, with no work for it)
   * @return the final samples, owned by the caller's current scope
   * @throws IllegalStateException if a step's or the constraint's result is not a sample of the batch's shape, or
   *     the final samples hold NaN or infinite values
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted (as the run without a
   *     constraint)
   */
  public static Tensor run(
      Sampler sampler,
      NoisePredictor model,
      TensorFactory tensors,
      SamplingRequest request,
      SamplingListener listener,
      StepConstraint constraint) {
    return run(sampler, model, tensors, request, listener, constraint, null, null);
  }

  /**
   * Noises a batch forward from one level of the plan to a lower one, for a walk that resamples
   * ({@link Resampling}); level {@code q} is the noise of plan position {@code q}, level {@code plan.size()} the final
   * samples.
   */
  @FunctionalInterface
  interface Jump {
    /**
     * Noises the batch forward.
     *
     * @param tensors the factory; the result is made in its current scope
     * @param batch the samples walked (a slice of the run's request on a slice's thread)
     * @param from the sample's level
     * @param to the level to noise it to, below {@code from}
     * @param visit the operation's number in the walk (for its noise)
     * @param x the sample at level {@code from} (not to be closed)
     * @return the sample at level {@code to}
     */
    Tensor apply(TensorFactory tensors, SamplingRequest batch, int from, int to, int visit, Tensor x);
  }

  /**
   * The run of {@link #run(Sampler, NoisePredictor, TensorFactory, SamplingRequest, SamplingListener, StepConstraint)}
   * along a route ({@link Resampling#route}): each value {@code p >= 0} the step at plan position {@code p}, each
   * {@code -1 - q} a jump back to level {@code q} by {@code jump}; operation {@code v} of the route draws the step
   * noise of {@code v} ({@code root.split(v + 1)}), and a jump forgets the previous step (a multistep sampler starts
   * over). Null route: the plan, once.
   */
  static Tensor run(Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingRequest request,
      SamplingListener listener, StepConstraint constraint, int[] route, Jump jump) {
    int slices = request.initialNoise().isPresent() ? 1 : Math.min(tensors.threads(), request.count());
    Tensor samples = slices > 1
        ? runSliced(sampler, model, tensors, request, listener, slices, constraint, route, jump)
        : runWhole(sampler, model, tensors, request, listener, constraint, route, jump);
    if (!Double.isFinite(samples.sum())) { // one pass over the batch, against a model's pass per step
      samples.close();
      throw new IllegalStateException("sampler '" + sampler.name() + "': the samples of " + request.plan().size()
          + (request.plan().size() == 1 ? " step" : " steps") + " hold NaN or infinite values (a diverged model, or "
          + "a sampler's division by zero); nothing is returned for them");
    }
    return samples;
  }

  private static Tensor runWhole(
      Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingRequest request,
      SamplingListener listener, StepConstraint constraint, int[] route, Jump jump) {
    Timesteps plan = request.plan();
    LoopThread<float[]> noiseThread =
        tensors.threads() > 1 && plan.size() > 1 ? new LoopThread<>("diffusion4j-noise") : null;
    try (Walk walk = new Walk(sampler, model, tensors, request, noiseThread, ThreadConfinement.NONE,
        listener.readsPredictedX0(), constraint)) {
      listener.onStart(plan, walk.x);
      int ops = route == null ? plan.size() : route.length;
      for (int v = 0; v < ops; v++) {
        int i = route == null ? v : route[v];
        if (i < 0) {
          walk.jump(-1 - i, v, jump);
          continue;
        }
        checkInterrupt(sampler, i, plan);
        notify(listener, tensors, i, plan, walk.step(i, v));
      }
      return walk.finish();
    } finally {
      if (noiseThread != null) {
        noiseThread.close(); // a draw in progress ends first, so no work of the run outlives it
      }
    }
  }

  /**
   * Walks {@code n} slices of the batch in step, slice 0 on the calling thread and each other on a
   * {@link LoopThread} of its own; each slice's tensors live and die on its thread.
   */
  private static Tensor runSliced(
      Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingRequest request,
      SamplingListener listener, int n, StepConstraint constraint, int[] route, Jump jump) {
    Timesteps plan = request.plan();
    Walk[] walks = new Walk[n];
    List<LoopThread<Void>> helpers = new ArrayList<>(n - 1);
    ThreadConfinement own = tensors.confineToCallingThread();
    try {
      for (int k = 1; k < n; k++) {
        LoopThread<Void> idle = IDLE_SLICE_THREADS.poll();
        helpers.add(idle != null ? idle : new LoopThread<>("diffusion4j-slice"));
      }
      onEach(helpers, k -> {
        int from = bound(request.count(), n, k);
        SamplingRequest slice = request.slice(request.firstSample() + from, bound(request.count(), n, k + 1) - from);
        ThreadConfinement confinement = k == 0 ? ThreadConfinement.NONE : tensors.confineToCallingThread();
        try {
          walks[k] = new Walk(sampler, model, tensors, slice, null, confinement, listener.readsPredictedX0(),
              constraint);
        } catch (RuntimeException | Error e) {
          confinement.close();
          throw e;
        }
      });
      listener.onStart(plan, JoinedBatch.of(tensors, Arrays.stream(walks).map(w -> w.x).toArray(Tensor[]::new)));
      ReverseStepResult[] results = new ReverseStepResult[n];
      int ops = route == null ? plan.size() : route.length;
      for (int v = 0; v < ops; v++) {
        final int index = route == null ? v : route[v];
        final int visit = v;
        if (index < 0) {
          onEach(helpers, k -> walks[k].jump(-1 - index, visit, jump));
          continue;
        }
        checkInterrupt(sampler, index, plan);
        onEach(helpers, k -> results[k] = walks[k].step(index, visit));
        notify(listener, tensors, index, plan, joined(tensors, results));
      }
      float[][] values = new float[n][];
      onEach(helpers, k -> {
        values[k] = walks[k].x.toFloatArray();
        walks[k].close();
      });
      float[] all = new float[request.batchShape().size()];
      for (int k = 0, at = 0; k < n; at += values[k].length, k++) {
        System.arraycopy(values[k], 0, all, at, values[k].length);
      }
      return tensors.fromArray(all, request.batchShape());
    } finally {
      try {
        // after a failure: each walk left open is closed on its own thread
        onEach(helpers, k -> {
          if (walks[k] != null) {
            walks[k].close();
          }
        });
      } finally {
        IDLE_SLICE_THREADS.addAll(helpers); // every job ended (onEach awaits them all, failed or not)
        own.close();
      }
    }
  }

  /**
   * One step's results of every slice, joined; the predicted {@code x_0} is the sample itself where it was, and
   * null where a slice's step skipped it.
   */
  private static ReverseStepResult joined(TensorFactory tensors, ReverseStepResult[] results) {
    Tensor[] prev = new Tensor[results.length];
    Tensor[] x0 = new Tensor[results.length];
    boolean same = true;
    boolean skipped = false;
    for (int k = 0; k < results.length; k++) {
      prev[k] = results[k].prev();
      x0[k] = results[k].predictedX0();
      same &= prev[k] == x0[k];
      skipped |= x0[k] == null;
    }
    Tensor p = JoinedBatch.of(tensors, prev);
    return new ReverseStepResult(p, skipped ? null : same ? p : JoinedBatch.of(tensors, x0));
  }

  /**
   * Runs {@code job(k)} for every slice {@code k}, slice 0 on the calling thread and slice {@code k > 0} on
   * helper {@code k - 1}, and returns when all have ended.
   *
   * @throws Throwable the first failure as it was thrown, a checked one too (slice 0's, else the lowest helper's),
   *     the others suppressed in it
   */
  private static void onEach(List<LoopThread<Void>> helpers, IntConsumer job) {
    for (int k = 1; k <= helpers.size(); k++) {
      final int slice = k;
      helpers.get(k - 1).submit(() -> {
        job.accept(slice);
        return null;
      });
    }
    Throwable failure = null;
    try {
      job.accept(0);
    } catch (Throwable e) { // a checked one too (Kotlin's): the helpers' steps are awaited before it is thrown on
      failure = e;
    }
    if (Thread.currentThread().isInterrupted()) {
      for (LoopThread<Void> h : helpers) {
        h.interruptJob(); // their slices' passes end between two layers too, not at the end of their step
      }
    }
    for (LoopThread<Void> h : helpers) {
      try {
        h.await();
      } catch (Throwable e) {
        if (failure == null) {
          failure = e;
        } else if (failure != e) {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw LoopThread.<RuntimeException>rethrow(failure);
    }
  }

  /** Ends a run whose thread was interrupted, before step {@code i} (the thread stays interrupted). */
  private static void checkInterrupt(Sampler sampler, int i, Timesteps plan) {
    if (Thread.currentThread().isInterrupted()) {
      throw new java.util.concurrent.CancellationException("sampler '" + sampler.name() + "': interrupted before step "
          + (i + 1) + " of " + plan.size());
    }
  }

  /** The start of slice {@code k} of {@code n} over {@code count} images. */
  private static int bound(int count, int n, int k) {
    return (int) ((long) count * k / n);
  }

  /** Shows the listener a step; what the listener makes of the step's tensors is released after it. */
  private static void notify(
      SamplingListener listener, TensorFactory tensors, int i, Timesteps plan, ReverseStepResult result) {
    if (listener == SamplingListener.NONE) {
      return;
    }
    try (TensorScope scope = tensors.openScope()) {
      listener.onStep(i, plan, result);
    }
  }

  /**
   * One batch's walk over the plan on the thread that makes it and calls it: its current sample, its last
   * result, its noise buffer and the scope its tensors live in.
   */
  private static final class Walk implements AutoCloseable {
    private final Sampler sampler;
    private final NoisePredictor model;
    private final TensorFactory tensors;
    private final SamplingRequest request;
    private final LoopThread<float[]> noiseThread;
    private final ThreadConfinement confinement;
    private final int[] t;
    /**
     * {@code x_T} and then each step's noise are drawn into this buffer and uploaded from it (fromArray copies)
     * before the next draw: one array per walk, not one per draw (every array is fresh heap the JVM must touch
     * and zero).
     */
    private final float[] noise;
    private final Tensor given;
    private final TensorScope outer;
    private Tensor x;
    private final boolean predictedX0Wanted;
    /** Applied to each step's sample, or null (plain sampling: one branch a step, nothing else). */
    private final StepConstraint constraint;
    private ReverseStepResult previous;
    /** The level of {@link #x}: the plan position it is the input of ({@code plan.size()} after the last step). */
    private int level;
    private boolean drewNoise = true;
    private boolean closed;

    /**
     * Opens the walk's scope and takes or draws {@code x_T}.
     *
     * @param noiseThread draws the next step's noise while the model runs, or null to draw on this thread
     * @param confinement closed with the walk
     * @param predictedX0Wanted whether the steps' predicted {@code x_0} is read
     *     ({@link StepContext#predictedX0Wanted()})
     * @param constraint applied to each step's sample, or null
     */
    Walk(Sampler sampler, NoisePredictor model, TensorFactory tensors, SamplingRequest request,
        LoopThread<float[]> noiseThread, ThreadConfinement confinement, boolean predictedX0Wanted,
        StepConstraint constraint) {
      this.sampler = sampler;
      this.model = model;
      this.tensors = tensors;
      this.request = request;
      this.noiseThread = noiseThread;
      this.confinement = confinement;
      this.predictedX0Wanted = predictedX0Wanted;
      this.constraint = constraint;
      this.t = new int[request.count()];
      this.noise = new float[request.batchShape().size()];
      this.given = request.initialNoise().orElse(null);
      this.x = given;
      this.outer = tensors.openScope();
      if (x == null) {
        try {
          x = tensors.fromArray(noiseValues(request, -1, noise), request.batchShape());
        } catch (RuntimeException | Error e) {
          outer.close();
          throw e;
        }
      }
    }

    /** Makes plan position {@code i}'s step and releases the tensors of the step before it. */
    ReverseStepResult step(int i, int visit) {
      Timesteps plan = request.plan();
      boolean ahead = noiseThread != null && drewNoise;
      if (ahead) {
        noiseThread.submit(() -> noiseValues(request, visit, noise));
      }
      ReverseStepResult result;
      try (TensorScope step = tensors.openScope()) {
        Arrays.fill(t, plan.get(i));
        Tensor output = NoisePredictor.checkOutput(model.predict(x, t), x, () -> "sampler '" + sampler.name()
            + "', step " + (i + 1) + " of " + plan.size() + " (timestep " + plan.get(i) + ")");
        StepContext context = new StepContext(plan, i, x, output,
            () -> tensors.fromArray(ahead ? noiseThread.await() : noiseValues(request, visit, noise),
                request.batchShape()), previous, predictedX0Wanted);
        result = checked(sampler.step(context), i);
        drewNoise = context.drewNoise();
        if (ahead && !drewNoise) {
          noiseThread.await(); // a draw the step did not use still writes the buffer: let it finish first
        }
        if (constraint != null) {
          result = constrained(result, i, visit);
        }
        step.keep(result.prev());
        if (result.predictedX0() != null) {
          step.keep(result.predictedX0());
        }
      }
      release(x, result);
      if (previous != null) {
        release(previous.predictedX0(), result);
        release(previous.prev(), result);
      }
      previous = result;
      x = result.prev();
      level = i + 1;
      return result;
    }

    /**
     * Noises the sample forward to level {@code to} (a resampling walk's jump back): the step before is forgotten,
     * and its tensors released.
     */
    void jump(int to, int visit, Jump jump) {
      Tensor next;
      try (TensorScope scope = tensors.openScope()) {
        next = jump.apply(tensors, request, level, to, visit, x);
        if (next == null || !next.shape().equals(request.batchShape())) {
          throw new IllegalStateException("resampling jump: returned " + (next == null ? "no sample"
              : "a sample of shape " + next.shape()) + " for a batch of " + request.batchShape());
        }
        scope.keep(next);
      }
      if (previous != null) {
        if (previous.predictedX0() != null && previous.predictedX0() != x) {
          previous.predictedX0().close();
        }
        previous = null;
      }
      if (x != given && x != next) {
        x.close();
      }
      x = next;
      level = to;
    }

    /**
     * The step's result with the constraint's sample in place of the sampler's (which the step's scope releases);
     * the predicted {@code x_0} stays the sampler's.
     */
    private ReverseStepResult constrained(ReverseStepResult result, int i, int visit) {
      Tensor x = constraint.apply(tensors, request, i, visit, result.prev());
      if (x == result.prev()) {
        return result;
      }
      Shape shape = request.batchShape();
      if (x == null || !x.shape().equals(shape)) {
        throw new IllegalStateException("step constraint, step " + (i + 1) + " of " + request.plan().size()
            + ": returned " + (x == null ? "no sample" : "a sample of shape " + x.shape()) + " for a batch of "
            + shape);
      }
      return new ReverseStepResult(x, result.predictedX0());
    }

    /**
     * A step's result as the loop needs it: a sample of the batch's shape (and a predicted {@code x_0} of it, or
     * none where no one reads it), else an error that names the sampler, not the model the next step would hand it
     * to or the listener that would read a null.
     */
    private ReverseStepResult checked(ReverseStepResult result, int i) {
      Shape shape = request.batchShape();
      String where = "sampler '" + sampler.name() + "', step " + (i + 1) + " of " + request.plan().size() + ": ";
      if (result == null || result.prev() == null) {
        throw new IllegalStateException(where + "returned no sample (ReverseStepResult.prev must be x_{t-1})");
      }
      if (!result.prev().shape().equals(shape)) {
        throw new IllegalStateException(where + "returned a sample of shape " + result.prev().shape() + " for a batch "
            + "of " + shape);
      }
      if (result.predictedX0() == null && predictedX0Wanted) {
        throw new IllegalStateException(where + "returned no predicted x0, which a listener reads "
            + "(StepContext.predictedX0Wanted() was true)");
      }
      if (result.predictedX0() != null && !result.predictedX0().shape().equals(shape)) {
        throw new IllegalStateException(where + "returned a predicted x0 of shape " + result.predictedX0().shape()
            + " for a batch of " + shape);
      }
      return result;
    }

    /**
     * The final samples, moved out of the walk's scope into the enclosing one; the walk's last predicted
     * {@code x_0} is released.
     */
    Tensor finish() {
      if (previous != null && previous.predictedX0() != x) {
        release(previous.predictedX0(), previous);
      }
      outer.keep(x);
      return x;
    }

    private void release(Tensor tensor, ReverseStepResult keep) {
      if (tensor != null && tensor != given && tensor != keep.prev() && tensor != keep.predictedX0()) {
        tensor.close();
      }
    }

    /** Releases what the walk still owns and ends its confinement. */
    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        outer.close();
      } finally {
        confinement.close();
      }
    }
  }
}
