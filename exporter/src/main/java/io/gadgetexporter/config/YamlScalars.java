package io.gadgetexporter.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The type of a plain (unquoted) scalar, by the YAML 1.2 core schema.
 *
 * <p>The loader types scalars itself, after {@code ${ENV}} interpolation, rather than taking the
 * tag snakeyaml resolved from the text before it: {@code ${MAX_ARGS:-20}} must become the number
 * 20. The core schema is the YAML 1.2 one, so {@code yes}, {@code on} and {@code 010} (octal in
 * YAML 1.1) are not the surprises they were.
 */
final class YamlScalars {

  private static final Pattern NULL = Pattern.compile("~|null|Null|NULL|");
  private static final Pattern BOOL = Pattern.compile("true|True|TRUE|false|False|FALSE");
  private static final Pattern DECIMAL = Pattern.compile("[-+]?[0-9]+");
  private static final Pattern OCTAL = Pattern.compile("0o[0-7]+");
  private static final Pattern HEX = Pattern.compile("0x[0-9a-fA-F]+");
  private static final Pattern FLOAT =
      Pattern.compile("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  private static final Pattern INFINITY = Pattern.compile("[-+]?\\.(inf|Inf|INF)");
  private static final Pattern NAN = Pattern.compile("\\.(nan|NaN|NAN)");

  private YamlScalars() {}

  static boolean isNull(String plainText) {
    return NULL.matcher(plainText).matches();
  }

  /**
   * A Boolean, Long, Double or String. An integer too large for a long stays a String: its text is
   * kept exactly, for the runtime to read as its declared type (a u64, say).
   */
  static Object typed(String text) {
    if (BOOL.matcher(text).matches()) {
      return Boolean.parseBoolean(text.toLowerCase(Locale.ROOT));
    }
    try {
      if (DECIMAL.matcher(text).matches()) {
        return Long.parseLong(text);
      }
      if (OCTAL.matcher(text).matches()) {
        return Long.parseLong(text.substring(2), 8);
      }
      if (HEX.matcher(text).matches()) {
        return Long.parseLong(text.substring(2), 16);
      }
    } catch (NumberFormatException tooLarge) {
      return text;
    }
    if (FLOAT.matcher(text).matches()) {
      return Double.parseDouble(text);
    }
    if (INFINITY.matcher(text).matches()) {
      return text.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (NAN.matcher(text).matches()) {
      return Double.NaN;
    }
    return text;
  }
}
