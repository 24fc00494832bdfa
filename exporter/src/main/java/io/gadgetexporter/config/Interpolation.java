package io.gadgetexporter.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code ${NAME}}, {@code ${NAME:-default}} and {@code $$} in scalar values, as in Docker Compose:
 * the same file then serves every node and environment, with the differences in the environment.
 *
 * <ul>
 *   <li>{@code ${NAME}}: the variable's value; unset is an error (an empty value is used as is).
 *   <li>{@code ${NAME:-default}}: the default when the variable is unset or empty.
 *   <li>{@code $$}: a literal {@code $}. A {@code $} followed by anything but <code>{</code> or
 *       {@code $} is also taken literally.
 * </ul>
 *
 * Nothing is nested and the result is not interpolated again, so a value can never expand into
 * something the user did not write.
 */
final class Interpolation {

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final String FORMS = "use ${NAME} or ${NAME:-default}, or $$ for a literal $";

  private final Map<String, String> environment;

  Interpolation(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  /**
   * @throws IllegalArgumentException naming every variable that is unset, or the malformed
   *     reference, in a message for the user
   */
  String apply(String text) {
    if (text.indexOf('$') < 0) {
      return text;
    }
    StringBuilder result = new StringBuilder(text.length());
    List<String> problems = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
      if (c == '$' && next == '$') {
        result.append('$');
        i += 2;
      } else if (c == '$' && next == '{') {
        int close = text.indexOf('}', i + 2);
        if (close < 0) {
          throw new IllegalArgumentException(
              "'" + text.substring(i) + "' is missing its closing '}'; " + FORMS);
        }
        String reference = text.substring(i + 2, close);
        String value = resolve(reference, problems);
        result.append(value == null ? "" : value);
        i = close + 1;
      } else {
        result.append(c);
        i++;
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return result.toString();
  }

  /** The value of the {@code NAME} or {@code NAME:-default} between the braces, or null. */
  private String resolve(String reference, List<String> problems) {
    int separator = reference.indexOf(":-");
    String name = separator < 0 ? reference : reference.substring(0, separator);
    String fallback = separator < 0 ? null : reference.substring(separator + 2);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "'${"
              + reference
              + "}' is not a variable reference; "
              + FORMS
              + " (NAME is letters, digits and '_')");
    }
    if (fallback != null && fallback.contains("${")) {
      throw new IllegalArgumentException(
          "'${" + reference + "}…': a default cannot contain another ${…}");
    }
    String value = environment.get(name);
    if (fallback != null && (value == null || value.isEmpty())) {
      return fallback;
    }
    if (value == null) {
      problems.add(
          "environment variable '"
              + name
              + "' is not set (give a default with ${"
              + name
              + ":-value})");
    }
    return value;
  }
}
