package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.backend.djl.Convolution.Choice;
import io.github.diffusion4j.backend.djl.Convolution.Plan;
import io.github.diffusion4j.backend.djl.Convolution.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The convolutions' decisions as functions of explicit inputs, so every branch is tested on any CPU (the backend's
 * own choice depends on this CPU's self-check, and {@link ConvolutionTest} sees only the branch it takes): which
 * strategy and layout the self-checks' results give ({@link Convolution#decide}), and how one convolution is
 * computed for a strategy, grad mode and shape ({@link Convolution#plan}, {@link Convolution#channelsLastInput}).
 * No native code runs: the self-check is a table of results.
 */
class ConvolutionChoiceTest {
  private static final String DIRECT_FAILS = "forward (no gradient) of a 3x3 stride-1 convolution: element 0 is 1.5";
  private static final String PADDED_FAILS = "input gradient of a 3x3 stride-2 convolution: element 4 is NaN";
  private static final String CHANNELS_LAST_FAILS = "forward of a 1x1 stride-1 convolution channels-last: element 2";

  /** A self-check answering from a table (absent: passes) and recording what was run, as "STRATEGY/layout". */
  private static final class Table implements Convolution.Check {
    private final Map<String, String> failures;
    final List<String> runs = new ArrayList<>();

    Table(Map<String, String> failures) {
      this.failures = failures;
    }

    @Override
    public String run(Strategy strategy, boolean channelsLast) {
      String key = strategy + (channelsLast ? "/channels-last" : "/plain");
      runs.add(key);
      return failures.get(key);
    }
  }

  @Test
  void directPassingGivesDirectWithChannelsLastWhereThatPassesAndIsAllowed() {
    Table all = new Table(Map.of());
    assertEquals(new Choice(Strategy.DIRECT, true, null, null), Convolution.decide(null, true, all));
    assertEquals(List.of("DIRECT/plain", "DIRECT/channels-last"), all.runs, "the padded strategy is not checked");
    Choice c = Convolution.decide(null, true, new Table(Map.of()));
    assertFalse(c.workaround());
    assertEquals("convolutions: libtorch/oneDNN direct (self-check passed), channels-last in prediction passes",
        c.describe());

    Table clFails = new Table(Map.of("DIRECT/channels-last", CHANNELS_LAST_FAILS));
    Choice plain = Convolution.decide(null, true, clFails);
    assertEquals(new Choice(Strategy.DIRECT, false, null, null), plain);
    assertEquals("convolutions: libtorch/oneDNN direct (self-check passed)", plain.describe());

    assertEquals(Strategy.DIRECT, c.require());
    Table blank = new Table(Map.of());
    assertEquals(new Choice(Strategy.DIRECT, true, null, null), Convolution.decide(" ", true, blank),
        "a blank property forces nothing");
    assertEquals(List.of("DIRECT/plain", "DIRECT/channels-last"), blank.runs);

    Table off = new Table(Map.of());
    assertEquals(new Choice(Strategy.DIRECT, false, null, null), Convolution.decide(null, false, off));
    assertEquals(List.of("DIRECT/plain"), off.runs, "channels-last turned off: not checked");
  }

  @Test
  void directFailingGivesThePaddedWorkaroundInThePlainLayoutWithTheFailureNamed() {
    Table t = new Table(Map.of("DIRECT/plain", DIRECT_FAILS));
    Choice c = Convolution.decide(null, true, t);
    assertEquals(new Choice(Strategy.CHANNEL_PADDED, false, DIRECT_FAILS, null), c);
    assertEquals(List.of("DIRECT/plain", "CHANNEL_PADDED/plain"), t.runs, "no channels-last check for the workaround");
    assertTrue(c.workaround());
    assertEquals(Strategy.CHANNEL_PADDED, c.require());
    assertTrue(c.describe().contains("workaround active") && c.describe().contains(DIRECT_FAILS), c.describe());
  }

  @Test
  void bothFailingIsARefusalNamingBothFailuresAndTheOtherBackend() {
    Choice c = Convolution.decide(null, true,
        new Table(Map.of("DIRECT/plain", DIRECT_FAILS, "CHANNEL_PADDED/plain", PADDED_FAILS)));
    assertNull(c.strategy(), "a wrong strategy must never be chosen");
    assertFalse(c.channelsLast() || c.workaround());
    assertTrue(c.refusal().contains(DIRECT_FAILS) && c.refusal().contains(PADDED_FAILS)
        && c.refusal().contains("nd4j"), c.refusal());
    assertTrue(c.describe().startsWith("convolutions: unusable on this CPU (") && c.describe().contains(c.refusal()),
        c.describe());
    IllegalStateException e = assertThrows(IllegalStateException.class, c::require, "every convolution is refused");
    assertEquals("djl: " + c.refusal(), e.getMessage());
  }

  @Test
  void aForcedStrategyIsCheckedAloneAndRefusedIfItFailsNeverReplaced() {
    Table direct = new Table(Map.of());
    assertEquals(new Choice(Strategy.DIRECT, true, null, null), Convolution.decide("direct", true, direct));
    assertEquals(List.of("DIRECT/plain", "DIRECT/channels-last"), direct.runs);
    Table directOff = new Table(Map.of());
    assertEquals(new Choice(Strategy.DIRECT, false, null, null), Convolution.decide("direct", false, directOff));
    assertEquals(List.of("DIRECT/plain"), directOff.runs, "channels-last turned off: not checked");

    Table padded = new Table(Map.of());
    assertEquals(new Choice(Strategy.CHANNEL_PADDED, false, null, null), Convolution.decide(" Padded ", true, padded));
    assertEquals(List.of("CHANNEL_PADDED/plain"), padded.runs, "channels-last is the direct strategy's only");

    Table directFails = new Table(Map.of("DIRECT/plain", DIRECT_FAILS));
    Choice refused = Convolution.decide("direct", true, directFails);
    assertEquals(new Choice(null, false, DIRECT_FAILS,
        "the forced strategy direct failed the self-check: " + DIRECT_FAILS), refused);
    assertEquals(List.of("DIRECT/plain"), directFails.runs, "the workaround is not tried in its place");

    Table paddedFails = new Table(Map.of("CHANNEL_PADDED/plain", PADDED_FAILS));
    Choice refusedPadded = Convolution.decide("padded", true, paddedFails);
    assertNull(refusedPadded.strategy());
    assertTrue(refusedPadded.refusal().contains("padded failed the self-check: " + PADDED_FAILS),
        refusedPadded.refusal());
    assertEquals(List.of("CHANNEL_PADDED/plain"), paddedFails.runs, "the direct strategy is not tried in its place");

    Table none = new Table(Map.of());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Convolution.decide("fast", true, none));
    assertTrue(e.getMessage().contains(Convolution.PROPERTY) && e.getMessage().contains("'fast'"), e.getMessage());
    assertEquals(List.of(), none.runs, "a bad value is refused before any self-check");
  }

  @Test
  void theDirectStrategyComputesEveryConvolutionAsAsked() {
    // the channel counts, strides and grad modes the workaround changes: the direct strategy changes none
    for (boolean recording : new boolean[] {false, true}) {
      assertEquals(new Plan(false, 24, 8, 2, 1),
          Convolution.plan(Strategy.DIRECT, recording, 24, 8, 2, new int[] {1, 1, 1, 1}));
      assertEquals(new Plan(false, 12, 3, 1, 1),
          Convolution.plan(Strategy.DIRECT, recording, 12, 3, 1, new int[] {0, 0, 0, 0}));
    }
  }

  @Test
  void theWorkaroundPadsInputChannelsAboveEightToAMultipleOfSixteen() {
    long[][] inputs = {{1, 1}, {3, 3}, {8, 8}, {9, 16}, {12, 16}, {15, 16}, {16, 16}, {17, 32}, {24, 32}, {32, 32},
      {33, 48}, {384, 384}, {385, 400}};
    for (boolean recording : new boolean[] {false, true}) {
      for (long[] in : inputs) {
        assertEquals(in[1], Convolution.plan(Strategy.CHANNEL_PADDED, recording, in[0], 16, 1, new int[4])
            .inputChannels(), in[0] + " input channels, recording " + recording);
      }
    }
  }

  @Test
  void theWorkaroundPadsOutputChannelsOnlyWhileRecording() {
    long[][] outputs = {{1, 16}, {3, 16}, {8, 16}, {16, 16}, {17, 32}, {24, 32}, {40, 48}, {128, 128}};
    for (long[] out : outputs) {
      assertEquals(out[1], Convolution.plan(Strategy.CHANNEL_PADDED, true, 16, out[0], 1, new int[4])
          .outputChannels(), out[0] + " output channels, recording");
      assertEquals(out[0], Convolution.plan(Strategy.CHANNEL_PADDED, false, 16, out[0], 1, new int[4])
          .outputChannels(), out[0] + " output channels, not recording");
    }
  }

  @Test
  void theWorkaroundSubsamplesAStrideOneConvolutionOnlyWhileRecording() {
    for (int stride = 1; stride <= 4; stride++) {
      Plan recorded = Convolution.plan(Strategy.CHANNEL_PADDED, true, 16, 16, stride, new int[] {1, 1, 1, 1});
      assertEquals(1, recorded.stride(), "stride " + stride + ", recording");
      assertEquals(stride, recorded.subsample(), "stride " + stride + ", recording");
      Plan sampled = Convolution.plan(Strategy.CHANNEL_PADDED, false, 16, 16, stride, new int[] {1, 1, 1, 1});
      assertEquals(stride, sampled.stride(), "stride " + stride + ", not recording");
      assertEquals(1, sampled.subsample(), "stride " + stride + ", not recording");
    }
  }

  @Test
  void onlyAsymmetricPaddingIsAppliedBeforeTheConvolution() {
    int[][] symmetric = {{0, 0, 0, 0}, {1, 1, 1, 1}, {1, 0, 1, 0}, {0, 2, 0, 2}};
    int[][] asymmetric = {{0, 0, 1, 1}, {1, 1, 0, 0}, {1, 0, 0, 1}, {2, 1, 0, 2}, {1, 1, 1, 0}, {0, 1, 1, 1}};
    for (Strategy s : Strategy.values()) {
      for (int[] p : symmetric) {
        assertFalse(Convolution.plan(s, true, 3, 3, 2, p).padFirst(), s + " " + java.util.Arrays.toString(p));
      }
      for (int[] p : asymmetric) {
        assertTrue(Convolution.plan(s, false, 3, 3, 2, p).padFirst(), s + " " + java.util.Arrays.toString(p));
      }
    }
  }

  @Test
  void inputsAreChannelsLastOnlyWhereChosenAndNothingIsRecorded() {
    assertTrue(Convolution.channelsLastInput(true, false), "sampling with the layout chosen");
    assertFalse(Convolution.channelsLastInput(true, true), "training keeps the plain layout");
    assertFalse(Convolution.channelsLastInput(false, false), "the layout not chosen");
    assertFalse(Convolution.channelsLastInput(false, true));
  }
}
