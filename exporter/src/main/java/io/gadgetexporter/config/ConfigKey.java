package io.gadgetexporter.config;

import java.util.Arrays;
import java.util.List;

/**
 * Every key the config file accepts, with its type and default as the reference documents them.
 *
 * <p>This is the one list: {@link ConfigReader} takes each mapping's known keys from here and
 * rejects the rest, and {@code ConfigDocumentationTest} checks that the key table of {@code
 * docs/configuration.md} has exactly these rows — so the code and its reference cannot drift apart.
 *
 * <p>A path names the keys of list items with {@code []}: {@code gadgets[].name}.
 */
enum ConfigKey {
  HTTP("http", "mapping", "—"),
  HTTP_LISTEN("http.listen", "host:port", HttpConfig.DEFAULT.listenAddress()),
  HTTP_TLS("http.tls", "mapping", "none (plain HTTP)"),
  HTTP_TLS_CERT_FILE("http.tls.cert_file", "path", "required"),
  HTTP_TLS_KEY_FILE("http.tls.key_file", "path", "required"),
  HTTP_TLS_CLIENT_CA_FILE("http.tls.client_ca_file", "path", "none (no client certificate asked)"),
  HTTP_BEARER_TOKEN("http.bearer_token", "string", "none (no token asked)"),
  HTTP_BEARER_TOKEN_FILE("http.bearer_token_file", "path", "none"),
  HTTP_UNIX_SOCKET("http.unix_socket", "path", "none (TCP only)"),
  HTTP_STREAM_QUEUE_EVENTS(
      "http.stream_queue_events",
      "integer",
      Integer.toString(HttpConfig.DEFAULT_STREAM_QUEUE_EVENTS)),
  CONTAINERS("containers", "mapping", "—"),
  CONTAINERS_ENABLED("containers.enabled", "boolean", "true"),
  CONTAINERS_RUNTIME_HOOK("containers.runtime_hook", "boolean", "true"),
  CONTAINERS_RUNTIME_PATHS(
      "containers.runtime_paths", "list of paths", "none (the well-known paths are always watched)"),
  CONTAINERS_RUNTIME_STATE_DIRS(
      "containers.runtime_state_dirs",
      "list of paths",
      "none (the well-known state dirs are always read)"),
  CONTAINERS_HOST_ROOT("containers.host_root", "path", "/"),
  CONTAINERS_RECONCILE_INTERVAL(
      "containers.reconcile_interval",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_RECONCILE_INTERVAL)),
  CONTAINERS_EXITED_GRACE_PERIOD(
      "containers.exited_grace_period",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_EXITED_GRACE_PERIOD)),
  CONTAINERS_HOOK_TIMEOUT(
      "containers.hook_timeout",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_HOOK_TIMEOUT)),
  OTLP("otlp", "mapping", "—"),
  OTLP_ENDPOINT("otlp.endpoint", "URL", "$OTEL_EXPORTER_OTLP_ENDPOINT, else none: nothing pushed"),
  OTLP_PROTOCOL("otlp.protocol", "http/protobuf or grpc", "$OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf"),
  OTLP_HEADERS("otlp.headers", "mapping of strings", "$OTEL_EXPORTER_OTLP_HEADERS, else none"),
  OTLP_COMPRESSION("otlp.compression", "gzip or none", "$OTEL_EXPORTER_OTLP_COMPRESSION, else gzip"),
  OTLP_TIMEOUT(
      "otlp.timeout",
      "duration",
      "$OTEL_EXPORTER_OTLP_TIMEOUT, else " + Units.formatDuration(OtlpConfig.DEFAULT_TIMEOUT)),
  OTLP_TLS("otlp.tls", "mapping", "—"),
  OTLP_TLS_CA_FILE("otlp.tls.ca_file", "path", "$OTEL_EXPORTER_OTLP_CERTIFICATE, else the system's CAs"),
  OTLP_TLS_CERT_FILE("otlp.tls.cert_file", "path", "$OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, else none"),
  OTLP_TLS_KEY_FILE("otlp.tls.key_file", "path", "$OTEL_EXPORTER_OTLP_CLIENT_KEY, else none"),
  OTLP_METRICS_INTERVAL(
      "otlp.metrics_interval",
      "duration",
      "$OTEL_METRIC_EXPORT_INTERVAL, else "
          + Units.formatDuration(OtlpConfig.DEFAULT_METRICS_INTERVAL)),
  OTLP_LOGS_QUEUE_SIZE(
      "otlp.logs_queue_size", "integer", Integer.toString(OtlpConfig.DEFAULT_LOGS_QUEUE_SIZE)),
  OTLP_LOGS_BATCH_SIZE(
      "otlp.logs_batch_size", "integer", Integer.toString(OtlpConfig.DEFAULT_LOGS_BATCH_SIZE)),
  OTLP_LOGS_INTERVAL(
      "otlp.logs_interval", "duration", Units.formatDuration(OtlpConfig.DEFAULT_LOGS_INTERVAL)),
  RESOURCE("resource", "mapping", "—"),
  RESOURCE_SERVICE_NAME(
      "resource.service_name", "string", "$OTEL_SERVICE_NAME, else gadget-exporter"),
  RESOURCE_NODE_NAME("resource.node_name", "string", "$NODE_NAME, else none"),
  RESOURCE_CLUSTER_NAME("resource.cluster_name", "string", "none"),
  RESOURCE_ATTRIBUTES(
      "resource.attributes", "mapping of strings", "none (plus $OTEL_RESOURCE_ATTRIBUTES)"),
  METRICS("metrics", "mapping", "—"),
  METRICS_MAX_SERIES(
      "metrics.max_series", "integer", Integer.toString(MetricsConfig.DEFAULT_MAX_SERIES)),
  METRICS_CONTAINER_LABELS(
      "metrics.container_labels",
      "list of strings",
      String.join(", ", MetricsConfig.CONTAINER_ATTRIBUTES)),
  METRICS_DELETED_CONTAINER_TTL(
      "metrics.deleted_container_ttl",
      "duration",
      Units.formatDuration(MetricsConfig.DEFAULT_DELETED_CONTAINER_TTL)),
  METRICS_BPF_STATS("metrics.bpf_stats", "boolean", "true"),
  KUBERNETES("kubernetes", "mapping", "—"),
  KUBERNETES_ENABLED("kubernetes.enabled", "auto, true or false", "auto"),
  KUBERNETES_KUBECONFIG(
      "kubernetes.kubeconfig",
      "path",
      "none: $KUBECONFIG or ~/.kube/config if there is one, else the service account"),
  KUBERNETES_NODE_NAME("kubernetes.node_name", "string", "resource.node_name ($NODE_NAME)"),
  KUBERNETES_SYNC_TIMEOUT(
      "kubernetes.sync_timeout",
      "duration",
      Units.formatDuration(KubernetesConfig.DEFAULT_SYNC_TIMEOUT)),
  KUBERNETES_POD_LABELS(
      "kubernetes.pod_labels",
      "list of strings",
      String.join(", ", KubernetesConfig.DEFAULT_POD_LABELS)),
  KUBERNETES_POD_ANNOTATIONS("kubernetes.pod_annotations", "list of strings", "none"),
  KUBERNETES_TRACES("kubernetes.traces", "boolean", "true"),
  KUBERNETES_TRACE_STATUS_INTERVAL(
      "kubernetes.trace_status_interval",
      "duration",
      Units.formatDuration(KubernetesConfig.DEFAULT_TRACE_STATUS_INTERVAL)),
  REDACT("redact", "list", "none"),
  REDACT_FIELD("redact[].field", "string", "required"),
  REDACT_PATTERN("redact[].pattern", "regular expression", "required"),
  REDACT_REPLACEMENT("redact[].replacement", "string", RedactionRule.DEFAULT_REPLACEMENT),
  GADGETS("gadgets", "list", "the default gadgets"),
  NAME("gadgets[].name", "string", "the gadget name"),
  GADGET("gadgets[].gadget", "string", "required"),
  PARAMS("gadgets[].params", "mapping of scalars", "the gadget's defaults"),
  SELECTOR("gadgets[].selector", "mapping", "everything, host processes included"),
  SELECTOR_NAMESPACES("gadgets[].selector.namespaces", "list of strings", "all"),
  SELECTOR_PODS("gadgets[].selector.pods", "list of strings", "all"),
  SELECTOR_CONTAINERS("gadgets[].selector.containers", "list of strings", "all"),
  SELECTOR_LABELS("gadgets[].selector.labels", "mapping of strings", "all"),
  SELECTOR_HOST(
      "gadgets[].selector.host", "boolean", "true when nothing else is selected, else false"),
  LOGS("gadgets[].logs", "boolean or mapping", "false"),
  LOGS_FIELDS("gadgets[].logs.fields", "list of strings", "every visible field"),
  LOGS_EXCLUDE("gadgets[].logs.exclude", "list of strings", "none"),
  LOGS_SEVERITY("gadgets[].logs.severity", "severity", "info"),
  LOGS_BODY("gadgets[].logs.body", "template", "none"),
  INSTANCE_METRICS("gadgets[].metrics", "list", "none (gadget_events_total is always there)"),
  METRIC_NAME("gadgets[].metrics[].name", "string", "required"),
  METRIC_TYPE("gadgets[].metrics[].type", "counter, histogram or gauge", "counter"),
  METRIC_DESCRIPTION("gadgets[].metrics[].description", "string", "none"),
  METRIC_UNIT("gadgets[].metrics[].unit", "string", "none"),
  METRIC_LABELS("gadgets[].metrics[].labels", "list of strings", "none"),
  METRIC_CONTAINER_LABELS(
      "gadgets[].metrics[].container_labels", "list of strings", "metrics.container_labels"),
  METRIC_VALUE(
      "gadgets[].metrics[].value", "string", "none: a counter counts events; required otherwise"),
  METRIC_BUCKETS(
      "gadgets[].metrics[].buckets", "list of numbers", "latencies in seconds, 10µs to 10s"),
  INSTANCE_OPTIONAL("gadgets[].optional", "boolean", "false"),
  INSTANCE_REDACT("gadgets[].redact", "list", "none"),
  INSTANCE_REDACT_FIELD("gadgets[].redact[].field", "string", "required"),
  INSTANCE_REDACT_PATTERN("gadgets[].redact[].pattern", "regular expression", "required"),
  INSTANCE_REDACT_REPLACEMENT(
      "gadgets[].redact[].replacement", "string", RedactionRule.DEFAULT_REPLACEMENT),
  RING_BUFFER("gadgets[].ring_buffer", "mapping", "—"),
  RING_BUFFER_SIZE(
      "gadgets[].ring_buffer.size", "size", Units.formatSize(RingBufferConfig.DEFAULT_SIZE_BYTES)),
  RING_BUFFER_WAKEUP_BYTES(
      "gadgets[].ring_buffer.wakeup_bytes",
      "size",
      Units.formatSize(RingBufferConfig.DEFAULT_WAKEUP_BYTES) + " (at most size/4)"),
  RING_BUFFER_DRAIN_INTERVAL(
      "gadgets[].ring_buffer.drain_interval",
      "duration",
      Units.formatDuration(RingBufferConfig.DEFAULT_DRAIN_INTERVAL));

  /** The sections whose keys are listed here: the document itself, and one per mapping key. */
  static final String ROOT = "";

  static final String INSTANCE = "gadgets[]";

  private final String path;
  private final String type;
  private final String defaultText;

  ConfigKey(String path, String type, String defaultText) {
    this.path = path;
    this.type = type;
    this.defaultText = defaultText;
  }

  String path() {
    return path;
  }

  String type() {
    return type;
  }

  /** The default as the reference states it; "required" for a key that has none. */
  String defaultText() {
    return defaultText;
  }

  boolean required() {
    return defaultText.equals("required");
  }

  /** The key as written in the file: {@code wakeup_bytes}. */
  String leaf() {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  /**
   * The path of the mapping this key belongs to: {@code gadgets[].ring_buffer}, or {@link #ROOT}.
   */
  String section() {
    int dot = path.lastIndexOf('.');
    return dot < 0 ? ROOT : path.substring(0, dot);
  }

  static List<ConfigKey> inSection(String section) {
    return Arrays.stream(values()).filter(key -> key.section().equals(section)).toList();
  }
}
