package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import io.gadgetexporter.gadget.MapUsage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's self-metrics read from real gadget instances in the real kernel, through a private
 * meter provider (an in-memory reader, and Prometheus for the exposed names).
 */
class SelfMetricsTest {
  private static final AttributeKey<String> INSTANCE = AttributeKey.stringKey("gadget.instance");
  private static final AttributeKey<String> PROGRAM = AttributeKey.stringKey("program");
  private static final AttributeKey<String> MAP = AttributeKey.stringKey("map");
  private static final AttributeKey<String> STATE = AttributeKey.stringKey("state");
  private static final long MIB = 1 << 20;

  @TempDir Path dir;

  private final List<GadgetInstance> instances = new CopyOnWriteArrayList<>();
  private InMemoryMetricReader reader;
  private PrometheusMetricReader prometheus;
  private SdkMeterProvider provider;

  @BeforeEach
  void provider() {
    reader = InMemoryMetricReader.create();
    prometheus = PrometheusMetricReader.builder().setOtelScopeLabelsEnabled(false).build();
    provider =
        SdkMeterProvider.builder()
            .registerMetricReader(reader)
            .registerMetricReader(prometheus)
            .build();
    SelfMetrics.register(provider.get("test"), () -> instances);
    JvmMetrics.register(provider.get("test"));
  }

  @AfterEach
  void close() {
    instances.forEach(GadgetInstance::close);
    provider.close();
  }

  @Test
  void programRunsAndRunTimeCountWhileBpfStatsAreOn() throws Exception {
    try (BpfStatsHolder stats = BpfStatsHolder.tryEnable()) {
      assertThat(stats.enabled()).as(stats.reason()).isTrue();
      assertThat(stats.reason()).contains("enabled");
      GadgetInstance open = start(GadgetTesting.instance("trace_open", "", EventSink.NONE));
      assertThat(open.programStats()).containsOnlyKeys("exit_open", "exit_openat", "exit_openat2");

      Path file = Files.writeString(dir.resolve("opened"), "x");
      int n = 500;
      Map<String, Double> before = programValues("gadget.program.runs", open);
      for (int i = 0; i < n; i++) {
        Files.newInputStream(file).close(); // openat(2): this JVM's opens, among the host's
      }
      Collection<MetricData> metrics = reader.collectAllMetrics();
      Map<String, Double> runs = programValues(metrics, "gadget.program.runs", open);
      Map<String, Double> runTime = programValues(metrics, "gadget.program.run_time", open);

      assertThat(runs).containsOnlyKeys("exit_open", "exit_openat", "exit_openat2");
      assertThat(runs.get("exit_openat") - before.get("exit_openat")).isGreaterThanOrEqualTo(n);
      assertThat(runTime.get("exit_openat")).isPositive();
      MetricData runTimeMetric = metric(metrics, "gadget.program.run_time").orElseThrow();
      assertThat(runTimeMetric.getUnit()).isEqualTo("s");
      assertThat(runTimeMetric.getDoubleSumData().isMonotonic()).isTrue();
      double nsPerRun = runTime.get("exit_openat") * 1e9 / runs.get("exit_openat");
      System.out.printf(
          "trace_open exit_openat: %.0f runs, %.0f ns per run%n",
          runs.get("exit_openat"), nsPerRun);
      assertThat(nsPerRun).isBetween(1.0, 1_000_000.0);
    }
  }

  @Test
  void bpfStatsHolderSaysWhetherItHoldsAndWhy() {
    BpfStatsHolder enabled = BpfStatsHolder.tryEnable();
    assertThat(enabled.enabled()).isTrue();
    enabled.close();
    enabled.close(); // idempotent
    assertThat(enabled.enabled()).isFalse();

    BpfStatsHolder off = BpfStatsHolder.off();
    assertThat(off.enabled()).isFalse();
    assertThat(off.reason()).contains("off in the configuration").contains("gadget.program.runs");
    off.close();
  }

  @Test
  void bpfStatsRefusalsAreExplained() {
    assertThat(BpfStatsHolder.why(new BpfException("BPF_ENABLE_STATS", 1)))
        .contains("CAP_SYS_ADMIN");
    assertThat(BpfStatsHolder.why(new BpfException("BPF_ENABLE_STATS", -22))).contains("Linux 5.8");
  }

  @Test
  void mapFillOfAFilteredTraceExecAndItsRingBufferSize() {
    ContainerCollection containers = new ContainerCollection(0, System::nanoTime);
    // Mount namespace ids no process has: the filter map lists them, nothing else happens.
    for (int i = 0; i < 3; i++) {
      containers.add(container("gx-self-" + i, 0x7fff_0000_0000L + i));
    }
    containers.add(container("other", 0x7fff_1000_0000L));
    GadgetInstance exec =
        start(
            GadgetTesting.instance(
                "trace_exec",
                "    selector:\n      containers: ['gx-self-*']\n",
                EventSink.NONE,
                "      size: 1MiB\n",
                containers));

    Collection<MetricData> metrics = reader.collectAllMetrics();
    Attributes filter = mapAttributes(metrics, "gadget.map.capacity", "gadget_mntns_filter");
    assertThat(filter.get(AttributeKey.stringKey("type"))).isEqualTo("hash");
    assertThat(filter.get(AttributeKey.stringKey("gadget.name"))).isEqualTo("trace_exec");
    assertThat(value(metrics, "gadget.map.capacity", mapIs("gadget_mntns_filter")))
        .isEqualTo(16384);
    assertThat(value(metrics, "gadget.map.entries", mapIs("gadget_mntns_filter"))).isEqualTo(3);
    assertThat(value(metrics, "gadget.map.capacity", mapIs("starts"))).isEqualTo(10240);
    assertThat(value(metrics, "gadget.map.entries", mapIs("starts"))).isBetween(0.0, 10240.0);
    // Arrays (lost and filtered counters, per-CPU scratch), .rodata and the ring: not reported.
    assertThat(mapNames(metrics, "gadget.map.capacity"))
        .containsExactlyInAnyOrder("gadget_mntns_filter", "starts");
    assertThat(exec.mapUsage())
        .extracting(MapUsage::name, MapUsage::capacity, MapUsage::counted)
        .contains(
            org.assertj.core.groups.Tuple.tuple("gadget_mntns_filter", 16384L, true),
            org.assertj.core.groups.Tuple.tuple("starts", 10240L, true));

    assertThat(exec.ringBufferBytes()).isEqualTo(MIB);
    assertThat(value(metrics, "gadget.ring_buffer.size", instanceIs(exec))).isEqualTo(MIB);
    assertThat(metric(metrics, "gadget.ring_buffer.size").orElseThrow().getUnit()).isEqualTo("By");
  }

  @Test
  void instancesByStateKeepEveryStateAndFollowStartAndClose() {
    GadgetInstance open = GadgetTesting.instance("trace_open", "", EventSink.NONE);
    instances.add(open);
    assertThat(states())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("starting", 1.0, "running", 0.0, "failed", 0.0, "stopped", 0.0));

    open.start();
    assertThat(states()).containsEntry("running", 1.0).containsEntry("starting", 0.0);
    assertThat(programValues("gadget.program.runs", open)).isNotEmpty();

    open.close();
    assertThat(states())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("starting", 0.0, "running", 0.0, "failed", 0.0, "stopped", 1.0));
    // A stopped instance's per-instance series are gone; its last values stay readable.
    assertThat(programValues("gadget.program.runs", open)).isEmpty();
    assertThat(open.programStats()).isNotEmpty();
    assertThat(open.mapUsage()).isNotEmpty();
  }

  @Test
  void snapshotsAreCountedWithTheDurationOfTheLast() throws Exception {
    GadgetInstance snap = start(GadgetTesting.instance("snapshot_process", "", EventSink.NONE));
    GadgetInstance sockets = start(GadgetTesting.instance("snapshot_socket", "", EventSink.NONE));
    GadgetInstance exec = start(GadgetTesting.instance("trace_exec", "", EventSink.NONE));
    AttributeKey<String> outcome = AttributeKey.stringKey("outcome");
    Predicate<Attributes> ok = instanceIs(snap).and(a -> "ok".equals(a.get(outcome)));
    Predicate<Attributes> failed = instanceIs(snap).and(a -> "failed".equals(a.get(outcome)));
    Collection<MetricData> none = reader.collectAllMetrics();
    assertThat(value(none, "gadget.snapshots", ok)).isZero();
    assertThat(metric(none, "gadget.snapshot.last_duration")).as("nothing taken yet").isEmpty();

    snap.snapshots().orElseThrow().take(EventSink.NONE);
    snap.snapshots().orElseThrow().take(EventSink.NONE);
    sockets.snapshots().orElseThrow().take(EventSink.NONE);
    Collection<MetricData> metrics = reader.collectAllMetrics();
    assertThat(value(metrics, "gadget.snapshots", ok)).isEqualTo(2);
    assertThat(value(metrics, "gadget.snapshots", failed)).isZero();
    assertThat(value(metrics, "gadget.snapshot.last_duration", instanceIs(snap)))
        .isEqualTo(snap.snapshots().orElseThrow().stats().lastDurationNanos() / 1e9)
        .isPositive();
    // Namespaces skipped: of a gadget that enters network namespaces only. (Not asserted 0: a
    // namespace whose process exits during the snapshot, another test's, is skipped too.)
    MetricData skipped = metric(metrics, "gadget.snapshot.namespaces_skipped").orElseThrow();
    assertThat(skipped.getLongSumData().isMonotonic()).isTrue();
    assertThat(value(metrics, "gadget.snapshot.namespaces_skipped", instanceIs(sockets)))
        .isEqualTo(sockets.snapshots().orElseThrow().stats().namespacesSkipped());
    assertThat(points(skipped)).noneMatch(p -> instanceIs(snap).test(p.getAttributes()));
    // A tracer has no snapshot series.
    assertThat(points(metric(metrics, "gadget.snapshots").orElseThrow()))
        .noneMatch(p -> instanceIs(exec).test(p.getAttributes()));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, prometheus.collect());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "gadget_snapshots_total{gadget_instance=\"test-snapshot-process\","
                + "gadget_name=\"snapshot_process\",outcome=\"ok\"} 2")
        .contains(
            "gadget_snapshot_last_duration_seconds{gadget_instance=\"test-snapshot-process\"")
        .doesNotContain("gadget_snapshot_duration_seconds")
        .contains(
            "gadget_snapshot_namespaces_skipped_total{gadget_instance=\"test-snapshot-socket\","
                + "gadget_name=\"snapshot_socket\"}");
  }

  @Test
  void socketFilterNamespacesByStateAndTheFailedOpens() throws Exception {
    ContainerCollection containers = new ContainerCollection(0, System::nanoTime);
    containers.add(elsewhere());
    GadgetInstance dns =
        start(
            GadgetTesting.instance(
                "trace_dns",
                "    selector:\n      host: true\n      containers: [gx-elsewhere]\n",
                EventSink.NONE,
                "",
                containers));
    GadgetInstance exec = start(GadgetTesting.instance("trace_exec", "", EventSink.NONE));
    AttributeKey<String> state = AttributeKey.stringKey("state");
    Collection<MetricData> metrics = reader.collectAllMetrics();

    // The host's socket is open; the container's could not be.
    assertThat(
            value(
                metrics,
                "gadget.socket_filter.namespaces",
                instanceIs(dns).and(a -> "open".equals(a.get(state)))))
        .isEqualTo(1);
    assertThat(
            value(
                metrics,
                "gadget.socket_filter.namespaces",
                instanceIs(dns).and(a -> "failed".equals(a.get(state)))))
        .isEqualTo(1);
    long failures = dns.socketFilters().orElseThrow().openFailures();
    assertThat(failures).isPositive(); // 1, unless the retry a second later came first
    assertThat(value(metrics, "gadget.socket_filter.open_failures", instanceIs(dns)))
        .isEqualTo(failures);
    // A gadget without socket filters has no such series.
    assertThat(points(metric(metrics, "gadget.socket_filter.namespaces").orElseThrow()))
        .noneMatch(p -> instanceIs(exec).test(p.getAttributes()));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, prometheus.collect());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "gadget_socket_filter_namespaces{gadget_instance=\"test-trace-dns\","
                + "gadget_name=\"trace_dns\",state=\"failed\"} 1")
        .contains("# HELP gadget_socket_filter_open_failures_total Attempts to open")
        .contains(
            "gadget_socket_filter_open_failures_total{gadget_instance=\"test-trace-dns\","
                + "gadget_name=\"trace_dns\"}");
  }

  /**
   * A container the selector {@code containers: [gx-elsewhere]} names whose record says its
   * process (this JVM) is in a network namespace it is not in: its socket cannot be opened.
   */
  private static Container elsewhere() {
    return new Container(
        Container.Kind.CONTAINER,
        "gx-elsewhere-id",
        "gx-elsewhere",
        "runc",
        (int) ProcessHandle.current().pid(),
        0x7fff_2000_0000L,
        1,
        0,
        "/gx-elsewhere",
        Optional.empty(),
        Optional.of(Instant.now()),
        Optional.empty(),
        false,
        Container.Source.RUNTIME_HOOK);
  }

  @Test
  void readingStatsWhileTheInstanceClosesNeverThrows() throws Exception {
    for (int round = 0; round < 3; round++) {
      GadgetInstance exec = start(GadgetTesting.instance("trace_exec", "", EventSink.NONE));
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread collector =
          new Thread(
              () -> {
                try {
                  while (exec.state() != GadgetInstance.State.STOPPED) {
                    exec.programStats();
                    exec.mapUsage();
                    exec.ringBufferBytes();
                  }
                  exec.programStats();
                  exec.mapUsage();
                } catch (Throwable t) {
                  failure.set(t);
                }
              });
      collector.start();
      Thread.sleep(20);
      exec.close();
      collector.join(10_000);
      assertThat(collector.isAlive()).isFalse();
      assertThat(failure.get()).isNull();
      instances.remove(exec);
    }
  }

  @Test
  void jvmMetricsFollowSemanticConventionsAndSeeTheDrainBuffer() {
    start(GadgetTesting.instance("trace_open", "", EventSink.NONE));
    System.gc(); // at least one collection to count
    Collection<MetricData> metrics = reader.collectAllMetrics();

    MetricData used = metric(metrics, "jvm.memory.used").orElseThrow();
    assertThat(used.getUnit()).isEqualTo("By");
    double heapUsed =
        sum(metrics, "jvm.memory.used", a -> "heap".equals(a.get(JvmMetrics.MEMORY_TYPE)));
    assertThat(heapUsed).isPositive();
    assertThat(
            sum(metrics, "jvm.memory.used", a -> "non_heap".equals(a.get(JvmMetrics.MEMORY_TYPE))))
        .isPositive();
    assertThat(points(used).map(p -> p.getAttributes().get(JvmMetrics.MEMORY_POOL)))
        .doesNotContainNull()
        .isNotEmpty();
    assertThat(sum(metrics, "jvm.memory.committed", a -> true)).isGreaterThanOrEqualTo(heapUsed);
    assertThat(metric(metrics, "jvm.memory.limit")).isPresent();

    // The instance's drain buffer is a 1 MiB direct buffer.
    assertThat(
            sum(
                metrics,
                "jvm.buffer.memory.used",
                a -> "direct".equals(a.get(JvmMetrics.BUFFER_POOL))))
        .isGreaterThanOrEqualTo(MIB);

    assertThat(sum(metrics, "jvm.gc.collections", a -> true)).isGreaterThanOrEqualTo(1);
    assertThat(metric(metrics, "jvm.gc.time").orElseThrow().getUnit()).isEqualTo("s");
    assertThat(sum(metrics, "jvm.thread.count", a -> true))
        .isEqualTo(Thread.getAllStackTraces().size(), org.assertj.core.data.Offset.offset(5.0));
    assertThat(sum(metrics, "jvm.cpu.time", a -> true)).isPositive();
    assertThat(sum(metrics, "process.memory.usage", a -> true))
        .isGreaterThan(heapUsed)
        .isLessThan(sum(metrics, "process.memory.virtual", a -> true));
  }

  @Test
  void prometheusNamesAndHelp() throws Exception {
    try (BpfStatsHolder stats = BpfStatsHolder.tryEnable()) {
      start(
          GadgetTesting.instance(
              "trace_exec",
              "    selector:\n      containers: ['gx-none']\n",
              EventSink.NONE,
              "",
              new ContainerCollection(0, System::nanoTime)));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, prometheus.collect());
      String text = out.toString(StandardCharsets.UTF_8);

      assertThat(text)
          .contains(
              "gadget_program_runs_total{gadget_instance=\"test-trace-exec\","
                  + "gadget_name=\"trace_exec\"")
          .contains("gadget_program_run_time_seconds_total{")
          .contains("# HELP gadget_program_run_time_seconds_total Time each BPF program")
          .contains(
              "gadget_map_entries{gadget_instance=\"test-trace-exec\",gadget_name=\"trace_exec\","
                  + "map=\"gadget_mntns_filter\",type=\"hash\"} 0")
          .contains("gadget_map_capacity{")
          .contains("gadget_ring_buffer_size_bytes{")
          .contains("gadget_instances{state=\"failed\"} 0")
          .contains("gadget_instances{state=\"running\"} 1")
          .contains("jvm_memory_used_bytes{jvm_memory_pool_name=")
          .contains("jvm_memory_committed_bytes{")
          .contains("jvm_memory_limit_bytes{")
          .contains("jvm_memory_used_after_last_gc_bytes{")
          .contains("jvm_buffer_memory_used_bytes{jvm_buffer_pool_name=\"direct\"}")
          .contains("jvm_buffer_count{")
          .contains("jvm_gc_collections_total{jvm_gc_name=")
          .contains("jvm_gc_time_seconds_total{jvm_gc_name=")
          .contains("jvm_thread_count{jvm_thread_daemon=\"true\"}")
          .contains("jvm_cpu_time_seconds_total ")
          .contains("process_memory_usage_bytes ")
          .contains("process_memory_virtual_bytes ");
      System.out.println(
          text.lines().filter(l -> l.startsWith("# TYPE")).reduce("", (a, b) -> a + b + "\n"));
    }
  }

  @Test
  void procStatusSizesAreReadInBytes() {
    String status = "Name:\tjava\nVmSize:\t 1000 kB\nVmRSS:\t  250 kB\nThreads:\t7\n";
    assertThat(JvmMetrics.statusBytes(status, "VmRSS:")).isEqualTo(250 * 1024);
    assertThat(JvmMetrics.statusBytes(status, "VmSize:")).isEqualTo(1000 * 1024);
    assertThat(JvmMetrics.statusBytes(status, "Name:")).isEqualTo(-1);
    assertThat(JvmMetrics.statusBytes(status, "VmSwap:")).isEqualTo(-1);
  }

  // ---- helpers ----

  private GadgetInstance start(GadgetInstance instance) {
    instances.add(instance);
    instance.start();
    return instance;
  }

  private static Container container(String name, long mntns) {
    return new Container(
        Container.Kind.CONTAINER,
        name + "-id",
        name,
        "runc",
        1,
        mntns,
        0,
        0,
        "/" + name,
        Optional.empty(),
        Optional.of(Instant.now()),
        Optional.empty(),
        false,
        Container.Source.RUNTIME_HOOK);
  }

  private Map<String, Double> states() {
    Map<String, Double> byState = new java.util.TreeMap<>();
    points(metric(reader.collectAllMetrics(), "gadget.instances").orElseThrow())
        .forEach(p -> byState.put(p.getAttributes().get(STATE), number(p)));
    return byState;
  }

  private Map<String, Double> programValues(String name, GadgetInstance i) {
    return programValues(reader.collectAllMetrics(), name, i);
  }

  private static Map<String, Double> programValues(
      Collection<MetricData> metrics, String name, GadgetInstance i) {
    Map<String, Double> byProgram = new java.util.TreeMap<>();
    metric(metrics, name).stream()
        .flatMap(SelfMetricsTest::points)
        .filter(p -> i.name().equals(p.getAttributes().get(INSTANCE)))
        .forEach(p -> byProgram.put(p.getAttributes().get(PROGRAM), number(p)));
    return byProgram;
  }

  private static Predicate<Attributes> mapIs(String map) {
    return a -> map.equals(a.get(MAP));
  }

  private static Predicate<Attributes> instanceIs(GadgetInstance i) {
    return a -> i.name().equals(a.get(INSTANCE));
  }

  private static Attributes mapAttributes(Collection<MetricData> metrics, String name, String map) {
    return points(metric(metrics, name).orElseThrow())
        .map(PointData::getAttributes)
        .filter(mapIs(map))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> mapNames(Collection<MetricData> metrics, String name) {
    List<String> names = new ArrayList<>();
    points(metric(metrics, name).orElseThrow()).forEach(p -> names.add(p.getAttributes().get(MAP)));
    return names;
  }

  /** The one point matching, as a number. */
  private static double value(
      Collection<MetricData> metrics, String name, Predicate<Attributes> which) {
    List<Double> values =
        points(metric(metrics, name).orElseThrow())
            .filter(p -> which.test(p.getAttributes()))
            .map(SelfMetricsTest::number)
            .toList();
    assertThat(values).as(name).hasSize(1);
    return values.get(0);
  }

  private static double sum(
      Collection<MetricData> metrics, String name, Predicate<Attributes> which) {
    return points(metric(metrics, name).orElseThrow())
        .filter(p -> which.test(p.getAttributes()))
        .mapToDouble(SelfMetricsTest::number)
        .sum();
  }

  private static Optional<MetricData> metric(Collection<MetricData> metrics, String name) {
    return metrics.stream().filter(m -> m.getName().equals(name)).findFirst();
  }

  private static Stream<? extends PointData> points(MetricData m) {
    return m.getData().getPoints().stream();
  }

  private static double number(PointData p) {
    if (p instanceof LongPointData l) {
      return l.getValue();
    }
    return ((DoublePointData) p).getValue();
  }
}
