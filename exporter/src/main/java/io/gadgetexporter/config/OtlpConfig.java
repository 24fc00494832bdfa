package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where and how OTLP (logs and metrics) is pushed. Each setting comes from the config file, else
 * from the standard {@code OTEL_EXPORTER_OTLP_*} environment variable, else its default: a
 * collector configured for every OpenTelemetry SDK by environment also configures the agent.
 *
 * @param endpoint the collector's base URL ({@code http://collector:4318} for HTTP, {@code
 *     http://collector:4317} for gRPC); empty: nothing is pushed, and that is not an error
 * @param logsEndpoint the full URL for logs when set apart ({@code OTEL_EXPORTER_OTLP_LOGS_ENDPOINT})
 * @param metricsEndpoint the full URL for metrics when set apart
 * @param headers sent with every export (an API key, a tenant id)
 * @param gzip whether request bodies are gzip-compressed
 * @param timeout the longest one export request may take
 * @param caFile PEM certificates to trust instead of the system's (a private CA)
 * @param certFile with {@code keyFile}: the client certificate for mutual TLS
 * @param metricsInterval how often metrics are pushed
 * @param logsQueueSize log records waiting for export at most; more are dropped and counted
 * @param logsBatchSize log records per export request at most
 * @param logsInterval the longest a log record waits before its batch is sent
 */
public record OtlpConfig(
    Optional<String> endpoint,
    Optional<String> logsEndpoint,
    Optional<String> metricsEndpoint,
    Protocol protocol,
    Map<String, String> headers,
    boolean gzip,
    Duration timeout,
    Optional<Path> caFile,
    Optional<Path> certFile,
    Optional<Path> keyFile,
    Duration metricsInterval,
    int logsQueueSize,
    int logsBatchSize,
    Duration logsInterval) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_METRICS_INTERVAL = Duration.ofSeconds(30);
  public static final int DEFAULT_LOGS_QUEUE_SIZE = 8192;
  public static final int DEFAULT_LOGS_BATCH_SIZE = 512;
  public static final Duration DEFAULT_LOGS_INTERVAL = Duration.ofSeconds(1);

  /** No endpoint: nothing pushed. */
  public static final OtlpConfig NONE =
      new OtlpConfig(
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Protocol.HTTP_PROTOBUF,
          Map.of(),
          true,
          DEFAULT_TIMEOUT,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          DEFAULT_METRICS_INTERVAL,
          DEFAULT_LOGS_QUEUE_SIZE,
          DEFAULT_LOGS_BATCH_SIZE,
          DEFAULT_LOGS_INTERVAL);

  /** The two OTLP transports. */
  public enum Protocol {
    HTTP_PROTOBUF("http/protobuf", 4318),
    GRPC("grpc", 4317);

    private final String text;
    private final int defaultPort;

    Protocol(String text, int defaultPort) {
      this.text = text;
      this.defaultPort = defaultPort;
    }

    /** As written in the config and in {@code OTEL_EXPORTER_OTLP_PROTOCOL}. */
    public String text() {
      return text;
    }

    public int defaultPort() {
      return defaultPort;
    }

    static Protocol parse(String text) {
      for (Protocol p : values()) {
        if (p.text.equals(text.strip().toLowerCase(Locale.ROOT))) {
          return p;
        }
      }
      if (text.strip().equals("http/json")) {
        throw new IllegalArgumentException(
            "'http/json' is not supported; use http/protobuf or grpc");
      }
      throw new IllegalArgumentException("'" + text + "' is not http/protobuf or grpc");
    }
  }

  public OtlpConfig {
    requireNonNull(endpoint, "endpoint");
    requireNonNull(logsEndpoint, "logsEndpoint");
    requireNonNull(metricsEndpoint, "metricsEndpoint");
    requireNonNull(protocol, "protocol");
    requireNonNull(timeout, "timeout");
    requireNonNull(caFile, "caFile");
    requireNonNull(certFile, "certFile");
    requireNonNull(keyFile, "keyFile");
    requireNonNull(metricsInterval, "metricsInterval");
    requireNonNull(logsInterval, "logsInterval");
    headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
  }

  /** Whether logs are pushed at all. */
  public boolean pushesLogs() {
    return endpoint.isPresent() || logsEndpoint.isPresent();
  }

  /** Whether metrics are pushed at all. */
  public boolean pushesMetrics() {
    return endpoint.isPresent() || metricsEndpoint.isPresent();
  }

  /**
   * The URL logs are sent to: the signal's own endpoint as given, else the base endpoint (with
   * {@code /v1/logs} appended for HTTP, as the OTLP exporter specification says).
   */
  public Optional<String> logsUrl() {
    return signalUrl(logsEndpoint, "/v1/logs");
  }

  /** The URL metrics are sent to; see {@link #logsUrl()}. */
  public Optional<String> metricsUrl() {
    return signalUrl(metricsEndpoint, "/v1/metrics");
  }

  private Optional<String> signalUrl(Optional<String> own, String httpPath) {
    if (own.isPresent()) {
      return own;
    }
    return endpoint.map(
        base ->
            protocol == Protocol.GRPC
                ? base
                : base.replaceAll("/+$", "") + httpPath);
  }

  static Optional<String> endpointProblem(String url) {
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      return Optional.of(
          "'" + url + "' is not an http:// or https:// URL, e.g. http://otel-collector:4318");
    }
    try {
      java.net.URI uri = new java.net.URI(url);
      if (uri.getHost() == null) {
        return Optional.of("'" + url + "' has no host");
      }
    } catch (java.net.URISyntaxException e) {
      return Optional.of("'" + url + "' is not a valid URL: " + e.getReason());
    }
    return Optional.empty();
  }

  static Optional<String> positiveDurationProblem(Duration d) {
    return d.isZero() || d.isNegative() ? Optional.of("must be more than 0") : Optional.empty();
  }
}
