package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.ConfigLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * The configuration overrides that the sampling options of a command stand for ({@code --backend},
 * {@code --sampler}, {@code --eta}, {@code --steps}), shared by {@code diffusion sample}, {@code eval},
 * {@code interpolate} and the commands of optional modules, so that an option means the same everywhere and
 * its errors name it.
 */
public final class SamplingOverrides {
  private SamplingOverrides() {}

  /**
   * The overrides of the options given (null for an option not given), after the {@code --set} ones. The names
   * ({@code --backend}, {@code --sampler}) are given as YAML strings, so that any text is a name (and an unknown one
   * is refused as such, with the names allowed), never YAML syntax.
   *
   * @param set the {@code --set KEY=VALUE} overrides
   * @param backend {@code --backend}, or null
   * @param sampler {@code --sampler}, or null
   * @param eta {@code --eta}, or null
   * @return the overrides
   * @throws BadInputException if {@code --eta} is negative or not finite (one for a sampler that takes no eta, such as
   *     {@code ddpm}, is refused where the sampler is made: {@code SamplerProvider.takesEta})
   */
  public static List<String> of(List<String> set, String backend, String sampler, Double eta) {
    if (eta != null) {
      // as typed where it can be: -1, not -1.0
      String typed = Double.isFinite(eta) ? java.math.BigDecimal.valueOf(eta).stripTrailingZeros().toString()
          : "" + eta;
      if (!(eta >= 0 && Double.isFinite(eta))) {
        throw new BadInputException("--eta " + typed + ": must be a finite number at least 0");
      }
    }
    List<String> all = new ArrayList<>(set);
    // the names are quoted: an override's value is read as YAML, so '--sampler @x' was a YAML syntax error and
    // '--sampler [ddim]' a list, where the user is owed 'unknown sampler ...; available: ...'
    if (backend != null) {
      all.add(ConfigLoader.stringOverride("backend", backend));
    }
    if (sampler != null) {
      all.add(ConfigLoader.stringOverride("sampling.sampler", sampler));
    }
    if (eta != null) {
      all.add("sampling.eta=" + eta);
    }
    return all;
  }

  /**
   * Refuses a {@code --set} of a key that the command takes from an option of its own, not from the checkpoint's
   * configuration ({@code sample}'s noise seed is {@code --seed}, its number of images {@code --count}): such a
   * {@code --set} was read and then dropped silently ({@code sample --set sampling.count=3} wrote 64 images).
   *
   * @param set the {@code --set KEY=VALUE} overrides
   * @param instead per key ({@code seed}, {@code sampling.count}), why the command does not take it and what to give
   *     instead; {@code VALUE} in it stands for the value of the {@code --set}
   * @throws BadInputException for the first such {@code --set}
   */
  public static void refuseTakenElsewhere(List<String> set, java.util.Map<String, String> instead) {
    for (String o : set) {
      int eq = o == null ? -1 : o.indexOf('=');
      String reason = eq < 0 ? null : instead.get(o.substring(0, eq).strip()); // as the overrides read the key
      if (reason != null) {
        throw new BadInputException("--set " + o + ": " + reason.replace("VALUE", o.substring(eq + 1).strip()));
      }
    }
  }

  /**
   * Refuses, for a command given samples drawn already ({@code eval --samples}, {@code spark eval --samples}), the
   * options and {@code --set}s that only say how samples are drawn: given, they would have no effect.
   *
   * @param parsed the command's parse result
   * @param options the command's drawing options ({@code --sampler}, {@code --steps}, ...)
   * @param set the {@code --set KEY=VALUE} overrides
   * @param samples the {@code --samples} path, for the message
   * @param where where the samples' drawing is recorded, for the message
   * @throws BadInputException for the first such option or {@code --set}
   */
  public static void refuseDrawingOptions(picocli.CommandLine.ParseResult parsed, List<String> options,
      List<String> set, java.nio.file.Path samples, String where) {
    String drawn = "not with --samples " + samples + ", whose samples are drawn already";
    for (String option : options) {
      if (parsed.hasMatchedOption(option)) {
        throw new BadInputException(option + ": " + drawn + " (" + where + ")");
      }
    }
    refuseTakenElsewhere(set, java.util.Map.of("sampling.sampler", drawn, "sampling.num_inference_steps", drawn,
        "sampling.eta", drawn, "backend", drawn));
  }

  /** The options that stand for a configuration key, with that key (demo's {@code --out-dir} too). */
  private static final java.util.Map<String, String> OPTION_KEYS = java.util.Map.of("--backend", "backend",
      "--sampler", "sampling.sampler", "--eta", "sampling.eta", "--out-dir", "output.dir");

  /**
   * An error message as the command line was typed: an error located at an override that one of the sampling
   * options stands for ({@code --set sampling.sampler=x: ...}) names the option ({@code --sampler x: ...}) where
   * the command line gave the option rather than that {@code --set}.
   *
   * @param message the one-line message
   * @param parsed the parsed command line (its innermost subcommand has the options)
   * @return the message, its location renamed where it applies
   */
  public static String asTyped(String message, picocli.CommandLine.ParseResult parsed) {
    picocli.CommandLine.ParseResult command = parsed;
    while (command.subcommand() != null) {
      command = command.subcommand();
    }
    List<String> sets = command.hasMatchedOption("--set")
        ? command.matchedOption("--set").getValue() : List.of();
    for (java.util.Map.Entry<String, String> e : OPTION_KEYS.entrySet()) {
      if (!command.hasMatchedOption(e.getKey())) {
        continue;
      }
      Object value = command.matchedOption(e.getKey()).getValue();
      String key = e.getValue();
      for (String override : List.of(key + "=" + value, ConfigLoader.stringOverride(key, String.valueOf(value)))) {
        String prefix = "--set " + override + ": ";
        if (message.startsWith(prefix) && !sets.contains(override)) {
          return e.getKey() + " " + value + ": " + message.substring(prefix.length());
        }
      }
    }
    return message;
  }

  /**
   * The overrides with {@code --steps N} added (the configured plan replaced by {@code N} steps).
   *
   * @param overrides the overrides so far
   * @param steps {@code --steps}, or null
   * @return the overrides
   * @throws BadInputException if {@code --steps} is less than 1
   */
  public static List<String> withSteps(List<String> overrides, Integer steps) {
    List<String> all = new ArrayList<>(overrides);
    if (steps != null) {
      if (steps < 1) {
        throw new BadInputException("--steps " + steps + ": must be at least 1");
      }
      all.add("sampling.num_inference_steps=" + steps);
      all.add("sampling.timesteps=[]");
    }
    return all;
  }

  /**
   * A configuration error caused by {@code --steps} (too many for the schedule), named by the option.
   *
   * @param steps {@code --steps}, or null
   * @param e an error from loading with {@link #withSteps}'s overrides
   * @return the error to throw
   */
  public static RuntimeException forSteps(Integer steps, RuntimeException e) {
    if (steps != null && e instanceof ConfigException c && c.path().startsWith("sampling.num_inference_steps")) {
      return new BadInputException("--steps " + steps + ": " + c.detail());
    }
    return e;
  }
}
