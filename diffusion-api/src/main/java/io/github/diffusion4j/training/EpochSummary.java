package io.github.diffusion4j.training;

import java.util.OptionalDouble;

/**
 * The end of an epoch.
 *
 * @param epoch the epoch that ended, from 0
 * @param step optimiser steps taken
 * @param trainLoss the mean training loss of the epoch (of the steps run in this process)
 * @param evalLoss the mean loss on the evaluation set, if there is one
 * @param elapsedSeconds wall time since the run (or resumption) started
 * @param progress where the next epoch starts (for checkpoints)
 */
public record EpochSummary(
    int epoch, long step, double trainLoss, OptionalDouble evalLoss, double elapsedSeconds, TrainingProgress progress) {}
