package io.gadgetexporter.gadget;

import java.util.Locale;
import java.util.Objects;

/**
 * A gadget parameter: a {@code const volatile} global of the BPF program, set before load. The
 * parameter name is the variable name.
 *
 * @param defaultValue already converted to the parameter's Java type ({@link Long}, {@link Boolean}
 *     or {@link String})
 */
public record ParamSpec(
    String name, Type type, Object defaultValue, Long min, Long max, String description) {

  /** The value kinds a parameter can have. */
  public enum Type {
    INT,
    UINT,
    BOOL,
    STRING;

    static Type parse(String text, String source, String path) {
      try {
        return valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new GadgetException(
            source + ": " + path + ".type: unknown type '" + text + "' (int, uint, bool, string)");
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
      default -> {
        return value instanceof String ? null : "must be a string, got '" + value + "'";
      }
    }
  }

  /** Converts an acceptable value ({@link #problemWith} returned null) to the Java type. */
  public Object convert(Object value) {
    return switch (type) {
      case INT, UINT -> asLong(value);
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
