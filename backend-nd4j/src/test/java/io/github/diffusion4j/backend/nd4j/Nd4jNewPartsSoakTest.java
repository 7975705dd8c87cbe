package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.testkit.NewPartsSoakTest;

/**
 * The DDPM-family soak ({@link NewPartsSoakTest}) on ND4J; the long run:
 * <pre>
 *   ./mvnw -B -pl backend-nd4j -am verify -Dtest=Nd4jNewPartsSoakTest -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dnd4j.soak.newPartsSteps=100000
 * </pre>
 */
class Nd4jNewPartsSoakTest extends NewPartsSoakTest {
  @Override
  protected String backendName() {
    return "nd4j";
  }
}
