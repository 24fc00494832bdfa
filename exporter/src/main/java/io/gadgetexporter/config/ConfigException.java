package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Everything wrong with a configuration, each problem with its file, line, column and key path.
 *
 * <p>The loader reports all the problems it finds in one pass, so the user fixes the file in one go
 * instead of one error per restart. {@link #getMessage()} has one problem per line, in the form
 * editors and CI logs recognise:
 *
 * <pre>
 * config.yaml:7:21: gadgets[1].ring_buffer.wakeup_bytes: must be smaller than ring_buffer.size (8MiB)
 * </pre>
 *
 * <p>It is unchecked: a bad configuration is not something a caller can recover from, only report.
 * The gadget runtime raises it too, for problems only it can see (an unknown gadget parameter), at
 * the location the loader kept — see {@link ParamValue#problem} and {@link InstanceConfig}.
 */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * One thing wrong with the configuration.
   *
   * @param keyPath where in the document, e.g. {@code gadgets[1].ring_buffer.size} (list indexes
   *     count from 0); empty when the problem is not about one key (a YAML syntax error)
   */
  public record Problem(ConfigLocation location, String keyPath, String message) {

    public Problem {
      requireNonNull(location, "location");
      requireNonNull(keyPath, "keyPath");
      requireNonNull(message, "message");
    }

    /** {@code file:line:column: key.path: message}, leaving out the parts that are empty. */
    @Override
    public String toString() {
      return location + ": " + (keyPath.isEmpty() ? "" : keyPath + ": ") + message;
    }
  }

  @SuppressWarnings("serial") // List.copyOf gives a serializable list; Problem need not be.
  private final List<Problem> problems;

  /**
   * @param problems at least one
   */
  public ConfigException(List<Problem> problems) {
    super(format(problems));
    this.problems = List.copyOf(problems);
  }

  /** A single problem at a known location; for callers outside the loader, like the runtime. */
  public static ConfigException at(ConfigLocation location, String keyPath, String message) {
    return new ConfigException(List.of(new Problem(location, keyPath, message)));
  }

  /** In document order (whole-file problems first). */
  public List<Problem> problems() {
    return problems;
  }

  private static String format(List<Problem> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
  }
}
