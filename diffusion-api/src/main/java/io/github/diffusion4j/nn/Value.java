package io.github.diffusion4j.nn;

/**
 * A backend's activation: one node's output for the items of a {@link Pass}, in whatever layout and
 * memory the backend chooses. The model only passes values between a backend's {@link Kernel}s and gives
 * them back to the {@link Pass} when they are dead; it never reads them.
 */
public interface Value {}
