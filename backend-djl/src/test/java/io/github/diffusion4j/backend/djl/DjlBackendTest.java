package io.github.diffusion4j.backend.djl;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** A test class with one DJL backend ({@link DjlBackends#create()}) for all its tests, closed after them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DjlBackendTest {
  /** The backend, open while the class's tests run. */
  protected DjlBackend backend;

  @BeforeAll
  void openBackend() {
    backend = DjlBackends.create();
  }

  @AfterAll
  void closeBackend() {
    backend.close();
  }
}
