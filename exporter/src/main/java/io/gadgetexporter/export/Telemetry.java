package io.gadgetexporter.export;

import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerDiscovery;
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
    this(serviceVersion, instances, null);
  }

  /**
   * @param discovery the node's containers, or null when discovery is off
   */
  public Telemetry(
      String serviceVersion,
      Supplier<Collection<GadgetInstance>> instances,
      ContainerDiscovery discovery) {
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
    perInstanceCounter(
        meter, "gadget.events.filtered",
        "Events the instance's selector dropped in the kernel; they never reached userspace.",
        "{event}", instances, GadgetInstance::filteredTotal);
    meter
        .gaugeBuilder("gadget.filter_map.entries")
        .ofLongs()
        .setDescription("Mount namespaces in the instance's kernel filter map.")
        .setUnit("{entry}")
        .buildWithCallback(m -> forEachRunning(instances, m, GadgetInstance::filterEntries));
    if (discovery != null) {
      containerMetrics(meter, discovery);
    }
  }

  private static void containerMetrics(Meter meter, ContainerDiscovery discovery) {
    ContainerCollection collection = discovery.collection();
    AttributeKey<String> state = AttributeKey.stringKey("state");
    meter
        .gaugeBuilder("gadget.containers")
        .ofLongs()
        .setDescription(
            "Containers the agent knows: running, or exited but still resolving late events.")
        .setUnit("{container}")
        .buildWithCallback(
            m -> {
              m.record(collection.size(), Attributes.of(state, "running"));
              m.record(collection.exited().size(), Attributes.of(state, "exited"));
            });
    AttributeKey<String> reason = AttributeKey.stringKey("reason");
    meter
        .counterBuilder("gadget.container.enrichment.misses")
        .setDescription("Events that matched no container and no host process, by reason.")
        .setUnit("{event}")
        .buildWithCallback(
            m -> {
              for (ContainerCollection.MissReason r : ContainerCollection.MissReason.values()) {
                m.record(collection.misses(r), Attributes.of(reason, r.label()));
              }
            });
    meter
        .counterBuilder("gadget.container.discovery.problems")
        .setDescription(
            "Malformed config.json files, missing pid files, odd cgroup paths and the like:"
                + " counted and skipped, by reason.")
        .setUnit("{problem}")
        .buildWithCallback(
            m ->
                discovery
                    .problems()
                    .counts()
                    .forEach((r, n) -> m.record(n, Attributes.of(reason, r))));
    AttributeKey<String> source = AttributeKey.stringKey("source");
    meter
        .counterBuilder("gadget.container.discovered")
        .setDescription("Containers found, by how: runtime_hook, startup_scan or reconcile.")
        .setUnit("{container}")
        .buildWithCallback(
            m ->
                discovery
                    .discoveredBySource()
                    .forEach((s, n) -> m.record(n, Attributes.of(source, s))));
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
