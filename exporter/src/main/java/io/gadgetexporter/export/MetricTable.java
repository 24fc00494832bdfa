package io.gadgetexporter.export;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.FieldFormat;
import io.gadgetexporter.gadget.Log2Histogram;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The series of one metric of one instance, kept by the agent itself rather than by OpenTelemetry
 * instruments, because the agent must be able to forget series: those of a container that is gone
 * (after {@code metrics.deleted_container_ttl}) — cumulative SDK instruments keep every series for
 * the life of the process — and to bound them ({@code metrics.max_series}) with an overflow series.
 *
 * <p>One writer: the instance's drain thread calls {@link #record}. Readers ({@link
 * EventMetrics#produce}) run on the scrape and push threads; they see each value through a release
 * store, so a collection may miss the last few events of a batch but never sees a torn number.
 */
final class MetricTable {
  /** What a table does with each event. */
  enum Kind {
    COUNTER,
    HISTOGRAM,
    GAUGE
  }

  static final AttributeKey<Boolean> OVERFLOW = AttributeKey.booleanKey("otel.metric.overflow");
  private static final Object NO_CONTAINER = new Object();

  final String name;
  final String description;
  final String unit;
  final Kind kind;
  private final Attributes common;
  /** The container attributes on this metric's series, in order. */
  final String[] containerAttributes;
  private final AttributeKey<String>[] containerKeys;
  private final EventField[] labelFields;
  private final AttributeKey<String>[] labelKeys;
  private final EventField valueField;
  /** Field unit to metric unit: 1e-9 for a field in ns recorded in s. */
  final double scale;
  final double[] bounds;
  private final int maxSeries;
  private final LongSupplier epochNanos;

  final Map<SeriesKey, Series> series = new ConcurrentHashMap<>();
  private volatile Series overflow;
  private volatile long overflowed;
  /** Writer only: the series of each container, for metrics without field labels. */
  private final IdentityHashMap<Object, Series> byContainer = new IdentityHashMap<>();

  @SuppressWarnings("unchecked")
  MetricTable(
      String name,
      String description,
      String unit,
      Kind kind,
      Attributes common,
      String[] containerAttributes,
      EventField[] labelFields,
      String[] labelNames,
      EventField valueField,
      double scale,
      double[] bounds,
      int maxSeries,
      LongSupplier epochNanos) {
    this.name = name;
    this.description = description;
    this.unit = unit;
    this.kind = kind;
    this.common = common;
    this.containerAttributes = containerAttributes;
    this.containerKeys = new AttributeKey[containerAttributes.length];
    for (int i = 0; i < containerAttributes.length; i++) {
      containerKeys[i] = AttributeKey.stringKey(containerAttributes[i]);
    }
    this.labelFields = labelFields;
    this.labelKeys = new AttributeKey[labelNames.length];
    for (int i = 0; i < labelNames.length; i++) {
      labelKeys[i] = AttributeKey.stringKey(labelNames[i]);
    }
    this.valueField = valueField;
    this.scale = scale;
    this.bounds = bounds;
    this.maxSeries = maxSeries;
    this.epochNanos = epochNanos;
  }

  /** Takes one event (drain thread). */
  void record(EventView event) {
    Series s;
    if (labelFields.length == 0) {
      // The common case (the event count per container): one identity lookup, no allocation.
      Container c = event.container();
      Object k = c == null ? NO_CONTAINER : c;
      s = byContainer.get(k);
      if (s == null || s.removed) {
        s = find(key(c, event));
        if (byContainer.size() >= 4 * maxSeries) {
          byContainer.clear(); // containers come and go: keep the cache bounded
        }
        byContainer.put(k, s);
      }
    } else {
      s = find(key(event.container(), event));
    }
    switch (kind) {
      case COUNTER -> {
        long v = valueField == null ? 1 : event.getLong(valueField);
        if (v > 0) {
          s.add(v);
        }
      }
      case HISTOGRAM -> {
        if (valueField.format() == FieldFormat.HISTOGRAM) {
          observeSlots(s, event.getSlots(valueField));
        } else {
          s.observe(event.getLong(valueField) * scale, bounds, 1);
        }
      }
      case GAUGE -> s.set(event.getLong(valueField) * scale);
    }
  }

  /**
   * A log2 histogram (a row of an aggregating gadget) into this metric: each slot's count at the
   * slot's representative value, in one step per slot however large the count, so a row costs
   * O(slots). The metric's buckets can only be as fine as the slots: with bounds at powers of two
   * (in the field's unit) each slot lands in the bucket that covers it; a bound inside a slot puts
   * the whole slot on one side of it. The sum is the representatives' sum, an estimate (within
   * the slots' factor of two); min and max are those of the representatives.
   */
  private void observeSlots(Series s, long[] slots) {
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] > 0) {
        s.observe(Log2Histogram.representative(i) * scale, bounds, slots[i]);
      }
    }
  }

  private SeriesKey key(Container c, EventView event) {
    String[] values = new String[containerAttributes.length + labelFields.length];
    for (int i = 0; i < containerAttributes.length; i++) {
      values[i] = AttributeNames.containerLabel(c, containerAttributes[i]);
    }
    for (int i = 0; i < labelFields.length; i++) {
      values[containerAttributes.length + i] = event.text(labelFields[i]);
    }
    return new SeriesKey(values);
  }

  private Series find(SeriesKey key) {
    Series s = series.get(key);
    if (s != null) {
      return s;
    }
    // As in the OpenTelemetry SDK, the overflow series counts toward the limit.
    if (series.size() >= maxSeries - 1) {
      overflowed++;
      Series o = overflow;
      if (o == null) {
        o = new Series(common.toBuilder().put(OVERFLOW, true).build(), epochNanos.getAsLong(), bounds);
        overflow = o;
      }
      return o;
    }
    s = new Series(attributes(key), epochNanos.getAsLong(), bounds);
    series.put(key, s);
    return s;
  }

  private Attributes attributes(SeriesKey key) {
    AttributesBuilder b = common.toBuilder();
    for (int i = 0; i < containerKeys.length; i++) {
      if (!key.values[i].isEmpty()) {
        b.put(containerKeys[i], key.values[i]);
      }
    }
    for (int i = 0; i < labelKeys.length; i++) {
      b.put(labelKeys[i], key.values[containerKeys.length + i]);
    }
    return b.build();
  }

  /** Measurements that went to the overflow series because the table was full. */
  long overflowedTotal() {
    return overflowed;
  }

  Series overflowSeries() {
    return overflow;
  }

  /** Series held, the overflow series included. */
  int seriesCount() {
    return series.size() + (overflow == null ? 0 : 1);
  }

  /**
   * Forgets the series of containers that are gone: a series whose container labels match no
   * known container is marked, and removed once it has stayed so for {@code ttlNanos}. Series
   * without container labels (host processes) stay.
   *
   * @param live the container-label tuples of every known container, as {@link #liveKey} makes
   */
  void sweep(Set<SeriesKey> live, long nowNanos, long ttlNanos) {
    if (containerAttributes.length == 0) {
      return;
    }
    for (Map.Entry<SeriesKey, Series> e : series.entrySet()) {
      SeriesKey key = e.getKey();
      if (key.containerPartEmpty(containerAttributes.length)) {
        continue;
      }
      Series s = e.getValue();
      if (live.contains(key.containerPart(containerAttributes.length))) {
        s.orphanedAt = 0;
      } else if (s.orphanedAt == 0) {
        s.orphanedAt = nowNanos;
      } else if (nowNanos - s.orphanedAt >= ttlNanos) {
        s.removed = true;
        series.remove(key, s);
      }
    }
  }

  /** The container-label tuple of a container, comparable with {@link SeriesKey#containerPart}. */
  SeriesKey liveKey(Container c) {
    String[] values = new String[containerAttributes.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = AttributeNames.containerLabel(c, containerAttributes[i]);
    }
    return new SeriesKey(values);
  }

  /** Label values: the container's, then the fields'. */
  static final class SeriesKey {
    final String[] values;
    private final int hash;

    SeriesKey(String[] values) {
      this.values = values;
      this.hash = Arrays.hashCode(values);
    }

    boolean containerPartEmpty(int n) {
      for (int i = 0; i < n; i++) {
        if (!values[i].isEmpty()) {
          return false;
        }
      }
      return true;
    }

    SeriesKey containerPart(int n) {
      return n == values.length ? this : new SeriesKey(Arrays.copyOf(values, n));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SeriesKey k && hash == k.hash && Arrays.equals(values, k.values);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** One series' numbers; written by one thread, published with release stores. */
  static final class Series {
    private static final VarHandle PUBLISHED;

    static {
      try {
        PUBLISHED = MethodHandles.lookup().findVarHandle(Series.class, "published", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Attributes attributes;
    final long startEpochNanos;
    volatile boolean removed;
    /** Sweeper only. */
    long orphanedAt;

    // Written by the drain thread, then published by a release store of `published`.
    private long sum;
    private double doubleSum;
    private double last;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private final long[] counts;
    @SuppressWarnings("unused")
    private long published;

    Series(Attributes attributes, long startEpochNanos, double[] bounds) {
      this.attributes = attributes;
      this.startEpochNanos = startEpochNanos;
      this.counts = bounds == null ? null : new long[bounds.length + 1];
    }

    void add(long v) {
      sum += v;
      PUBLISHED.setRelease(this, sum);
    }

    void set(double v) {
      last = v;
      sum++;
      PUBLISHED.setRelease(this, sum);
    }

    /** {@code n} measurements of {@code v}. */
    void observe(double v, double[] bounds, long n) {
      int i = Arrays.binarySearch(bounds, v);
      counts[i >= 0 ? i : -i - 1] += n; // a value on a boundary belongs to that bucket (le)
      doubleSum += v * n;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += n;
      PUBLISHED.setRelease(this, sum);
    }

    /** Acquire: everything written before the matching release is visible after this. */
    long count() {
      return (long) PUBLISHED.getAcquire(this);
    }

    double last() {
      PUBLISHED.getAcquire(this);
      return last;
    }

    HistogramSnapshot histogram() {
      PUBLISHED.getAcquire(this);
      long[] c = counts.clone();
      long n = 0;
      for (long x : c) {
        n += x;
      }
      return new HistogramSnapshot(n, doubleSum, min, max, c);
    }
  }

  record HistogramSnapshot(long count, double sum, double min, double max, long[] counts) {}
}
