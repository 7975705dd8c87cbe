package io.github.diffusion4j.testkit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import com.tngtech.archunit.lang.syntax.elements.ClassesShouldConjunction;
import com.tngtech.archunit.lang.syntax.elements.GivenClassesConjunction;
import com.tngtech.archunit.library.Architectures;

/**
 * The layering of docs/design.md section 2 as ArchUnit rules, shared by every module through the testkit.
 * Each module runs them all with
 *
 * <pre>{@code
 * @AnalyzeClasses(packages = "io.github.diffusion4j",
 *     importOptions = {ImportOption.DoNotIncludeTests.class, NoTestJars.class})
 * class ArchitectureTest {
 *   @ArchTest static final ArchTests RULES = ArchTests.in(ArchitectureRules.class);
 * }
 * }</pre>
 *
 * Rules about classes a module does not contain (the backends, in the api module) allow an empty
 * selection; every rule is a {@code @ArchTest} field, which {@code ArchitectureRulesTest} checks, so no
 * rule is built without being evaluated.
 *
 * <p>These fields select classes under {@code io.github.diffusion4j}: a backend of another package checks nothing
 * with them (and four of them fail on the empty selection). Such a backend checks its own package with
 * {@link #backendIn(String)}:
 *
 * <pre>{@code
 * @AnalyzeClasses(packages = "com.example.mybackend", importOptions = ImportOption.DoNotIncludeTests.class)
 * class ArchitectureTest {
 *   @ArchTest static final ArchRule BACKEND = ArchitectureRules.backendIn("com.example.mybackend");
 * }
 * }</pre>
 */
public final class ArchitectureRules {
  private ArchitectureRules() {}

  private static final String ROOT = "io.github.diffusion4j";

  /** The api's packages from the bottom up; a layer may use only layers below it. */
  @ArchTest
  public static final ArchRule API_LAYERS =
      Architectures.layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .withOptionalLayers(true)
          .layer("settings").definedBy(ROOT + ".settings..")
          .layer("random").definedBy(ROOT + ".random..")
          .layer("tensor").definedBy(ROOT + ".tensor..")
          .layer("schedule").definedBy(ROOT + ".schedule..")
          .layer("nn").definedBy(ROOT + ".nn..")
          .layer("model").definedBy(ROOT + ".model..")
          .layer("spi").definedBy(ROOT + ".spi..")
          .layer("sampling").definedBy(ROOT + ".sampling..")
          .layer("data").definedBy(ROOT + ".data..")
          .layer("eval").definedBy(ROOT + ".eval..")
          .layer("io").definedBy(ROOT + ".io..")
          .layer("training").definedBy(ROOT + ".training..")
          .layer("config").definedBy(ROOT + ".config..")
          .layer("runtime").definedBy(ROOT + ".runtime..")
          .layer("backends").definedBy(ROOT + ".backend..")
          .layer("edges").definedBy(ROOT + ".cli..", ROOT + ".examples..", ROOT + ".spark..")
          .whereLayer("settings").mayNotAccessAnyLayer()
          .whereLayer("tensor").mayOnlyBeAccessedByLayers(
              "schedule", "nn", "model", "spi", "sampling", "data", "eval", "io", "training", "config", "runtime", "backends", "edges")
          .whereLayer("schedule").mayOnlyBeAccessedByLayers(
              "model", "spi", "sampling", "data", "eval", "io", "training", "config", "runtime", "backends", "edges")
          .whereLayer("nn").mayOnlyBeAccessedByLayers(
              "model", "spi", "sampling", "data", "eval", "io", "training", "config", "runtime", "backends", "edges")
          .whereLayer("model").mayOnlyBeAccessedByLayers(
              "spi", "sampling", "data", "eval", "io", "training", "config", "runtime", "backends", "edges")
          .whereLayer("spi").mayOnlyBeAccessedByLayers(
              "sampling", "data", "eval", "io", "training", "config", "runtime", "backends", "edges")
          .whereLayer("sampling").mayOnlyBeAccessedByLayers(
              "data", "eval", "io", "training", "config", "runtime", "edges")
          .whereLayer("data").mayOnlyBeAccessedByLayers("eval", "io", "training", "config", "runtime", "edges")
          .whereLayer("eval").mayOnlyBeAccessedByLayers("io", "training", "config", "runtime", "edges")
          .whereLayer("io").mayOnlyBeAccessedByLayers("training", "config", "runtime", "edges")
          .whereLayer("training").mayOnlyBeAccessedByLayers("config", "runtime", "edges")
          .whereLayer("config").mayOnlyBeAccessedByLayers("runtime", "edges")
          .whereLayer("runtime").mayOnlyBeAccessedByLayers("edges")
          .whereLayer("backends").mayNotBeAccessedByAnyLayer()
          .because("lower layers never import higher ones (docs/design.md section 2)");

  /** The numeric core stays free of frameworks and engines. */
  @ArchTest
  public static final ArchRule CORE_IS_FRAMEWORK_FREE =
      noClasses()
          .that().resideInAnyPackage(
              ROOT + ".settings..", ROOT + ".tensor..", ROOT + ".random..", ROOT + ".schedule..", ROOT + ".nn..",
              ROOT + ".model..", ROOT + ".sampling..")
          .should().dependOnClassesThat().resideInAnyPackage(
              "com.fasterxml.jackson..", "com.google.inject..", "jakarta.inject..", "org.nd4j..", "ai.djl..", "org.bytedeco..")
          .because("settings, tensor, random, schedule, nn, model and sampling must run on any backend with only the"
              + " JDK");

  /** Backends see only the SPI side of the api: tensors, the layer SPI and the backend SPI. */
  @ArchTest
  public static final ArchRule BACKENDS_USE_ONLY_THE_SPI = backendsUseOnlyTheSpi(ROOT + ".backend..").allowEmptyShould(true);

  private static ArchRule backendsUseOnlyTheSpi(String packages) {
    return noClasses()
        .that().resideInAPackage(packages)
        .should().dependOnClassesThat().resideInAnyPackage(
            ROOT + ".schedule..", ROOT + ".model..", ROOT + ".sampling..", ROOT + ".data..", ROOT + ".eval..",
            ROOT + ".io..", ROOT + ".training..", ROOT + ".config..", ROOT + ".runtime..", ROOT + ".cli..",
            ROOT + ".examples..", ROOT + ".testkit..")
        .because("backends implement tensor, nn (the layer kinds) and spi; models, samplers and everything else"
            + " are written once in the api");
  }

  /** The layer package is the bottom of the model stack: it knows tensors and random numbers, nothing above. */
  @ArchTest
  public static final ArchRule LAYERS_KNOW_ONLY_TENSORS =
      classes()
          .that().resideInAPackage(ROOT + ".nn..")
          .should().onlyDependOnClassesThat().resideInAnyPackage(ROOT + ".nn..", ROOT + ".tensor..", ROOT + ".random..",
              ROOT + ".settings..", "java..")
          .allowEmptyShould(true)
          .because("layer kinds and the layer SPI are what every backend implements; they must not pull in models");

  /** A backend implements layer kinds, never a network. */
  @ArchTest
  public static final ArchRule BACKENDS_DEFINE_NO_NETWORK = backendsDefineNoNetwork(ROOT + ".backend..").allowEmptyShould(true);

  private static ArchRule backendsDefineNoNetwork(String packages) {
    return noClasses()
        .that().resideInAPackage(packages)
        .should().haveSimpleNameContaining("UNet")
        .orShould().haveSimpleNameContaining("Unet")
        .orShould().haveSimpleNameContaining("Mlp")
        .orShould().haveSimpleNameContaining("MLP")
        .orShould().implement(ROOT + ".model.ModelSpec")
        .orShould().implement(ROOT + ".model.TrainableModel")
        .orShould().implement(ROOT + ".model.NoisePredictor")
        .because("architectures are written once in the api out of layer kinds (issue: networks defined once)");
  }

  /** Architectures and the model that runs them live in the api's model package. */
  @ArchTest
  public static final ArchRule MODELS_LIVE_IN_THE_API =
      classes()
          .that().implement(ROOT + ".model.ModelSpec")
          .or().implement(ROOT + ".model.TrainableModel")
          .should().resideInAnyPackage(ROOT + ".model..")
          .allowEmptyShould(true)
          .because("a network is written once, in the api, and runs on every backend");

  /** One engine per backend module: ND4J never touches DJL. */
  @ArchTest
  public static final ArchRule ND4J_BACKEND_DOES_NOT_LOAD_DJL =
      noClasses()
          .that().resideInAPackage(ROOT + ".backend.nd4j..")
          .should().dependOnClassesThat().resideInAnyPackage("ai.djl..")
          .allowEmptyShould(true)
          .because("one backend per process: choosing nd4j never loads libtorch");

  /** One engine per backend module: DJL never touches ND4J. */
  @ArchTest
  public static final ArchRule DJL_BACKEND_DOES_NOT_LOAD_ND4J =
      noClasses()
          .that().resideInAPackage(ROOT + ".backend.djl..")
          .should().dependOnClassesThat().resideInAnyPackage("org.nd4j..", "org.bytedeco..")
          .allowEmptyShould(true)
          .because("one backend per process: choosing djl never loads ND4J");

  /** The CLI, the examples and the Spark module reach backends only through ServiceLoader. */
  @ArchTest
  public static final ArchRule EDGES_DO_NOT_IMPORT_BACKENDS =
      noClasses()
          .that().resideInAnyPackage(ROOT + ".cli..", ROOT + ".examples..", ROOT + ".spark..")
          .should().dependOnClassesThat().resideInAnyPackage(
              ROOT + ".backend..", "org.nd4j..", "ai.djl..", "org.bytedeco..")
          .allowEmptyShould(true)
          .because("users depend on diffusion-api only; the backend is a runtime choice");

  /** Examples are written against the public api only. */
  @ArchTest
  public static final ArchRule EXAMPLES_USE_ONLY_THE_API =
      classes()
          .that().resideInAPackage(ROOT + ".examples..")
          .should().onlyDependOnClassesThat().resideInAnyPackage(
              ROOT + ".tensor..", ROOT + ".random..", ROOT + ".schedule..", ROOT + ".model..", ROOT + ".spi..",
              ROOT + ".sampling..", ROOT + ".data..", ROOT + ".eval..", ROOT + ".io..", ROOT + ".training..",
              ROOT + ".config..", ROOT + ".runtime..", ROOT + ".nn..", ROOT + ".settings..", ROOT + ".examples..",
              "java..", "javax.imageio..")
          .allowEmptyShould(true)
          .because("the examples show that diffusion-api alone is enough");

  /** Guice is used in one place. */
  @ArchTest
  public static final ArchRule ONLY_RUNTIME_USES_GUICE =
      noClasses()
          .that().resideOutsideOfPackage(ROOT + ".runtime..")
          .and().resideInAPackage(ROOT + "..")
          .should().dependOnClassesThat().resideInAnyPackage("com.google.inject..", "jakarta.inject..")
          .because("wiring is declarative and lives in the runtime package (docs/design.md section 5.5)");

  /**
   * YAML is read in one place. {@code io.JacksonVersions} reads the YAML module's version (not YAML) to check, before
   * the first JSON read, that the three Jackson modules agree.
   */
  @ArchTest
  public static final ArchRule ONLY_CONFIG_READS_YAML =
      noClasses()
          .that().resideOutsideOfPackage(ROOT + ".config..")
          .and().resideInAPackage(ROOT + "..")
          .and().doNotHaveFullyQualifiedName(ROOT + ".io.JacksonVersions")
          .should().dependOnClassesThat().resideInAnyPackage("com.fasterxml.jackson.dataformat.yaml..", "org.yaml..")
          .because("the config package is the only YAML reader, so every config error has one format");

  /**
   * Jackson is used where JSON or YAML files are read or written, and nowhere else: {@code config} (the YAML
   * configuration), {@code io} (the JSON of checkpoints: the safetensors header, {@code manifest.json},
   * {@code scheduler_config.json}, diffusers' {@code config.json}), {@code runtime} ({@code metrics.jsonl}),
   * and the edges that write or read their own JSON files ({@code cli}: {@code metrics.jsonl} for the loss
   * chart; {@code spark}: the samples' {@code manifest.json}). The testkit (test code, the
   * {@code diffusion-testkit} artifact) reads golden JSON files and is not part of the product.
   */
  @ArchTest
  public static final ArchRule ONLY_FILE_FORMATS_USE_JACKSON =
      noClasses()
          .that().resideInAPackage(ROOT + "..")
          .and().resideOutsideOfPackages(
              ROOT + ".config..", ROOT + ".io..", ROOT + ".runtime..", ROOT + ".cli..", ROOT + ".spark..",
              ROOT + ".testkit..", ROOT + ".benchmarks.compare..")
          .should().dependOnClassesThat().resideInAnyPackage("com.fasterxml.jackson..")
          .because("JSON and YAML are file formats: the packages that read and write files (and the benchmarks' "
              + "reader of the reference scripts' JSON lines) use Jackson (docs/design.md section 2), the numeric core, the models, samplers, data, metrics and training never do");

  /** Backend implementations hide behind their provider. */
  @ArchTest
  public static final ArchRule BACKEND_IMPLEMENTATIONS_ARE_PACKAGE_PRIVATE =
      backendImplementationsArePackagePrivate(ROOT + ".backend..").allowEmptyShould(true);

  private static ArchRule backendImplementationsArePackagePrivate(String packages) {
    return classes()
        .that().resideInAPackage(packages)
        .and().arePublic()
        .should().haveSimpleNameEndingWith("BackendProvider")
        .because("a backend's only public type is its provider (docs/design.md section 1)");
  }

  /**
   * The rules every backend keeps, for a backend outside this project: the classes of {@code packageName} and its
   * subpackages use only the api's {@code tensor}, {@code random}, {@code nn}, {@code settings} and {@code spi}
   * packages (not the models, samplers, runtime or the testkit, which is a test dependency: see
   * {@link #BACKENDS_USE_ONLY_THE_SPI}), define no network ({@link #BACKENDS_DEFINE_NO_NETWORK}), and make
   * only their {@code *BackendProvider} public ({@link #BACKEND_IMPLEMENTATIONS_ARE_PACKAGE_PRIVATE}). Unlike the
   * fields, each part fails on a package with no classes (a misspelt name).
   *
   * @param packageName the backend's package, e.g. {@code "com.example.mybackend"}
   * @return one rule of the three parts, for an {@code @ArchTest} field
   */
  public static ArchRule backendIn(String packageName) {
    String packages = packageName + "..";
    return CompositeArchRule.of(backendsUseOnlyTheSpi(packages))
        .and(backendsDefineNoNetwork(packages))
        .and(backendImplementationsArePackagePrivate(packages));
  }

  /**
   * One vector width per element type in a process. Java 17's Vector API keeps the profiles C2 compiles its loops
   * from per method of the API, shared by every caller, so a process that runs float (or int) vectors of two widths
   * can get its loops compiled with boxed vectors: one build with a 256-bit float store in the noise beside ND4J's
   * 512-bit kernels trained the U-Net 8x slower (docs/benchmarks.md, "The sampling noise on AVX-512"). ND4J's
   * kernels use the CPU's widest vectors, so a narrower species may be named only by classes chosen where 256 bits
   * are the widest: {@code DirectConvSimd256}, and {@code BoxMullerVector}, whose 256-bit floats beside ND4J on
   * AVX-512 are the known exception (docs/noise.md, "The same on AVX-512 with ND4J").
   */
  @ArchTest
  public static final ArchRule ONE_VECTOR_WIDTH = namingNarrowSpecies(
      noClasses()
          .that().doNotHaveFullyQualifiedName(ROOT + ".backend.nd4j.DirectConvSimd256")
          .and().doNotHaveFullyQualifiedName(ROOT + ".random.BoxMullerVector"))
      .allowEmptyShould(true)
      .because("vectors of two widths of one element type in a process make Java 17's Vector API box them");

  /**
   * {@link #ONE_VECTOR_WIDTH}'s condition: the classes name a float or int species of 64, 128 or 256 bits.
   *
   * @param classes the classes the rule is about
   * @return the rule
   */
  private static ClassesShouldConjunction namingNarrowSpecies(GivenClassesConjunction classes) {
    ClassesShouldConjunction rule = null;
    for (String type : new String[] {"FloatVector", "IntVector"}) {
      for (String bits : new String[] {"64", "128", "256"}) {
        String owner = "jdk.incubator.vector." + type;
        String field = "SPECIES_" + bits;
        rule = rule == null ? classes.should().accessField(owner, field) : rule.orShould().accessField(owner, field);
      }
    }
    return rule;
  }
}
