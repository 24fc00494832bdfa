package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The Kubernetes API ({@code kubernetes:}): pod metadata for the node's containers, and the Trace
 * resources.
 *
 * @param mode as written: {@code auto} (on in a cluster), {@code true} or {@code false}
 * @param enabled what {@code mode} came to when the config was read
 * @param why why it is on or off, for the log line at start ("auto: not in a cluster ...")
 * @param kubeconfig a kubeconfig file; empty: the in-cluster service account, else what fabric8
 *     finds ({@code $KUBECONFIG}, {@code ~/.kube/config})
 * @param nodeName the node whose pods are watched; present whenever {@code enabled}
 * @param syncTimeout how long readiness waits for the first list of the node's pods
 * @param podLabels the pod labels put on events as {@code k8s.pod.label.<key>}: keys, {@code *}
 *     matching any run of characters
 * @param podAnnotations the pod annotations put on events as {@code k8s.pod.annotation.<key>}
 * @param traces watch Trace resources (with the API on)
 * @param traceStatusInterval how often a node writes its counts into the Traces' status
 */
public record KubernetesConfig(
    Mode mode,
    boolean enabled,
    String why,
    Optional<Path> kubeconfig,
    Optional<String> nodeName,
    Duration syncTimeout,
    List<String> podLabels,
    List<String> podAnnotations,
    boolean traces,
    Duration traceStatusInterval) {

  /** {@code kubernetes.enabled}. */
  public enum Mode {
    AUTO,
    TRUE,
    FALSE;

    static Mode parse(String text) {
      return switch (text.strip().toLowerCase(Locale.ROOT)) {
        case "auto" -> AUTO;
        case "true" -> TRUE;
        case "false" -> FALSE;
        default -> throw new IllegalArgumentException("'" + text + "' is not auto, true or false");
      };
    }
  }

  /** Where Kubernetes mounts a pod's service-account token. */
  public static final Path SERVICE_ACCOUNT_TOKEN =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");

  public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_TRACE_STATUS_INTERVAL = Duration.ofSeconds(30);

  /** Well-known application labels: low cardinality, and what dashboards group by. */
  public static final List<String> DEFAULT_POD_LABELS =
      List.of(
          "app.kubernetes.io/name",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/component",
          "app.kubernetes.io/version",
          "app.kubernetes.io/part-of",
          "app",
          "k8s-app");

  public static final KubernetesConfig OFF =
      new KubernetesConfig(
          Mode.FALSE,
          false,
          "kubernetes.enabled is false",
          Optional.empty(),
          Optional.empty(),
          DEFAULT_SYNC_TIMEOUT,
          DEFAULT_POD_LABELS,
          List.of(),
          true,
          DEFAULT_TRACE_STATUS_INTERVAL);

  public KubernetesConfig {
    requireNonNull(mode, "mode");
    requireNonNull(why, "why");
    requireNonNull(kubeconfig, "kubeconfig");
    requireNonNull(nodeName, "nodeName");
    requireNonNull(syncTimeout, "syncTimeout");
    podLabels = List.copyOf(podLabels);
    podAnnotations = List.copyOf(podAnnotations);
    requireNonNull(traceStatusInterval, "traceStatusInterval");
    if (enabled && nodeName.isEmpty()) {
      throw new IllegalArgumentException("the Kubernetes API needs the node name");
    }
  }

  static Optional<String> syncTimeoutProblem(Duration d) {
    return d.isNegative() || d.compareTo(Duration.ofMinutes(10)) > 0
        ? Optional.of("must be from 0s to 10m")
        : Optional.empty();
  }

  static Optional<String> traceStatusIntervalProblem(Duration d) {
    return d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofMinutes(10)) > 0
        ? Optional.of("must be from 1s to 10m")
        : Optional.empty();
  }

  /** A label or annotation key, or a pattern of them. */
  static Optional<String> keyPatternProblem(String key) {
    if (key.isEmpty()) {
      return Optional.of("is empty; expected a label or annotation key such as app.kubernetes.io/name");
    }
    if (key.chars().anyMatch(Character::isWhitespace)) {
      return Optional.of("'" + key + "' holds a space; keys never do");
    }
    return Optional.empty();
  }
}
