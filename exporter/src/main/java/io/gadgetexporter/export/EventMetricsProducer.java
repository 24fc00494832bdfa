package io.gadgetexporter.export;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableDoublePointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableGaugeData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableLongPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableMetricData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSumData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * Hands every instance's event metrics to the OpenTelemetry SDK at each collection, so both
 * readers (the Prometheus scrape and the OTLP push) see the same series. Before each collection it
 * forgets the series of containers gone for longer than {@code metrics.deleted_container_ttl}.
 *
 * <p>The points are cumulative and built with the SDK's immutable data classes (an internal
 * package, pinned with the SDK version): the SDK's own instruments cannot forget a series.
 */
public final class EventMetricsProducer implements MetricProducer {
  private static final InstrumentationScopeInfo SCOPE =
      InstrumentationScopeInfo.create("io.gadgetexporter.events");

  private final List<EventMetrics> instances = new CopyOnWriteArrayList<>();
  private final ContainerCollection containers;
  private final long ttlNanos;
  private final LongSupplier nanoTime;
  private final LongSupplier epochNanos;
  private final Object lock = new Object();

  /**
   * @param containers the node's containers, or null without discovery (nothing is swept then)
   */
  public EventMetricsProducer(
      ContainerCollection containers, long ttlNanos, LongSupplier nanoTime, LongSupplier epochNanos) {
    this.containers = containers;
    this.ttlNanos = ttlNanos;
    this.nanoTime = nanoTime;
    this.epochNanos = epochNanos;
  }

  public void register(EventMetrics metrics) {
    instances.add(metrics);
  }

  /** Forgets a stopped instance's metrics: its series leave the next collection. */
  public void unregister(EventMetrics metrics) {
    instances.remove(metrics);
  }


  /** Series per metric name across instances, overflow series included (self-metric). */
  public Map<String, Integer> seriesCounts() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (EventMetrics m : instances) {
      for (MetricTable t : m.tables()) {
        counts.merge(t.name, t.seriesCount(), Integer::sum);
      }
    }
    return counts;
  }

  /** Measurements that went to an overflow series, per metric name (self-metric). */
  public Map<String, Long> overflowCounts() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (EventMetrics m : instances) {
      for (MetricTable t : m.tables()) {
        counts.merge(t.name, t.overflowedTotal(), Long::sum);
      }
    }
    return counts;
  }

  /** Forgets the series of containers gone longer than the TTL; done before every collection. */
  public void sweep() {
    if (containers == null) {
      return;
    }
    synchronized (lock) {
      List<Container> known = new ArrayList<>(containers.containers());
      known.addAll(containers.exited());
      long now = nanoTime.getAsLong();
      Map<String, Set<MetricTable.SeriesKey>> liveByLabels = new LinkedHashMap<>();
      for (EventMetrics m : instances) {
        for (MetricTable t : m.tables()) {
          Set<MetricTable.SeriesKey> live =
              liveByLabels.computeIfAbsent(
                  String.join(",", t.containerAttributes),
                  k -> {
                    Set<MetricTable.SeriesKey> s = new HashSet<>();
                    for (Container c : known) {
                      s.add(t.liveKey(c));
                    }
                    return s;
                  });
          t.sweep(live, now, ttlNanos);
        }
      }
    }
  }

  @Override
  public Collection<MetricData> produce(Resource resource) {
    sweep();
    long now = epochNanos.getAsLong();
    Map<String, List<MetricTable>> byName = new LinkedHashMap<>();
    for (EventMetrics m : instances) {
      for (MetricTable t : m.tables()) {
        byName.computeIfAbsent(t.name, k -> new ArrayList<>()).add(t);
      }
    }
    List<MetricData> result = new ArrayList<>(byName.size());
    for (List<MetricTable> tables : byName.values()) {
      MetricTable first = tables.get(0);
      switch (first.kind) {
        case COUNTER -> {
          List<LongPointData> points = new ArrayList<>();
          for (MetricTable t : tables) {
            forEachSeries(
                t,
                s ->
                    points.add(
                        ImmutableLongPointData.create(
                            s.startEpochNanos, now, s.attributes, s.count())));
          }
          result.add(
              ImmutableMetricData.createLongSum(
                  resource,
                  SCOPE,
                  first.name,
                  first.description,
                  first.unit,
                  ImmutableSumData.create(true, AggregationTemporality.CUMULATIVE, points)));
        }
        case GAUGE -> {
          List<DoublePointData> points = new ArrayList<>();
          for (MetricTable t : tables) {
            forEachSeries(
                t,
                s -> {
                  if (s.count() > 0) {
                    points.add(
                        ImmutableDoublePointData.create(
                            s.startEpochNanos, now, s.attributes, s.last()));
                  }
                });
          }
          result.add(
              ImmutableMetricData.createDoubleGauge(
                  resource,
                  SCOPE,
                  first.name,
                  first.description,
                  first.unit,
                  ImmutableGaugeData.create(points)));
        }
        case HISTOGRAM -> {
          List<HistogramPointData> points = new ArrayList<>();
          for (MetricTable t : tables) {
            List<Double> bounds = Arrays.stream(t.bounds).boxed().toList();
            forEachSeries(
                t,
                s -> {
                  MetricTable.HistogramSnapshot h = s.histogram();
                  points.add(
                      ImmutableHistogramPointData.create(
                          s.startEpochNanos,
                          now,
                          s.attributes,
                          h.sum(),
                          h.count() > 0,
                          h.count() > 0 ? h.min() : 0,
                          h.count() > 0,
                          h.count() > 0 ? h.max() : 0,
                          bounds,
                          Arrays.stream(h.counts()).boxed().toList()));
                });
          }
          result.add(
              ImmutableMetricData.createDoubleHistogram(
                  resource,
                  SCOPE,
                  first.name,
                  first.description,
                  first.unit,
                  ImmutableHistogramData.create(AggregationTemporality.CUMULATIVE, points)));
        }
      }
    }
    return result;
  }

  private static void forEachSeries(
      MetricTable t, java.util.function.Consumer<MetricTable.Series> action) {
    t.series.values().forEach(action);
    MetricTable.Series o = t.overflowSeries();
    if (o != null) {
      action.accept(o);
    }
  }
}
