package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Agent-wide settings of the metrics every instance makes.
 *
 * @param maxSeries the most series one metric of one instance keeps; measurements for new label
 *     values beyond it go to a single overflow series ({@code otel_metric_overflow="true"}) and are
 *     counted in {@code gadget_metric_series_overflow_total}
 * @param containerLabels the container attributes put on every event metric, in this order: an
 *     allow-list, so a cluster with many short-lived pods can drop {@code k8s.pod.name}
 * @param deletedContainerTtl how long the series of a container stay after it is gone, so the last
 *     counts are still scraped and pushed before they disappear
 * @param bpfStats whether the kernel times the gadgets' programs (a few nanoseconds per run), for
 *     {@code gadget_program_run_time_seconds_total}
 */
public record MetricsConfig(
    int maxSeries, List<String> containerLabels, Duration deletedContainerTtl, boolean bpfStats) {

  /** The container attributes on event metrics by default, in their usual order. */
  public static final List<String> CONTAINER_ATTRIBUTES =
      List.of("k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "container.name");

  /**
   * Every container attribute a metric label may carry: the defaults, and the pod's workload as
   * the Kubernetes API tells it (not by default: a pod's name already tells it, and each adds a
   * label to every series).
   */
  public static final List<String> ALLOWED_CONTAINER_ATTRIBUTES =
      List.of(
          "k8s.namespace.name",
          "k8s.pod.name",
          "k8s.container.name",
          "container.name",
          "k8s.deployment.name",
          "k8s.replicaset.name",
          "k8s.statefulset.name",
          "k8s.daemonset.name",
          "k8s.job.name",
          "k8s.cronjob.name");

  public static final int DEFAULT_MAX_SERIES = 2000;
  public static final Duration DEFAULT_DELETED_CONTAINER_TTL = Duration.ofMinutes(5);

  public static final MetricsConfig DEFAULT =
      new MetricsConfig(DEFAULT_MAX_SERIES, CONTAINER_ATTRIBUTES, DEFAULT_DELETED_CONTAINER_TTL, true);

  public MetricsConfig {
    requireNonNull(deletedContainerTtl, "deletedContainerTtl");
    containerLabels = List.copyOf(containerLabels);
    if (maxSeries < 2) {
      throw new IllegalArgumentException("maxSeries must be at least 2: " + maxSeries);
    }
  }

  static Optional<String> maxSeriesProblem(long n) {
    return n < 2 || n > 1_000_000
        ? Optional.of("must be from 2 (one series and the overflow series) to 1000000")
        : Optional.empty();
  }

  static Optional<String> containerLabelProblem(String label) {
    return ALLOWED_CONTAINER_ATTRIBUTES.contains(label)
        ? Optional.empty()
        : Optional.of(
            "'"
                + label
                + "' is not a container attribute; expected some of: "
                + String.join(", ", ALLOWED_CONTAINER_ATTRIBUTES));
  }

  static Optional<String> ttlProblem(Duration d) {
    return d.isNegative() ? Optional.of("must not be negative") : Optional.empty();
  }
}
