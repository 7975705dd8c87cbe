package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The published jars name their module (Automatic-Module-Name), so a modular application can {@code requires} them
 * by a name that does not depend on the jar's file name. The jars exist from {@code package} on: under
 * {@code ./mvnw verify} this module's class path holds them; under {@code test} alone it holds class folders, and
 * the check is skipped.
 */
class ModuleNamesTest {
  @ParameterizedTest
  @CsvSource({
      "io.github.diffusion4j.runtime.Diffusion, io.github.diffusion4j",
      "io.github.diffusion4j.backend.nd4j.Nd4jBackendProvider, io.github.diffusion4j.backend.nd4j",
      "io.github.diffusion4j.backend.djl.DjlBackendProvider, io.github.diffusion4j.backend.djl",
      "io.github.diffusion4j.testkit.ReferenceBackendProvider, io.github.diffusion4j.testkit"})
  void eachJarNamesItsModule(String className, String moduleName) throws Exception {
    Class<?> c = Class.forName(className, false, ModuleNamesTest.class.getClassLoader());
    Path jar = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    assumeTrue(Files.isRegularFile(jar), "not a jar (run with verify): " + jar);
    Map<String, ModuleReference> found = ModuleFinder.of(jar).findAll().stream()
        .collect(Collectors.toMap(r -> r.descriptor().name(), r -> r));
    assertEquals(List.of(moduleName), List.copyOf(found.keySet()), jar.toString());
    assertEquals(true, found.get(moduleName).descriptor().isAutomatic(), jar.toString());
  }
}
