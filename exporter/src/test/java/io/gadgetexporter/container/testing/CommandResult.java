package io.gadgetexporter.container.testing;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One run of a host command (runc, ctr): the exact argv, how it ended and what it printed. Failure
 * messages are built from {@link #describe()}, so they always carry the argv and the stderr.
 */
public record CommandResult(
    List<String> argv, int exitCode, String stdout, String stderr, Duration took) {

  public CommandResult {
    argv = List.copyOf(argv);
  }

  /** The argv as a shell would show it, arguments with spaces or quotes in single quotes. */
  public String commandLine() {
    return argv.stream().map(CommandResult::quote).collect(Collectors.joining(" "));
  }

  /** The command line, exit code, time taken and both outputs, for a failure message. */
  public String describe() {
    return "`"
        + commandLine()
        + "` exited with "
        + exitCode
        + " after "
        + took.toMillis()
        + " ms\n--- stderr:\n"
        + stderr.strip()
        + "\n--- stdout:\n"
        + stdout.strip();
  }

  /** Returns this if the command exited with 0, else throws an AssertionError that describes it. */
  public CommandResult requireSuccess() {
    if (exitCode != 0) {
      throw new AssertionError(describe());
    }
    return this;
  }

  private static String quote(String arg) {
    if (!arg.isEmpty() && arg.chars().noneMatch(c -> " '\"\\$;&|<>*?()".indexOf(c) >= 0)) {
      return arg;
    }
    return "'" + arg.replace("'", "'\\''") + "'";
  }
}
