package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * A runtime's file about a container could not be used: it is malformed, too large or unreadable.
 *
 * <p>Bad metadata is data, not a bug: the discovery code counts these by {@link #reason()} (a
 * short, stable label fit for a metric) and logs {@link #getMessage()}, which names the file and
 * what is wrong with it. A file that is simply absent is never this exception: the readers return
 * an empty result for it, because containers come and go while they are read.
 *
 * <p>It is unchecked, like the project's other exceptions; every method that throws it says so.
 */
public final class ContainerMetadataException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** What is wrong, as a stable label ({@link #label()}) for counting. */
  public enum Reason {
    /** An OCI {@code config.json} is not JSON, not an object, or has a field of the wrong type. */
    MALFORMED_CONFIG_JSON,
    /** An OCI {@code config.json} is larger than {@link OciConfig#MAX_BYTES}. */
    CONFIG_JSON_TOO_LARGE,
    /** {@link OciConfig#read} was given a {@code config.json} that does not exist. */
    MISSING_CONFIG_JSON,
    /** A runtime's state file (runc {@code state.json}, crun {@code status}) is not usable. */
    MALFORMED_STATE_JSON,
    /** A runtime's state file is larger than {@link RuntimeState#MAX_BYTES}. */
    STATE_JSON_TOO_LARGE,
    /** A pid file does not hold one positive number. */
    MALFORMED_PID_FILE,
    /** A file or directory exists but could not be read (permissions, not a regular file, I/O). */
    READ_FAILED;

    /** The reason in lower case, e.g. {@code malformed_config_json}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
      return label();
    }
  }

  private final Reason reason;
  private final String source;

  /**
   * @param source the file (or other origin) the problem is in; the message starts with it
   * @param problem what is wrong, in a few words
   */
  public ContainerMetadataException(Reason reason, String source, String problem) {
    this(reason, source, problem, null);
  }

  public ContainerMetadataException(
      Reason reason, String source, String problem, Throwable cause) {
    super(requireNonNull(source, "source") + ": " + requireNonNull(problem, "problem"), cause);
    this.reason = requireNonNull(reason, "reason");
    this.source = source;
  }

  public Reason reason() {
    return reason;
  }

  /** The file (or other origin) the problem is in, as given to the parser. */
  public String source() {
    return source;
  }
}
