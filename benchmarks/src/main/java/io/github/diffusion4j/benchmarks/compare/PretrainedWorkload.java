package io.github.diffusion4j.benchmarks.compare;

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
final class PretrainedWorkload {
  private PretrainedWorkload() {}

  /** In the child JVM: load on one backend, one warm-up image of two steps, then the median of the repetitions. */
  static int timeInProcess(Compare c) {
    List<String> overrides = List.of("backend=" + c.backend, "threads=" + c.threads, "sampling.sampler=ddim",
        "sampling.num_inference_steps=" + c.ddimSteps, "sampling.timesteps=[]");
    try (TrainedModel m = TrainedModel.load(c.checkpoint, overrides)) {
      Diffusion d = m.diffusion();
      System.err.println("engine " + c.backend + ": " + d.backend().describe());
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
      System.out.printf(Locale.ROOT, "{\"seconds_per_image\": %.4f, \"parameters\": %d}%n", Workloads.median(times),
          m.model().spec().network().parameterCount());
    }
    return 0;
  }

  /** In the parent: every backend, then PyTorch on the same folder; a table with ratios. */
  static int compare(Compare c) throws Exception {
    Map<String, Map<String, Double>> rows = c.timeBackends("DDIM-" + c.ddimSteps + " with " + c.checkpoint + " on");
    Path script = c.reference("docs/diffusers_reference.py");
    if (script != null && DiffusersFolder.isDiffusersFolder(c.checkpoint)) {
      System.err.println("timing the PyTorch reference: " + script);
      Map<String, Double> torch = c.runPython(List.of(script.toString(), "bench",
          c.checkpoint.toAbsolutePath().toString(), String.valueOf(c.ddimSteps), String.valueOf(c.threads)));
      if (torch != null) {
        rows.put("pytorch", torch);
      }
    } else if (script != null) {
      System.err.println(c.checkpoint + " is not a diffusers folder; for the PyTorch reference, export it first: "
          + "diffusion export --checkpoint " + c.checkpoint + " --out DIR");
    }
    print(c, rows);
    return 0;
  }

  /** The table of {@link #compare}: seconds per image, and each row's over PyTorch's. */
  static void print(Compare c, Map<String, Map<String, Double>> rows) {
    System.out.printf(Locale.ROOT, "workload: %s, DDIM-%d, one image at a time; %s%n", c.checkpoint, c.ddimSteps,
        Compare.threadCount(c.threads));
    Map<String, Double> ref = rows.get("pytorch");
    System.out.printf(Locale.ROOT, "%-13s %16s %18s%n", "", "seconds/image", "over pytorch");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      double s = e.getValue().get("seconds_per_image");
      String ratio = ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", s / ref.get("seconds_per_image"));
      System.out.printf(Locale.ROOT, "%-13s %16.4f %18s%n", e.getKey(), s, ratio);
    }
  }
}
