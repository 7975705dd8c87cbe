package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.runtime.Diffusion;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider's one option, {@code sampling.options.solver_type}, as a user's YAML gives it. */
class DpmSolverProviderTest {
  @TempDir
  Path dir;

  private Diffusion open(String... more) throws Exception {
    String[] all = new String[more.length + 1];
    all[0] = "sampling.sampler=dpmpp_2m";
    System.arraycopy(more, 0, all, 1, more.length);
    return Diffusion.open(Examples.config("gradients.yaml", dir, true, all));
  }

  @Test
  void solverTypeIsMidpointOrHeun() throws Exception {
    for (String type : new String[] {"midpoint", "heun"}) {
      try (Diffusion d = open("sampling.options.solver_type=" + type)) {
        assertEquals("dpmpp_2m", d.sampler().name());
      }
    }
    RuntimeException bad = assertThrows(RuntimeException.class, () -> {
      try (Diffusion d = open("sampling.options.solver_type=euler")) {
        d.sampler();
      }
    });
    assertTrue(bad.getMessage().contains("solver_type") && bad.getMessage().contains("heun"), bad.getMessage());
    RuntimeException unknown = assertThrows(RuntimeException.class, () -> {
      try (Diffusion d = open("sampling.options.lower_order_final=true")) {
        d.sampler();
      }
    });
    assertTrue(unknown.getMessage().contains("lower_order_final"), unknown.getMessage());
  }

  /** A deterministic solver takes no eta: one asked for by an override is refused, naming the samplers that take it. */
  @Test
  void anEtaAskedForIsRefused() throws Exception {
    RuntimeException e = assertThrows(RuntimeException.class, () -> {
      try (Diffusion d = open("sampling.eta=0.3")) {
        d.sampler();
      }
    });
    assertTrue(e.getMessage().endsWith("sampling.eta: the sampler 'dpmpp_2m' takes no eta; samplers that take it: "
        + "ddim"), e.getMessage());
  }
}
