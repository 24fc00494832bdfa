package io.gadgetexporter.bench;

import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.EventMetrics;
import io.gadgetexporter.export.ExportStats;
import io.gadgetexporter.export.LogOutput;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.Gadget;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.ReadWriteLogRecord;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.resources.Resource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The agent's per-event path after the drain, step by step, in ns per event: {@link #RECORDS}
 * synthetic trace_open records in a direct buffer (as {@link DecodeBenchmark}), each step adding
 * one stage of what the drain thread does for every event (GadgetInstance.process):
 *
 * <ol>
 *   <li>{@link #decode}: bind + read every numeric field (= {@code DecodeBenchmark.decodeNumbers});
 *   <li>{@link #enrich}: bind + the container lookup ({@link EventView#enrich}: {@link
 *       ContainerCollection#resolve} by mount namespace) over three containers and the host;
 *   <li>{@link #metricsImplicit}: + {@link EventMetrics} with only the implicit per-container
 *       {@code gadget.events} count (the overhead harness's {@code agent trace_open} row);
 *   <li>{@link #metricsConfigured}: + a counter {@code file.opens} labelled by {@code comm} and a
 *       histogram of {@code ret} (the {@code agent trace_open metrics} row);
 *   <li>{@link #metricsAndLogs}: + {@link LogOutput}, one OTLP log record per event into the SDK
 *       logger and the agent's bounded log processor ({@link Telemetry#boundedLogProcessor}), whose
 *       exporter discards the batches (the {@code agent trace_open + OTLP logs} row, minus the
 *       export thread's serialisation, measured apart below).
 * </ol>
 *
 * <p>And the export thread's share, apart: {@link #exportMarshal} (OTLP protobuf encoding of a
 * 1000-record batch, the exporter's own marshaler) and {@link #exportMarshalGzip} (+ gzip, the
 * agent's default compression), per record. That runs on the {@code otlp-logs} thread, not the
 * drain thread, but on a 2-core machine it competes with the traced process as much.
 *
 * <p>Every step uses the agent's own classes and config parsing; nothing is reimplemented.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(EventPathBenchmark.RECORDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EventPathBenchmark {
  static final int RECORDS = 1000;

  /** As the overhead harness's metrics row (bench/overhead/run.sh). */
  static final String CONFIG =
      """
      gadgets:
        - name: open
          gadget: trace_open
          logs: true
          metrics:
            - name: file.opens
              description: Files opened, by command.
              labels: [comm]
            - name: file.open.result
              type: histogram
              description: The returned descriptor, or -errno.
              value: ret
              buckets: [-2, 0, 2, 4, 8, 16, 64, 256, 1024]
      """;

  /** As the overhead harness's logs row: otlp.logs_queue_size, logs_batch_size, logs_interval. */
  static final int QUEUE_SIZE = 65536;

  static final int BATCH_SIZE = 2048;
  static final Duration INTERVAL = Duration.ofMillis(200);

  private static final long HOST_MNTNS = 4026531841L;
  private static final long HOST_NETNS = 4026531840L;

  private ByteBuffer buffer;
  private EventView view;
  private EventField[] numeric;
  private ContainerCollection containers;
  private EventSink implicitOnly;
  private EventSink configured;
  private EventSink configuredAndLogs;
  private SdkLoggerProvider loggers;
  private ExportStats logStats;
  private List<LogRecordData> batch;
  private final DiscardingStream sink = new DiscardingStream();

  @Setup(Level.Trial)
  public void prepare() {
    Gadget gadget = TraceOpenEvents.gadget();
    EventSchema schema;
    try (BpfObject object = BpfObject.open(gadget.name(), gadget.object())) {
      schema = TraceOpenEvents.schema(gadget, object);
    }
    view = new EventView(schema, BootClock.fixed(1_700_000_000_000_000_000L));
    numeric = TraceOpenEvents.numericFields(schema);

    containers = new ContainerCollection(TimeUnit.SECONDS.toNanos(10), System::nanoTime);
    containers.setHost(HOST_MNTNS, HOST_NETNS);
    long[] mntns = new long[4];
    for (int i = 0; i < 3; i++) {
      mntns[i] = 4026532200L + i;
      containers.add(container(i, mntns[i]));
    }
    mntns[3] = HOST_MNTNS; // every fourth event: a host process
    buffer = TraceOpenEvents.syntheticRecords(schema, RECORDS, mntns);

    AgentConfig config = ConfigLoader.parse(CONFIG, "EventPathBenchmark", Map.of());
    InstanceConfig withMetrics = config.gadgets().get(0);
    String eventName = gadget.spec().eventName();
    InstanceConfig implicitConfig = ConfigLoader.parse(
            """
            gadgets:
              - name: open
                gadget: trace_open
            """,
            "EventPathBenchmark",
            Map.of())
        .gadgets()
        .get(0);
    EventMetrics implicitMetrics =
        EventMetrics.compile(
            implicitConfig, gadget.name(), schema, eventName, config.metrics(),
            Telemetry::epochNanos);
    EventMetrics configuredMetrics =
        EventMetrics.compile(
            withMetrics, gadget.name(), schema, eventName, config.metrics(),
            Telemetry::epochNanos);
    EventMetrics configuredMetrics2 =
        EventMetrics.compile(
            withMetrics, gadget.name(), schema, eventName, config.metrics(),
            Telemetry::epochNanos);

    logStats = new ExportStats("logs");
    LogRecordProcessor processor =
        Telemetry.boundedLogProcessor(
            new DiscardingExporter(), logStats, QUEUE_SIZE, BATCH_SIZE, INTERVAL,
            Duration.ofSeconds(10));
    loggers =
        SdkLoggerProvider.builder()
            .setResource(Resource.getDefault())
            .addLogRecordProcessor(processor)
            .build();
    Logger logger = loggers.loggerBuilder("io.gadgetexporter.open").build();
    LogOutput logs =
        LogOutput.compile(
            withMetrics.logs(), withMetrics.name(), gadget.name(), schema, eventName, logger);

    // As Agent.prepare: the instance's sinks behind EventSink.all.
    implicitOnly = EventSink.all(List.of(implicitMetrics));
    configured = EventSink.all(List.of(configuredMetrics));
    configuredAndLogs = EventSink.all(List.of(configuredMetrics2, logs));

    // What the export thread encodes: the records LogOutput makes of these events.
    batch = captureRecords(withMetrics, gadget, schema, eventName);

    if (run(configuredAndLogs) != RECORDS) {
      throw new IllegalStateException("synthetic records do not decode or do not resolve");
    }
  }

  private static Container container(int i, long mntns) {
    String id = String.format("%064x", 0xc0ffee00L + i);
    return new Container(
        Container.Kind.CONTAINER,
        id,
        "app-" + i,
        "containerd",
        5000 + i,
        mntns,
        4026532300L + i,
        10_000L + i,
        "/kubepods/burstable/pod" + i + "/" + id,
        Optional.of("registry.example/shop/app:1." + i),
        Optional.empty(),
        Optional.of(
            new Container.Pod(
                "shop", "app-" + i + "-7d4b9c", "uid-" + i, "app", Map.of("app", "app-" + i))),
        false,
        Container.Source.STARTUP_SCAN);
  }

  private List<LogRecordData> captureRecords(
      InstanceConfig ic, Gadget gadget, EventSchema schema, String eventName) {
    List<LogRecordData> out = new ArrayList<>(RECORDS);
    try (SdkLoggerProvider capture =
        SdkLoggerProvider.builder()
            .setResource(Resource.getDefault())
            .addLogRecordProcessor(
                new LogRecordProcessor() {
                  @Override
                  public void onEmit(Context context, ReadWriteLogRecord logRecord) {
                    out.add(logRecord.toLogRecordData());
                  }
                })
            .build()) {
      LogOutput capturing =
          LogOutput.compile(
              ic.logs(), ic.name(), gadget.name(), schema, eventName,
              capture.loggerBuilder("io.gadgetexporter.open").build());
      run(capturing);
    }
    return out;
  }

  /** The drain's loop over one batch (GadgetInstance.process): bind, enrich, the sinks. */
  private int run(EventSink sinks) {
    int offset = 0;
    int good = 0;
    for (int i = 0; i < RECORDS; i++) {
      int length = buffer.getInt(offset);
      if (view.bind(buffer, offset + TraceOpenEvents.RECORD_HEADER_BYTES, length)) {
        if (view.enrich(containers) != null) {
          good++;
        }
        sinks.accept(null, view);
      }
      offset = TraceOpenEvents.nextRecord(buffer, offset);
    }
    sinks.flush();
    return good;
  }

  /** (a) Bind + every numeric field. */
  @Benchmark
  public long decode() {
    return TraceOpenEvents.decodeNumbers(buffer, RECORDS, view, numeric);
  }

  /** (b) Bind + container lookup. */
  @Benchmark
  public int enrich() {
    return run(EventSink.NONE);
  }

  /** (c) + the implicit per-container event count. */
  @Benchmark
  public int metricsImplicit() {
    return run(implicitOnly);
  }

  /** (c') + file.opens by comm + a histogram of ret. */
  @Benchmark
  public int metricsConfigured() {
    return run(configured);
  }

  /** (d) + one OTLP log record per event, queued for export (the exporter discards). */
  @Benchmark
  public int metricsAndLogs() {
    return run(configuredAndLogs);
  }

  /** Export thread: OTLP protobuf encoding of the batch, per record. */
  @Benchmark
  public long exportMarshal() throws IOException {
    sink.bytes = 0;
    LogsRequestMarshaler.create(batch).writeBinaryTo(sink);
    return sink.bytes;
  }

  /** Export thread: encoding + gzip (the agent's default otlp.compression), per record. */
  @Benchmark
  public long exportMarshalGzip() throws IOException {
    sink.bytes = 0;
    try (GZIPOutputStream gz = new GZIPOutputStream(sink, 8192)) {
      LogsRequestMarshaler.create(batch).writeBinaryTo(gz);
    }
    return sink.bytes;
  }

  @TearDown(Level.Trial)
  public void close() {
    loggers.close();
    System.err.printf(
        "# log records: %d exported (discarded), %d dropped on a full queue%n",
        logStats.exportedTotal(), logStats.droppedQueueFullTotal());
  }

  /** For the test: the records the export benchmarks encode. */
  int batchSize() {
    return batch.size();
  }

  /** Counts and forgets what is written. */
  private static final class DiscardingStream extends OutputStream {
    long bytes;

    @Override
    public void write(int b) {
      bytes++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      bytes += len;
    }
  }

  /** Takes every batch and drops it: the cost of sending is measured apart. */
  private static final class DiscardingExporter implements LogRecordExporter {
    @Override
    public CompletableResultCode export(Collection<LogRecordData> logs) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
