package io.gadgetexporter.export;

import io.gadgetexporter.config.OtlpConfig;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporterBuilder;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporterBuilder;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/** The OpenTelemetry OTLP exporters, built from {@link OtlpConfig}; one place for both protocols. */
final class OtlpExporters {
  private OtlpExporters() {}

  static LogRecordExporter logs(OtlpConfig c) {
    String url = c.logsUrl().orElseThrow();
    if (c.protocol() == OtlpConfig.Protocol.GRPC) {
      OtlpGrpcLogRecordExporterBuilder b =
          OtlpGrpcLogRecordExporter.builder()
              .setEndpoint(url)
              .setTimeout(c.timeout())
              .setCompression(c.gzip() ? "gzip" : "none");
      c.headers().forEach(b::addHeader);
      c.caFile().ifPresent(f -> b.setTrustedCertificates(read(f)));
      if (c.certFile().isPresent()) {
        b.setClientTls(read(c.keyFile().orElseThrow()), read(c.certFile().get()));
      }
      return b.build();
    }
    OtlpHttpLogRecordExporterBuilder b =
        OtlpHttpLogRecordExporter.builder()
            .setEndpoint(url)
            .setTimeout(c.timeout())
            .setCompression(c.gzip() ? "gzip" : "none");
    c.headers().forEach(b::addHeader);
    c.caFile().ifPresent(f -> b.setTrustedCertificates(read(f)));
    if (c.certFile().isPresent()) {
      b.setClientTls(read(c.keyFile().orElseThrow()), read(c.certFile().get()));
    }
    return b.build();
  }

  static MetricExporter metrics(OtlpConfig c) {
    String url = c.metricsUrl().orElseThrow();
    if (c.protocol() == OtlpConfig.Protocol.GRPC) {
      OtlpGrpcMetricExporterBuilder b =
          OtlpGrpcMetricExporter.builder()
              .setEndpoint(url)
              .setTimeout(c.timeout())
              .setCompression(c.gzip() ? "gzip" : "none");
      c.headers().forEach(b::addHeader);
      c.caFile().ifPresent(f -> b.setTrustedCertificates(read(f)));
      if (c.certFile().isPresent()) {
        b.setClientTls(read(c.keyFile().orElseThrow()), read(c.certFile().get()));
      }
      return b.build();
    }
    OtlpHttpMetricExporterBuilder b =
        OtlpHttpMetricExporter.builder()
            .setEndpoint(url)
            .setTimeout(c.timeout())
            .setCompression(c.gzip() ? "gzip" : "none");
    c.headers().forEach(b::addHeader);
    c.caFile().ifPresent(f -> b.setTrustedCertificates(read(f)));
    if (c.certFile().isPresent()) {
      b.setClientTls(read(c.keyFile().orElseThrow()), read(c.certFile().get()));
    }
    return b.build();
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Counts every push of metrics in {@link ExportStats}. */
  static final class CountingMetricExporter implements MetricExporter {
    private final MetricExporter delegate;
    private final ExportStats stats;

    CountingMetricExporter(MetricExporter delegate, ExportStats stats) {
      this.delegate = delegate;
      this.stats = stats;
    }

    @Override
    public CompletableResultCode export(Collection<MetricData> metrics) {
      long start = System.nanoTime();
      int points = metrics.stream().mapToInt(m -> m.getData().getPoints().size()).sum();
      CompletableResultCode result = delegate.export(metrics);
      result.whenComplete(
          () -> {
            if (result.isSuccess()) {
              stats.succeeded(points, System.nanoTime() - start);
            } else {
              stats.failed(points, System.nanoTime() - start);
            }
          });
      return result;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
      return delegate.getAggregationTemporality(instrumentType);
    }

    @Override
    public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
      return delegate.getDefaultAggregation(instrumentType);
    }

    @Override
    public MemoryMode getMemoryMode() {
      return delegate.getMemoryMode();
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }
}
