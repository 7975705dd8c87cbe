package io.github.diffusion4j.examples;

import io.github.diffusion4j.eval.FrechetDistance;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.ProviderDiscovery;
import io.github.diffusion4j.sampling.BuiltInSamplers;
import io.github.diffusion4j.sampling.DdimInversion;
import io.github.diffusion4j.sampling.Latents;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerSpec;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;

/**
 * A network of your own, sampled with the SDK's samplers and schedule and scored with its metrics, with no YAML and
 * no checkpoint: here the exact noise predictor of a known data set (every pixel {@code N(mu, s^2)}), written as a
 * plain Java {@link NoisePredictor} on {@code float[]}, as a wrapper of a network from another library would be
 * (README, "Your own network"). Deterministic DDIM of such a model has a closed form, which the example checks; it
 * then scores 512 samples by their Frechet distance to the data and inverts them back to their latents.
 *
 * <pre>java -cp "examples/target/classes:examples/target/lib/*" io.github.diffusion4j.examples.OwnNetwork
 *     [--backend=nd4j|djl]</pre>
 */
public final class OwnNetwork {
  private OwnNetwork() {}

  /** The data's mean. */
  static final double MU = 0.3;
  /** The data's variance. */
  static final double S2 = 0.25;

  /**
   * Runs the example.
   *
   * @param args {@code [--backend=nd4j|djl]}
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    run(args);
  }

  /**
   * What the example measured.
   *
   * @param closedFormError the largest difference between DDIM's samples and its closed form
   * @param frechet the Frechet distance of DDIM's samples to samples of the data
   * @param frechetOfAWrongModel the same for the exact predictor of data with another mean ({@code mu + 0.2})
   * @param inversionError the largest difference between the initial noise and the inverted samples
   */
  public record Result(double closedFormError, double frechet, double frechetOfAWrongModel, double inversionError) {}

  /**
   * The exact noise predictor of data whose values are {@code N(mu, s2)}: {@code E[eps | x_t] = sqrt(1 - a)
   * (x_t - sqrt(a) mu) / (a s2 + 1 - a)} with {@code a = alphaBar_t}, computed on the heap; the values cross as
   * {@code float[]}, as they would to and from another library's network.
   *
   * @param schedule the schedule it was "trained" with
   * @param mu the data's mean
   * @param tensors the factory its outputs are made with
   * @return the predictor
   */
  static NoisePredictor exact(Schedule schedule, double mu, TensorFactory tensors) {
    return (x, t) -> {
      float[] in = x.toFloatArray();
      float[] out = new float[in.length];
      int k = in.length / t.length;
      for (int i = 0; i < in.length; i++) {
        double a = schedule.alphaBar(t[i / k]);
        out[i] = (float) (Math.sqrt(1 - a) * (in[i] - Math.sqrt(a) * mu) / (a * S2 + 1 - a));
      }
      return tensors.fromArray(out, x.shape()); // in the current scope: the sampling loop's step
    };
  }

  /**
   * Runs the example and prints what it measured.
   *
   * @param args {@code [--backend=nd4j|djl]}
   * @return what it measured
   */
  public static Result run(String[] args) {
    String name = Examples.option(args, "backend", "nd4j"); // an unknown name is refused naming those found
    Shape image = Shape.of(1, 8, 8);
    Schedule schedule = Schedule.of(ScheduleSpec.linear(1000)); // the schedule the network was trained with
    Timesteps plan = Timesteps.trailing(1000, 20);
    try (Backend backend = ProviderDiscovery.create(name, BackendOptions.defaults())) {
      TensorFactory tensors = backend.tensors();
      NoisePredictor model = exact(schedule, MU, tensors);
      Sampler ddim = BuiltInSamplers.DDIM.create(SamplerSpec.defaults(schedule, tensors)); // eta 0
      int n = 512;
      SamplingRequest request = SamplingRequest.of(n, image, 7, plan);
      try (TensorScope scope = tensors.openScope()) {
        Tensor samples = ddim.sample(model, tensors, request);
        float[] x0 = samples.toFloatArray();

        // each DDIM step scales x - sqrt(alphaBar) mu by (sqrt(a' a) s2 + sqrt((1 - a')(1 - a))) / (a s2 + 1 - a)
        double factor = 1;
        for (int i = 0; i < plan.size(); i++) {
          double a = schedule.alphaBar(plan.get(i));
          double prev = schedule.alphaBarOrOne(i + 1 < plan.size() ? plan.get(i + 1) : -1);
          factor *= (Math.sqrt(prev * a) * S2 + Math.sqrt((1 - prev) * (1 - a))) / (a * S2 + 1 - a);
        }
        double closedForm = 0;
        double aT = schedule.alphaBar(plan.get(0));
        for (int i = 0; i < n; i++) {
          float[] xT = Latents.initialLatent(request, i); // the noise the loop drew for sample i
          for (int j = 0; j < xT.length; j++) {
            double exact = MU + (xT[j] - Math.sqrt(aT) * MU) * factor;
            closedForm = Math.max(closedForm, Math.abs(x0[i * xT.length + j] - exact));
          }
        }
        System.out.printf("DDIM, %d steps: max |sample - closed form| = %.2e%n", plan.size(), closedForm);

        // the metrics of the eval package take any float[]: here 64 values per sample against 4096 draws of the data
        float[] data = Noise.seeded(11).normals(4096 * image.size());
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) (MU + Math.sqrt(S2) * data[i]);
        }
        double fd = FrechetDistance.between(x0, data, image.size());
        float[] off = ddim.sample(exact(schedule, MU + 0.2, tensors), tensors, request).toFloatArray();
        double fdOff = FrechetDistance.between(off, data, image.size());
        System.out.printf("Frechet distance to the data: %.4f (the model of mean %.1f: %.4f)%n", fd, MU + 0.2, fdOff);

        // DDIM inversion with the same predictor: back to the latents the samples came from
        Tensor latents = new DdimInversion(schedule, SamplerSpec.defaults(schedule, tensors).predictionType())
            .invert(model, tensors, samples, plan);
        float[] z = latents.toFloatArray();
        double inversion = 0;
        for (int i = 0; i < n; i++) {
          float[] xT = Latents.initialLatent(request, i);
          for (int j = 0; j < xT.length; j++) {
            inversion = Math.max(inversion, Math.abs(z[i * xT.length + j] - xT[j]));
          }
        }
        System.out.printf("DDIM inversion: max |invert(sample) - x_T| = %.4f%n", inversion);
        return new Result(closedForm, fd, fdOff, inversion);
      }
    }
  }
}
