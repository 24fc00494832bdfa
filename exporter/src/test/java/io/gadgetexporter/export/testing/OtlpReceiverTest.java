package io.gadgetexporter.export.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.export.testing.OtlpReceiver.Protocol;
import io.gadgetexporter.export.testing.OtlpReceiver.ReceivedLog;
import io.gadgetexporter.export.testing.OtlpReceiver.ReceivedMetric;
import io.gadgetexporter.export.testing.OtlpReceiver.ReceivedRequest;
import io.gadgetexporter.export.testing.OtlpReceiver.Signal;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporterBuilder;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporterBuilder;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Proves {@link OtlpReceiver} with the OpenTelemetry SDK exporters the agent uses (OTLP over
 * HTTP/protobuf and over gRPC, OkHttp sender): what they send arrives decoded, and what the
 * receiver simulates (a failing, slow, absent or TLS collector) is what they see.
 */
class OtlpReceiverTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Resource RESOURCE =
      Resource.create(
          Attributes.of(
              AttributeKey.stringKey("service.name"),
              "gadget-exporter",
              AttributeKey.stringKey("k8s.node.name"),
              "node-a"));

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  @ParameterizedTest
  @CsvSource({"HTTP_PROTOBUF, none", "HTTP_PROTOBUF, gzip", "GRPC, none", "GRPC, gzip"})
  void logsFromTheSdkArriveDecodedWithResourceScopeAndHeaders(
      Protocol protocol, String compression) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    Options options =
        new Options()
            .compression(compression)
            .header("Authorization", "Bearer s3cret")
            .header("X-Tenant", "team-a");
    SdkLoggerProvider loggers =
        open(
            SdkLoggerProvider.builder()
                .setResource(RESOURCE)
                .addLogRecordProcessor(
                    BatchLogRecordProcessor.builder(logExporter(protocol, receiver, options))
                        .setScheduleDelay(Duration.ofMillis(50))
                        .build())
                .build());

    for (int i = 0; i < 3; i++) {
      loggers
          .get("gadget.trace_exec")
          .logRecordBuilder()
          .setEventName("process.exec")
          .setSeverity(Severity.INFO)
          .setBody("exec " + i)
          .setAttribute(AttributeKey.stringKey("proc.comm"), "sh")
          .setAttribute(AttributeKey.longKey("proc.pid"), 100L + i)
          .setAttribute(AttributeKey.booleanKey("proc.root"), true)
          .setAttribute(AttributeKey.doubleKey("latency"), 0.5)
          .setAttribute(AttributeKey.stringArrayKey("proc.args"), List.of("sh", "-c"))
          .emit();
    }

    List<ReceivedLog> logs = receiver.awaitLogs(l -> l.eventName().equals("process.exec"), 3, WAIT);
    assertThat(logs).extracting(ReceivedLog::body).containsExactly("exec 0", "exec 1", "exec 2");
    ReceivedLog first = logs.get(0);
    assertThat(first.scope()).isEqualTo("gadget.trace_exec");
    assertThat(first.resource())
        .containsEntry("service.name", "gadget-exporter")
        .containsEntry("k8s.node.name", "node-a");
    assertThat(first.attributes())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "proc.comm",
                "sh",
                "proc.pid",
                100L,
                "proc.root",
                true,
                "latency",
                0.5,
                "proc.args",
                List.of("sh", "-c")));
    assertThat(first.record().getSeverityNumberValue())
        .isEqualTo(Severity.INFO.getSeverityNumber());

    ReceivedRequest request = receiver.requests().get(0);
    assertThat(request.protocol()).isEqualTo(protocol);
    assertThat(request.signal()).isEqualTo(Signal.LOGS);
    assertThat(request.compressed()).isEqualTo(compression.equals("gzip"));
    assertThat(request.header("authorization")).isEqualTo("Bearer s3cret");
    assertThat(request.header("x-tenant")).isEqualTo("team-a");
    if (protocol == Protocol.GRPC) {
      assertThat(request.httpVersion()).isEqualTo("h2");
      assertThat(request.path()).isEqualTo(OtlpReceiver.LOGS_GRPC_PATH);
      assertThat(request.header("content-type")).startsWith("application/grpc");
    } else {
      assertThat(request.path()).isEqualTo("/v1/logs");
      assertThat(request.header("content-type")).isEqualTo("application/x-protobuf");
    }
  }

  @ParameterizedTest
  @CsvSource({"HTTP_PROTOBUF, none", "HTTP_PROTOBUF, gzip", "GRPC, none", "GRPC, gzip"})
  void metricsFromTheSdkArriveDecoded(Protocol protocol, String compression) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    SdkMeterProvider meters =
        open(
            SdkMeterProvider.builder()
                .setResource(RESOURCE)
                .registerMetricReader(
                    PeriodicMetricReader.builder(
                            metricExporter(
                                protocol, receiver, new Options().compression(compression)))
                        .setInterval(Duration.ofMillis(100))
                        .build())
                .build());
    Meter meter = meters.get("gadget.trace_exec");
    LongCounter events = meter.counterBuilder("demo.events").setUnit("{event}").build();
    events.add(2, Attributes.of(AttributeKey.stringKey("container.name"), "a"));
    events.add(1, Attributes.of(AttributeKey.stringKey("container.name"), "a"));
    events.add(5, Attributes.of(AttributeKey.stringKey("container.name"), "b"));
    meter.histogramBuilder("demo.latency").setUnit("s").build().record(0.25);

    ReceivedMetric counter =
        receiver.awaitMetric(
            "demo.events", m -> m.total(Map.of("container.name", "a")).orElse(0) == 3, WAIT);
    assertThat(counter.scope()).isEqualTo("gadget.trace_exec");
    assertThat(counter.resource()).containsEntry("k8s.node.name", "node-a");
    assertThat(counter.metric().getUnit()).isEqualTo("{event}");
    assertThat(counter.metric().getSum().getIsMonotonic()).isTrue();
    assertThat(counter.total(Map.of()).getAsDouble()).isEqualTo(8);
    ReceivedMetric histogram =
        receiver.awaitMetric("demo.latency", m -> !m.histogramPoints().isEmpty(), WAIT);
    assertThat(histogram.histogramPoints().get(0).getCount()).isEqualTo(1);
    assertThat(histogram.histogramPoints().get(0).getSum()).isEqualTo(0.25);
    assertThat(receiver.requests())
        .allSatisfy(
            r -> {
              assertThat(r.signal()).isEqualTo(Signal.METRICS);
              assertThat(r.compressed()).isEqualTo(compression.equals("gzip"));
            });
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void tlsWithTheTestCaTrusted(Protocol protocol) {
    TestCertificates certificates = TestCertificates.shared();
    OtlpReceiver receiver = open(OtlpReceiver.builder().tls(certificates).start());
    assertThat(receiver.httpEndpoint()).startsWith("https://127.0.0.1:");

    LogRecordExporter trusting =
        logExporter(
            protocol, receiver, new Options().trust(certificates.caCertificatePem()).noRetry());
    assertThat(export(trusting, "over tls").isSuccess()).isTrue();
    ReceivedRequest request = receiver.awaitRequest(ReceivedRequest::accepted, WAIT);
    assertThat(request.tls()).isTrue();
    if (protocol == Protocol.GRPC) {
      assertThat(request.httpVersion()).isEqualTo("h2"); // negotiated with ALPN
    }
    assertThat(receiver.awaitLogs(l -> l.body().equals("over tls"), WAIT)).hasSize(1);

    // Without the CA, the JDK's default trust store refuses the certificate.
    LogRecordExporter notTrusting = logExporter(protocol, receiver, new Options().noRetry());
    CompletableResultCode refused = export(notTrusting, "untrusted");
    assertThat(refused.isSuccess()).isFalse();
    assertThat(causes(refused.getFailureThrowable())).contains("SSLHandshakeException");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void mutualTlsNeedsTheClientCertificate(Protocol protocol) {
    TestCertificates certificates = TestCertificates.shared();
    OtlpReceiver receiver =
        open(OtlpReceiver.builder().tls(certificates).requireClientCertificate().start());

    LogRecordExporter withClientCertificate =
        logExporter(
            protocol,
            receiver,
            new Options()
                .trust(certificates.caCertificatePem())
                .clientTls(certificates.clientKeyPem(), certificates.clientCertificatePem())
                .noRetry());
    assertThat(export(withClientCertificate, "mtls").isSuccess()).isTrue();
    assertThat(receiver.awaitRequest(ReceivedRequest::accepted, WAIT).clientCertificate())
        .isEqualTo("CN=gadget-exporter test client");

    LogRecordExporter without =
        logExporter(
            protocol, receiver, new Options().trust(certificates.caCertificatePem()).noRetry());
    CompletableResultCode refused = export(without, "no client certificate");
    assertThat(refused.isSuccess()).isFalse();
    assertThat(receiver.logs()).extracting(ReceivedLog::body).containsExactly("mtls");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void failModeFailsExportsUntilTheCollectorRecovers(Protocol protocol) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    LogRecordExporter exporter = logExporter(protocol, receiver, new Options().noRetry());

    receiver.failing(true);
    CompletableResultCode failed = export(exporter, "refused");
    assertThat(failed.isSuccess()).isFalse();
    assertThat(failed.getFailureThrowable()).isNotNull();
    int refusedStatus = protocol == Protocol.GRPC ? OtlpReceiver.GRPC_UNAVAILABLE : 503;
    assertThat(receiver.requests())
        .extracting(ReceivedRequest::status)
        .containsExactly(refusedStatus);
    assertThat(receiver.logs()).isEmpty();

    receiver.failing(false);
    assertThat(export(exporter, "accepted").isSuccess()).isTrue();
    assertThat(receiver.logs()).extracting(ReceivedLog::body).containsExactly("accepted");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void refusalsAreRetryableForTheExporters(Protocol protocol) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    RetryPolicy quickRetries =
        RetryPolicy.builder()
            .setMaxAttempts(5)
            .setInitialBackoff(Duration.ofMillis(10))
            .setMaxBackoff(Duration.ofMillis(50))
            .build();
    LogRecordExporter exporter = logExporter(protocol, receiver, new Options().retry(quickRetries));

    receiver.failNext(2);
    assertThat(export(exporter, "third time lucky").isSuccess()).isTrue();

    int refused = protocol == Protocol.GRPC ? OtlpReceiver.GRPC_UNAVAILABLE : 503;
    int ok = protocol == Protocol.GRPC ? OtlpReceiver.GRPC_OK : 200;
    assertThat(receiver.requests())
        .extracting(ReceivedRequest::status)
        .containsExactly(refused, refused, ok);
    assertThat(receiver.logs()).extracting(ReceivedLog::body).containsExactly("third time lucky");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void aCollectorDownThenBackOnTheSamePort(Protocol protocol) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    int port = receiver.port();
    LogRecordExporter exporter = logExporter(protocol, receiver, new Options().noRetry());
    assertThat(export(exporter, "before").isSuccess()).isTrue();

    receiver.stop();
    assertThat(receiver.isRunning()).isFalse();
    CompletableResultCode down = export(exporter, "while down");
    assertThat(down.isSuccess()).isFalse();
    assertThat(causes(down.getFailureThrowable())).contains("ConnectException");

    receiver.start();
    assertThat(receiver.port()).isEqualTo(port);
    assertThat(export(exporter, "after").isSuccess()).isTrue();
    assertThat(receiver.logs()).extracting(ReceivedLog::body).containsExactly("before", "after");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void aSlowCollectorTimesTheExporterOut(Protocol protocol) {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    LogRecordExporter exporter =
        logExporter(protocol, receiver, new Options().timeout(Duration.ofMillis(300)).noRetry());

    receiver.delay(Duration.ofMillis(1000));
    CompletableResultCode timedOut = export(exporter, "slow");
    assertThat(timedOut.isSuccess()).isFalse();
    assertThat(causes(timedOut.getFailureThrowable())).containsIgnoringCase("timeout");

    receiver.delay(Duration.ZERO);
    assertThat(export(exporter, "fast").isSuccess()).isTrue();
    // The slow request is still answered (and kept) once its delay is over, as a collector would.
    assertThat(receiver.awaitLogs(l -> true, 2, WAIT))
        .extracting(ReceivedLog::body)
        .containsExactlyInAnyOrder("slow", "fast");
  }

  @Test
  void refusesWhatACollectorWouldRefuse() throws Exception {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    HttpClient client = HttpClient.newHttpClient();

    assertThat(post(client, receiver.httpEndpoint() + "/v1/logs", "application/json", "{}"))
        .isEqualTo(415);
    assertThat(
            post(client, receiver.httpEndpoint() + "/v1/logs", "application/x-protobuf", "\u00ff"))
        .isEqualTo(400);
    assertThat(post(client, receiver.httpEndpoint() + "/v1/nothing", "application/x-protobuf", ""))
        .isEqualTo(404);
    assertThat(receiver.requests()).noneMatch(ReceivedRequest::accepted);
    assertThat(receiver.requests().get(1).error()).startsWith("undecodable");
    // An empty request is a valid (empty) export.
    assertThat(post(client, receiver.metricsUrl(), "application/x-protobuf", "")).isEqualTo(200);
  }

  @Test
  void awaitFailsWithWhatWasReceived() {
    OtlpReceiver receiver = open(OtlpReceiver.create());
    LogRecordExporter exporter = logExporter(Protocol.HTTP_PROTOBUF, receiver, new Options());
    assertThat(export(exporter, "something else").isSuccess()).isTrue();

    assertThatThrownBy(
            () -> receiver.awaitLogs(l -> l.body().equals("expected"), Duration.ofMillis(200)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("timed out after 200 ms waiting for at least 1 matching log records")
        .hasMessageContaining("1 log records:")
        .hasMessageContaining("body=something else")
        .hasMessageContaining("POST /v1/logs");
    assertThatThrownBy(() -> receiver.awaitMetric("absent", m -> true, Duration.ofMillis(100)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("waiting for a matching metric absent");
  }

  // ---- helpers ----

  /** The exporter options the tests vary, applied to whichever builder the protocol needs. */
  private static final class Options {
    private String compression = "none";
    private final Map<String, String> headers = new java.util.LinkedHashMap<>();
    private byte[] trustedCertificates;
    private byte[] clientKey;
    private byte[] clientCertificate;
    private RetryPolicy retry = RetryPolicy.getDefault();
    private Duration timeout = Duration.ofSeconds(5);

    Options compression(String compression) {
      this.compression = compression;
      return this;
    }

    Options header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    Options trust(byte[] pem) {
      this.trustedCertificates = pem;
      return this;
    }

    Options clientTls(byte[] keyPem, byte[] certificatePem) {
      this.clientKey = keyPem;
      this.clientCertificate = certificatePem;
      return this;
    }

    /** Without retries a refusal fails the export at once (the default retries for seconds). */
    Options noRetry() {
      this.retry = null;
      return this;
    }

    Options retry(RetryPolicy retry) {
      this.retry = retry;
      return this;
    }

    Options timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }
  }

  private LogRecordExporter logExporter(Protocol protocol, OtlpReceiver receiver, Options o) {
    LogRecordExporter exporter;
    if (protocol == Protocol.GRPC) {
      OtlpGrpcLogRecordExporterBuilder b =
          OtlpGrpcLogRecordExporter.builder()
              .setEndpoint(receiver.grpcEndpoint())
              .setCompression(o.compression)
              .setTimeout(o.timeout)
              .setRetryPolicy(o.retry);
      o.headers.forEach(b::addHeader);
      if (o.trustedCertificates != null) {
        b.setTrustedCertificates(o.trustedCertificates);
      }
      if (o.clientKey != null) {
        b.setClientTls(o.clientKey, o.clientCertificate);
      }
      exporter = b.build();
    } else {
      OtlpHttpLogRecordExporterBuilder b =
          OtlpHttpLogRecordExporter.builder()
              .setEndpoint(receiver.logsUrl())
              .setCompression(o.compression)
              .setTimeout(o.timeout)
              .setRetryPolicy(o.retry);
      o.headers.forEach(b::addHeader);
      if (o.trustedCertificates != null) {
        b.setTrustedCertificates(o.trustedCertificates);
      }
      if (o.clientKey != null) {
        b.setClientTls(o.clientKey, o.clientCertificate);
      }
      exporter = b.build();
    }
    return open(exporter);
  }

  private MetricExporter metricExporter(Protocol protocol, OtlpReceiver receiver, Options o) {
    MetricExporter exporter;
    if (protocol == Protocol.GRPC) {
      OtlpGrpcMetricExporterBuilder b =
          OtlpGrpcMetricExporter.builder()
              .setEndpoint(receiver.grpcEndpoint())
              .setCompression(o.compression)
              .setTimeout(o.timeout)
              .setRetryPolicy(o.retry);
      o.headers.forEach(b::addHeader);
      exporter = b.build();
    } else {
      OtlpHttpMetricExporterBuilder b =
          OtlpHttpMetricExporter.builder()
              .setEndpoint(receiver.metricsUrl())
              .setCompression(o.compression)
              .setTimeout(o.timeout)
              .setRetryPolicy(o.retry);
      o.headers.forEach(b::addHeader);
      exporter = b.build();
    }
    return open(exporter);
  }

  /** Exports one record straight through the exporter and waits for the outcome. */
  private static CompletableResultCode export(LogRecordExporter exporter, String body) {
    TestLogRecordData record =
        TestLogRecordData.builder()
            .setResource(RESOURCE)
            .setInstrumentationScopeInfo(InstrumentationScopeInfo.create("test"))
            .setTimestamp(Instant.now())
            .setSeverity(Severity.INFO)
            .setBody(body)
            .build();
    return exporter.export(List.of(record)).join(15, TimeUnit.SECONDS);
  }

  /** The class names and messages of a throwable and its causes, to assert on. */
  private static String causes(Throwable throwable) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = throwable; t != null; t = t.getCause()) {
      out.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
    }
    return out.toString();
  }

  private static int post(HttpClient client, String url, String contentType, String body)
      throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", contentType)
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private <T extends AutoCloseable> T open(T closeable) {
    toClose.add(closeable);
    return closeable;
  }
}
