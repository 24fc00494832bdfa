package io.gadgetexporter.export;

import io.gadgetexporter.bpf.ProgramStats;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.MapUsage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What the gadgets cost and how full they are: per-program run counts and run time in the kernel,
 * map fill, ring buffer size, and instances by state. Together with {@link Telemetry}'s event and
 * loss counters, these make the agent observable with its own metrics.
 *
 * <p>Every instrument is asynchronous: values are read from the kernel when a reader collects (a
 * scrape, an OTLP push), never on the event path. Instruments read from one source in one callback
 * ({@link Meter#batchCallback}), so a map's keys are walked once per collection for both its
 * entries and its capacity.
 *
 * <p>Per-instance series carry {@code instance} and {@code gadget}, like {@link Telemetry}'s, and
 * are reported for running instances only.
 */
public final class SelfMetrics {
  // The same keys as Telemetry's per-instance series, so that they join in queries.
  static final AttributeKey<String> INSTANCE = AttributeNames.INSTANCE;
  static final AttributeKey<String> GADGET = AttributeNames.GADGET;
  static final AttributeKey<String> PROGRAM = AttributeKey.stringKey("program");
  static final AttributeKey<String> MAP = AttributeKey.stringKey("map");
  static final AttributeKey<String> MAP_TYPE = AttributeKey.stringKey("type");
  static final AttributeKey<String> STATE = AttributeKey.stringKey("state");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
  private static final double NANOS_PER_SECOND = 1e9;

  private SelfMetrics() {}

  /**
   * All of this class's metrics: {@link #programs}, {@link #maps}, {@link #ringBufferSize}, {@link
   * #instances}, {@link #aggregates}, {@link #snapshots}, {@link #socketFilters}.
   */
  public static Registration register(Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    Registration r = new Registration();
    r.addAll(programs(meter, instances));
    r.addAll(maps(meter, instances));
    r.addAll(ringBufferSize(meter, instances));
    r.addAll(instances(meter, instances));
    r.addAll(aggregates(meter, instances));
    r.addAll(snapshots(meter, instances));
    r.addAll(socketFilters(meter, instances));
    return r;
  }

  /**
   * For aggregating gadgets, whose rows are read from a kernel map every interval (their rows are
   * counted by {@code gadget.events}, their full map by {@code gadget.events.lost}): {@code
   * gadget.aggregate.rows.dropped}, rows read but cut by {@code max_rows}, and {@code
   * gadget.aggregate.read.last_duration}, how long the last read took (a gauge of one value, named
   * so that it is not taken for a histogram like {@code gadget.export.duration}).
   */
  public static Registration aggregates(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    ObservableLongMeasurement dropped =
        meter
            .counterBuilder("gadget.aggregate.rows.dropped")
            .setDescription(
                "Rows an aggregating instance read from its map but did not deliver because an"
                    + " interval had more than its max_rows parameter (the smallest by its sort"
                    + " order).")
            .setUnit("{row}")
            .buildObserver();
    ObservableDoubleMeasurement readTime =
        meter
            .gaugeBuilder("gadget.aggregate.read.last_duration")
            .setDescription(
                "How long the last read of an aggregating instance's map took: taking the rows"
                    + " out of the kernel, sorting them and handing them to the outputs.")
            .setUnit("s")
            .buildObserver();
    Registration r = new Registration();
    r.add(
        meter.batchCallback(
            () -> {
              for (GadgetInstance i : running(instances)) {
                if (i.gadget().spec().isAggregate()) {
                  Attributes a = instanceAttributes(i);
                  dropped.record(i.rowsDroppedTotal(), a);
                  readTime.record(i.lastReadNanos() / NANOS_PER_SECOND, a);
                }
              }
            },
            dropped,
            readTime));
    return r;
  }

  /**
   * {@code gadget.program.runs} and {@code gadget.program.run_time}: how often each attached BPF
   * program ran and how long it took, from the kernel's own accounting. Divide run time by runs for
   * the cost per event in the kernel; both stay 0 unless BPF statistics are on ({@link
   * BpfStatsHolder}).
   */
  public static Registration programs(Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    ObservableLongMeasurement runs =
        meter
            .counterBuilder("gadget.program.runs")
            .setDescription(
                "Times each BPF program of the instance ran, system-wide; counted by the kernel"
                    + " only while BPF statistics are enabled (0 otherwise).")
            .setUnit("{run}")
            .buildObserver();
    ObservableDoubleMeasurement runTime =
        meter
            .counterBuilder("gadget.program.run_time")
            .ofDoubles()
            .setDescription(
                "Time each BPF program of the instance spent running in the kernel: the gadget's"
                    + " overhead; divide by gadget.program.runs for the cost per run. Counted only"
                    + " while BPF statistics are enabled (0 otherwise).")
            .setUnit("s")
            .buildObserver();
    Registration r = new Registration();
    r.add(
        meter.batchCallback(
            () -> {
              for (GadgetInstance i : running(instances)) {
                for (Map.Entry<String, ProgramStats> e : i.programStats().entrySet()) {
                  Attributes a = instanceAttributes(i).toBuilder().put(PROGRAM, e.getKey()).build();
                  runs.record(e.getValue().runCount(), a);
                  runTime.record(e.getValue().runTimeNs() / NANOS_PER_SECOND, a);
                }
              }
            },
            runs,
            runTime));
    return r;
  }

  /**
   * {@code gadget.map.entries} and {@code gadget.map.capacity} for the gadget maps that can fill up
   * (hash-like; see {@link MapUsage#reported}). Maps too large to count on every collection (see
   * {@link MapUsage#COUNT_LIMIT}) report their capacity only.
   */
  public static Registration maps(Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    ObservableLongMeasurement entries =
        meter
            .gaugeBuilder("gadget.map.entries")
            .ofLongs()
            .setDescription(
                "Elements in each of the instance's BPF hash maps; against gadget.map.capacity,"
                    + " how close the map is to refusing updates (an LRU map evicts instead).")
            .setUnit("{entry}")
            .buildObserver();
    ObservableLongMeasurement capacity =
        meter
            .gaugeBuilder("gadget.map.capacity")
            .ofLongs()
            .setDescription(
                "Maximum elements of each of the instance's BPF hash maps (max_entries).")
            .setUnit("{entry}")
            .buildObserver();
    Registration r = new Registration();
    r.add(
        meter.batchCallback(
            () -> {
              for (GadgetInstance i : running(instances)) {
                Attributes base = instanceAttributes(i);
                for (MapUsage m : i.mapUsage()) {
                  Attributes a =
                      base.toBuilder().put(MAP, m.name()).put(MAP_TYPE, m.type()).build();
                  capacity.record(m.capacity(), a);
                  if (m.counted()) {
                    entries.record(m.entries(), a);
                  }
                }
              }
            },
            entries,
            capacity));
    return r;
  }

  /**
   * {@code gadget.ring_buffer.size}: each instance's ring buffer data size, so that fill is {@code
   * gadget.ring_buffer.pending / gadget.ring_buffer.size}.
   */
  public static Registration ringBufferSize(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    Registration r = new Registration();
    r.add(
        meter
            .gaugeBuilder("gadget.ring_buffer.size")
            .ofLongs()
            .setDescription(
                "Data size of the instance's BPF ring buffer (ring_buffer.size); the kernel drops"
                    + " events (gadget.events.lost) when gadget.ring_buffer.pending reaches it.")
            .setUnit("By")
            .buildWithCallback(
                m -> {
                  for (GadgetInstance i : running(instances)) {
                    m.record(i.ringBufferBytes(), instanceAttributes(i));
                  }
                }));
    return r;
  }

  /**
   * {@code gadget.instances}: how many instances are in each state. Every state is reported, 0
   * included, so that a series does not vanish when its last instance leaves the state (an alert on
   * {@code state="failed"} must see it fall back to 0).
   */
  public static Registration instances(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    Map<GadgetInstance.State, Attributes> byState = new EnumMap<>(GadgetInstance.State.class);
    for (GadgetInstance.State s : GadgetInstance.State.values()) {
      byState.put(s, Attributes.of(STATE, s.name().toLowerCase(Locale.ROOT)));
    }
    Registration r = new Registration();
    r.add(
        meter
            .gaugeBuilder("gadget.instances")
            .ofLongs()
            .setDescription(
                "Gadget instances by state: starting, running, failed (see /readyz for why) or"
                    + " stopped.")
            .setUnit("{instance}")
            .buildWithCallback(
                m -> {
                  Map<GadgetInstance.State, Long> counts =
                      new EnumMap<>(GadgetInstance.State.class);
                  for (GadgetInstance.State s : GadgetInstance.State.values()) {
                    counts.put(s, 0L);
                  }
                  for (GadgetInstance i : instances.get()) {
                    counts.merge(i.state(), 1L, Long::sum);
                  }
                  counts.forEach((s, n) -> m.record(n, byState.get(s)));
                }));
    return r;
  }

  /**
   * {@code gadget.snapshots} (by {@code outcome}: {@code ok}, {@code failed}) and {@code
   * gadget.snapshot.last_duration}: how often each snapshot gadget ran its iterators (interval and
   * on-demand alike) and how long the last one took; for a gadget that lists network namespaces,
   * {@code gadget.snapshot.namespaces_skipped}. Its interval's rows are {@code gadget.events}.
   */
  public static Registration snapshots(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    ObservableLongMeasurement taken =
        meter
            .counterBuilder("gadget.snapshots")
            .setDescription(
                "Snapshots a snapshot gadget's instance took (on its interval and on demand), by"
                    + " outcome: ok, or failed (the kernel failed an iterator run; see the log).")
            .setUnit("{snapshot}")
            .buildObserver();
    ObservableDoubleMeasurement duration =
        meter
            .gaugeBuilder("gadget.snapshot.last_duration")
            .setDescription(
                "How long the instance's last snapshot took: its iterators' runs in the kernel and"
                    + " the delivery of its rows (to the outputs, or to the HTTP request).")
            .setUnit("s")
            .buildObserver();
    ObservableLongMeasurement skipped =
        meter
            .counterBuilder("gadget.snapshot.namespaces_skipped")
            .setDescription(
                "Network namespaces a snapshot could not enter to list their sockets, counted in"
                    + " each snapshot that skipped them: the agent lacks CAP_SYS_ADMIN, or the"
                    + " process noted for the namespace exited meanwhile.")
            .setUnit("{namespace}")
            .buildObserver();
    Registration r = new Registration();
    r.add(
        meter.batchCallback(
            () -> {
              for (GadgetInstance i : running(instances)) {
                i.snapshots()
                    .ifPresent(
                        s -> {
                          var st = s.stats();
                          Attributes a = instanceAttributes(i);
                          taken.record(st.taken(), a.toBuilder().put(OUTCOME, "ok").build());
                          taken.record(st.failed(), a.toBuilder().put(OUTCOME, "failed").build());
                          if (st.taken() > 0) {
                            duration.record(st.lastDurationNanos() / NANOS_PER_SECOND, a);
                          }
                          if (i.gadget().spec().snapshot().networkNamespaces() != null) {
                            skipped.record(st.namespacesSkipped(), a);
                          }
                        });
              }
            },
            taken,
            duration,
            skipped));
    return r;
  }

  /**
   * For gadgets with socket filters, which run on a packet socket the agent opens in each traced
   * network namespace: {@code gadget.socket_filter.namespaces} by {@code state} ({@code open}: a
   * socket is attached there; {@code failed}: a selected container's namespace where opening one
   * failed, retried with backoff, so its packets are not seen meanwhile) and {@code
   * gadget.socket_filter.open_failures}, every failed attempt (first tries and retries).
   */
  public static Registration socketFilters(
      Meter meter, Supplier<Collection<GadgetInstance>> instances) {
    ObservableLongMeasurement namespaces =
        meter
            .gaugeBuilder("gadget.socket_filter.namespaces")
            .ofLongs()
            .setDescription(
                "Network namespaces an instance's socket filters should run in, by state: open (a"
                    + " packet socket is attached there), or failed (opening it failed for a"
                    + " selected container; retried with backoff, its packets unseen meanwhile).")
            .setUnit("{namespace}")
            .buildObserver();
    ObservableLongMeasurement failures =
        meter
            .counterBuilder("gadget.socket_filter.open_failures")
            .setDescription(
                "Attempts to open an instance's packet socket in a selected container's network"
                    + " namespace that failed (the container exited first, or its process was not"
                    + " in the namespace yet; see /api/v1/gadgets for why), first tries and"
                    + " retries alike.")
            .setUnit("{failure}")
            .buildObserver();
    Registration r = new Registration();
    r.add(
        meter.batchCallback(
            () -> {
              for (GadgetInstance i : running(instances)) {
                i.socketFilters()
                    .ifPresent(
                        s -> {
                          Attributes a = instanceAttributes(i);
                          namespaces.record(
                              s.namespaces().size(), a.toBuilder().put(STATE, "open").build());
                          namespaces.record(
                              s.failedNamespaces(), a.toBuilder().put(STATE, "failed").build());
                          failures.record(s.openFailures(), a);
                        });
              }
            },
            namespaces,
            failures));
    return r;
  }

  private static Iterable<GadgetInstance> running(Supplier<Collection<GadgetInstance>> instances) {
    return instances.get().stream().filter(i -> i.state() == GadgetInstance.State.RUNNING).toList();
  }

  private static Attributes instanceAttributes(GadgetInstance i) {
    return Attributes.of(INSTANCE, i.name(), GADGET, i.gadget().name());
  }
}
