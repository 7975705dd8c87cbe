package io.github.diffusion4j.testkit;

import java.util.List;

/**
 * What a test adds to the command line of a child JVM it starts (the command line's signal tests, Spark's), so that
 * the child is measured as the test JVM is: under the build's coverage profile ({@code -Pcoverage}), the JaCoCo agent
 * flag the test JVM was started with, which writes to the same module's {@code target/jacoco.exec} (the agent
 * appends, and locks the file while it writes); otherwise nothing. docs/reliability.md, "Coverage".
 */
public final class ChildJvm {
  /**
   * The system property the coverage profile sets in every test JVM to its own agent flag
   * ({@code -javaagent:...=destfile=...}); unset in the plain build.
   */
  public static final String COVERAGE_AGENT_PROPERTY = "diffusion4j.test.coverageAgent";

  private ChildJvm() {}

  /**
   * The options that carry the coverage agent into a child JVM, to go before its main class.
   *
   * @return the agent flag when the tests run under the coverage profile; an empty list otherwise
   */
  public static List<String> coverageAgent() {
    String agent = System.getProperty(COVERAGE_AGENT_PROPERTY, "").strip();
    return agent.isEmpty() ? List.of() : List.of(agent);
  }
}
