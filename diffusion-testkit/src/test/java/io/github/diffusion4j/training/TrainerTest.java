package io.github.diffusion4j.training;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The training loop on the reference backend. */
class TrainerTest {
  private static final Shape IMAGE = Shape.of(3, 5, 5);
  private final ReferenceBackend ref = new ReferenceBackend();
  private final Schedule schedule = Schedule.of(ScheduleSpec.linear(100));
  private final MlpSpec spec = new MlpSpec(IMAGE, 100, 32);
  private final Dataset train = GradientImages.dataset(300, IMAGE, Noise.seeded(1));
  private final Dataset eval = GradientImages.dataset(64, IMAGE, Noise.seeded(2));

  private TrainerOptions options(int epochs, int batch) {
    return new TrainerOptions(epochs, batch, 7, 5, 10, 3, Optional.of(EmaSchedule.of(0.99)));
  }

  @Test
  void lossGoesDownAndListenersHearEverything() {
    List<LogRecord> logs = new ArrayList<>();
    List<ImageLog> images = new ArrayList<>();
    List<EpochSummary> epochs = new ArrayList<>();
    int[] steps = {0};
    try (TrainableModel m = ref.createModel(spec, OptimizerSpec.adam(1e-2), 3)) {
      Trainer trainer = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(6, 32));
      TrainingSummary s = trainer.train(train, eval, TrainingProgress.START, new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          steps[0]++;
        }

        @Override
        public void onLog(LogRecord r) {
          logs.add(r);
        }

        @Override
        public void onImages(ImageLog log) {
          images.add(log);
        }

        @Override
        public void onEpochEnd(EpochSummary e) {
          epochs.add(e);
        }
      });
      assertTrue(s.completed());
      // 300 images in batches of 32: 9 full batches and one of 12 per epoch
      assertEquals(60, steps[0]);
      assertEquals(List.of(6, 0, 60L), List.of(s.progress().epoch(), s.progress().batchInEpoch(), s.progress().step()));
      assertEquals(12, logs.size());
      assertEquals(6, images.size());
      assertEquals(Shape.of(3, 3, 5, 5), images.get(0).batchShape());
      for (float v : images.get(0).reconstruction()) {
        assertTrue(v >= 0 && v <= 1);
      }
      assertEquals(6, epochs.size());
      double first = epochs.get(0).evalLoss().orElseThrow();
      double last = epochs.get(5).evalLoss().orElseThrow();
      // an untrained model's loss is about 1 (the variance of the noise); 60 Adam steps at lr 1e-2 cut it
      // by a third in this seeded run, so 0.8 leaves margin while still failing if nothing is learnt
      assertTrue(last < 0.8 * first, "eval loss " + first + " -> " + last);
      assertEquals(trainer.evaluate(eval), last, 1e-12, "evaluation uses the same draws every epoch");
      LogRecord r = logs.get(0);
      assertEquals(5, r.step());
      assertEquals(160, r.examplesSeen());
      // x_t mixes data of variance ~1/3 (uniform corners in [-1, 1]) with unit noise: between the two
      assertTrue(r.noisedVariance() > 0.25 && r.noisedVariance() < 1.1, "x_t variance " + r.noisedVariance());
    }
  }

  /** The lambda listeners hear what their method of a whole listener hears, and NONE hears nothing and trains. */
  @Test
  void lambdaListenersHearTheirOwnCalls() {
    List<LogRecord> logs = new ArrayList<>();
    List<EpochSummary> epochs = new ArrayList<>();
    for (TrainingListener l : List.of(TrainingListener.ofLogs(logs::add), TrainingListener.ofEpochs(epochs::add),
        TrainingListener.NONE)) {
      try (TrainableModel m = ref.createModel(spec, OptimizerSpec.adam(1e-2), 3)) {
        assertTrue(new Trainer(m, ref, schedule, PredictionType.EPSILON, options(2, 32)).train(train, eval,
            TrainingProgress.START, l).completed());
      }
    }
    // 300 images in batches of 32: 10 steps an epoch, logged every 5 (lossGoesDownAndListenersHearEverything)
    assertEquals(List.of(5L, 10L, 15L, 20L), logs.stream().map(LogRecord::step).toList());
    assertEquals(2, epochs.size());
    assertTrue(epochs.get(1).evalLoss().isPresent());
    assertThrows(NullPointerException.class, () -> TrainingListener.ofLogs(null));
  }

  /**
   * A stop asked for before {@code train} (a signal while a run loads its data) stops that call before its first step;
   * the call then forgets it, so the next call trains.
   */
  @Test
  void aStopRequestedBeforeTrainStopsThatCallAndIsThenForgotten() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel m = ref.createModel(spec, opt, 5)) {
      Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(1, 32));
      t.requestStop();
      int[] steps = {0};
      TrainingListener counting = new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          steps[0]++;
        }
      };
      TrainingSummary stopped = t.train(train, null, TrainingProgress.START, counting);
      assertFalse(stopped.completed());
      assertEquals(0, stopped.progress().step());
      assertEquals(0, steps[0]);
      TrainingSummary whole = t.train(train, null, TrainingProgress.START, counting);
      assertTrue(whole.completed(), "the stop was for the call it came before");
      assertEquals(10, steps[0], "300 images in batches of 32: 10 steps");
    }
  }

  /**
   * A listener that throws after a step ends the run there: {@code onEnd} hears of a stop at the position after that
   * step (so a run folder writes its final checkpoint), then the listener's own exception is thrown. A checked one
   * (Kotlin code declares none; Java code may throw one sneakily) likewise: it went past the run's handling, and a
   * run folder kept no checkpoint of the steps taken.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aListenerFailureEndsTheRunAtItsPositionThenIsThrown(boolean checked) {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel m = ref.createModel(spec, opt, 5)) {
      Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(2, 32));
      TrainingSummary[] ended = new TrainingSummary[1];
      Exception boom = checked ? new java.io.IOException("disk full") : new IllegalStateException("boom");
      Exception e = assertThrows(boom.getClass(), () -> t.train(train, null,
          TrainingProgress.START, new TrainingListener() {
            @Override
            public void onStep(long step, int epoch, double loss) {
              if (step == 13) {
                throw TrainerTest.<RuntimeException>sneaky(boom);
              }
            }

            @Override
            public void onEnd(TrainingSummary s) {
              ended[0] = s;
            }
          }));
      assertSame(boom, e);
      assertFalse(ended[0].completed());
      TrainingProgress p = ended[0].progress();
      assertEquals(List.of(1, 3, 13L), List.of(p.epoch(), p.batchInEpoch(), p.step()), "after step 13: epoch 2, batch 4");
      assertEquals(13, m.stepCount(), "the model took step 13");
    }
  }

  /** Throws a checked exception where the compiler would not let Java code throw it, as Kotlin code can. */
  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }

  /**
   * A listener that fails at a step whose log was written (log every 5, images every 10; the image log fails): the end
   * position holds the interval as the log left it (reset), so a resume logs the next interval over its own steps.
   */
  @Test
  void aListenerFailureAfterTheStepsLogEndsWithTheIntervalReset() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel m = ref.createModel(spec, opt, 5)) {
      Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(2, 32));
      TrainingSummary[] ended = new TrainingSummary[1];
      assertThrows(IllegalStateException.class, () -> t.train(train, null, TrainingProgress.START,
          new TrainingListener() {
            @Override
            public void onImages(ImageLog log) {
              throw new IllegalStateException("the image log failed");
            }

            @Override
            public void onEnd(TrainingSummary s) {
              ended[0] = s;
            }
          }));
      TrainingProgress p = ended[0].progress();
      assertEquals(10, p.step());
      assertEquals(0, p.losses().intervalSteps(), "step 10's log reset the interval before the image log failed");
      assertEquals(List.of(0, 10), List.of(p.epoch(), p.batchInEpoch()), "after epoch 1's last batch (of 10)");
      assertEquals(10, p.losses().epochSteps(), "the epoch's ten steps, for its end that a resume runs first");
    }
  }

  @Test
  void resumingGivesTheUninterruptedRun() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    TrainerOptions o = options(2, 32);
    List<String> whole = new ArrayList<>();
    List<String> resumed = new ArrayList<>();
    try (TrainableModel a = ref.createModel(spec, opt, 5); TrainableModel b = ref.createModel(spec, opt, 5)) {
      new Trainer(a, ref, schedule, PredictionType.V_PREDICTION, o).train(train, null, TrainingProgress.START,
          lossesInto(whole));
      Trainer first = new Trainer(b, ref, schedule, PredictionType.V_PREDICTION, o);
      TrainingSummary partial = first.train(train, null, TrainingProgress.START, new TrainingListener() {
        @Override
        public void onStep(long step, int epoch, double loss) {
          if (step == 13) {
            first.requestStop();
          }
        }
      });
      assertFalse(partial.completed());
      TrainingProgress p = partial.progress();
      assertEquals(List.of(1, 3, 13L), List.of(p.epoch(), p.batchInEpoch(), p.step()));
      assertEquals(3, p.losses().epochSteps(), "epoch 2's three steps so far");
      assertEquals(3, p.losses().intervalSteps(), "steps 11 to 13 of the interval logged at 15");
      try (TrainableModel c = ref.createModel(spec, opt, 99)) {
        c.loadStateDict(b.stateDict());
        c.loadOptimizerState(b.optimizerState());
        c.loadEmaStateDict(b.emaStateDict());
        new Trainer(c, ref, schedule, PredictionType.V_PREDICTION, o).train(train, null, partial.progress(),
            lossesInto(resumed));
        assertEquals(a.stateDict(), c.stateDict(), "bit-identical weights");
        assertEquals(a.emaStateDict(), c.emaStateDict(), "bit-identical moving average");
        assertEquals(whole.subList(whole.size() - resumed.size(), whole.size()), resumed,
            "the resumed epoch's train_loss and the first interval's mean_loss as the uninterrupted run logged them");
        assertEquals(List.of("log 15 mean ", "log 20 mean ", "epoch 1 train "),
            resumed.stream().map(l -> l.replaceAll("[-0-9.E]+$", "")).toList());
      }
    }
  }

  @Test
  void aResumedRunCountsTheImagesSeenBeforeIt() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    TrainerOptions o = options(3, 32);
    List<LogRecord> whole = new ArrayList<>();
    List<LogRecord> resumed = new ArrayList<>();
    try (TrainableModel a = ref.createModel(spec, opt, 5); TrainableModel c = ref.createModel(spec, opt, 5)) {
      new Trainer(a, ref, schedule, PredictionType.EPSILON, o).train(train, null, TrainingProgress.START,
          new TrainingListener() {
            @Override
            public void onLog(LogRecord r) {
              whole.add(r);
            }
          });
      // 300 images in batches of 32 (9 full and one of 12): step 13 is batch 3 of epoch 1
      new Trainer(c, ref, schedule, PredictionType.EPSILON, o).train(train, null, new TrainingProgress(1, 3, 13),
          new TrainingListener() {
            @Override
            public void onLog(LogRecord r) {
              resumed.add(r);
            }
          });
    }
    assertEquals(15, resumed.get(0).step());
    assertEquals(300 + 5 * 32, resumed.get(0).examplesSeen(), "epoch 0 whole and five batches of epoch 1");
    List<LogRecord> same = whole.subList(whole.size() - resumed.size(), whole.size());
    for (int i = 0; i < resumed.size(); i++) {
      assertEquals(same.get(i).step(), resumed.get(i).step());
      assertEquals(same.get(i).examplesSeen(), resumed.get(i).examplesSeen(), "at step " + resumed.get(i).step());
    }
  }

  @Test
  void divergenceStopsWithAMessageNamingTheStep() {
    try (TrainableModel m = ref.createModel(spec, OptimizerSpec.adam(1e38), 1)) {
      Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(3, 32));
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
          () -> t.train(train, null, TrainingProgress.START, new TrainingListener() {}));
      assertTrue(e.getMessage().contains("at step " + e.step()), e.getMessage());
      // both remedies docs/reliability.md's row names
      assertTrue(e.getMessage().endsWith("): training diverged, most likely because the learning rate is too high; "
          + "lower training.learning_rate (the tutorial uses 0.001) or set training.max_grad_norm"), e.getMessage());
    }
  }

  @Test
  void aNanOrInfiniteLossAtAnyStepStopsTheRunAtThatStep() {
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      int[] steps = {0};
      List<Long> heard = new ArrayList<>();
      try (Delegating m = new Delegating(ref.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
        @Override
        public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
            int[] timesteps, io.github.diffusion4j.tensor.Tensor target) {
          io.github.diffusion4j.model.TrainingStepResult r = super.step(noisy, timesteps, target);
          // the 12th step (epoch 2's second batch: 10 batches an epoch) reports the bad loss
          return ++steps[0] == 12 ? new io.github.diffusion4j.model.TrainingStepResult(bad, r.prediction()) : r;
        }
      }) {
        Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(3, 32));
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
            () -> t.train(train, null, TrainingProgress.START, new TrainingListener() {
              @Override
              public void onStep(long step, int epoch, double loss) {
                heard.add(step);
              }
            }), "a loss of " + bad);
        assertEquals(12, e.step(), "a loss of " + bad);
        assertTrue(e.getMessage().contains("at step 12 (epoch 2, batch 2)"), e.getMessage());
        assertEquals(12, steps[0], "no step after the bad one");
        assertEquals(11, heard.size(), "the bad step is not reported as taken");
      }
    }
  }

  @Test
  void evaluationIsTheMeanOverEveryImageOfTheSetTheLastPartialBatchIncluded() {
    // 40 images in batches of 32: a full batch and one of 8. A model that predicts 0 for x0 (SAMPLE) has the loss
    // |x0|^2 whatever the timesteps and noise: the mean of x0^2 over all 40 images, computed here from the set
    Dataset forty = GradientImages.dataset(40, IMAGE, Noise.seeded(3));
    double sum = 0;
    float[] image = new float[IMAGE.size()];
    for (int i = 0; i < 40; i++) {
      forty.copyImage(i, image, 0);
      for (float v : image) {
        sum += (double) v * v;
      }
    }
    double expected = sum / (40.0 * IMAGE.size());
    try (Delegating zero = new Delegating(ref.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
      @Override
      public io.github.diffusion4j.tensor.Tensor predict(io.github.diffusion4j.tensor.Tensor noisy, int[] timesteps) {
        return ref.fromArray(new float[noisy.shape().size()], noisy.shape());
      }
    }) {
      double loss = new Trainer(zero, ref, schedule, PredictionType.SAMPLE, options(1, 32)).evaluate(forty);
      // float32 squares summed by the backend against double here: a relative 1e-6 is far above that rounding and
      // far below what a dropped, repeated or miscounted batch changes (the batch of 8 is a fifth of the set)
      assertEquals(expected, loss, 1e-6 * expected);
    }
  }

  @Test
  void badInputIsRejected() {
    try (TrainableModel m = ref.createModel(spec, OptimizerSpec.adam(1e-3), 1)) {
      Trainer t = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(1, 301));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> t.train(train, null, TrainingProgress.START, new TrainingListener() {}));
      assertTrue(e.getMessage().contains("larger than the training set"), e.getMessage());
      Dataset wrong = GradientImages.dataset(10, Shape.of(1, 5, 5), Noise.seeded(1));
      Trainer ok = new Trainer(m, ref, schedule, PredictionType.EPSILON, options(1, 5));
      assertThrows(IllegalArgumentException.class,
          () -> ok.train(wrong, null, TrainingProgress.START, new TrainingListener() {}));
      assertThrows(IllegalArgumentException.class,
          () -> new Trainer(m, ref, Schedule.of(ScheduleSpec.linear(50)), PredictionType.EPSILON, options(1, 5)));
    }
  }

  @Test
  void emaDecayFollowsDiffusers() {
    EmaSchedule e = EmaSchedule.of(0.999);
    assertEquals(0.0, e.decayAt(1), 0.0);
    assertEquals(2.0 / 11.0, e.decayAt(2), 1e-15);
    assertEquals(0.999, e.decayAt(1_000_000), 0.0);
    EmaSchedule warm = new EmaSchedule(0.9999, 10, true, 1.0, 0.75, 0.1);
    assertEquals(0.0, warm.decayAt(11), 0.0);
    assertEquals(Math.max(1 - Math.pow(1 + 5, -0.75), 0.1), warm.decayAt(16), 1e-15);
    // inv_gamma divides the step: s = 8, 1 - (1 + 8 / 2)^(-1/2) = 1 - 1/sqrt(5); a few ulps of pow's rounding
    assertEquals(1 - 1 / Math.sqrt(5), new EmaSchedule(0.9999, 0, true, 2.0, 0.5, 0.0).decayAt(9), 1e-15);
    // min_decay is a floor: after 2 steps the decay is 2 / 11 without warm-up, raised to a min_decay of 0.5
    assertEquals(0.5, new EmaSchedule(0.9999, 0, false, 1.0, 2.0 / 3.0, 0.5).decayAt(2), 0.0);
    assertEquals(0.0, new EmaSchedule(0.9999, 0, false, 1.0, 2.0 / 3.0, 0.5).decayAt(1), 0.0,
        "no floor before averaging starts");
  }

  @Test
  void theMovingAverageIsUpdatedAfterEachStepWithThatStepsDecay() {
    // 300 images in batches of 32: 10 steps an epoch, 20 in 2 epochs, each followed by one update of the average
    List<Double> decays = new ArrayList<>();
    List<Long> stepsAtUpdate = new ArrayList<>();
    int[] steps = {0};
    try (Delegating m = new Delegating(ref.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
      @Override
      public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
          int[] timesteps, io.github.diffusion4j.tensor.Tensor target) {
        steps[0]++;
        return super.step(noisy, timesteps, target);
      }

      @Override
      public void updateEma(double decay) {
        decays.add(decay);
        stepsAtUpdate.add((long) steps[0]);
        super.updateEma(decay);
      }
    }) {
      new Trainer(m, ref, schedule, PredictionType.EPSILON, options(2, 32)).train(train, null, TrainingProgress.START,
          new TrainingListener() {});
    }
    assertEquals(20, decays.size(), "one update per optimiser step");
    for (int k = 1; k <= 20; k++) {
      assertEquals(k, stepsAtUpdate.get(k - 1), "update " + k + " comes after step " + k + ", not before it");
      // diffusers' get_decay without warm-up after k steps, written out: 0 for the first, then (1 + s) / (10 + s)
      // with s = k - 1, i.e. k / (9 + k), below options' 0.99 here; small integers are exact doubles, so exactly
      double expected = k == 1 ? 0.0 : k / (9.0 + k);
      assertEquals(expected, decays.get(k - 1), 0.0, "the decay of the update after step " + k);
    }
  }

  @Test
  void emaAndOptionBoundsAreInclusive() {
    // the documented closed ranges: decay in [0, 1], update_after_step >= 0, min_decay in [0, decay]
    assertDoesNotThrow(() -> new EmaSchedule(0.0, 0, false, 1.0, 1.0, 0.0));
    assertDoesNotThrow(() -> new EmaSchedule(1.0, 0, false, 1.0, 1.0, 1.0));
    assertThrows(IllegalArgumentException.class, () -> new EmaSchedule(1.0, -1, false, 1.0, 1.0, 0.0));
    assertThrows(IllegalArgumentException.class, () -> new EmaSchedule(0.5, 0, false, 1.0, 1.0, 0.6));
    assertThrows(IllegalArgumentException.class, () -> new EmaSchedule(0.5, 0, false, 1.0, 1.0, -0.1));
    // epochs, batch size and log interval at least 1; image interval and count at least 0
    assertDoesNotThrow(() -> new TrainerOptions(1, 1, 0, 1, 0, 0, Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> new TrainerOptions(0, 1, 0, 1, 0, 0, Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> new TrainerOptions(1, 0, 0, 1, 0, 0, Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> new TrainerOptions(1, 1, 0, 0, 0, 0, Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> new TrainerOptions(1, 1, 0, 1, -1, 0, Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> new TrainerOptions(1, 1, 0, 1, 0, -1, Optional.empty()));
    assertDoesNotThrow(() -> new TrainingProgress(0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new TrainingProgress(0, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new TrainingProgress(-1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new TrainingProgress(0, -1, 0));
  }

  @Test
  void shufflingIsAPermutationKeyedByEpoch() {
    int[] p0 = Trainer.permutation(50, 1, 0);
    int[] p1 = Trainer.permutation(50, 1, 1);
    assertFalse(java.util.Arrays.equals(p0, p1));
    int[] sorted = p0.clone();
    java.util.Arrays.sort(sorted);
    for (int i = 0; i < 50; i++) {
      assertEquals(i, sorted[i]);
    }
    assertTrue(java.util.Arrays.equals(p0, Trainer.permutation(50, 1, 0)));
  }

  @Test
  void eachEpochReadsEveryImageOnceFromItsOwnViewInTheDocumentedOrder() {
    // 300 images in batches of 32: 9 full batches and one of 12 an epoch
    EpochReads whole = new EpochReads(train);
    EpochReads resumed = new EpochReads(train);
    try (TrainableModel a = ref.createModel(spec, OptimizerSpec.adam(1e-3), 5);
        TrainableModel b = ref.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
      new Trainer(a, ref, schedule, PredictionType.EPSILON, options(2, 32)).train(whole, null, TrainingProgress.START,
          new TrainingListener() {});
      // resumed before batch 3 of epoch 1 (step 13)
      new Trainer(b, ref, schedule, PredictionType.EPSILON, options(2, 32)).train(resumed, null,
          new TrainingProgress(1, 3, 13), new TrainingListener() {});
    }
    assertEquals(java.util.Set.of(0, 1), whole.reads.keySet(), "the views of epochs 0 and 1, never the set itself");
    for (int e = 0; e < 2; e++) {
      // the class comment's key, written out: epoch e is shuffled by Noise.seeded(seed).split(1).split(e)
      int[] order = new int[300];
      for (int i = 0; i < 300; i++) {
        order[i] = i;
      }
      Noise.seeded(7).split(1).split(e).generator().shuffle(order);
      assertEquals(java.util.Arrays.stream(order).boxed().toList(), whole.reads.get(e),
          "epoch " + e + ": every image once, the last batch's 12 too, in the epoch's order");
    }
    assertFalse(whole.reads.get(0).equals(whole.reads.get(1)), "each epoch is shuffled anew");
    assertEquals(java.util.Set.of(1), resumed.reads.keySet(), "a resumed run reads on in the epoch it stopped in");
    assertEquals(whole.reads.get(1).subList(3 * 32, 300), resumed.reads.get(1),
        "the resumed epoch's remaining batches, in the uninterrupted run's order");
  }

  @Test
  void eachStepTakesTheScheduledRate() {
    // 300 images in batches of 32: 10 steps an epoch, N = 20 steps in 2 epochs; W = 4
    OptimizerSpec opt = OptimizerSpec.adam(2e-3);
    for (LearningRateSchedule.Kind kind : List.of(LearningRateSchedule.Kind.LINEAR, LearningRateSchedule.Kind.COSINE)) {
      TrainerOptions o = options(2, 32).withLearningRateSchedule(new LearningRateSchedule(kind, 4));
      List<LogRecord> logs = new ArrayList<>();
      try (Recording m = new Recording(ref.createModel(spec, opt, 5))) {
        new Trainer(m, ref, schedule, PredictionType.EPSILON, o).train(train, null, TrainingProgress.START,
            new TrainingListener() {
              @Override
              public void onLog(LogRecord r) {
                logs.add(r);
              }
            });
        assertEquals(20, m.rates.size());
        for (int k = 0; k < 20; k++) {
          // the formulas of diffusers' lr_lambda written out here for N = 20, W = 4 (as LearningRateScheduleTest's
          // table); the products are the same double operations, so 1e-18 (far below lr's ulp, 4e-19) is exact but
          // for cos's last bit
          double f = k < 4 ? k / 4.0
              : kind == LearningRateSchedule.Kind.LINEAR ? (20.0 - k) / 16.0
              : 0.5 * (1 + Math.cos(Math.PI * (k - 4) / 16.0));
          assertEquals(2e-3 * f, m.rates.get(k), 1e-18, kind + " step k = " + k);
        }
        assertEquals(0.0, m.rates.get(0), "the first step's rate is 0, as with diffusers' LambdaLR");
        assertEquals(2e-3, m.rates.get(4), "the warm-up ends at learning_rate exactly");
        assertEquals(List.of(5L, 10L, 15L, 20L), logs.stream().map(LogRecord::step).toList());
        for (LogRecord r : logs) {
          assertEquals(m.rates.get((int) r.step() - 1), r.learningRate(), "a log carries its step's rate");
        }
      }
    }
  }

  @Test
  void theDefaultScheduleIsTheOptimisersOwnRate() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    List<LogRecord> logs = new ArrayList<>();
    try (Recording m = new Recording(ref.createModel(spec, opt, 5));
        TrainableModel plain = ref.createModel(spec, opt, 5)) {
      assertEquals(LearningRateSchedule.CONSTANT, options(1, 32).learningRateSchedule());
      new Trainer(m, ref, schedule, PredictionType.EPSILON, options(1, 32)).train(train, null, TrainingProgress.START,
          new TrainingListener() {
            @Override
            public void onLog(LogRecord r) {
              logs.add(r);
            }
          });
      assertEquals(10, m.ownRateSteps, "every step the three-argument step, as before schedules existed");
      assertTrue(m.rates.isEmpty());
      assertEquals(1e-3, logs.get(0).learningRate());
      // the four-argument step with the optimiser's rate is the three-argument one, bit for bit
      TrainerOptions explicit = options(1, 32).withLearningRateSchedule(
          new LearningRateSchedule(LearningRateSchedule.Kind.LINEAR, 0));
      try (TrainableModel a = ref.createModel(spec, opt, 5)) {
        new Trainer(plain, ref, schedule, PredictionType.EPSILON, options(1, 32)).train(train, null,
            TrainingProgress.START, new TrainingListener() {});
        Recording fixed = new Recording(a) {
          @Override
          public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
              int[] timesteps, io.github.diffusion4j.tensor.Tensor target, double learningRate) {
            return super.step(noisy, timesteps, target, 1e-3);
          }
        };
        new Trainer(fixed, ref, schedule, PredictionType.EPSILON, explicit).train(train, null, TrainingProgress.START,
            new TrainingListener() {});
        assertEquals(plain.stateDict(), a.stateDict(), "bit-identical weights");
      }
    }
  }

  @Test
  void aModelWithoutASchedulableRateIsRefused() {
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    try (TrainableModel inner = ref.createModel(spec, opt, 5)) {
      Recording silent = new Recording(inner) {
        @Override
        public Optional<OptimizerSpec> optimizer() {
          return Optional.empty();
        }
      };
      TrainerOptions o = options(1, 32).withLearningRateSchedule(
          new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 3));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Trainer(silent, ref, schedule, PredictionType.EPSILON, o));
      assertTrue(e.getMessage().contains("does not report its optimiser"), e.getMessage());
      // the interface's default four-argument step takes only the optimiser's own rate: refused before the run
      // (where it would fail at its first step, a warm-up's rate 0), and by the step itself
      Delegating defaults = new Delegating(inner);
      e = assertThrows(IllegalArgumentException.class,
          () -> new Trainer(defaults, ref, schedule, PredictionType.EPSILON, o));
      assertTrue(e.getMessage().contains("does not take a rate per step"), e.getMessage());
      new Trainer(defaults, ref, schedule, PredictionType.EPSILON, options(1, 32)); // the constant rate: accepted
      io.github.diffusion4j.tensor.Tensor x = ref.zeros(Shape.batchOf(1, IMAGE));
      UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
          () -> defaults.step(x, new int[] {3}, x, 5e-4));
      assertTrue(u.getMessage().contains("training.lr_schedule"), u.getMessage());
      defaults.step(x, new int[] {3}, x, 1e-3);
      assertEquals(1, inner.stepCount());
    }
  }

  @Test
  void resumingFollowsTheSchedule() {
    // cosine with a warm-up of 5 over N = 20 steps, stopped after step 3 (in the warm-up) and resumed, then after 13
    OptimizerSpec opt = OptimizerSpec.adam(1e-3);
    TrainerOptions o = options(2, 32).withLearningRateSchedule(
        new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 5));
    List<String> whole = new ArrayList<>();
    List<String> resumed = new ArrayList<>();
    try (Recording a = new Recording(ref.createModel(spec, opt, 5));
        Recording b = new Recording(ref.createModel(spec, opt, 5))) {
      new Trainer(a, ref, schedule, PredictionType.V_PREDICTION, o).train(train, null, TrainingProgress.START,
          lossesInto(whole));
      TrainingProgress at = TrainingProgress.START;
      TrainableModel current = b;
      for (long stop : new long[] {3, 13, -1}) {
        Trainer t = new Trainer(current, ref, schedule, PredictionType.V_PREDICTION, o);
        resumed.clear();
        TrainingListener losses = lossesInto(resumed);
        TrainingSummary s = t.train(train, null, at, new TrainingListener() {
          @Override
          public void onStep(long step, int epoch, double loss) {
            if (step == stop) {
              t.requestStop();
            }
          }

          @Override
          public void onLog(LogRecord r) {
            losses.onLog(r);
          }

          @Override
          public void onEpochEnd(EpochSummary e) {
            losses.onEpochEnd(e);
          }
        });
        at = s.progress();
        if (stop < 0) {
          assertTrue(s.completed());
          break;
        }
        assertEquals(stop, at.step());
        // a fresh model from the stopped one's state, as a checkpoint restores it
        Recording next = new Recording(ref.createModel(spec, opt, 99));
        next.loadStateDict(current.stateDict());
        next.loadOptimizerState(current.optimizerState());
        next.loadEmaStateDict(current.emaStateDict());
        next.rates.addAll(((Recording) current).rates);
        if (current != b) {
          current.close();
        }
        current = next;
      }
      assertEquals(a.rates, ((Recording) current).rates, "the resumed runs took the uninterrupted run's rates");
      assertEquals(a.stateDict(), current.stateDict(), "bit-identical weights");
      assertEquals(a.emaStateDict(), current.emaStateDict(), "bit-identical moving average");
      assertEquals(whole.subList(whole.size() - resumed.size(), whole.size()), resumed);
      if (current != b) {
        current.close();
      }
    }
  }

  /**
   * Algorithm 1 of Ho et al. draws {@code t ~ Uniform({1, ..., T})}, here {@code [0, T)}: over six epochs (1,800
   * draws, 18 per timestep on average) every timestep, the last and the first included, is drawn, and the counts pass
   * a chi-square test of uniformity. With 99 degrees of freedom the statistic has mean 99 and standard deviation 14;
   * the bound, 99 + 5 * 14, is a five-sigma margin. A draw from {@code [0, T - 1)} misses the noisiest timestep, whose
   * chance of going undrawn is {@code 0.99^1800 < 1e-7} when the draw is right.
   */
  @Test
  void timestepsAreDrawnUniformlyFromTheWholeSchedule() {
    int[] counts = new int[schedule.size()];
    try (Delegating m = new Delegating(ref.createModel(spec, OptimizerSpec.adam(1e-3), 5)) {
      @Override
      public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
          int[] timesteps, io.github.diffusion4j.tensor.Tensor target) {
        for (int t : timesteps) {
          counts[t]++;
        }
        return super.step(noisy, timesteps, target);
      }
    }) {
      new Trainer(m, ref, schedule, PredictionType.EPSILON, options(6, 32)).train(train, null, TrainingProgress.START,
          new TrainingListener() {});
    }
    long n = java.util.Arrays.stream(counts).sum();
    assertEquals(6 * 300, n, "one timestep per image per epoch");
    double expected = (double) n / counts.length;
    double chi2 = 0;
    for (int t = 0; t < counts.length; t++) {
      assertTrue(counts[t] > 0, "timestep " + t + " is never drawn");
      chi2 += (counts[t] - expected) * (counts[t] - expected) / expected;
    }
    assertTrue(chi2 < 99 + 5 * 14, "chi-square " + chi2 + " over 99 degrees of freedom");
  }
  /**
   * A training set that records which images the loop read from each epoch's view ({@link Dataset#epoch}); reads of
   * the set itself are recorded under epoch -1.
   */
  private static final class EpochReads implements Dataset {
    final Dataset inner;
    final java.util.Map<Integer, List<Integer>> reads;
    /** The epoch whose view this is; -1 for the set itself. */
    private final int epoch;

    EpochReads(Dataset inner) {
      this(inner, new java.util.TreeMap<>(), -1);
    }

    private EpochReads(Dataset inner, java.util.Map<Integer, List<Integer>> reads, int epoch) {
      this.inner = inner;
      this.reads = reads;
      this.epoch = epoch;
    }

    @Override
    public int size() {
      return inner.size();
    }

    @Override
    public Shape imageShape() {
      return inner.imageShape();
    }

    @Override
    public void copyImage(int index, float[] dst, int offset) {
      reads.computeIfAbsent(epoch, k -> new ArrayList<>()).add(index);
      inner.copyImage(index, dst, offset);
    }

    @Override
    public Dataset epoch(int e) {
      reads.computeIfAbsent(e, k -> new ArrayList<>()); // a view made is recorded, read or not
      return new EpochReads(inner, reads, e);
    }
  }

  /** A model that records the rate each step was given (its own rate's steps counted apart). */
  private static class Recording extends Delegating {
    final List<Double> rates = new ArrayList<>();

    Recording(TrainableModel inner) {
      super(inner);
    }

    @Override
    public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
        int[] timesteps, io.github.diffusion4j.tensor.Tensor target, double learningRate) {
      rates.add(learningRate);
      return inner.step(noisy, timesteps, target, learningRate);
    }
  }

  /** A model that delegates everything but the four-argument step, which stays the interface's default. */
  private static class Delegating implements TrainableModel {
    final TrainableModel inner;
    int ownRateSteps;

    Delegating(TrainableModel inner) {
      this.inner = inner;
    }

    @Override
    public io.github.diffusion4j.model.TrainingStepResult step(io.github.diffusion4j.tensor.Tensor noisy,
        int[] timesteps, io.github.diffusion4j.tensor.Tensor target) {
      ownRateSteps++;
      return inner.step(noisy, timesteps, target);
    }

    @Override
    public Optional<OptimizerSpec> optimizer() {
      return inner.optimizer();
    }

    @Override
    public io.github.diffusion4j.model.ModelSpec spec() {
      return inner.spec();
    }

    @Override
    public io.github.diffusion4j.tensor.Tensor predict(io.github.diffusion4j.tensor.Tensor noisy, int[] timesteps) {
      return inner.predict(noisy, timesteps);
    }

    @Override
    public io.github.diffusion4j.model.StateDict gradients(io.github.diffusion4j.tensor.Tensor noisy,
        int[] timesteps, io.github.diffusion4j.tensor.Tensor target) {
      return inner.gradients(noisy, timesteps, target);
    }

    @Override
    public long stepCount() {
      return inner.stepCount();
    }

    @Override
    public io.github.diffusion4j.model.StateDict stateDict() {
      return inner.stateDict();
    }

    @Override
    public void loadStateDict(io.github.diffusion4j.model.StateDict weights) {
      inner.loadStateDict(weights);
    }

    @Override
    public io.github.diffusion4j.model.StateDict optimizerState() {
      return inner.optimizerState();
    }

    @Override
    public void loadOptimizerState(io.github.diffusion4j.model.StateDict state) {
      inner.loadOptimizerState(state);
    }

    @Override
    public void updateEma(double decay) {
      inner.updateEma(decay);
    }

    @Override
    public io.github.diffusion4j.model.StateDict emaStateDict() {
      return inner.emaStateDict();
    }

    @Override
    public void loadEmaStateDict(io.github.diffusion4j.model.StateDict ema) {
      inner.loadEmaStateDict(ema);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /** Each log's mean loss and each epoch's train loss, as lines. */
  private static TrainingListener lossesInto(List<String> lines) {
    return new TrainingListener() {
      @Override
      public void onLog(LogRecord r) {
        lines.add("log " + r.step() + " mean " + r.meanLoss());
      }

      @Override
      public void onEpochEnd(EpochSummary e) {
        lines.add("epoch " + e.epoch() + " train " + e.trainLoss());
      }
    };
  }
}
