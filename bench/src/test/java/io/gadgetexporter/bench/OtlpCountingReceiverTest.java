package io.gadgetexporter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The receiver counts the records the real OTLP/HTTP exporter sends, gzip-compressed as the agent does. */
class OtlpCountingReceiverTest {
  @Test
  void countsRecordsOfTheRealExporter() {
    try (OtlpCountingReceiver receiver = OtlpCountingReceiver.start(0)) {
      OtlpHttpLogRecordExporter exporter =
          OtlpHttpLogRecordExporter.builder()
              .setEndpoint("http://127.0.0.1:" + receiver.port() + "/v1/logs")
              .setCompression("gzip")
              .build();
      try (SdkLoggerProvider provider =
          SdkLoggerProvider.builder()
              .addLogRecordProcessor(
                  BatchLogRecordProcessor.builder(exporter).setMaxExportBatchSize(100).build())
              .build()) {
        Logger logger = provider.get("test");
        for (int i = 0; i < 250; i++) {
          logger.logRecordBuilder().setBody("event " + i).setAttribute(
              io.opentelemetry.api.common.AttributeKey.longKey("i"), (long) i).emit();
        }
        assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      assertThat(receiver.records()).isEqualTo(250);
      assertThat(receiver.logRequests()).isGreaterThanOrEqualTo(3);
      assertThat(receiver.badRequests()).isZero();
      assertThat(receiver.counts()).contains("records 250\n").containsPattern("last_record_epoch_us [1-9]");
    }
  }
}
