package io.gadgetexporter.export;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.OtlpConfig;
import io.gadgetexporter.config.ResourceConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerDiscovery;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.resources.ResourceBuilder;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The agent's one OpenTelemetry SDK: a meter provider with two readers — the Prometheus reader
 * scraped through the agent's own HTTP server ({@code /metrics}) and, when an OTLP endpoint is
 * configured, a periodic OTLP push — and a logger provider for the instances' OTLP log records.
 *
 * <p>Event metrics (the per-container event count and the metrics the config defines) are kept by
 * {@link EventMetricsProducer} and handed to both readers at collection; the agent's own counters
 * are asynchronous instruments read at collection too, so nothing here costs the event path.
 */
public final class Telemetry implements AutoCloseable {
  private static final java.util.logging.Logger log =
      java.util.logging.Logger.getLogger(Telemetry.class.getName());

  private final Resource resource;
  private final SdkMeterProvider meterProvider;
  /** The resource attributes Prometheus shows as labels of every series, when the resource has them. */
  public static final Set<String> PROMETHEUS_RESOURCE_LABELS =
      Set.of("k8s.node.name", "k8s.cluster.name");

  private final PrometheusMetricReader prometheus;
  private final SdkLoggerProvider loggerProvider;
  private final BoundedLogProcessor logProcessor;
  private final EventMetricsProducer eventMetrics;
  private final ExportStats logStats = new ExportStats("logs");
  private final ExportStats metricStats = new ExportStats("metrics");
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final Meter meter;

  /**
   * @param discovery the node's containers, or null when discovery is off
   */
  public Telemetry(
      AgentConfig config,
      String serviceVersion,
      Supplier<Collection<GadgetInstance>> instances,
      ContainerDiscovery discovery) {
    resource = resource(config.resource(), serviceVersion);
    ContainerCollection collection = discovery == null ? null : discovery.collection();
    eventMetrics =
        new EventMetricsProducer(
            collection,
            config.metrics().deletedContainerTtl().toNanos(),
            System::nanoTime,
            Telemetry::epochNanos);
    prometheus =
        PrometheusMetricReader.builder()
            // The scope label would be the same on every series; it only adds noise.
            .setOtelScopeLabelsEnabled(false)
            // Every agent of a DaemonSet has the same series; its node (and cluster) on each
            // tells them apart without a join on target_info, and costs no cardinality: one value
            // per agent. The dashboards' node variable filters on it.
            .setAllowedResourceAttributesFilter(PROMETHEUS_RESOURCE_LABELS::contains)
            .build();
    SdkMeterProviderBuilder meters =
        SdkMeterProvider.builder()
            .setResource(resource)
            .registerMetricReader(prometheus)
            .registerMetricProducer(eventMetrics);
    OtlpConfig otlp = config.otlp();
    if (otlp.pushesMetrics()) {
      meters.registerMetricReader(
          PeriodicMetricReader.builder(
                  new OtlpExporters.CountingMetricExporter(
                      OtlpExporters.metrics(otlp), metricStats))
              .setInterval(otlp.metricsInterval())
              .build());
      log.info(
          "pushing metrics over OTLP ("
              + otlp.protocol().text()
              + ") to "
              + otlp.metricsUrl().orElseThrow()
              + " every "
              + otlp.metricsInterval().toSeconds()
              + "s");
    }
    meterProvider = meters.build();
    if (otlp.pushesLogs()) {
      logProcessor =
          new BoundedLogProcessor(
              OtlpExporters.logs(otlp),
              logStats,
              otlp.logsQueueSize(),
              otlp.logsBatchSize(),
              otlp.logsInterval(),
              otlp.timeout());
      loggerProvider =
          SdkLoggerProvider.builder()
              .setResource(resource)
              .addLogRecordProcessor(logProcessor)
              .build();
    } else {
      logProcessor = null;
      loggerProvider = null;
    }
    meter = meterProvider.get("io.gadgetexporter");
    instanceMetrics(meter, instances);
    if (discovery != null) {
      containerMetrics(meter, discovery);
    }
    seriesMetrics(meter);
    logStats.register(meter);
    metricStats.register(meter);
    if (logProcessor != null) {
      meter
          .gaugeBuilder("gadget.export.queue.size")
          .ofLongs()
          .setDescription("Log records waiting for OTLP export.")
          .setUnit("{record}")
          .buildWithCallback(
              m ->
                  m.record(
                      logProcessor.queued(), Attributes.of(ExportStats.SIGNAL, "logs")));
      meter
          .gaugeBuilder("gadget.export.queue.capacity")
          .ofLongs()
          .setDescription("Log records the OTLP export queue holds at most.")
          .setUnit("{record}")
          .buildWithCallback(
              m ->
                  m.record(otlp.logsQueueSize(), Attributes.of(ExportStats.SIGNAL, "logs")));
    }
    SelfMetrics.register(meter, instances);
    JvmMetrics.register(meter);
  }

  /**
   * The log processor the agent puts between its instances' loggers and the OTLP exporter (a
   * bounded queue that never blocks the drain thread, batches sent from one thread, every
   * record's fate counted in {@code stats}), over any exporter: for benchmarks and tests that
   * measure the agent's log path without a collector.
   */
  public static LogRecordProcessor boundedLogProcessor(
      LogRecordExporter exporter,
      ExportStats stats,
      int queueSize,
      int batchSize,
      Duration interval,
      Duration exportTimeout) {
    return new BoundedLogProcessor(exporter, stats, queueSize, batchSize, interval, exportTimeout);
  }

  public static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
  }

  static Resource resource(ResourceConfig c, String serviceVersion) {
    ResourceBuilder b = Resource.builder();
    c.attributes().forEach(b::put);
    b.put("service.name", c.serviceName());
    b.put("service.version", serviceVersion);
    hostName().ifPresent(h -> b.put("host.name", h));
    c.nodeName().ifPresent(n -> b.put("k8s.node.name", n));
    c.clusterName().ifPresent(n -> b.put("k8s.cluster.name", n));
    // The SDK's default adds telemetry.sdk.*; the configured attributes win over it.
    return Resource.getDefault().merge(b.build());
  }

  private static Optional<String> hostName() {
    try {
      return Optional.of(InetAddress.getLocalHost().getHostName());
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  /** Where the instances' event metrics go: register each instance's on start. */
  public EventMetricsProducer eventMetrics() {
    return eventMetrics;
  }

  /**
   * The logger an instance's log records go to, or empty when logs are not pushed (no OTLP
   * endpoint): instances then make no records at all.
   */
  public Optional<Logger> logger(String instanceName) {
    return loggerProvider == null
        ? Optional.empty()
        : Optional.of(
            loggerProvider
                .loggerBuilder("io.gadgetexporter." + instanceName)
                .setInstrumentationVersion(resource.getAttribute(AttributeKey.stringKey("service.version")))
                .build());
  }

  /** The agent's meter, for components that add their own asynchronous metrics. */
  public Meter meter() {
    return meter;
  }



  public Resource resource() {
    return resource;
  }

  private static void instanceMetrics(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    perInstanceCounter(
        meter, "gadget.events.lost",
        "Events the kernel dropped: the instance's ring buffer, or a map of its gadget's (for an"
            + " aggregating gadget, its count map), was full. Events delivered without a part are"
            + " gadget.events.incomplete.",
        "{event}",
        instances, GadgetInstance::lostTotal);
    perInstanceCounter(
        meter, "gadget.events.incomplete",
        "Events delivered without a part a full kernel map had no room for (a socket's owner, a"
            + " DNS query's latency, a stack), counted once per part missed; these are not lost.",
        "{event}",
        instances, GadgetInstance::incompleteTotal);
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
  }

  private void seriesMetrics(Meter meter) {
    AttributeKey<String> metric = AttributeKey.stringKey("metric");
    meter
        .gaugeBuilder("gadget.metric.series")
        .ofLongs()
        .setDescription(
            "Series an event metric holds, over all instances, its overflow series included.")
        .setUnit("{series}")
        .buildWithCallback(
            m ->
                eventMetrics
                    .seriesCounts()
                    .forEach((name, n) -> m.record(n, Attributes.of(metric, name))));
    meter
        .counterBuilder("gadget.metric.series.overflow")
        .setDescription(
            "Measurements recorded into an event metric's overflow series"
                + " (otel_metric_overflow=\"true\") because it already held metrics.max_series"
                + " series.")
        .setUnit("{measurement}")
        .buildWithCallback(
            m ->
                eventMetrics
                    .overflowCounts()
                    .forEach((name, n) -> m.record(n, Attributes.of(metric, name))));
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
            Attributes.of(
                AttributeNames.INSTANCE, i.name(), AttributeNames.GADGET, i.gadget().name()));
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

  /**
   * Sends what is queued (logs) and a last push of metrics, then stops. The instances must be
   * stopped first, so their last events are in.
   */
  @Override
  public void close() {
    if (loggerProvider != null) {
      loggerProvider.close();
    }
    meterProvider.close();
  }
}
