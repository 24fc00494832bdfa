package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A metric an instance derives from its events.
 *
 * @param name the OpenTelemetry instrument name ({@code file.opens}); Prometheus shows it
 *     translated ({@code file_opens_total})
 * @param labels event fields (names or semantic names) whose values become attributes
 * @param containerLabels container attributes on the series; empty: those of {@code
 *     metrics.container_labels}
 * @param value the field measured; empty for a counter: one per event
 * @param buckets explicit histogram bucket boundaries, increasing
 */
public record MetricConfig(
    String name,
    Type type,
    String description,
    String unit,
    List<ConfigName> labels,
    Optional<List<String>> containerLabels,
    Optional<ConfigName> value,
    List<Double> buckets,
    String keyPath,
    ConfigLocation location) {

  /** Latencies in seconds, from 10 µs to 10 s. */
  public static final List<Double> DEFAULT_BUCKETS =
      List.of(
          0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0);

  /** OpenTelemetry's instrument name syntax. */
  static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.\\-/]{0,254}");

  /** What a metric does with each event. */
  public enum Type {
    /** Adds one, or the value, per event. */
    COUNTER,
    /** Records the value into buckets. */
    HISTOGRAM,
    /** Keeps the last value. */
    GAUGE;

    static Type parse(String text) {
      for (Type t : values()) {
        if (t.name().equalsIgnoreCase(text.strip())) {
          return t;
        }
      }
      throw new IllegalArgumentException(
          "'" + text + "' is not a metric type; expected counter, histogram or gauge");
    }
  }

  public MetricConfig {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
    requireNonNull(description, "description");
    requireNonNull(unit, "unit");
    labels = List.copyOf(labels);
    requireNonNull(containerLabels, "containerLabels");
    requireNonNull(value, "value");
    buckets = List.copyOf(buckets);
    requireNonNull(keyPath, "keyPath");
    requireNonNull(location, "location");
  }

  public ConfigException.Problem problem(String message) {
    return new ConfigException.Problem(location, keyPath, message);
  }
}
