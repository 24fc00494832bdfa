package io.gadgetexporter.bench;

import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BtfStruct;
import io.gadgetexporter.bpf.RingBufferReader;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.FieldFormat;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import java.nio.ByteBuffer;
import java.util.List;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the benchmarks share: the built-in trace_open gadget, its event schema from the object's
 * BTF, the drain buffer's record layout, and the two decodes measured (numbers only, as a counting
 * path reads an event; and every field's human text, as the columns output does).
 */
final class TraceOpenEvents {
  static final String GADGET = "trace_open";

  /** Bytes before each record's payload in the drain buffer ({@code u32 length, u32 reserved}). */
  static final int RECORD_HEADER_BYTES = RingBufferReader.RECORD_HEADER_BYTES;

  private TraceOpenEvents() {}

  static Gadget gadget() {
    return GadgetCatalog.builtIn()
        .find(GADGET)
        .orElseThrow(() -> new IllegalStateException("no built-in gadget " + GADGET));
  }

  /** The event layout from an opened (not necessarily loaded) object of the gadget. */
  static EventSchema schema(Gadget gadget, BpfObject object) {
    BtfStruct struct =
        object
            .btf()
            .struct(gadget.spec().eventStruct())
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no BTF for struct " + gadget.spec().eventStruct() + " in " + GADGET));
    return EventSchema.of(struct, gadget.spec());
  }

  /** The fields a numeric read covers: every integer-valued one (timestamps as raw nanoseconds). */
  static EventField[] numericFields(EventSchema schema) {
    return schema.fields().stream()
        .filter(f -> f.format().isInteger())
        .toArray(EventField[]::new);
  }

  /**
   * {@code records} synthetic trace_open records laid out in a direct buffer exactly as a drain
   * leaves them ({@code u32 length, u32 reserved}, payload, padding to 8 bytes): a 40-byte path
   * (a different one per record), comm {@code ge-bench}, flags {@code O_RDONLY|O_CLOEXEC}, fd 3;
   * every tenth fails with {@code -ENOENT}. Other numbers are {@code 1000 + i}.
   *
   * @param mntnsIds when not null, record {@code i}'s mount namespace id is {@code
   *     mntnsIds[i % mntnsIds.length]} (so container lookups hit)
   */
  static ByteBuffer syntheticRecords(EventSchema schema, int records, long[] mntnsIds) {
    int stride = RECORD_HEADER_BYTES + ((schema.size() + 7) & ~7);
    ByteBuffer buffer =
        ByteBuffer.allocateDirect(stride * records).order(java.nio.ByteOrder.nativeOrder());
    int offset = 0;
    for (int i = 0; i < records; i++) {
      buffer.putInt(offset, schema.size());
      buffer.putInt(offset + 4, 0);
      int base = offset + RECORD_HEADER_BYTES;
      for (EventField f : schema.fields()) {
        int at = base + f.offset();
        if (mntnsIds != null && f == schema.mntnsField()) {
          putInt(buffer, at, f.size(), mntnsIds[i % mntnsIds.length]);
          continue;
        }
        switch (f.format()) {
          case TIMESTAMP -> putInt(buffer, at, f.size(), 12_345_678_901_234L + i * 1_000L);
          case SYSCALL_RET -> putInt(buffer, at, f.size(), i % 10 == 0 ? -2 : 3);
          case OPEN_FLAGS -> putInt(buffer, at, f.size(), 02000000); // O_CLOEXEC (O_RDONLY is 0)
          case FILE_MODE -> putInt(buffer, at, f.size(), 0);
          case STRING ->
              putString(
                  buffer,
                  at,
                  f.size(),
                  f.name().equals("comm")
                      ? "ge-bench"
                      : String.format("/tmp/gadget-exporter-bench/file-%08d.txt", i));
          case NUMBER, ERRNO, BOOL -> putInt(buffer, at, f.size(), 1000 + i);
          default -> {} // none in trace_open: zeros
        }
      }
      offset += stride;
    }
    return buffer;
  }

  private static void putInt(ByteBuffer buffer, int at, int size, long v) {
    switch (size) {
      case 1 -> buffer.put(at, (byte) v);
      case 2 -> buffer.putShort(at, (short) v);
      case 4 -> buffer.putInt(at, (int) v);
      case 8 -> buffer.putLong(at, v);
      default -> {}
    }
  }

  private static void putString(ByteBuffer buffer, int at, int size, String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int n = Math.min(b.length, size - 1);
    buffer.put(at, b, 0, n);
    buffer.put(at + n, (byte) 0);
  }

  static int nextRecord(ByteBuffer buffer, int offset) {
    return offset + RECORD_HEADER_BYTES + ((buffer.getInt(offset) + 7) & ~7);
  }

  /**
   * Binds each of {@code records} records of {@code buffer} and reads its numeric fields.
   *
   * @return a sum of the values, so nothing is dead code; or -1 - index of a malformed record
   */
  static long decodeNumbers(ByteBuffer buffer, int records, EventView view, EventField[] numeric) {
    long sum = 0;
    int offset = 0;
    for (int i = 0; i < records; i++) {
      int length = buffer.getInt(offset);
      if (!view.bind(buffer, offset + RECORD_HEADER_BYTES, length)) {
        return -1 - i;
      }
      for (EventField f : numeric) {
        sum += view.getLong(f);
      }
      offset = nextRecord(buffer, offset);
    }
    return sum;
  }

  /** Binds each record and builds every field's human text (strings, flags, times, errno names). */
  static int decodeText(
      ByteBuffer buffer, int records, EventView view, List<EventField> fields, Blackhole bh) {
    int offset = 0;
    int bad = 0;
    for (int i = 0; i < records; i++) {
      int length = buffer.getInt(offset);
      if (view.bind(buffer, offset + RECORD_HEADER_BYTES, length)) {
        for (EventField f : fields) {
          bh.consume(view.text(f));
        }
      } else {
        bad++;
      }
      offset = nextRecord(buffer, offset);
    }
    return bad;
  }
}
