package io.gadgetexporter.bench;

import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.Gadget;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
 * <p>The records are synthetic but shaped like real ones: a 40-byte path, a comm, flags {@code
 * O_RDONLY|O_CLOEXEC}, a small fd; every tenth fails with {@code -ENOENT}.
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
    int stride = TraceOpenEvents.RECORD_HEADER_BYTES + ((schema.size() + 7) & ~7);
    buffer = ByteBuffer.allocateDirect(stride * RECORDS).order(ByteOrder.nativeOrder());
    int offset = 0;
    for (int i = 0; i < RECORDS; i++) {
      buffer.putInt(offset, schema.size());
      buffer.putInt(offset + 4, 0);
      fill(schema, offset + TraceOpenEvents.RECORD_HEADER_BYTES, i);
      offset += stride;
    }
    long check = TraceOpenEvents.decodeNumbers(buffer, RECORDS, view, numeric);
    if (check < 0) {
      throw new IllegalStateException("synthetic record " + (-1 - check) + " does not decode");
    }
  }

  private void fill(EventSchema schema, int base, int i) {
    for (EventField f : schema.fields()) {
      int at = base + f.offset();
      switch (f.format()) {
        case TIMESTAMP -> putInt(at, f.size(), 12_345_678_901_234L + i * 1_000L);
        case SYSCALL_RET -> putInt(at, f.size(), i % 10 == 0 ? -2 : 3);
        case OPEN_FLAGS -> putInt(at, f.size(), 02000000); // O_CLOEXEC (O_RDONLY is 0)
        case FILE_MODE -> putInt(at, f.size(), 0);
        case STRING ->
            putString(
                at,
                f.size(),
                f.name().equals("comm")
                    ? "ge-bench"
                    : String.format("/tmp/gadget-exporter-bench/file-%08d.txt", i));
        case NUMBER, ERRNO, BOOL -> putInt(at, f.size(), 1000 + i);
        case ARGS, BYTES -> {} // none in trace_open: zeros
      }
    }
  }

  private void putInt(int at, int size, long v) {
    switch (size) {
      case 1 -> buffer.put(at, (byte) v);
      case 2 -> buffer.putShort(at, (short) v);
      case 4 -> buffer.putInt(at, (int) v);
      case 8 -> buffer.putLong(at, v);
      default -> {}
    }
  }

  private void putString(int at, int size, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(b.length, size - 1);
    buffer.put(at, b, 0, n);
    buffer.put(at + n, (byte) 0);
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
