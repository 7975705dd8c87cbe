package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Diffusion.inpaint} given the model {@code TrainedModel.model()} hands out, with a batch split over two
 * threads (ND4J, {@code threads: 2}), while another thread closes the model: the inpainting holds the Diffusion for
 * the whole call, so its slice threads must run the model unguarded, as {@code sampleImages} does; a slice thread
 * that took the hold again waited behind the pending close, which waited for the call: a deadlock.
 */
class GuardedInpaintCloseTest {
  @TempDir
  Path dir;

  @Test
  void aCloseDuringAnInpaintingOfTheHandedOutModelWaitsForItInsteadOfDeadlocking() throws Exception {
    Path yaml = dir.resolve("x.yaml");
    Files.writeString(yaml, String.join("\n",
        "backend: nd4j",
        "threads: 2",
        "seed: 5",
        "data:",
        "  image_shape: [1, 4, 4]",
        "  train_size: 64",
        "  eval_size: 16",
        "model:",
        "  hidden: 16",
        "schedule:",
        "  num_train_timesteps: 40",
        "training:",
        "  epochs: 1",
        "  batch_size: 32",
        "  image_log_every: 0",
        "sampling:",
        "  num_inference_steps: 8",
        ""));
    RunFolder run = new RunFolder(dir.resolve("run"));
    try (Diffusion d = Diffusion.open(yaml, List.of()); TrainingRun t = TrainingRun.start(d, run)) {
      t.run();
    }
    List<Path> checkpoints = CheckpointStore.listIn(run.checkpoints());
    TrainedModel m = TrainedModel.load(checkpoints.get(checkpoints.size() - 1), List.of());
    Diffusion d = m.diffusion();
    assertEquals(2, d.backend().tensors().threads(), "the batch is split over two slice threads");
    Shape image = d.imageShape();
    float[] picture = new float[image.size()];
    float[] mask = new float[image.dim(1) * image.dim(2)];
    Arrays.fill(mask, 0, mask.length / 2, 1f);
    Thread closer = new Thread(m::close, "closer");
    closer.setDaemon(true);
    SamplingListener startsTheClose = (i, plan, r) -> {
      if (i == 0 && !closer.isAlive()) {
        closer.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closer.getState() != Thread.State.WAITING && System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
    };
    int[] images = {0};
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "inpainting");
      th.setDaemon(true);
      return th;
    });
    try {
      Future<?> inpainting = pool.submit(() -> d.inpaint(m.model(), d.sampler(), d.request(2, 1), i -> picture,
          i -> mask, startsTheClose, (first, values, n) -> images[0] += n));
      inpainting.get(60, TimeUnit.SECONDS); // a TimeoutException: the deadlock
      assertEquals(2, images[0]);
      closer.join(TimeUnit.SECONDS.toMillis(30));
      assertTrue(!closer.isAlive(), "the close ends once the inpainting has returned");
    } finally {
      pool.shutdownNow();
    }
  }
}
