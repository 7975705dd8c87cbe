package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.spi.Backend;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The suites that compare a backend with a reference backend of their own close it after the suite (they left it
 * open, with the tensors it made).
 */
class ContractSuitesCloseTheirReferenceTest {
  @Test
  void theSamplerAndMlpSuitesCloseTheirReferenceBackendAfterAll() throws Exception {
    ReferenceContractTests outer = new ReferenceContractTests();
    for (BackendFixture suite : List.of(outer.new Samplers(), outer.new Mlp())) {
      Field f = suite.getClass().getSuperclass().getDeclaredField("reference");
      f.setAccessible(true);
      Backend reference = (Backend) f.get(suite);
      suite.openBackend();
      // what JUnit runs after the suite's tests: the @AfterAll methods of its class, then of its superclasses
      for (Class<?> c = suite.getClass(); c != null; c = c.getSuperclass()) {
        for (Method m : c.getDeclaredMethods()) {
          if (m.isAnnotationPresent(AfterAll.class)) {
            m.setAccessible(true);
            m.invoke(suite);
          }
        }
      }
      IllegalStateException closed = assertThrows(IllegalStateException.class, () -> reference.tensors().openScope(),
          suite.getClass().getSimpleName() + "'s reference backend is still open after the suite");
      assertEquals("the reference backend is closed", closed.getMessage());
    }
  }
}
