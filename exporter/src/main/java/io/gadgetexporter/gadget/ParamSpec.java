package io.gadgetexporter.gadget;

import io.gadgetexporter.config.Units;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * A gadget parameter: a {@code const volatile} global of the BPF program, set before load (the
 * parameter name is the variable name), or a setting the agent itself reads for the gadget (how
 * often to read an aggregating gadget's maps, how many rows to keep): see {@link
 * GadgetInstance#agentParams}.
 *
 * @param defaultValue already converted to the parameter's Java type ({@link Long}, {@link
 *     Boolean}, {@link String} or {@link Duration})
 * @param min,max bounds of an integer; of a duration, in milliseconds
 */
public record ParamSpec(
    String name, Type type, Object defaultValue, Long min, Long max, String description) {

  /** The value kinds a parameter can have. */
  public enum Type {
    INT,
    UINT,
    BOOL,
    STRING,
    /** Written as the config file writes durations ({@code 500ms}, {@code 10s}, {@code 1m}). */
    DURATION;

    static Type parse(String text, String source, String path) {
      try {
        return valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new GadgetException(
            source + ": " + path + ".type: unknown type '" + text + "' (int, uint, bool, string, duration)");
      }
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ParamSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(defaultValue, "defaultValue");
  }

  static ParamSpec of(
      String name,
      Type type,
      Object rawDefault,
      Long min,
      Long max,
      String description,
      String source) {
    if (rawDefault == null) {
      throw new GadgetException(source + ": params." + name + ".default: is required");
    }
    ParamSpec unchecked = new ParamSpec(name, type, rawDefault, min, max, description);
    String problem = unchecked.problemWith(rawDefault);
    if (problem != null) {
      throw new GadgetException(source + ": params." + name + ".default: " + problem);
    }
    return new ParamSpec(name, type, unchecked.convert(rawDefault), min, max, description);
  }

  /**
   * Why {@code value} (a YAML scalar: Long/Integer, Double, Boolean or String) is not acceptable for
   * this parameter, or null when it is.
   */
  public String problemWith(Object value) {
    switch (type) {
      case INT, UINT -> {
        Long n = asLong(value);
        if (n == null) {
          return "must be an integer, got '" + value + "'";
        }
        if (type == Type.UINT && n < 0) {
          return "must not be negative, got " + n;
        }
        if (min != null && n < min) {
          return "must be at least " + min + ", got " + n;
        }
        if (max != null && n > max) {
          return "must be at most " + max + ", got " + n;
        }
        return null;
      }
      case BOOL -> {
        return value instanceof Boolean ? null : "must be true or false, got '" + value + "'";
      }
      case DURATION -> {
        Duration d;
        try {
          d = value instanceof String s ? Units.parseDuration(s) : null;
        } catch (IllegalArgumentException e) {
          return e.getMessage();
        }
        if (d == null) {
          return "must be a duration such as 10s, got '" + value + "'";
        }
        if (min != null && d.toMillis() < min) {
          return "must be at least " + displayBound(min) + ", got " + value;
        }
        if (max != null && d.toMillis() > max) {
          return "must be at most " + displayBound(max) + ", got " + value;
        }
        return null;
      }
      default -> {
        return value instanceof String ? null : "must be a string, got '" + value + "'";
      }
    }
  }

  /**
   * A parameter's value as the config file writes it and JSON carries it: a {@link Duration} as
   * {@code 500ms} or {@code 10s}, anything else ({@link Long}, {@link Boolean}, {@link String}) as
   * it is. The one form of every place that shows a value (the HTTP API, {@code gadgets}).
   */
  public static Object display(Object value) {
    return value instanceof Duration d ? Units.formatDuration(d) : value;
  }

  /**
   * A bound ({@link #min}, {@link #max}) in the form of {@link #display}: a duration's bound
   * (milliseconds) as a duration, an integer's as a {@link Long}; null when there is none.
   */
  public Object displayBound(Long bound) {
    return bound != null && type == Type.DURATION ? display(Duration.ofMillis(bound)) : bound;
  }

  /** Converts an acceptable value ({@link #problemWith} returned null) to the Java type. */
  public Object convert(Object value) {
    return switch (type) {
      case INT, UINT -> asLong(value);
      case DURATION -> Units.parseDuration((String) value);
      default -> value;
    };
  }

  private static Long asLong(Object value) {
    if (value instanceof Integer || value instanceof Long) {
      return ((Number) value).longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.decode(s.strip());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }
}
