package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

/**
 * Where a value was written: the file and a 1-based line and column.
 *
 * <p>Every value read from the config file keeps one, so that a problem found later — by the gadget
 * runtime, which alone knows a gadget's parameters — can still point the user at the exact spot.
 * Line and column 0 stand for the file as a whole (it could not be read, for instance).
 *
 * @param file the path as it was given, or {@link ConfigLoader#EMBEDDED_DEFAULT}
 */
public record ConfigLocation(String file, int line, int column) {

  public ConfigLocation {
    requireNonNull(file, "file");
    if (line < 0 || column < 0) {
      throw new IllegalArgumentException("line and column must be >= 0: " + line + ":" + column);
    }
  }

  /** The file as a whole, for problems that have no position (an unreadable file). */
  public static ConfigLocation wholeFile(String file) {
    return new ConfigLocation(file, 0, 0);
  }

  public boolean isWholeFile() {
    return line == 0;
  }

  /** {@code file:line:column} (or {@code file}): the prefix editors and CI logs turn into links. */
  @Override
  public String toString() {
    return isWholeFile() ? file : file + ":" + line + ":" + column;
  }
}
