package io.gadgetexporter.export;

import java.util.Map;

/** Conversions between the UCUM units fields and metrics are declared in. */
final class UnitScale {
  private static final Map<String, Double> TIME =
      Map.of("ns", 1e-9, "us", 1e-6, "ms", 1e-3, "s", 1.0, "min", 60.0, "h", 3600.0);
  private static final Map<String, Double> SIZE =
      Map.of("By", 1.0, "KiBy", 1024.0, "MiBy", 1024.0 * 1024, "GiBy", 1024.0 * 1024 * 1024,
          "KBy", 1e3, "MBy", 1e6, "GBy", 1e9);

  private UnitScale() {}

  /**
   * The factor turning a value in {@code from} into {@code to} ({@code ns} → {@code s}: 1e-9); 1
   * when either is unknown or they measure different things, so the value passes unchanged.
   */
  static double scale(String from, String to) {
    if (from == null || to == null || from.equals(to)) {
      return 1;
    }
    for (Map<String, Double> kind : java.util.List.of(TIME, SIZE)) {
      Double f = kind.get(from);
      Double t = kind.get(to);
      if (f != null && t != null) {
        return f / t;
      }
    }
    return 1;
  }
}
