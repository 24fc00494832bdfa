package io.gadgetexporter.container.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host command to completion. Standard input is /dev/null and both outputs go to files,
 * never to pipes: `runc create` hands its own stdout and stderr to the container, which outlives
 * it, and a pipe would keep the reader waiting until the container exits.
 */
final class HostCommand {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private HostCommand() {}

  /**
   * Runs {@code argv} with its outputs truncated into {@code stdout} and {@code stderr}; throws an
   * AssertionError (with the stderr) if it is still running after {@code timeout}.
   */
  static CommandResult run(List<String> argv, Path stdout, Path stderr, Duration timeout) {
    long start = System.nanoTime();
    Process process;
    try {
      process =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(stdout.toFile())
              .redirectError(stderr.toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot run `"
              + String.join(" ", argv)
              + "` (is it installed? scripts/install-packages.sh test installs what the tests use)",
          e);
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        throw new AssertionError(
            result(argv, -1, stdout, stderr, start).describe()
                + "\n(killed: still running after "
                + timeout
                + ")");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + argv, e);
    }
    return result(argv, process.exitValue(), stdout, stderr, start);
  }

  private static CommandResult result(
      List<String> argv, int exitCode, Path stdout, Path stderr, long start) {
    return new CommandResult(
        argv, exitCode, read(stdout), read(stderr), Duration.ofNanos(System.nanoTime() - start));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
