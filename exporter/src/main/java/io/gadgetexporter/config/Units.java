package io.gadgetexporter.config;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes ({@code 8MiB}) and durations ({@code 100ms}) as the config file writes them.
 *
 * <p>Sizes are binary only (B, KiB, MiB, GiB): the sizes configured here are ring buffers, which
 * the kernel wants in powers of two, and "MB" means 1000² to some readers and 1024² to others. So
 * {@code 8MB} is rejected with a hint rather than guessed. Numbers are whole: {@code 1.5s} is
 * written {@code 1500ms}, so every value means exactly one thing.
 *
 * <p>Parse failures throw {@link IllegalArgumentException} whose message is written for the user.
 */
public final class Units {

  static final long KIB = 1024;
  static final long MIB = 1024 * KIB;
  static final long GIB = 1024 * MIB;

  private static final Map<String, Long> SIZE_UNITS =
      Map.of("", 1L, "B", 1L, "KiB", KIB, "MiB", MIB, "GiB", GIB);
  private static final Pattern NUMBER_AND_UNIT =
      Pattern.compile("([0-9]+)(\\.[0-9]*)?\\s*([A-Za-z]*)");
  private static final String SIZE_FORMS = "a number of bytes, or a number with B, KiB, MiB or GiB";
  private static final String DURATION_FORMS = "a whole number with ms, s or m";

  private Units() {}

  static long parseSize(String text) {
    Matcher m = NUMBER_AND_UNIT.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size; write " + SIZE_FORMS + " (e.g. 8MiB)");
    }
    String number = m.group(1);
    String unit = m.group(3);
    if (m.group(2) != null) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a whole number; use a smaller unit (e.g. 1536KiB for 1.5MiB)");
    }
    Long multiplier = SIZE_UNITS.get(unit);
    if (multiplier == null) {
      throw new IllegalArgumentException(
          "unknown unit '"
              + unit
              + "' in '"
              + text
              + "'; sizes use B, KiB, MiB or GiB (powers of"
              + " 1024)"
              + binaryUnitHint(number, unit));
    }
    try {
      return Math.multiplyExact(Long.parseLong(number), multiplier);
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
  }

  /** "did you mean '8MiB'?" for 8MB, 8mb, 8M, 8mib and the like. */
  private static String binaryUnitHint(String number, String unit) {
    String binary =
        switch (Character.toUpperCase(unit.charAt(0))) {
          case 'K' -> "KiB";
          case 'M' -> "MiB";
          case 'G' -> "GiB";
          default -> null;
        };
    return binary == null || unit.length() > 3 ? "" : "; did you mean '" + number + binary + "'?";
  }

  /** The largest unit that states the size exactly: 8MiB, 4KiB, 1000B. */
  static String formatSize(long bytes) {
    for (String unit : new String[] {"GiB", "MiB", "KiB"}) {
      long multiplier = SIZE_UNITS.get(unit);
      if (bytes != 0 && bytes % multiplier == 0) {
        return bytes / multiplier + unit;
      }
    }
    return bytes + "B";
  }

  public static Duration parseDuration(String text) {
    Matcher m = NUMBER_AND_UNIT.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; write " + DURATION_FORMS + " (e.g. 250ms)");
    }
    String unit = m.group(3);
    if (m.group(2) != null) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a whole number; use a smaller unit (e.g. 1500ms for 1.5s)");
    }
    if (unit.isEmpty()) {
      throw new IllegalArgumentException(
          "'" + text + "' has no unit; write " + DURATION_FORMS + " (e.g. " + text.strip() + "ms)");
    }
    try {
      long amount = Long.parseLong(m.group(1));
      return switch (unit) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default ->
            throw new IllegalArgumentException(
                "unknown unit '" + unit + "' in '" + text + "'; durations use ms, s or m");
      };
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
  }

  /** The largest unit that states the duration exactly: 100ms, 1s, 2m. */
  public static String formatDuration(Duration duration) {
    long millis = duration.toMillis();
    if (millis != 0 && millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    if (millis != 0 && millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }
}
