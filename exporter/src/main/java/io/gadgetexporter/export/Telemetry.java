package io.gadgetexporter.export;

import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The agent's metrics: one OpenTelemetry meter provider whose Prometheus reader is scraped through
 * the agent's own HTTP server ({@code /metrics}).
 *
 * <p>Per-instance counters are asynchronous: the drain threads keep plain counts, and the values
 * are read only when a reader collects, so counting costs the event path nothing.
 */
public final class Telemetry implements AutoCloseable {
  static final AttributeKey<String> INSTANCE = AttributeKey.stringKey("instance");
  static final AttributeKey<String> GADGET = AttributeKey.stringKey("gadget");

  private final SdkMeterProvider meterProvider;
  private final PrometheusMetricReader prometheus;
  private final ExpositionFormats formats = ExpositionFormats.init();

  public Telemetry(String serviceVersion, Supplier<Collection<GadgetInstance>> instances) {
    prometheus =
        PrometheusMetricReader.builder()
            // The scope label would be the same on every series; it only adds noise.
            .setOtelScopeLabelsEnabled(false)
            .build();
    meterProvider =
        SdkMeterProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.builder()
                            .put("service.name", "gadget-exporter")
                            .put("service.version", serviceVersion)
                            .build()))
            .registerMetricReader(prometheus)
            .build();
    Meter meter = meterProvider.get("io.gadgetexporter");
    perInstanceCounter(
        meter, "gadget.events", "Events drained from the kernel and decoded.", "{event}",
        instances, GadgetInstance::eventsTotal);
    perInstanceCounter(
        meter, "gadget.events.lost",
        "Events the kernel dropped because the instance's ring buffer was full.", "{event}",
        instances, GadgetInstance::lostTotal);
    perInstanceCounter(
        meter, "gadget.events.malformed",
        "Records too short or inconsistent to decode: counted and skipped.", "{event}",
        instances, GadgetInstance::malformedTotal);
    meter
        .gaugeBuilder("gadget.ring_buffer.pending")
        .ofLongs()
        .setDescription("Bytes waiting in the instance's ring buffer.")
        .setUnit("By")
        .buildWithCallback(
            m -> forEachRunning(instances, m, GadgetInstance::pendingBytes));
  }

  private static void perInstanceCounter(
      Meter meter,
      String name,
      String description,
      String unit,
      Supplier<Collection<GadgetInstance>> instances,
      ToLongFunction<GadgetInstance> value) {
    meter
        .counterBuilder(name)
        .setDescription(description)
        .setUnit(unit)
        .buildWithCallback(m -> forEachRunning(instances, m, value));
  }

  private static void forEachRunning(
      Supplier<Collection<GadgetInstance>> instances,
      ObservableLongMeasurement m,
      ToLongFunction<GadgetInstance> value) {
    for (GadgetInstance i : instances.get()) {
      if (i.state() == GadgetInstance.State.RUNNING) {
        m.record(
            value.applyAsLong(i),
            Attributes.of(INSTANCE, i.name(), GADGET, i.gadget().name()));
      }
    }
  }

  /** A scrape in the format the {@code Accept} header asks for (Prometheus text by default). */
  public Scrape scrape(String acceptHeader) {
    ExpositionFormatWriter writer = formats.findWriter(acceptHeader);
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, prometheus.collect());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Scrape(writer.getContentType(), out.toByteArray());
  }

  /** A rendered scrape. */
  public record Scrape(String contentType, byte[] body) {}

  @Override
  public void close() {
    meterProvider.close();
  }
}
