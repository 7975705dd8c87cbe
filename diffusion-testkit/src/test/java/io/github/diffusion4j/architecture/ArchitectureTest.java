package io.github.diffusion4j.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.ArchTests;
import com.tngtech.archunit.lang.ArchRule;
import io.github.diffusion4j.testkit.ArchitectureRules;
import io.github.diffusion4j.testkit.NoTestJars;
import java.util.List;

/** Checks the shared layering rules on the api module, and the api's own rules. */
@AnalyzeClasses(
    packages = "io.github.diffusion4j",
    importOptions = {ImportOption.DoNotIncludeTests.class, NoTestJars.class})
class ArchitectureTest {
  @ArchTest
  static final ArchTests RULES = ArchTests.in(ArchitectureRules.class);

  private static final String CONFIG = "io.github.diffusion4j.config";

  /** The classes of {@code config} that work from the whole schema (and their nested classes). */
  private static final List<String> SCHEMA_USERS =
      List.of("Schema", "Binder", "ConfigDocs", "ConfigLoader", "YamlEmitter");

  /**
   * Each config record owns its keys and checks its values with them; {@code Schema} only assembles the
   * sections from the records' keys, so the references run one way (docs/design.md section 12, item 3).
   */
  @ArchTest
  static final ArchRule ONLY_THE_SCHEMA_USERS_REFERENCE_SCHEMA =
      noClasses()
          .that().resideInAPackage(CONFIG)
          .and(DescribedPredicate.not(isOneOf(SCHEMA_USERS)))
          .should().dependOnClassesThat().haveFullyQualifiedName(CONFIG + ".Schema")
          .because("the records own their keys and Schema assembles them (Schema -> records, never back)");

  private static DescribedPredicate<JavaClass> isOneOf(List<String> simpleNames) {
    return DescribedPredicate.describe("one of " + simpleNames + " or nested in one", c -> {
      String top = c.getName().substring(CONFIG.length() + 1);
      int nested = top.indexOf('$');
      return simpleNames.contains(nested < 0 ? top : top.substring(0, nested));
    });
  }
}
