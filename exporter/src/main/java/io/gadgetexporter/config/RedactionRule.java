package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * Rewrites part of a string field before any output sees it: every match of {@code pattern} is
 * replaced by {@code replacement} ({@code $1} refers to a group). For an argument list, each
 * argument is rewritten on its own.
 *
 * @param field a field name ({@code args}) or its semantic attribute name ({@code
 *     process.command_args})
 * @param keyPath where the rule is written, for messages
 */
public record RedactionRule(
    String field, Pattern pattern, String replacement, String keyPath, ConfigLocation location) {

  public static final String DEFAULT_REPLACEMENT = "[REDACTED]";

  public RedactionRule {
    requireNonNull(field, "field");
    requireNonNull(pattern, "pattern");
    requireNonNull(replacement, "replacement");
    requireNonNull(keyPath, "keyPath");
    requireNonNull(location, "location");
  }

  /** Whether this rule applies to a field with this name and semantic name. */
  public boolean appliesTo(String fieldName, String semanticName) {
    return field.equals(fieldName) || field.equals(semanticName);
  }

  public ConfigException.Problem problem(String message) {
    return new ConfigException.Problem(location, keyPath + ".field", message);
  }
}
