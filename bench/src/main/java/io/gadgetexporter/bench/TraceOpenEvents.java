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
        .filter(f -> isNumeric(f.format()))
        .toArray(EventField[]::new);
  }

  static boolean isNumeric(FieldFormat format) {
    return switch (format) {
      case NUMBER, BOOL, TIMESTAMP, ERRNO, SYSCALL_RET, OPEN_FLAGS, FILE_MODE -> true;
      case STRING, ARGS, BYTES -> false;
    };
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
