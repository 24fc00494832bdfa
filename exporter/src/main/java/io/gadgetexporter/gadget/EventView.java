package io.gadgetexporter.gadget;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A window on one event record inside the drain buffer. One instance is reused for every record of
 * a drain, so reading numeric fields allocates nothing; strings and human forms are made only when
 * asked for (by an output), never on the counting path.
 *
 * <p>Valid only until the next drain overwrites the buffer: an output that keeps an event copies
 * what it needs.
 */
public final class EventView {
  private final EventSchema schema;
  private final BootClock clock;
  private final Redaction redaction;
  /** One per payload field, in {@link EventSchema#payloadFields()} order. */
  private final PayloadDecoder[] decoders;
  private ByteBuffer buffer;
  private int base;
  private Container container;
  /** Resolves stack ids; null for gadgets without stacks. */
  private StackTraces stacks;

  public EventView(EventSchema schema, BootClock clock) {
    this(schema, clock, Redaction.NONE);
  }

  /** A view whose string fields come out with the redaction rules applied. */
  public EventView(EventSchema schema, BootClock clock, Redaction redaction) {
    this.schema = schema;
    this.clock = clock;
    this.redaction = redaction;
    this.decoders =
        schema.payloadFields().stream()
            .map(p -> p.format().decoders().get())
            .toArray(PayloadDecoder[]::new);
  }

  public EventSchema schema() {
    return schema;
  }

  /**
   * The container the event came from, {@link Container#HOST} for a host process, or null when
   * the agent does not know (no container discovery, or a miss: counted by the collection).
   */
  public Container container() {
    return container;
  }

  /** The stack maps that {@link FieldFormat#KERNEL_STACK}/{@code USER_STACK} ids refer to. */
  void stacks(StackTraces stacks) {
    this.stacks = stacks;
  }

  /** Set by the drain for each event, after {@link #bind}. */
  void container(Container c) {
    this.container = c;
  }

  /**
   * Ties the bound event to its container: the collection's lookup by mount namespace, then network
   * namespace, then cgroup id, as the drain does for every event (and the event-path benchmark, so
   * it measures this code). Allocation-free.
   *
   * @return the container, {@link Container#HOST}, or null on a miss (counted by the collection)
   */
  public Container enrich(ContainerCollection containers) {
    Container c =
        containers.resolve(
            idOrZero(schema.mntnsField()),
            idOrZero(schema.netnsField()),
            idOrZero(schema.cgroupField()));
    this.container = c;
    return c;
  }

  /** The value of an id field (namespace, cgroup), 0 when the event has no such field. */
  long idOrZero(EventField f) {
    return f == null ? 0 : getLong(f);
  }

  /**
   * Points the view at a record; the buffer must be in native byte order.
   *
   * @return false when the record is malformed (too short, a length field points past its
   *     buffer, or a payload's decoder rejects it): the caller counts and skips it
   */
  public boolean bind(ByteBuffer buffer, int offset, int length) {
    this.buffer = buffer;
    this.base = offset;
    this.container = null;
    if (length < schema.size()) {
      return false;
    }
    for (EventField args : schema.argsFields()) {
      long used = getLong(schema.fields().get(args.sizeFieldIndex()));
      if (used < 0 || used > args.size()) {
        return false;
      }
    }
    for (int i = 0; i < decoders.length; i++) {
      EventSchema.PayloadField p = schema.payloadFields().get(i);
      long captured = getLong(p.size());
      long wire = getLong(p.length());
      if (captured < 0 || captured > p.field().size() || wire < captured) {
        return false;
      }
      if (!decoders[i].decode(
          buffer,
          base + p.field().offset(),
          (int) captured,
          (int) Math.min(wire, Integer.MAX_VALUE))) {
        return false;
      }
    }
    return true;
  }

  /** An integer field (any size up to 8 bytes), sign-extended when BTF says it is signed. */
  public long getLong(EventField f) {
    if (f.derived()) {
      return decoders[f.decoder()].getLong(f.slot());
    }
    int at = base + f.offset();
    return switch (f.size()) {
      case 1 -> f.signed() ? buffer.get(at) : buffer.get(at) & 0xffL;
      case 2 -> f.signed() ? buffer.getShort(at) : buffer.getShort(at) & 0xffffL;
      case 4 -> f.signed() ? buffer.getInt(at) : buffer.getInt(at) & 0xffffffffL;
      case 8 -> buffer.getLong(at);
      default -> 0;
    };
  }

  /** The mount namespace id of the event, 0 when the gadget has no such field. */
  public long mntnsId() {
    EventField f = schema.mntnsField();
    return f == null ? 0 : getLong(f);
  }

  /** A string field, redacted when a rule says so. */
  public String getString(EventField f) {
    if (f.derived()) {
      String value = decoders[f.decoder()].getString(f.slot());
      return redaction.applies(f) ? redaction.apply(f, value) : value;
    }
    int start = base + f.offset();
    int end = start;
    int limit = start + f.size();
    while (end < limit && buffer.get(end) != 0) {
      end++;
    }
    String value = decode(start, end - start);
    return redaction.applies(f) ? redaction.apply(f, value) : value;
  }

  /** An argument list, each argument redacted on its own when a rule says so. */
  public List<String> getArgs(EventField f) {
    List<String> args = rawArgs(f);
    if (redaction.applies(f)) {
      args.replaceAll(a -> redaction.apply(f, a));
    }
    return args;
  }

  private List<String> rawArgs(EventField f) {
    if (f.derived()) {
      return new ArrayList<>(decoders[f.decoder()].getList(f.slot()));
    }
    int used = (int) getLong(schema.fields().get(f.sizeFieldIndex()));
    List<String> args = new ArrayList<>();
    int start = base + f.offset();
    int end = start + used;
    int from = start;
    for (int i = start; i < end; i++) {
      if (buffer.get(i) == 0) {
        args.add(decode(from, i - from));
        from = i + 1;
      }
    }
    if (from < end) {
      args.add(decode(from, end - from)); // the last argument, cut without its NUL
    }
    return args;
  }

  /** Wall-clock time of a {@link FieldFormat#TIMESTAMP} field in nanoseconds since the epoch. */
  public long getEpochNanos(EventField f) {
    return clock.toEpochNanos(getLong(f));
  }

  /** Wall-clock time of a {@link FieldFormat#TIMESTAMP} field. */
  public Instant getInstant(EventField f) {
    return clock.toInstant(getLong(f));
  }

  /**
   * The field as a typed value for structured outputs: Long, Boolean, String, List of String
   * (arguments, stack frames), List of Long (histogram slots), or (timestamps) Instant.
   */
  public Object value(EventField f) {
    return switch (f.format()) {
      case NUMBER, ERRNO, SYSCALL_RET, OPEN_FLAGS, FILE_MODE, SYSCALL_NR, FILE_TYPE, DEVICE,
          BLOCK_OP ->
          getLong(f);
      case BOOL -> getLong(f) != 0;
      case STRING -> getString(f);
      case ARGS -> getArgs(f);
      case TIMESTAMP -> getInstant(f);
      case BYTES -> hex(f);
      case L4_ENDPOINT -> L4Endpoint.format(buffer, base + f.offset());
      case TCP_STATE, TCP_FLAGS, IP_PROTOCOL, SOCK_FAMILY, SKB_DROP_REASON -> getLong(f);
      case SIGNAL, SIGNAL_CODE, SIGNAL_RESULT, MOUNT_FLAGS, UMOUNT_FLAGS -> getLong(f);
      case KERNEL_STACK, USER_STACK ->
          stacks == null
              ? List.of("stack " + getLong(f))
              : stacks.frames(getLong(f), f.format() == FieldFormat.KERNEL_STACK);
      case HISTOGRAM -> {
        List<Long> slots = new ArrayList<>();
        for (long c : getSlots(f)) {
          slots.add(c);
        }
        yield slots;
      }
      case PAYLOAD -> payloadHex(f);
    };
  }

  /** The slot counts of a {@link FieldFormat#HISTOGRAM} field. */
  public long[] getSlots(EventField f) {
    long[] counts = new long[f.size() / 8];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = buffer.getLong(base + f.offset() + i * 8);
    }
    return counts;
  }

  /** The human form: errno names, symbolic flags, octal modes, wall-clock times, joined args. */
  public String text(EventField f) {
    return switch (f.format()) {
      case NUMBER -> Long.toString(getLong(f));
      case BOOL -> getLong(f) != 0 ? "true" : "false";
      case STRING -> getString(f);
      case ARGS -> String.join(" ", getArgs(f));
      case TIMESTAMP -> getInstant(f).toString();
      case ERRNO -> {
        long e = getLong(f);
        yield e == 0 ? "" : Errno.name(e);
      }
      case SYSCALL_RET -> {
        long r = getLong(f);
        yield r < 0 ? Errno.name(-r) : Long.toString(r);
      }
      case OPEN_FLAGS -> OpenFlags.format(getLong(f));
      case FILE_MODE -> {
        long mode = getLong(f);
        yield mode == 0 ? "0" : "0" + Long.toOctalString(mode);
      }
      case BYTES -> hex(f);
      case L4_ENDPOINT -> L4Endpoint.format(buffer, base + f.offset());
      case TCP_STATE -> TcpState.name(getLong(f));
      case TCP_FLAGS -> TcpFlags.format(getLong(f));
      case IP_PROTOCOL -> IpProtocol.name(getLong(f));
      case SOCK_FAMILY -> SockFamily.name(getLong(f));
      case SKB_DROP_REASON -> SkbDropReason.name(getLong(f));
      case SYSCALL_NR -> SyscallNames.name(getLong(f));
      case FILE_TYPE -> FileTypes.name(getLong(f));
      case SIGNAL -> Signals.name(getLong(f));
      case SIGNAL_CODE -> Signals.code(getLong(f));
      case SIGNAL_RESULT -> Signals.result(getLong(f));
      case MOUNT_FLAGS -> MountFlags.mount(getLong(f));
      case UMOUNT_FLAGS -> MountFlags.umount(getLong(f));
      case KERNEL_STACK, USER_STACK ->
          stacks == null
              ? "stack " + getLong(f)
              : stacks.folded(getLong(f), f.format() == FieldFormat.KERNEL_STACK);
      case HISTOGRAM -> Log2Histogram.text(getSlots(f), f.spec().unit());
      case DEVICE -> BlockIo.device(getLong(f));
      case BLOCK_OP -> BlockIo.op(getLong(f));
      case PAYLOAD -> payloadHex(f);
    };
  }

  private String hex(EventField f) {
    return hex(f, f.size());
  }

  /** The captured bytes of a payload (its {@code X_size} says how many). */
  private String payloadHex(EventField f) {
    return hex(f, (int) getLong(schema.fields().get(f.sizeFieldIndex())));
  }

  private String hex(EventField f, int length) {
    StringBuilder sb = new StringBuilder(length * 2);
    for (int i = 0; i < length; i++) {
      sb.append(String.format("%02x", buffer.get(base + f.offset() + i)));
    }
    return sb.toString();
  }

  private String decode(int at, int length) {
    byte[] bytes = new byte[length];
    buffer.get(at, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

}
