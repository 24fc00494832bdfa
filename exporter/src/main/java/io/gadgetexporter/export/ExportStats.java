package io.gadgetexporter.export;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * What became of the records of one OTLP signal: exported, failed (the collector refused them or
 * could not be reached, after the exporter's retries), dropped because the queue was full — and how
 * long export requests take. The last hop of the "events lost at each hop" accounting.
 */
public final class ExportStats {
  static final AttributeKey<String> SIGNAL = AttributeKey.stringKey("signal");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");

  private final String signal;
  private final LongAdder exported = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder queueFull = new LongAdder();
  private final LongAdder requestsOk = new LongAdder();
  private final LongAdder requestsFailed = new LongAdder();
  private volatile DoubleHistogram duration;
  private Attributes durationOk;
  private Attributes durationFailed;

  public ExportStats(String signal) {
    this.signal = signal;
  }


  /** Registers this signal's export metrics. */
  void register(Meter meter) {
    durationOk = Attributes.of(SIGNAL, signal, OUTCOME, "success");
    durationFailed = Attributes.of(SIGNAL, signal, OUTCOME, "failure");
    duration =
        meter
            .histogramBuilder("gadget.export.duration")
            .setDescription("How long OTLP export requests take, retries included, by outcome.")
            .setUnit("s")
            .setExplicitBucketBoundariesAdvice(
                List.of(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
            .build();
    meter
        .counterBuilder("gadget.export.requests")
        .setDescription("OTLP export requests, by signal and outcome.")
        .setUnit("{request}")
        .buildWithCallback(
            m -> {
              m.record(requestsOk.sum(), durationOk);
              m.record(requestsFailed.sum(), durationFailed);
            });
    meter
        .counterBuilder("gadget.export.records")
        .setDescription(
            "Records (log records, metric points) the collector accepted (success) or that were"
                + " lost because a request failed (failure).")
        .setUnit("{record}")
        .buildWithCallback(
            m -> {
              m.record(exported.sum(), durationOk);
              m.record(failed.sum(), durationFailed);
            });
    if (signal.equals("logs")) {
      meter
          .counterBuilder("gadget.export.dropped")
          .setDescription(
              "Log records dropped before export because the export queue was full (the collector"
                  + " is slow or down): the agent drops rather than grows or stalls.")
          .setUnit("{record}")
          .buildWithCallback(
              m -> m.record(queueFull.sum(), Attributes.of(SIGNAL, signal, REASON, "queue_full")));
    }
  }

  void succeeded(int records, long nanos) {
    exported.add(records);
    requestsOk.increment();
    record(nanos, durationOk);
  }

  void failed(int records, long nanos) {
    failed.add(records);
    requestsFailed.increment();
    record(nanos, durationFailed);
  }

  void droppedQueueFull() {
    queueFull.increment();
  }

  private void record(long nanos, Attributes attributes) {
    DoubleHistogram h = duration;
    if (h != null) {
      h.record(nanos / 1e9, attributes);
    }
  }

  public long exportedTotal() {
    return exported.sum();
  }


  public long droppedQueueFullTotal() {
    return queueFull.sum();
  }

}
