package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One gadget parameter as the config file gives it, not yet checked.
 *
 * <p>Only the gadget runtime knows which parameters a gadget declares (in its {@code gadget.yaml})
 * and their types and ranges, so the loader keeps the value as YAML typed it, its text, and where
 * it was written. The runtime checks it and, when it is wrong, throws {@link #problem} so the user
 * sees the same {@code file:line:column: key: message} as for any other config error.
 *
 * @param key the parameter name as written
 * @param value a {@link String}, {@link Long}, {@link Double} or {@link Boolean}: YAML 1.2 core
 *     schema typing of a plain scalar ({@code 20} is a Long, {@code "20"} a String). Integers that
 *     do not fit a long stay Strings.
 * @param rawText the scalar's text after {@code ${ENV}} interpolation; parse this when the declared
 *     type wants another reading than YAML's (a string parameter given as {@code 0755}, a u64)
 * @param keyPath e.g. {@code gadgets[0].params.max_args}
 */
public record ParamValue(
    String key, Object value, String rawText, String keyPath, ConfigLocation location) {

  public ParamValue {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    requireNonNull(rawText, "rawText");
    requireNonNull(keyPath, "keyPath");
    requireNonNull(location, "location");
    if (!(value instanceof String
        || value instanceof Long
        || value instanceof Double
        || value instanceof Boolean)) {
      throw new IllegalArgumentException(
          "value must be a String, Long, Double or Boolean: " + value.getClass().getName());
    }
  }

  /**
   * A problem with this value, at its location: e.g. {@code problem("unknown parameter 'max_arg' for
   * gadget trace_exec (declared: max_args)")}. Collect several and throw them together with {@link
   * ConfigException#ConfigException(List)}, or throw one with {@link #error}.
   */
  public ConfigException.Problem problem(String message) {
    return new ConfigException.Problem(location, keyPath, message);
  }

  /** {@link #problem} as an exception, ready to throw. */
  public ConfigException error(String message) {
    return new ConfigException(List.of(problem(message)));
  }
}
