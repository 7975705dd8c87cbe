package io.github.diffusion4j.testkit;

import io.github.diffusion4j.spi.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the contract suites: one backend per test class, created by the subclass and closed after.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendFixture {
  /** The backend under test. */
  protected Backend backend;

  /**
   * Creates the backend under test (one per class).
   *
   * @return a new backend
   */
  protected abstract Backend createBackend();

  @BeforeAll
  void openBackend() {
    backend = createBackend();
  }

  @AfterAll
  void closeBackend() {
    if (backend != null) {
      backend.close();
    }
  }
}
