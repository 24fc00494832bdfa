package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * An instance's OTLP log records: one per event, named by the gadget's event name ({@code
 * process.exec}), attributes named by the OpenTelemetry semantic conventions.
 *
 * @param fields only these fields (names or semantic names), hidden ones allowed; empty: every
 *     visible field
 * @param exclude fields left out
 * @param body a template for the record's body: {@code {field}} is replaced by the field's text;
 *     empty: no body
 */
public record LogsConfig(
    boolean enabled,
    List<ConfigName> fields,
    List<ConfigName> exclude,
    Severity severity,
    Optional<ConfigName> body) {

  public static final LogsConfig OFF =
      new LogsConfig(false, List.of(), List.of(), Severity.INFO, Optional.empty());

  public static final LogsConfig ON =
      new LogsConfig(true, List.of(), List.of(), Severity.INFO, Optional.empty());

  public LogsConfig {
    fields = List.copyOf(fields);
    exclude = List.copyOf(exclude);
    requireNonNull(severity, "severity");
    requireNonNull(body, "body");
  }

  /** The OpenTelemetry severities a user may choose, with their numbers. */
  public enum Severity {
    TRACE(1),
    DEBUG(5),
    INFO(9),
    WARN(13),
    ERROR(17),
    FATAL(21);

    private final int number;

    Severity(int number) {
      this.number = number;
    }

    public int number() {
      return number;
    }

    static Severity parse(String text) {
      for (Severity s : values()) {
        if (s.name().equalsIgnoreCase(text.strip())) {
          return s;
        }
      }
      throw new IllegalArgumentException(
          "'" + text + "' is not a severity; expected trace, debug, info, warn, error or fatal");
    }
  }
}
