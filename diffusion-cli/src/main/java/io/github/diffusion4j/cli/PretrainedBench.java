package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code diffusion bench --workload pretrained}: seconds per image of DDIM sampling (one image at a time) with a
 * pretrained model, on each backend in its own JVM and in PyTorch ({@code docs/diffusers_reference.py bench}, the
 * same folder, the same number of steps) in the same run; ratios over PyTorch.
 */
final class PretrainedBench {
  private PretrainedBench() {}

  /** In the child JVM: load on one backend, one warm-up image of two steps, then the median of the repetitions. */
  static int timeInProcess(BenchCommand c) {
    List<String> overrides = List.of("backend=" + c.backend, "threads=" + c.threads, "sampling.sampler=ddim",
        "sampling.num_inference_steps=" + c.ddimSteps, "sampling.timesteps=[]");
    try (TrainedModel m = TrainedModel.load(c.checkpoint, overrides)) {
      Diffusion d = m.diffusion();
      Sampler s = d.sampler();
      SamplingRequest request = d.request(1, 1);
      m.sample(s, request.withPlan(io.github.diffusion4j.schedule.Timesteps.of(d.schedule().size(),
          request.plan().get(0), request.plan().get(request.plan().size() - 1))), SamplingListener.NONE);
      double[] times = new double[c.reps];
      for (int r = 0; r < c.reps; r++) {
        long start = System.nanoTime();
        m.sample(s, request, SamplingListener.NONE);
        times[r] = (System.nanoTime() - start) / 1e9;
      }
      System.out.printf(Locale.ROOT, "{\"seconds_per_image\": %.4f, \"parameters\": %d}%n", BenchWorkload.median(times),
          m.model().spec().network().parameterCount());
    }
    return 0;
  }

  /** In the parent: every backend, then PyTorch on the same folder; a table with ratios. */
  static int compare(BenchCommand c) throws Exception {
    Map<String, Map<String, Double>> rows = c.timeBackends("DDIM-" + c.ddimSteps + " with " + c.checkpoint + " on");
    Path script = c.noReference ? null : BenchCommand.findUp("docs/diffusers_reference.py");
    if (script != null && DiffusersFolder.isDiffusersFolder(c.checkpoint)) {
      for (Path blas : java.util.Arrays.asList(null, c.blasLibrary())) {
        if (blas == null && rows.containsKey("pytorch")) {
          continue;
        }
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script.toString(), "bench",
            c.checkpoint.toAbsolutePath().toString(), String.valueOf(c.ddimSteps), String.valueOf(c.threads));
        pb.environment().put("OMP_NUM_THREADS", String.valueOf(c.threads));
        if (blas != null) {
          pb.environment().put("LD_PRELOAD", blas.toString());
          pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(c.threads));
        }
        System.err.println("timing the PyTorch reference" + (blas == null ? "" : " with LD_PRELOAD=" + blas));
        String json = BenchCommand.run(pb);
        if (json == null) {
          System.err.println("the PyTorch reference failed (python3-torch installed?)");
        } else {
          rows.put(blas == null ? "pytorch" : "pytorch+blas", BenchCommand.parse(json));
        }
      }
    } else if (script != null) {
      System.err.println(c.checkpoint + " is not a diffusers folder; for the PyTorch reference, export it first: "
          + "diffusion export --checkpoint " + c.checkpoint + " --out DIR");
    }
    System.out.printf(Locale.ROOT, "workload: %s, DDIM-%d, one image at a time; %d threads%n", c.checkpoint, c.ddimSteps,
        c.threads);
    Map<String, Double> ref = rows.getOrDefault("pytorch+blas", rows.get("pytorch"));
    System.out.printf(Locale.ROOT, "%-13s %16s %18s%n", "", "seconds/image", "over pytorch");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      double s = e.getValue().get("seconds_per_image");
      String ratio = ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", s / ref.get("seconds_per_image"));
      System.out.printf(Locale.ROOT, "%-13s %16.2f %18s%n", e.getKey(), s, ratio);
    }
    return 0;
  }
}
