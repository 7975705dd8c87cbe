package io.github.diffusion4j.examples;

import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainingStepResult;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.training.Trainer;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The DDPM tutorial's walk-through in code, with the tutorial's own setup ({@code tutorial} config): the data,
 * the forward process both ways (eq. 2 step by step and eq. 4 in closed form), reconstruction, one training
 * step by hand, training, and the sequential-denoising figure of Algorithm 2.
 *
 * <pre>java -cp "examples/target/classes:examples/target/lib/*" io.github.diffusion4j.examples.StepByStep [OUT_DIR] [--tiny]</pre>
 */
public final class StepByStep {
  private StepByStep() {}

  /**
   * Runs the example.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    run(args);
  }

  /**
   * What the walk-through measured (what {@link #main} prints).
   *
   * @param reconstructionError the largest {@code |x0 - reconstruct(noise(x0, t=49, eps), eps)|}
   * @param firstStepLoss the loss of the one training step by hand, on an untrained model
   * @param evalLosses the evaluation loss after each epoch of training
   * @param denoisingFrames the intermediate samples shown per image in {@code denoising.png}
   */
  public record Result(double reconstructionError, double firstStepLoss, List<Double> evalLosses,
      int denoisingFrames) {}

  /**
   * Runs the example: writes {@code forward.png} and {@code denoising.png} and prints what it measures.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @return what it measured
   * @throws Exception on failure
   */
  public static Result run(String[] args) throws Exception {
    Path out = Examples.outDir(args, "step-by-step");
    boolean tiny = Examples.tiny(args);
    double reconstructionError;
    try (Diffusion d = Diffusion.open(Examples.config("tutorial.yaml", out, tiny))) {
      TensorFactory t = d.backend().tensors();
      Schedule schedule = d.schedule();
      ForwardProcess q = new ForwardProcess(schedule);
      Shape image = Shape.of(3, 16, 16);
      try (TensorScope scope = t.openScope()) {
        // 1. the data: colour gradients between two random corners, normalised to [-1, 1]
        float[] x0 = Normalization.normalize(GradientImages.generate(1, image, Noise.seeded(1)));
        Tensor x = t.fromArray(x0, Shape.batchOf(1, image));

        // 2. the forward process at several steps: iteratively (eq. 2) and in closed form (eq. 4)
        int[] steps = {0, 9, 24, 49, 99};
        List<float[]> rows = new ArrayList<>();
        for (boolean closed : new boolean[] {false, true}) {
          for (int s : steps) {
            Tensor noised = closed
                ? q.noise(x, new int[] {s}, t.normal(x.shape(), Noise.seeded(s)))
                : q.noiseIteratively(x, new int[] {s}, Noise.seeded(100 + s), t);
            rows.add(Normalization.denormalize(noised.toFloatArray()));
          }
        }
        List<String> titles = new ArrayList<>();
        for (int s : steps) {
          titles.add((s + 1) + " steps");
        }
        writeGrid(out.resolve("forward.png"), rows, image, steps.length, titles, List.of("eq. 2", "eq. 4"));

        // 3. reconstruct inverts the closed form exactly
        Tensor eps = t.normal(x.shape(), Noise.seeded(7));
        Tensor back = q.reconstruct(q.noise(x, new int[] {49}, eps), new int[] {49}, eps);
        reconstructionError = maxDiff(x0, back.toFloatArray());
        System.out.printf("reconstruct(noise(x0, t=49, eps), eps) differs from x0 by at most %.2e%n",
            reconstructionError);
      }

      // 4. one training step by hand (Algorithm 1, lines 2-5), then the loop does the rest
      MlpSpec spec = (MlpSpec) d.modelSpec();
      try (TrainableModel model = d.createModel(); TensorScope scope = t.openScope()) {
        float[] batch = new float[8 * spec.pixels()];
        d.trainingData().gather(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, batch);
        int[] ts = {3, 17, 42, 99, 0, 65, 8, 31};
        Tensor noise = t.normal(Shape.batchOf(8, spec.imageShape()), Noise.seeded(5));
        Tensor xt = q.noise(t.fromArray(batch, noise.shape()), ts, noise);
        TrainingStepResult o = model.step(xt, ts, noise);
        System.out.printf("one Adam step on 8 images: loss %.4f (an untrained model predicts noise of variance ~1)%n",
            o.loss());

        Trainer trainer = d.trainer(model);
        var summary = trainer.train(d.trainingData(), d.evalData(), TrainingProgress.START, new TrainingListener() {});
        System.out.printf("trained %d steps: eval loss per epoch %s%n", summary.progress().step(), summary.evalLosses());

        // 5. Algorithm 2, with the intermediate steps shown as the tutorial's figure
        Sampler ddpm = new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.NONE, t);
        List<float[]> frames = new ArrayList<>();
        List<String> frameTitles = new ArrayList<>();
        ddpm.sample(model, t, SamplingRequest.of(3, spec.imageShape(), 11, Timesteps.full(schedule.size())),
            (i, plan, r) -> {
              if ((i + 1) % 20 == 0) {
                frames.add(Normalization.denormalize(r.prev().toFloatArray()));
                frameTitles.add("step " + (i + 1));
              }
            });
        List<float[]> byImage = new ArrayList<>();
        int k = spec.pixels();
        for (int img = 0; img < 3; img++) {
          for (float[] f : frames) {
            byImage.add(java.util.Arrays.copyOfRange(f, img * k, (img + 1) * k));
          }
        }
        writeGrid(out.resolve("denoising.png"), byImage, spec.imageShape(), frames.size(), frameTitles, List.of());
        System.out.println("wrote " + out.resolve("forward.png") + " and " + out.resolve("denoising.png"));
        return new Result(reconstructionError, o.loss(), summary.evalLosses(), frames.size());
      }
    }
  }

  private static void writeGrid(Path file, List<float[]> items, Shape image, int nrow, List<String> columns,
      List<String> rowTitles) {
    int k = image.size();
    float[] all = new float[items.size() * k];
    for (int i = 0; i < items.size(); i++) {
      System.arraycopy(items.get(i), 0, all, i * k, k);
    }
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(nrow).withColumnTitles(columns);
    ImageGrid.writePng(file, all, Shape.batchOf(items.size(), image), rowTitles.isEmpty() ? o : o.withRowTitles(rowTitles));
  }

  private static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
