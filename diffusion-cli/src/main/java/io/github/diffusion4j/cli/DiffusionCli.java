package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.FileProblems;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code diffusion} command. Exit codes: 0 success, 1 failure, 2 bad input (one line on stderr, no
 * stack trace unless {@code --verbose}).
 */
@Command(name = "diffusion", mixinStandardHelpOptions = true, versionProvider = DiffusionCli.Version.class,
    description = "Train and sample denoising diffusion models (DDPM, DDIM) on ND4J or DJL/PyTorch.",
    subcommands = {DemoCommand.class, TrainCommand.class, SampleCommand.class, InterpolateCommand.class,
        EvalCommand.class, InfoCommand.class, ConfigCommand.class, DataCommand.class,
        ExportCommand.class, ConvertCommand.class}) // then spark and bench, and the tools last (run)
public final class DiffusionCli {
  /** Exit code for success. */
  public static final int OK = 0;
  /** Exit code for a failure while running. */
  public static final int FAILURE = 1;
  /** Exit code for bad input (arguments, files, configuration). */
  public static final int BAD_INPUT = 2;

  @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean verbose;

  private DiffusionCli() {}

  /**
   * Runs the command line.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    configureHome(System.getenv("HOME"));
    configureLogging(isVerbose(args));
    // standard output through a stream that keeps its first error: System.out swallows them, so a full disk
    // (config --bundled default > my.yaml) or a closed stdout lost the output and still exited 0
    RecordingStream stdout = new RecordingStream(new FileOutputStream(FileDescriptor.out));
    PrintWriter err = new PrintWriter(System.err, true);
    int code = run(args, new PrintWriter(stdout, true), err);
    System.exit(afterOutput(code, stdout.failure(),
        TrainingConsole.descriptorTarget(1).map(t -> t.startsWith("pipe:")).orElse(false), err));
  }

  /**
   * The exit code once the output is written: a failed write to standard output is reported and fails the
   * command, except a broken pipe (the reader has gone, as with {@code | head -1}: quiet, as SIGPIPE is).
   *
   * @param code the command's exit code
   * @param failure the first error writing standard output, or null
   * @param toPipe whether standard output is a pipe
   * @param err standard error
   * @return the exit code
   */
  static int afterOutput(int code, IOException failure, boolean toPipe, PrintWriter err) {
    // a write to a pipe fails only when its reader has gone (EPIPE), whose message is in the locale's words
    // ("Datenübergabe unterbrochen" under de_DE): a pipe's failure is quiet whatever it says
    if (failure == null || toPipe || "Broken pipe".equals(failure.getMessage())) {
      return code;
    }
    err.println("diffusion: cannot write to standard output: " + failure.getMessage());
    err.flush();
    return code == OK ? FAILURE : code;
  }

  /** An output stream that remembers the first error of the stream under it. */
  static final class RecordingStream extends FilterOutputStream {
    private volatile IOException failure;

    RecordingStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      try {
        out.write(b);
      } catch (IOException e) {
        throw record(e);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw record(e);
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        throw record(e);
      }
    }

    private IOException record(IOException e) {
      if (failure == null) {
        failure = e;
      }
      return e;
    }

    IOException failure() {
      return failure;
    }
  }

  /**
   * Quiet engine logs (ND4J's and DJL's start-up chatter) unless {@code --verbose}, and the library's warnings as a
   * level and the message ({@code WARN runs/x: resumed with changed settings: ...}, not {@code [main] WARN
   * io.github.diffusion4j.runtime.TrainingRun - runs/x: ...}; with {@code --verbose}, the logger's full lines); a
   * user's own {@code -Dorg.slf4j.simpleLogger.*} settings win.
   */
  static void configureLogging(boolean verbose) {
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.ai.djl", verbose ? "info" : "error");
    setIfAbsent("org.slf4j.simpleLogger.log.org.nd4j", verbose ? "info" : "error");
    if (!verbose) {
      setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
      setIfAbsent("org.slf4j.simpleLogger.showLogName", "false");
    }
    setIfAbsent("java.awt.headless", "true");
  }

  /**
   * A user without an entry in the password database ({@code docker run -u 1000}) has the home folder {@code ?}
   * in Java, and JavaCPP and DJL unpacked their native libraries (830 MB) into {@code ./?/.javacpp} and
   * {@code ./?/.djl.ai} under each working directory: there {@code $HOME}, where set, is the home folder.
   *
   * @param homeVariable the variable {@code HOME}, or null
   */
  static void configureHome(String homeVariable) {
    String home = System.getProperty("user.home");
    if ((home == null || home.isEmpty() || home.equals("?")) && homeVariable != null && !homeVariable.isEmpty()) {
      System.setProperty("user.home", homeVariable);
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /**
   * Runs the command line with given output streams (for tests).
   *
   * @param args the arguments
   * @param out standard output
   * @param err standard error
   * @return the exit code
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    DiffusionCli root = new DiffusionCli();
    CommandLine cl = new CommandLine(root);
    addExtensions(cl, err);
    OptionalCommands.addStandIns(cl);
    // the tools after every command, which --help lists in the order added (spark and bench came after help)
    cl.addSubcommand(picocli.AutoComplete.GenerateCompletion.class);
    cl.addSubcommand(CommandLine.HelpCommand.class);
    // a path Java cannot take is said in words (under the C locale, a name with a non-ASCII character: picocli's
    // own conversion said "cannot convert '...' to interface java.nio.file.Path (java.nio.file.InvalidPathException:
    // Malformed input or input contains unmappable characters: ...)")
    cl.registerConverter(Path.class, DiffusionCli::path);
    cl.setColorScheme(CommandLine.Help.defaultColorScheme(ansi(System.getenv("TERM"))));
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(ErrorReporting::exitCode);
    cl.setParameterExceptionHandler((ex, a) -> {
      String missing = missingOptionalCommand(cl, args);
      if (missing != null) {
        err.println("diffusion: '" + missing + "' needs " + OptionalCommands.NEEDS.get(missing));
        return BAD_INPUT;
      }
      err.println("diffusion: " + parameterError(ex));
      err.println("Try 'diffusion " + commandPath(ex.getCommandLine()) + "--help' for more information.");
      return BAD_INPUT;
    });
    cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
      err.println("diffusion: " + SamplingOverrides.asTyped(ErrorReporting.message(ex), parseResult));
      if (root.verbose || isVerbose(args)) {
        ex.printStackTrace(err);
      }
      return ErrorReporting.exitCode(ex);
    });
    try {
      return cl.execute(args);
    } catch (VirtualMachineError | LinkageError e) { // Errors, which picocli's handler above does not see: out of
      // memory, a stack overflow, a class or native library missing or of another version, in one line (it was Java's
      // "Exception in thread main" and a stack trace)
      err.println("diffusion: " + ErrorReporting.message(e));
      if (root.verbose || isVerbose(args)) {
        e.printStackTrace(err);
      }
      return FAILURE;
    } finally {
      out.flush();
      err.flush();
    }
  }

  /**
   * Whether help may be coloured: never on a terminal that cannot show colours ({@code TERM=dumb}, which got
   * escape sequences); elsewhere as picocli decides (a terminal, {@code NO_COLOR} unset).
   *
   * @param term the variable {@code TERM}, or null
   * @return the setting
   */
  static CommandLine.Help.Ansi ansi(String term) {
    return "dumb".equals(term) ? CommandLine.Help.Ansi.OFF : CommandLine.Help.Ansi.AUTO;
  }

  /**
   * Adds the subcommands of the {@link CommandExtension}s on the class path. One that cannot be loaded (its
   * module's own dependencies missing) is reported in one line and left out; the other commands work.
   */
  static void addExtensions(CommandLine cl, PrintWriter err) {
    ServiceLoader<CommandExtension> loader = ServiceLoader.load(CommandExtension.class);
    var it = loader.iterator();
    while (true) {
      String name = "?";
      try {
        if (!it.hasNext()) {
          break;
        }
        CommandExtension e = it.next();
        name = e.name();
        if (!cl.getSubcommands().containsKey(name)) {
          cl.addSubcommand(name, e.command());
        }
      } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
        err.println("diffusion: warning: the optional command '" + name + "' cannot be loaded ("
            + ErrorReporting.oneLine(String.valueOf(e.getMessage())) + "); it needs "
            + OptionalCommands.NEEDS.getOrDefault(name, "its module's dependencies on the class path"));
      }
    }
  }

  /** The optional command the arguments ask for first, if its module is not on the class path; else null. */
  private static String missingOptionalCommand(CommandLine root, String[] args) {
    for (String a : args) {
      if (!a.startsWith("-")) {
        CommandLine sub = root.getSubcommands().get(a);
        return OptionalCommands.NEEDS.containsKey(a) && (sub == null || OptionalCommands.isStandIn(sub)) ? a : null;
      }
    }
    return null;
  }

  /** An argument as a path; one Java cannot take is a conversion error in words ({@link FileProblems#describe}). */
  static Path path(String text) {
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new CommandLine.TypeConversionException("'" + text + "': " + FileProblems.describe(e));
    }
  }

  /**
   * The one-line message for a command-line error. An unknown option or command is named first, even when
   * picocli also found a required option missing (usually a consequence of the misspelling), and picocli's
   * suggestions are added.
   */
  static String parameterError(CommandLine.ParameterException ex) {
    CommandLine.ParameterException shown = ex;
    if (!(ex instanceof CommandLine.UnmatchedArgumentException)) {
      List<String> unmatched = ex.getCommandLine().getUnmatchedArguments();
      if (!unmatched.isEmpty()) {
        shown = new CommandLine.UnmatchedArgumentException(ex.getCommandLine(), unmatched);
      }
    }
    String message = ErrorReporting.oneLine(shown.getMessage());
    if (message.equals("Missing required subcommand")) { // picocli's, for a command that is only a group
      // a bare 'diffusion' (or 'diffusion -v'): the commands there are, as 'diffusion data' and 'diffusion spark' say
      List<String> names = shown.getCommandLine().getSubcommands().keySet().stream()
          .filter(n -> !n.equals("help") && !n.equals("generate-completion")).toList();
      message += ": " + String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }
    if (shown instanceof CommandLine.UnmatchedArgumentException u && !closeSuggestions(u).isEmpty()) {
      List<String> s = closeSuggestions(u);
      message += " (did you mean " + String.join(", ", s.subList(0, Math.min(3, s.size()))) + "?)";
    }
    String yaml = yamlWithoutDashC(shown);
    if (yaml != null) {
      message += "; give the configuration with -c: -c " + ShellWords.quote(yaml);
    }
    return message;
  }

  /**
   * Picocli's suggestions for an unmatched argument. For a misspelt command only the commands close to it by edit
   * distance, as keys and values are suggested ({@code samle}: sample; picocli's likeness also offered
   * generate-completion); an option's are left as picocli makes them.
   */
  private static List<String> closeSuggestions(CommandLine.UnmatchedArgumentException u) {
    List<String> unmatched = u.getUnmatched();
    if (unmatched.isEmpty() || unmatched.get(0).startsWith("-")) {
      return u.getSuggestions();
    }
    String word = unmatched.get(0);
    return u.getSuggestions().stream()
        .filter(s -> io.github.diffusion4j.config.Suggestions.closest(word, List.of(s)).isPresent()).toList();
  }

  /**
   * The first unmatched argument named like a YAML file where the command takes its configuration with {@code -c}
   * ({@code diffusion train my.yaml}); null otherwise.
   */
  private static String yamlWithoutDashC(CommandLine.ParameterException ex) {
    if (!(ex instanceof CommandLine.UnmatchedArgumentException u)
        || ex.getCommandLine().getCommandSpec().findOption("-c") == null) {
      return null;
    }
    CommandLine.ParseResult parsed = ex.getCommandLine().getParseResult();
    if (parsed != null && parsed.hasMatchedOption("-c")) {
      return null; // -c a.yaml b.yaml: the configuration is given; the second file is only unmatched
    }
    for (String a : u.getUnmatched()) {
      if (!a.startsWith("-") && isYamlName(a)) {
        return a;
      }
    }
    return null;
  }

  /** Whether a file name ends as a YAML configuration's does ({@code .yaml} or {@code .yml}, in any case). */
  static boolean isYamlName(String name) {
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    return lower.endsWith(".yaml") || lower.endsWith(".yml");
  }

  private static boolean isVerbose(String[] args) {
    for (String a : args) {
      if (a.equals("-v") || a.equals("--verbose")) {
        return true;
      }
    }
    return false;
  }

  private static String commandPath(CommandLine cl) {
    StringBuilder b = new StringBuilder();
    for (CommandLine c = cl; c != null && c.getParent() != null; c = c.getParent()) {
      b.insert(0, c.getCommandName() + " ");
    }
    return b.toString();
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = DiffusionCli.class.getPackage().getImplementationVersion();
      return new String[] {"diffusion4j " + (v == null ? "(development build)" : v),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
  }
}
