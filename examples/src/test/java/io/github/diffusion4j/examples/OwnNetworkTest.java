package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Runs {@link OwnNetwork} on ND4J, and ({@link OwnNetworkDjlTest}) on DJL: each test class runs in a JVM of its own
 * (the module's surefire does not reuse forks), one native backend per process.
 */
class OwnNetworkTest {
  @Test
  void runsOnNd4j() {
    check("nd4j");
  }

  static void check(String backend) {
    OwnNetwork.Result r = OwnNetwork.run(new String[] {"--backend=" + backend});
    // float32: each of the 20 steps rounds the model's output and the step's sum to 2^-24 of values below ~6, with
    // coefficients near 1 on the linear schedule (1.3e-6 measured on ND4J): 1e-4 leaves a margin of ~75, while a
    // wrong coefficient or timestep in a step moves the samples by a part of their spread (0.5)
    assertTrue(r.closedFormError() < 1e-4, backend + ": closed form error " + r.closedFormError());
    // the wrong model's samples are the right ones shifted by ~0.2 per value, which adds ~64 x 0.2^2 = 2.56 to the
    // distance (measured 0.86 against 3.37; 512 samples in 64 dimensions leave ~0.8 of estimation bias in both)
    assertTrue(r.frechet() < 0.5 * r.frechetOfAWrongModel(), backend + ": " + r);
    // DDIM inversion over 20 steps is approximate (0.64 measured, over 32,768 latent values of spread 1); an
    // inversion that lands elsewhere misses by several units
    assertTrue(r.inversionError() < 1.5, backend + ": inversion error " + r.inversionError());
  }
}
