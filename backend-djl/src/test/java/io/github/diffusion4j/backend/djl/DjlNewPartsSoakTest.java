package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.testkit.NewPartsSoakTest;

/**
 * The DDPM-family soak ({@link NewPartsSoakTest}) on DJL; the long run:
 * <pre>
 *   ./mvnw -B -pl backend-djl -am verify -Dtest=DjlNewPartsSoakTest -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Ddjl.soak.newPartsSteps=100000
 * </pre>
 */
class DjlNewPartsSoakTest extends NewPartsSoakTest {
  @Override
  protected String backendName() {
    return "djl";
  }
}
