package io.gadgetexporter.bench;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.bpf.RingBufferReader;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.Gadget;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The agent's per-event work in userspace, on real kernel events, in ns per event: the real
 * trace_open gadget loaded and attached, {@link #EVENTS} real opens made before each invocation
 * (not measured), then measured: one {@link RingBufferReader#drain()} (the JNI copy out of the
 * mmapped ring into the direct buffer) and the decode of every record through {@link EventView}.
 *
 * <p>Needs root (or CAP_BPF + CAP_PERFMON) and the kernel's syscall tracepoints. The gadget traces
 * every process, so other processes' opens made during setup land in the ring too and are drained
 * and decoded as well, while the time is divided by {@link #EVENTS}; the teardown prints how many
 * records an invocation really saw, to judge that (normally within a percent on an idle machine).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(TraceOpenDrainBenchmark.EVENTS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TraceOpenDrainBenchmark {
  /** Events per invocation: 1000 records of ~330 bytes fit one drain of the 1 MiB buffer. */
  static final int EVENTS = 1000;

  /** As the agent: GadgetInstance.DRAIN_BUFFER_BYTES. */
  private static final int DRAIN_BUFFER_BYTES = 1 << 20;

  private BpfObject object;
  private RingBufferReader reader;
  private ByteBuffer buffer;
  private EventView view;
  private EventField[] numeric;
  private List<EventField> fields;
  private Path file;
  private long invocations;
  private long records;

  @Setup(Level.Trial)
  public void load() throws IOException {
    Gadget gadget = TraceOpenEvents.gadget();
    object = BpfObject.open(gadget.name(), gadget.object());
    EventSchema schema = TraceOpenEvents.schema(gadget, object);
    // The agent's defaults (RingBufferConfig): wake the reader only past 1 MiB pending; this
    // benchmark never polls, and an invocation's events stay below that.
    object.setConstant("gadget_wakeup_bytes", 1L << 20);
    object.setConstant("gadget_mntns_filter_mode", 0L);
    object.load();
    List<String> skipped = new ArrayList<>();
    for (BpfProgram p : object.programs()) {
      try {
        p.attach();
      } catch (BpfException e) {
        // e.g. sys_enter_open, absent on arm64; the benchmark needs only openat.
        skipped.add(p.name() + " (" + e.getMessage() + ")");
      }
    }
    if (!skipped.isEmpty()) {
      System.err.println("# not attached: " + String.join(", ", skipped));
    }
    buffer = ByteBuffer.allocateDirect(DRAIN_BUFFER_BYTES).order(ByteOrder.nativeOrder());
    reader = RingBufferReader.create(object.map("events"), buffer);
    view = new EventView(schema, BootClock.system());
    numeric = TraceOpenEvents.numericFields(schema);
    fields = schema.fields();
    file = Files.createTempFile("gadget-exporter-bench", ".txt");
    checkOurEventsArrive(schema);
  }

  /** Fails fast when events do not arrive or do not decode (a wrong layout, a detached program). */
  private void checkOurEventsArrive(EventSchema schema) throws IOException {
    generate();
    int n = reader.drain();
    EventField pid = schema.field("pid").orElseThrow();
    long ours = 0;
    long self = ProcessHandle.current().pid();
    int offset = 0;
    for (int i = 0; i < n; i++) {
      if (!view.bind(buffer, offset + TraceOpenEvents.RECORD_HEADER_BYTES, buffer.getInt(offset))) {
        throw new IllegalStateException("record " + i + " of the first drain does not decode");
      }
      if (view.getLong(pid) == self) {
        ours++;
      }
      offset = TraceOpenEvents.nextRecord(buffer, offset);
    }
    if (ours < EVENTS) {
      throw new IllegalStateException(
          "expected " + EVENTS + " trace_open events of this process, drained " + ours
              + " (of " + n + " records)");
    }
  }

  /** Empties the ring, then makes {@link #EVENTS} opens: the ring holds them when timing starts. */
  @Setup(Level.Invocation)
  public void generate() throws IOException {
    while (reader.drain() > 0) {
      // leftovers: other processes' opens since the last invocation
    }
    for (int i = 0; i < EVENTS; i++) {
      new FileInputStream(file.toFile()).close();
    }
  }

  /** The copy alone: drain, then walk the record headers. */
  @Benchmark
  public int drain() {
    int n = drainAll();
    int offset = 0;
    for (int i = 0; i < n; i++) {
      offset = TraceOpenEvents.nextRecord(buffer, offset);
    }
    return offset;
  }

  /** Drain + bind every record + read its numeric fields: the counting/metrics path. */
  @Benchmark
  public long drainDecodeNumbers() {
    int n = drainAll();
    return TraceOpenEvents.decodeNumbers(buffer, n, view, numeric);
  }

  /** Drain + bind + every field's human text (path and comm strings, flags, times, errno names). */
  @Benchmark
  public int drainDecodeText(Blackhole bh) {
    int n = drainAll();
    return TraceOpenEvents.decodeText(buffer, n, view, fields, bh);
  }

  private int drainAll() {
    int n = reader.drain();
    if (n < 0) {
      throw new IllegalStateException("drain failed: errno " + -n);
    }
    invocations++;
    records += n;
    return n;
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    if (invocations > 0) {
      System.err.printf(
          "# %d invocations drained %.1f records each on average (%d opens made by the"
              + " benchmark)%n",
          invocations,
          (double) records / invocations,
          EVENTS);
    }
    if (reader != null) {
      reader.close();
    }
    if (object != null) {
      object.close();
    }
    if (file != null) {
      Files.deleteIfExists(file);
    }
  }
}
