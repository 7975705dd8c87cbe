package io.github.diffusion4j.training;

import io.github.diffusion4j.tensor.Shape;

/**
 * The tutorial's image log of the first few images of a batch, each array {@code [n, C, H, W]} in
 * {@code [0, 1]} (denormalised and clamped): the clean images, their noised versions, the true noise, the
 * predicted noise, and the reconstruction from the prediction.
 *
 * <p>The arrays are the log's own, not copied: every {@link TrainingListener} of a run gets the same instance, so a
 * listener that changes them (say, to draw on them) changes them for the others; copy first. As for any record
 * with array components, {@code equals} and {@code hashCode} compare the arrays by identity.
 *
 * @param step optimiser steps taken
 * @param batchShape {@code [n, C, H, W]}
 * @param timesteps the timestep of each image
 * @param x0 the clean images
 * @param noised {@code x_t}
 * @param noise the true noise
 * @param predictedNoise the model's noise estimate (converted from its prediction type)
 * @param reconstruction {@code x0} reconstructed from {@code x_t} and the predicted noise
 */
public record ImageLog(
    long step,
    Shape batchShape,
    int[] timesteps,
    float[] x0,
    float[] noised,
    float[] noise,
    float[] predictedNoise,
    float[] reconstruction) {}
