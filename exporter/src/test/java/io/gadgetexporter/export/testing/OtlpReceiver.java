package io.gadgetexporter.export.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A real OTLP receiver for tests, on 127.0.0.1: what a collector would see of the agent's export,
 * decoded with the official protobuf schema, so tests assert on the wire format and not on the
 * SDK's in-memory objects.
 *
 * <p>One port serves both transports the OpenTelemetry exporters use:
 *
 * <ul>
 *   <li>OTLP/HTTP protobuf: {@code POST /v1/logs}, {@code /v1/metrics} and {@code /v1/traces}
 *       (answered, not kept), {@code Content-Encoding: gzip} understood;
 *   <li>OTLP/gRPC: HTTP/2, cleartext with prior knowledge (what the exporters send to {@code
 *       http://host:port}) or over TLS with ALPN; the gRPC framing (compressed flag, big-endian
 *       length) and {@code grpc-encoding: gzip} are handled by hand, since the proto jar's service
 *       stubs need grpc-java, which the agent does not use.
 * </ul>
 *
 * <p>A test can make it fail ({@link #failing(boolean)}: HTTP 503, gRPC 14 UNAVAILABLE, both
 * retryable for the exporters), slow ({@link #delay(Duration)}), or go away and come back on the
 * same port ({@link #stop()}, {@link #start()}). Data is kept only from requests it answered with
 * success, as a collector would; every request is kept with its headers and its answer.
 *
 * <p>Thread-safe: Vert.x event loops add, tests read copies and poll with the {@code await}
 * methods, which fail with what was received.
 */
public final class OtlpReceiver implements AutoCloseable {
  public static final String LOGS_GRPC_PATH =
      "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  public static final String METRICS_GRPC_PATH =
      "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
  public static final String TRACES_GRPC_PATH =
      "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

  /** gRPC status codes the receiver answers with. */
  public static final int GRPC_OK = 0;

  public static final int GRPC_INVALID_ARGUMENT = 3;
  public static final int GRPC_UNIMPLEMENTED = 12;
  public static final int GRPC_UNAVAILABLE = 14;

  private static final Duration POLL = Duration.ofMillis(20);
  private static final int SHOWN = 20;

  /** The two OTLP transports. */
  public enum Protocol {
    HTTP_PROTOBUF,
    GRPC
  }

  /** What the request carried. */
  public enum Signal {
    LOGS,
    METRICS,
    TRACES,
    UNKNOWN
  }

  /**
   * One request as received and answered.
   *
   * @param headers names in lower case (HTTP/2 sends them so; HTTP/1.1 names are folded)
   * @param compressed whether the body was gzip-compressed (HTTP {@code Content-Encoding} or the
   *     gRPC frame's flag)
   * @param bodyBytes the size of the body on the wire
   * @param status the HTTP status answered, or for gRPC the {@code grpc-status}
   * @param clientCertificate the subject of the client's certificate under mutual TLS, else null
   * @param error why the request was refused (undecodable, wrong content type...), else null
   */
  public record ReceivedRequest(
      Protocol protocol,
      Signal signal,
      String method,
      String path,
      String httpVersion,
      Map<String, List<String>> headers,
      boolean tls,
      String clientCertificate,
      boolean compressed,
      int bodyBytes,
      int status,
      String error) {

    /** The first value of a header (case-insensitive name), or null. */
    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Whether the receiver answered with success. */
    public boolean accepted() {
      return protocol == Protocol.GRPC ? status == GRPC_OK : status == 200;
    }

    @Override
    public String toString() {
      return protocol
          + " "
          + method
          + " "
          + path
          + " "
          + httpVersion
          + (tls ? " tls" : "")
          + (compressed ? " gzip" : "")
          + " "
          + bodyBytes
          + " B -> "
          + status
          + (error == null ? "" : " (" + error + ")");
    }
  }

  /** One log record with what the OTLP envelope says about it: resource and scope. */
  public record ReceivedLog(Map<String, Object> resource, String scope, LogRecord record) {
    public Map<String, Object> attributes() {
      return OtlpReceiver.attributes(record.getAttributesList());
    }

    /** The body as a Java value (see {@link OtlpReceiver#value(AnyValue)}). */
    public Object body() {
      return value(record.getBody());
    }

    public String eventName() {
      return record.getEventName();
    }

    @Override
    public String toString() {
      return scope
          + " "
          + record.getSeverityText()
          + (eventName().isEmpty() ? "" : " event=" + eventName())
          + " body="
          + body()
          + " attributes="
          + attributes()
          + " resource="
          + resource;
    }
  }

  /**
   * One metric of one export: cumulative metrics come again at each export, so the latest one with
   * a name holds the current values.
   */
  public record ReceivedMetric(Map<String, Object> resource, String scope, Metric metric) {
    public String name() {
      return metric.getName();
    }

    /** The points of a sum or a gauge, else an empty list. */
    public List<NumberDataPoint> numberPoints() {
      if (metric.hasSum()) {
        return metric.getSum().getDataPointsList();
      }
      return metric.hasGauge() ? metric.getGauge().getDataPointsList() : List.of();
    }

    public List<HistogramDataPoint> histogramPoints() {
      return metric.hasHistogram() ? metric.getHistogram().getDataPointsList() : List.of();
    }

    /**
     * The sum of the values of the number points whose attributes include all of {@code subset}
     * (like PromQL's {@code sum(m{...})}); empty if no point matches.
     */
    public OptionalDouble total(Map<String, ?> subset) {
      List<NumberDataPoint> matching =
          numberPoints().stream()
              .filter(p -> includes(attributes(p.getAttributesList()), subset))
              .toList();
      if (matching.isEmpty()) {
        return OptionalDouble.empty();
      }
      return OptionalDouble.of(matching.stream().mapToDouble(OtlpReceiver::value).sum());
    }

    @Override
    public String toString() {
      String points =
          numberPoints().stream()
              .map(p -> attributes(p.getAttributesList()) + "=" + value(p))
              .collect(Collectors.joining(", "));
      String histograms =
          histogramPoints().stream()
              .map(p -> attributes(p.getAttributesList()) + " count=" + p.getCount())
              .collect(Collectors.joining(", "));
      return name() + " [" + metric.getDataCase() + "] " + points + histograms;
    }
  }

  private final Vertx vertx = Vertx.vertx();
  private final TestCertificates tls;
  private final boolean requireClientCertificate;
  private final Object lock = new Object();
  private final List<ReceivedRequest> requests = new ArrayList<>();
  private final List<ReceivedLog> logs = new ArrayList<>();
  private final List<ReceivedMetric> metrics = new ArrayList<>();
  private final AtomicInteger failNext = new AtomicInteger();
  private volatile boolean failing;
  private volatile Duration delay = Duration.ZERO;
  private volatile HttpServer server;
  private int port;

  private OtlpReceiver(Builder builder) {
    this.port = builder.port;
    this.tls = builder.tls;
    this.requireClientCertificate = builder.requireClientCertificate;
  }

  /** A plaintext receiver on a free port, started. */
  public static OtlpReceiver create() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options fixed for the receiver's life. */
  public static final class Builder {
    private int port;
    private TestCertificates tls;
    private boolean requireClientCertificate;

    private Builder() {}

    /** A given port; by default a free one, kept across {@link #stop()} and {@link #start()}. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Serves TLS with the certificates' server certificate (clients trust their CA). */
    public Builder tls(TestCertificates certificates) {
      this.tls = certificates;
      return this;
    }

    /** Mutual TLS: refuses clients without a certificate signed by the certificates' CA. */
    public Builder requireClientCertificate() {
      this.requireClientCertificate = true;
      return this;
    }

    /** Builds the receiver and starts it. */
    public OtlpReceiver start() {
      if (requireClientCertificate && tls == null) {
        throw new IllegalStateException("a client certificate can only be required with tls(...)");
      }
      OtlpReceiver receiver = new OtlpReceiver(this);
      try {
        receiver.start();
      } catch (RuntimeException e) {
        receiver.close();
        throw e;
      }
      return receiver;
    }
  }

  /**
   * Starts listening, on the same port as before if it ran already: a collector coming back.
   * Received data is kept.
   */
  public synchronized void start() {
    if (server != null) {
      throw new IllegalStateException("already listening on " + port);
    }
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost("127.0.0.1")
            .setPort(port)
            // HTTP/1.1 and HTTP/2 with prior knowledge (or h2c upgrade) on one cleartext port.
            .setHttp2ClearTextEnabled(true);
    if (tls != null) {
      options
          .setSsl(true)
          .setUseAlpn(true)
          .setKeyCertOptions(
              new PemKeyCertOptions()
                  .setCertPath(tls.serverCertificate().toString())
                  .setKeyPath(tls.serverKey().toString()));
      if (requireClientCertificate) {
        options
            .setClientAuth(ClientAuth.REQUIRED)
            .setTrustOptions(new PemTrustOptions().addCertPath(tls.caCertificate().toString()));
      }
    }
    HttpServer started =
        vertx.createHttpServer(options).requestHandler(this::handle).listen().await();
    port = started.actualPort();
    server = started;
  }

  /** Stops listening and closes open connections: the collector goes down. Idempotent. */
  public synchronized void stop() {
    HttpServer running = server;
    server = null;
    if (running != null) {
      running.close().await();
    }
  }

  public boolean isRunning() {
    return server != null;
  }

  @Override
  public void close() {
    try {
      stop();
    } finally {
      vertx.close().await();
    }
  }

  public int port() {
    return port;
  }

  /**
   * The base URL for OTLP/HTTP, {@code http://127.0.0.1:PORT} ({@code https} with TLS); the
   * exporters want the full URL, see {@link #logsUrl()} and {@link #metricsUrl()}.
   */
  public String httpEndpoint() {
    return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  /** The OTLP/gRPC endpoint: the same port as {@link #httpEndpoint()}. */
  public String grpcEndpoint() {
    return httpEndpoint();
  }

  public String logsUrl() {
    return httpEndpoint() + "/v1/logs";
  }

  public String metricsUrl() {
    return httpEndpoint() + "/v1/metrics";
  }

  /**
   * While true, every request is refused: HTTP 503, gRPC status 14 UNAVAILABLE in the response
   * headers (trailers-only, where the exporters look for a retryable status).
   */
  public OtlpReceiver failing(boolean failing) {
    this.failing = failing;
    return this;
  }

  /** Refuses the next {@code count} requests as {@link #failing(boolean)} does, then accepts. */
  public OtlpReceiver failNext(int count) {
    failNext.set(count);
    return this;
  }

  /**
   * Answers every request this late (data is kept when answered): a slow collector, or with a delay
   * above the exporter's timeout, one that times out.
   */
  public OtlpReceiver delay(Duration delay) {
    this.delay = Objects.requireNonNull(delay);
    return this;
  }

  /** Forgets what was received (requests, logs, metrics), e.g. between phases of a test. */
  public void clear() {
    synchronized (lock) {
      requests.clear();
      logs.clear();
      metrics.clear();
    }
  }

  public List<ReceivedRequest> requests() {
    synchronized (lock) {
      return List.copyOf(requests);
    }
  }

  /** The log records of all accepted requests, in arrival order. */
  public List<ReceivedLog> logs() {
    synchronized (lock) {
      return List.copyOf(logs);
    }
  }

  /** The metrics of all accepted requests, in arrival order (one per metric per export). */
  public List<ReceivedMetric> metrics() {
    synchronized (lock) {
      return List.copyOf(metrics);
    }
  }

  public int logCount() {
    synchronized (lock) {
      return logs.size();
    }
  }

  public int requestCount() {
    synchronized (lock) {
      return requests.size();
    }
  }

  /** The metrics with that name, in arrival order. */
  public List<ReceivedMetric> metrics(String name) {
    return metrics().stream().filter(m -> m.name().equals(name)).toList();
  }

  /**
   * Waits until at least {@code count} received log records match, and returns those that do.
   *
   * @throws AssertionError on timeout, with what was received
   */
  public List<ReceivedLog> awaitLogs(
      Predicate<? super ReceivedLog> matching, int count, Duration timeout) {
    return await(
        () -> {
          List<ReceivedLog> found =
              logs().stream().filter(matching).map(l -> (ReceivedLog) l).toList();
          return found.size() >= count ? found : null;
        },
        timeout,
        () -> "at least " + count + " matching log records");
  }

  /** Waits until at least one received log record matches, and returns those that do. */
  public List<ReceivedLog> awaitLogs(Predicate<? super ReceivedLog> matching, Duration timeout) {
    return awaitLogs(matching, 1, timeout);
  }

  /**
   * Waits until a metric with that name matches and returns the latest one that does (the current
   * value of a cumulative metric).
   *
   * @throws AssertionError on timeout, with what was received
   */
  public ReceivedMetric awaitMetric(
      String name, Predicate<? super ReceivedMetric> matching, Duration timeout) {
    return await(
        () -> {
          List<ReceivedMetric> named = metrics(name);
          for (int i = named.size() - 1; i >= 0; i--) {
            if (matching.test(named.get(i))) {
              return named.get(i);
            }
          }
          return null;
        },
        timeout,
        () -> "a matching metric " + name);
  }

  /** Waits until a request matches and returns the first that does. */
  public ReceivedRequest awaitRequest(
      Predicate<? super ReceivedRequest> matching, Duration timeout) {
    return await(
        () -> requests().stream().filter(matching).findFirst().orElse(null),
        timeout,
        () -> "a matching request");
  }

  /** What was received, for failure messages: the latest requests, log records and metrics. */
  public String describe() {
    List<ReceivedRequest> requestsNow = requests();
    List<ReceivedLog> logsNow = logs();
    Map<String, ReceivedMetric> latest = new TreeMap<>();
    Map<String, Integer> exports = new TreeMap<>();
    for (ReceivedMetric m : metrics()) {
      latest.put(m.name(), m);
      exports.merge(m.name(), 1, Integer::sum);
    }
    StringBuilder out = new StringBuilder();
    out.append("OTLP receiver on ")
        .append(httpEndpoint())
        .append(isRunning() ? "" : " (stopped)")
        .append(failing ? " (failing)" : "")
        .append(delay.isZero() ? "" : " (delay " + delay.toMillis() + " ms)")
        .append('\n');
    out.append(requestsNow.size()).append(" requests").append(tail(requestsNow)).append('\n');
    out.append(logsNow.size()).append(" log records").append(tail(logsNow)).append('\n');
    out.append(latest.size()).append(" metric names, latest of each:");
    latest.forEach(
        (name, m) -> out.append("\n  (").append(exports.get(name)).append(" exports) ").append(m));
    return out.toString();
  }

  /** Attributes as a map: see {@link #value(AnyValue)} for the value types. */
  public static Map<String, Object> attributes(List<KeyValue> keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (KeyValue kv : keyValues) {
      map.put(kv.getKey(), value(kv.getValue()));
    }
    return Collections.unmodifiableMap(map);
  }

  /**
   * An OTLP value as Java: String, Boolean, Long, Double, List (array), Map (kvlist), byte[], or
   * null when unset.
   */
  public static Object value(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case BOOL_VALUE -> value.getBoolValue();
      case INT_VALUE -> value.getIntValue();
      case DOUBLE_VALUE -> value.getDoubleValue();
      case ARRAY_VALUE ->
          value.getArrayValue().getValuesList().stream()
              .map(OtlpReceiver::value)
              .collect(Collectors.toUnmodifiableList());
      case KVLIST_VALUE -> attributes(value.getKvlistValue().getValuesList());
      case BYTES_VALUE -> value.getBytesValue().toByteArray();
      case STRING_VALUE_STRINDEX -> "strindex:" + value.getStringValueStrindex();
      case VALUE_NOT_SET -> null;
    };
  }

  /** A number point's value, whichever of int or double it holds. */
  public static double value(NumberDataPoint point) {
    return point.hasAsInt() ? point.getAsInt() : point.getAsDouble();
  }

  private static boolean includes(Map<String, Object> attributes, Map<String, ?> subset) {
    return subset.entrySet().stream()
        .allMatch(e -> Objects.equals(attributes.get(e.getKey()), normalize(e.getValue())));
  }

  /** Lets tests write {@code Map.of("n", 1)} for an int attribute, which OTLP carries as a long. */
  private static Object normalize(Object value) {
    return value instanceof Integer i ? Long.valueOf(i) : value;
  }

  private <T> T await(Supplier<T> probe, Duration timeout, Supplier<String> what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T found = probe.get();
      if (found != null) {
        return found;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after "
                + timeout.toMillis()
                + " ms waiting for "
                + what.get()
                + "\n"
                + describe());
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what.get(), e);
      }
    }
  }

  private static String tail(List<?> items) {
    if (items.isEmpty()) {
      return "";
    }
    int from = Math.max(0, items.size() - SHOWN);
    String shown =
        items.subList(from, items.size()).stream()
            .map(i -> "\n  " + i)
            .collect(Collectors.joining());
    return (from > 0 ? ", the last " + SHOWN + ":" : ":") + shown;
  }

  // ---- serving ----

  private void handle(HttpServerRequest request) {
    request
        .body()
        .onSuccess(body -> answer(request, body))
        .onFailure(e -> request.response().setStatusCode(400).end(String.valueOf(e)));
  }

  /** The request as parsed, and what to answer. */
  private record Exchange(
      Protocol protocol,
      Signal signal,
      boolean compressed,
      byte[] payload,
      int status,
      String error) {}

  private void answer(HttpServerRequest request, Buffer body) {
    Exchange exchange = parse(request, body);
    if (exchange.error == null && (failing || failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0)) {
      int status = exchange.protocol == Protocol.GRPC ? GRPC_UNAVAILABLE : 503;
      exchange =
          new Exchange(
              exchange.protocol, exchange.signal, exchange.compressed, null, status, "fail mode");
    }
    Exchange decided = exchange;
    long delayMillis = delay.toMillis();
    if (delayMillis > 0) {
      vertx.setTimer(delayMillis, id -> respond(request, body, decided));
    } else {
      respond(request, body, decided);
    }
  }

  private Exchange parse(HttpServerRequest request, Buffer body) {
    String path = request.path();
    String contentType = String.valueOf(request.getHeader("content-type"));
    if (!contentType.startsWith("application/grpc")) {
      return parseHttp(request, body, path, contentType);
    }
    Signal signal =
        switch (path) {
          case LOGS_GRPC_PATH -> Signal.LOGS;
          case METRICS_GRPC_PATH -> Signal.METRICS;
          case TRACES_GRPC_PATH -> Signal.TRACES;
          default -> Signal.UNKNOWN;
        };
    if (signal == Signal.UNKNOWN) {
      return grpcError(signal, false, GRPC_UNIMPLEMENTED, "no such OTLP method");
    }
    // gRPC message: 1 byte compressed flag, 4 bytes big-endian length, the message.
    byte[] bytes = body.getBytes();
    if (bytes.length < 5) {
      return grpcError(
          signal,
          false,
          GRPC_INVALID_ARGUMENT,
          "body of " + bytes.length + " bytes, no gRPC frame");
    }
    ByteBuffer frame = ByteBuffer.wrap(bytes);
    boolean compressed = frame.get() == 1;
    int length = frame.getInt();
    if (length != frame.remaining()) {
      return grpcError(
          signal,
          compressed,
          GRPC_INVALID_ARGUMENT,
          "frame says "
              + length
              + " bytes, "
              + frame.remaining()
              + " follow (one message expected)");
    }
    byte[] message = new byte[length];
    frame.get(message);
    if (!compressed) {
      return new Exchange(Protocol.GRPC, signal, false, message, GRPC_OK, null);
    }
    String encoding = request.getHeader("grpc-encoding");
    if (!"gzip".equals(encoding)) {
      return grpcError(
          signal, true, GRPC_UNIMPLEMENTED, "compressed message with grpc-encoding " + encoding);
    }
    try {
      return new Exchange(Protocol.GRPC, signal, true, gunzip(message), GRPC_OK, null);
    } catch (IOException e) {
      return grpcError(signal, true, GRPC_INVALID_ARGUMENT, "bad gzip message: " + e);
    }
  }

  private static Exchange parseHttp(
      HttpServerRequest request, Buffer body, String path, String contentType) {
    Signal signal =
        switch (path) {
          case "/v1/logs" -> Signal.LOGS;
          case "/v1/metrics" -> Signal.METRICS;
          case "/v1/traces" -> Signal.TRACES;
          default -> Signal.UNKNOWN;
        };
    String encoding = request.getHeader("content-encoding");
    boolean gzip = "gzip".equalsIgnoreCase(encoding);
    if (signal == Signal.UNKNOWN) {
      return httpError(signal, gzip, 404, "no such OTLP path");
    }
    if (!contentType.startsWith("application/x-protobuf")) {
      // OTLP/JSON exists, but the agent sends protobuf: JSON arriving here would be a bug.
      return httpError(
          signal, gzip, 415, "content type " + contentType + ", want application/x-protobuf");
    }
    if (encoding != null && !gzip && !"identity".equalsIgnoreCase(encoding)) {
      return httpError(signal, false, 415, "content encoding " + encoding);
    }
    try {
      byte[] payload = gzip ? gunzip(body.getBytes()) : body.getBytes();
      return new Exchange(Protocol.HTTP_PROTOBUF, signal, gzip, payload, 200, null);
    } catch (IOException e) {
      return httpError(signal, gzip, 400, "bad gzip body: " + e);
    }
  }

  private static Exchange httpError(Signal signal, boolean compressed, int status, String error) {
    return new Exchange(Protocol.HTTP_PROTOBUF, signal, compressed, null, status, error);
  }

  private static Exchange grpcError(Signal signal, boolean compressed, int status, String error) {
    return new Exchange(Protocol.GRPC, signal, compressed, null, status, error);
  }

  private void respond(HttpServerRequest request, Buffer body, Exchange exchange) {
    byte[] response = null;
    if (exchange.error == null) {
      try {
        response = keep(exchange.signal, exchange.payload);
      } catch (InvalidProtocolBufferException e) {
        int status = exchange.protocol == Protocol.GRPC ? GRPC_INVALID_ARGUMENT : 400;
        exchange =
            new Exchange(
                exchange.protocol,
                exchange.signal,
                exchange.compressed,
                null,
                status,
                "undecodable: " + e.getMessage());
      }
    }
    record(request, body, exchange);
    HttpServerResponse out = request.response();
    if (exchange.protocol == Protocol.GRPC) {
      out.putHeader("content-type", "application/grpc");
      if (exchange.error != null) {
        // Trailers-only: the status in the headers, where the exporters' retry logic reads it.
        out.putHeader("grpc-status", String.valueOf(exchange.status));
        out.putHeader("grpc-message", exchange.error.replaceAll("[^ -$&-~]", "?"));
        out.end();
        return;
      }
      Buffer framed =
          Buffer.buffer().appendByte((byte) 0).appendInt(response.length).appendBytes(response);
      out.putTrailer("grpc-status", String.valueOf(GRPC_OK));
      out.end(framed);
      return;
    }
    out.setStatusCode(exchange.status);
    if (exchange.error != null) {
      out.putHeader("content-type", "text/plain").end(exchange.error);
      return;
    }
    out.putHeader("content-type", "application/x-protobuf").end(Buffer.buffer(response));
  }

  /** Decodes and keeps the payload; returns the encoded (empty) Export*ServiceResponse. */
  private byte[] keep(Signal signal, byte[] payload) throws InvalidProtocolBufferException {
    switch (signal) {
      case LOGS -> {
        List<ReceivedLog> received = new ArrayList<>();
        for (ResourceLogs resourceLogs :
            ExportLogsServiceRequest.parseFrom(payload).getResourceLogsList()) {
          Map<String, Object> resource = attributes(resourceLogs.getResource().getAttributesList());
          for (ScopeLogs scopeLogs : resourceLogs.getScopeLogsList()) {
            for (LogRecord record : scopeLogs.getLogRecordsList()) {
              received.add(new ReceivedLog(resource, scopeLogs.getScope().getName(), record));
            }
          }
        }
        synchronized (lock) {
          logs.addAll(received);
        }
        return ExportLogsServiceResponse.getDefaultInstance().toByteArray();
      }
      case METRICS -> {
        List<ReceivedMetric> received = new ArrayList<>();
        for (ResourceMetrics resourceMetrics :
            ExportMetricsServiceRequest.parseFrom(payload).getResourceMetricsList()) {
          Map<String, Object> resource =
              attributes(resourceMetrics.getResource().getAttributesList());
          for (ScopeMetrics scopeMetrics : resourceMetrics.getScopeMetricsList()) {
            for (Metric metric : scopeMetrics.getMetricsList()) {
              received.add(new ReceivedMetric(resource, scopeMetrics.getScope().getName(), metric));
            }
          }
        }
        synchronized (lock) {
          metrics.addAll(received);
        }
        return ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
      }
      case TRACES -> {
        ExportTraceServiceRequest.parseFrom(payload); // checked, not kept
        return ExportTraceServiceResponse.getDefaultInstance().toByteArray();
      }
      default -> throw new IllegalStateException("no payload for " + signal);
    }
  }

  private void record(HttpServerRequest request, Buffer body, Exchange exchange) {
    Map<String, List<String>> headers = new TreeMap<>();
    request
        .headers()
        .forEach(
            e ->
                headers
                    .computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(e.getValue()));
    headers.replaceAll((k, v) -> List.copyOf(v));
    String clientCertificate = null;
    if (request.isSSL() && requireClientCertificate) {
      try {
        clientCertificate = request.sslSession().getPeerPrincipal().getName();
      } catch (SSLPeerUnverifiedException e) {
        clientCertificate = null;
      }
    }
    ReceivedRequest received =
        new ReceivedRequest(
            exchange.protocol,
            exchange.signal,
            request.method().name(),
            request.path(),
            request.version().alpnName(),
            Collections.unmodifiableMap(headers),
            request.isSSL(),
            clientCertificate,
            exchange.compressed,
            body.length(),
            exchange.status,
            exchange.error);
    synchronized (lock) {
      requests.add(received);
    }
  }

  private static byte[] gunzip(byte[] bytes) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return in.readAllBytes();
    }
  }
}
