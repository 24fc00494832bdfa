package io.gadgetexporter.bench;

import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.Gadget;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding alone, in ns per event: {@link #RECORDS} trace_open records laid out in a direct buffer
 * exactly as a drain leaves them, decoded with the gadget's real schema (from its object's BTF)
 * through {@link EventView}. No kernel: the object is only opened (ELF + BTF parsed), never loaded,
 * so this runs without root and gives a steadier number than {@link TraceOpenDrainBenchmark}.
 *
 * <p>The records are synthetic but shaped like real ones ({@link TraceOpenEvents#syntheticRecords}):
 * a 40-byte path, a comm, flags {@code O_RDONLY|O_CLOEXEC}, a small fd; every tenth fails with
 * {@code -ENOENT}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(DecodeBenchmark.RECORDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecodeBenchmark {
  static final int RECORDS = 1000;

  private ByteBuffer buffer;
  private EventView view;
  private EventField[] numeric;
  private List<EventField> fields;

  @Setup
  public void prepare() {
    Gadget gadget = TraceOpenEvents.gadget();
    EventSchema schema;
    try (BpfObject object = BpfObject.open(gadget.name(), gadget.object())) {
      schema = TraceOpenEvents.schema(gadget, object);
    }
    view = new EventView(schema, BootClock.fixed(1_700_000_000_000_000_000L));
    numeric = TraceOpenEvents.numericFields(schema);
    fields = schema.fields();
    buffer = TraceOpenEvents.syntheticRecords(schema, RECORDS, null);
    long check = TraceOpenEvents.decodeNumbers(buffer, RECORDS, view, numeric);
    if (check < 0) {
      throw new IllegalStateException("synthetic record " + (-1 - check) + " does not decode");
    }
  }

  /** Bind + read every numeric field: what counting and numeric metrics need per event. */
  @Benchmark
  public long decodeNumbers() {
    return TraceOpenEvents.decodeNumbers(buffer, RECORDS, view, numeric);
  }

  /** Bind + every field's human text: what the columns output builds per event. */
  @Benchmark
  public int decodeText(Blackhole bh) {
    return TraceOpenEvents.decodeText(buffer, RECORDS, view, fields, bh);
  }
}
