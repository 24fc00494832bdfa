package io.gadgetexporter.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * A minimal OTLP/HTTP receiver for the overhead harness: it decodes every {@code POST /v1/logs}
 * with the official protobuf schema ({@code ExportLogsServiceRequest}) and counts the log records,
 * so the harness can compare what the agent sent with what arrived. {@code POST /v1/metrics} is
 * answered (200) and counted as a request, not decoded. {@code Content-Encoding: gzip} is
 * understood (the agent's default).
 *
 * <p>{@code GET /count} answers plain text, one {@code name value} pair a line: {@code records},
 * {@code log_requests}, {@code bad_requests}, {@code metric_requests}, {@code body_bytes} (on the
 * wire), and {@code first_record_epoch_us} / {@code last_record_epoch_us} (wall clock when the first
 * and the latest records arrived, 0 before any): the harness divides records by the time from the
 * loop's start to the last arrival for the sustained rate.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar io.gadgetexporter.bench.OtlpCountingReceiver [PORT]
 * </pre>
 *
 * <p>PORT 0 (the default) takes an ephemeral port; the receiver prints {@code listening on
 * http://127.0.0.1:PORT} on stdout once it listens, and runs until killed.
 */
public final class OtlpCountingReceiver implements AutoCloseable {
  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong logRequests = new AtomicLong();
  private final AtomicLong badRequests = new AtomicLong();
  private final AtomicLong metricRequests = new AtomicLong();
  private final AtomicLong bodyBytes = new AtomicLong();
  private final AtomicLong firstRecordEpochMicros = new AtomicLong();
  private final AtomicLong lastRecordEpochMicros = new AtomicLong();
  private static final Buffer LOGS_OK =
      Buffer.buffer(ExportLogsServiceResponse.getDefaultInstance().toByteArray());
  private static final Buffer METRICS_OK =
      Buffer.buffer(ExportMetricsServiceResponse.getDefaultInstance().toByteArray());

  private OtlpCountingReceiver(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Starts listening on 127.0.0.1:{@code port} (0: ephemeral). */
  public static OtlpCountingReceiver start(int port) {
    Vertx vertx = Vertx.vertx();
    HttpServer server =
        vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port));
    OtlpCountingReceiver r = new OtlpCountingReceiver(vertx, server);
    server.requestHandler(r::handle);
    try {
      server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      vertx.close();
      throw new IllegalStateException("interrupted while starting", e);
    } catch (ExecutionException | TimeoutException e) {
      vertx.close();
      throw new IllegalStateException("cannot listen on 127.0.0.1:" + port, e);
    }
    return r;
  }

  public int port() {
    return server.actualPort();
  }

  /** Log records received in requests answered with success. */
  public long records() {
    return records.get();
  }

  public long logRequests() {
    return logRequests.get();
  }

  public long badRequests() {
    return badRequests.get();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (req.method().name().equals("GET") && path.equals("/count")) {
      req.response().putHeader("content-type", "text/plain").end(counts());
      return;
    }
    if (!req.method().name().equals("POST")) {
      req.response().setStatusCode(405).end();
      return;
    }
    boolean gzip = "gzip".equalsIgnoreCase(req.getHeader("content-encoding"));
    req.body()
        .onSuccess(
            body -> {
              bodyBytes.addAndGet(body.length());
              switch (path) {
                case "/v1/logs" -> logs(req, body, gzip);
                case "/v1/metrics" -> {
                  metricRequests.incrementAndGet();
                  ok(req, METRICS_OK);
                }
                default -> req.response().setStatusCode(404).end();
              }
            })
        .onFailure(e -> req.response().setStatusCode(400).end());
  }

  private void logs(HttpServerRequest req, Buffer body, boolean gzip) {
    ExportLogsServiceRequest request;
    try {
      request = ExportLogsServiceRequest.parseFrom(bytes(body, gzip));
    } catch (IOException e) { // InvalidProtocolBufferException too
      badRequests.incrementAndGet();
      req.response()
          .setStatusCode(400)
          .end(e instanceof InvalidProtocolBufferException ? "undecodable" : "bad gzip");
      return;
    }
    long n = 0;
    for (ResourceLogs rl : request.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        n += sl.getLogRecordsCount();
      }
    }
    logRequests.incrementAndGet();
    if (n > 0) {
      long now = epochMicros();
      firstRecordEpochMicros.compareAndSet(0, now);
      lastRecordEpochMicros.set(now);
      records.addAndGet(n);
    }
    ok(req, LOGS_OK);
  }

  private static void ok(HttpServerRequest req, Buffer response) {
    req.response().putHeader("content-type", "application/x-protobuf").end(response);
  }

  private static byte[] bytes(Buffer body, boolean gzip) throws IOException {
    byte[] raw = body.getBytes();
    if (!gzip) {
      return raw;
    }
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
      return in.readAllBytes();
    }
  }

  private static long epochMicros() {
    Instant now = Instant.now();
    return TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1000;
  }

  /** What {@code GET /count} answers. */
  public String counts() {
    return "records "
        + records.get()
        + "\nlog_requests "
        + logRequests.get()
        + "\nbad_requests "
        + badRequests.get()
        + "\nmetric_requests "
        + metricRequests.get()
        + "\nbody_bytes "
        + bodyBytes.get()
        + "\nfirst_record_epoch_us "
        + firstRecordEpochMicros.get()
        + "\nlast_record_epoch_us "
        + lastRecordEpochMicros.get()
        + "\n";
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // closing anyway
    }
  }

  public static void main(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    OtlpCountingReceiver r = start(port);
    Runtime.getRuntime().addShutdownHook(new Thread(r::close, "receiver-close"));
    System.out.println("listening on http://127.0.0.1:" + r.port());
    System.out.flush();
    // Vert.x's event loop threads keep the JVM alive until it is killed.
  }
}
