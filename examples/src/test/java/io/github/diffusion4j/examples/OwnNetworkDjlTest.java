package io.github.diffusion4j.examples;

import org.junit.jupiter.api.Test;

/** {@link OwnNetworkTest} on DJL, in a JVM of its own (one native backend per process). */
class OwnNetworkDjlTest {
  @Test
  void runsOnDjl() {
    OwnNetworkTest.check("djl");
  }
}
