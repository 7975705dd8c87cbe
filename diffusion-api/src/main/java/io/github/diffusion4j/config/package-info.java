/**
 * Configuration: a YAML file read into immutable, validated records ({@link
 * io.github.diffusion4j.config.DiffusionConfig} and its sections). This is the only package that reads YAML: with
 * Jackson's streaming YAML parser into a located tree, bound by the package's own schema rather than by Jackson's
 * data binding, so that every error is one located line (docs/design.md, section 12). JSON files are read in
 * {@code io}, {@code runtime} and the command line's packages.
 *
 * <p>Each record declares its keys (path, type, default, allowed values and a one-line description) and
 * checks its values with them; one schema (package-private {@code Schema}) assembles them into the sections
 * and lists every key; binding, validation, the default configuration, the resolved YAML
 * written by {@link io.github.diffusion4j.config.ConfigWriter} and the documentation of {@link
 * io.github.diffusion4j.config.ConfigDocs} all come from it.
 *
 * <p>Every kind of bad input is reported by one exception, {@link
 * io.github.diffusion4j.config.ConfigException}, whose message is one line of the form
 * {@code file:line:col: key.path: message}, for example
 * {@code run.yaml:7:3: training.batch_size: must be at least 1, got 0}.
 *
 * <p>Entry points: {@link io.github.diffusion4j.config.ConfigLoader} (files, strings, bundled configs,
 * {@code --set} overrides), {@link io.github.diffusion4j.config.ConfigWriter}, {@link
 * io.github.diffusion4j.config.ConfigDocs}, and {@link io.github.diffusion4j.config.ConfigSection} for
 * sampler-specific options.
 */
package io.github.diffusion4j.config;
