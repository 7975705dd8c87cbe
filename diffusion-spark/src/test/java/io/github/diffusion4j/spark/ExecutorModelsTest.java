package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.runtime.TrainedModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An executor JVM's models outlive their job only briefly. */
class ExecutorModelsTest {
  @AfterEach
  void restore() {
    ExecutorModels.idleMillis(ExecutorModels.IDLE_MILLIS);
  }

  /**
   * A long-lived executor (a notebook's application) held the last job's model, with its native memory, until the
   * JVM ended; a model no task uses is now closed after the idle time, and the next job loads it again.
   */
  @Test
  void aModelNoTaskUsesIsClosedAfterTheIdleTimeAndLoadedAgainWhenNeeded() throws Exception {
    Path checkpoint;
    try (TrainedModel m = TrainedModel.load(SparkTestSupport.gradientRun(), List.of())) {
      checkpoint = m.checkpoint().directory();
    }
    ModelSource source = ModelSource.prepare(null, checkpoint, List.of(), Shipping.PATH);
    ExecutorModels.idleMillis(200);
    int loads = ExecutorModels.loads();
    ExecutorModels.with(source, m -> m.diffusion().imageShape());
    assertEquals(1, ExecutorModels.held(), "the job's model is held between its tasks");
    ExecutorModels.with(source, m -> m.diffusion().imageShape());
    assertEquals(loads + 1, ExecutorModels.loads(), "the next task shares the loaded model");
    awaitHeld(0);
    ExecutorModels.with(source, m -> m.diffusion().imageShape());
    assertEquals(loads + 2, ExecutorModels.loads(), "a later job loads the model again");
    // a task that starts while the idle time runs keeps the model: the close belongs to the idle period it ended
    ExecutorModels.idleMillis(60_000);
    ExecutorModels.with(source, m -> m.diffusion().imageShape());
    assertEquals(1, ExecutorModels.held());
    ExecutorModels.idleMillis(200);
    ExecutorModels.with(source, m -> m.diffusion().imageShape());
    awaitHeld(0);
    assertEquals(loads + 2, ExecutorModels.loads());
  }

  /**
   * A task of another checkpoint (or other overrides) retires the models before it: one no task uses is closed at
   * once, one a task still samples with is closed when that task ends, so a long-lived executor holds the current
   * model only ({@link ExecutorModels#held()} counts the retired models still open too: a retired model never closed
   * was invisible before).
   */
  @Test
  void aRetiredModelIsClosedWhenItsLastTaskEnds() throws Exception {
    Path checkpoint;
    try (TrainedModel m = TrainedModel.load(SparkTestSupport.gradientRun(), List.of())) {
      checkpoint = m.checkpoint().directory();
    }
    ModelSource ddpm = ModelSource.prepare(null, checkpoint, List.of("sampling.sampler=ddpm"), Shipping.PATH);
    ModelSource ddim = ModelSource.prepare(null, checkpoint, List.of("sampling.sampler=ddim"), Shipping.PATH);
    ExecutorModels.with(ddpm, m -> m.diffusion().imageShape());
    assertEquals(1, ExecutorModels.held(), "the first job's model is held between its tasks");
    ExecutorModels.with(ddim, m -> m.diffusion().imageShape());
    assertEquals(1, ExecutorModels.held(), "an unused model is closed when another job's task arrives");
    int inside = ExecutorModels.with(ddpm, outer -> {
      // a task of the other job arrives while this one still samples: both are open until this one ends
      return ExecutorModels.with(ddim, inner -> ExecutorModels.held());
    });
    assertEquals(2, inside, "the retired model stays open while its task samples");
    assertEquals(1, ExecutorModels.held(), "the retired model is closed when its last task ends");
  }

  private static void awaitHeld(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (ExecutorModels.held() != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(expected, ExecutorModels.held(), "models held after the idle time");
  }
}
