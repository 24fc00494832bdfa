package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves records from a BPF ring buffer ({@code BPF_MAP_TYPE_RINGBUF}) into one direct {@link
 * ByteBuffer}, many per call, with no call back into Java per record.
 *
 * <h2>Use</h2>
 *
 * <pre>{@code
 * ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
 * try (RingBufferReader reader = RingBufferReader.create(object.map("events"), buf)) {
 *   while (running) {
 *     int n = reader.poll(100);          // wait for a wake-up or 100 ms, then copy
 *     if (n < 0) throw BpfException.fromErrno("poll", -n);
 *     reader.forEachRecord((b, offset, length) -> decode(b, offset, length));
 *   }
 * }
 * }</pre>
 *
 * <h2>Layout</h2>
 *
 * After {@link #drain()} or {@link #poll} returned {@code n > 0}, the buffer holds {@code n}
 * records back to back from offset 0, each:
 *
 * <pre>
 *   u32 length     payload bytes, native byte order
 *   u32 reserved   0
 *   payload        length bytes, as the BPF program wrote them
 *   padding        zeros up to the next multiple of 8
 * </pre>
 *
 * so record {@code i+1} starts at {@code start(i) + 8 + align8(length(i))}. Read it with absolute
 * gets ({@code buf.getLong(offset)}); the buffer's position and limit are not used.
 *
 * <h2>Why its own consumer</h2>
 *
 * It reads the kernel's shared mapping directly rather than through libbpf's {@code
 * ring_buffer__poll()}, which in libbpf 1.1 marks a record consumed before its callback runs: there
 * a full Java buffer would lose the record. Here a record is consumed only after it was copied; one
 * that does not fit stays in the ring and comes first on the next call. Records the program
 * discarded are skipped; a record still being written ends the batch (later ones wait for it).
 *
 * <h2>Wake-ups</h2>
 *
 * {@link #poll} sleeps until the kernel wakes the ring's epoll (a submit without {@code
 * BPF_RB_NO_WAKEUP}), {@link #wakeup()} is called, or the timeout passes, and then drains. Gadgets
 * submit with {@code BPF_RB_NO_WAKEUP} until the ring holds a threshold of data, because a wake-up
 * per event costs more than the event; the timeout bounds the latency of the rest. After a drain
 * that filled the buffer, call {@link #drain()} again right away: {@link #pendingBytes()} says
 * whether more is waiting.
 *
 * <h2>Threads</h2>
 *
 * One thread drains and polls. {@link #wakeup()} and {@link #close()} may come from any thread;
 * {@code close()} interrupts a {@code poll} in progress and waits for it to return. A closed
 * reader's {@code drain}/{@code poll} return {@code -EBADF}.
 */
public final class RingBufferReader implements AutoCloseable {
  /** Bytes before each record's payload in the buffer. */
  public static final int HEADER_SIZE = 8;

  /** The same as {@link #HEADER_SIZE}, by the name the agent uses. */
  public static final int RECORD_HEADER_BYTES = HEADER_SIZE;

  /**
   * The smallest buffer accepted: large enough for any event a gadget sensibly emits plus room to
   * batch. A record larger than the whole buffer could never be delivered; such records are skipped
   * and counted ({@link #oversizedRecords()}) rather than stalling the ring.
   */
  public static final int MIN_BUFFER_SIZE = 64 * 1024;

  /**
   * Receives one record: its payload is {@code length} bytes at {@code offset} of {@code buffer}.
   */
  @FunctionalInterface
  public interface RecordHandler {
    void onRecord(ByteBuffer buffer, int offset, int length);
  }

  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long value) {
      super(value);
    }

    @Override
    protected void free(long value) {
      Native.ringClose(value);
    }
  }

  private final BpfMap map;
  private final ByteBuffer buffer;
  private final long ringSize;
  private final Handle handle;
  private final Cleaner.Cleanable cleanable;
  private final Object pollLock = new Object(); // held by drain/poll, and while freeing
  private final Object stateLock = new Object(); // guards closing vs wakeup, pendingBytes, free
  private volatile boolean closing;
  private int lastCount; // confined to the draining thread

  private RingBufferReader(BpfMap map, ByteBuffer buffer, long handle, long ringSize) {
    this.map = map;
    this.buffer = buffer;
    this.ringSize = ringSize;
    this.handle = new Handle(handle);
    this.cleanable = Cleaners.CLEANER.register(this, this.handle);
  }

  /**
   * Binds {@code buffer} to the ring buffer {@code map} of a loaded object.
   *
   * @param buffer a direct buffer of at least {@link #MIN_BUFFER_SIZE} bytes in {@link
   *     ByteOrder#nativeOrder()} (the layout is native-endian; a big-endian view would misread
   *     every length). Keep it for the reader's life; the reader writes into it on every drain.
   * @throws IllegalArgumentException for a map that is not a ring buffer or an unfit buffer
   * @throws IllegalStateException when the map's object is not loaded
   */
  public static RingBufferReader create(BpfMap map, ByteBuffer buffer) {
    requireNonNull(map, "map");
    requireNonNull(buffer, "buffer");
    if (!map.isRingBuffer()) {
      throw new IllegalArgumentException(
          "map '" + map.name() + "' is a " + map.type() + " map, not a ring buffer");
    }
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException(
          "the ring reader needs a direct ByteBuffer (ByteBuffer.allocateDirect)");
    }
    if (buffer.capacity() < MIN_BUFFER_SIZE) {
      throw new IllegalArgumentException(
          "the ring reader needs at least "
              + MIN_BUFFER_SIZE
              + " bytes of buffer, got "
              + buffer.capacity());
    }
    if (buffer.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException(
          "the buffer must be in native byte order: .order(ByteOrder.nativeOrder())");
    }
    if (buffer.isReadOnly()) {
      throw new IllegalArgumentException("the buffer must be writable");
    }
    BpfObject owner = map.object();
    synchronized (owner) {
      owner.requireLoaded("read ring buffer '" + map.name() + "'");
      long h = Native.ringOpen(map.fd(), buffer);
      RingBufferReader reader =
          new RingBufferReader(map, buffer, h, Native.mapMaxEntries(map.handle()));
      owner.register(reader);
      return reader;
    }
  }

  public BpfMap map() {
    return map;
  }

  /** The bound buffer, where the records of the last drain are. */
  public ByteBuffer buffer() {
    return buffer;
  }

  /** The ring's data size in bytes. */
  public long ringSize() {
    return ringSize;
  }

  /**
   * Copies as many complete records as fit into the buffer, from offset 0, without waiting.
   *
   * @return the number of records copied ({@code >= 0}), or {@code -errno}
   */
  public int drain() {
    synchronized (pollLock) {
      if (closing) {
        return -Errno.EBADF;
      }
      int n = Native.ringDrain(handle.get());
      lastCount = Math.max(n, 0);
      return n;
    }
  }

  /**
   * Waits up to {@code timeoutMs} (-1: no limit; 0: not at all) for the kernel's wake-up or {@link
   * #wakeup()}, then drains. Returns 0 on a timeout with nothing pending and after {@code
   * wakeup()}.
   *
   * @return the number of records copied ({@code >= 0}), or {@code -errno}
   */
  public int poll(int timeoutMs) {
    synchronized (pollLock) {
      if (closing) {
        return -Errno.EBADF;
      }
      int n = Native.ringPoll(handle.get(), timeoutMs);
      lastCount = Math.max(n, 0);
      return n;
    }
  }

  /** Ends a {@link #poll} in progress (or the next one) early. Any thread. */
  public void wakeup() {
    synchronized (stateLock) {
      if (!closing) {
        Native.ringWakeup(handle.get());
      }
    }
  }

  /**
   * Bytes written by the kernel and not yet consumed: records waiting (including discarded ones and
   * one being written). Any thread, without waiting for a poll in progress (a scrape must not stall
   * for a drain interval); 0 once closed.
   */
  public long pendingBytes() {
    synchronized (stateLock) {
      return closing ? 0 : Native.ringPending(handle.get());
    }
  }

  /**
   * Records skipped because they were larger than the whole buffer (see {@link #MIN_BUFFER_SIZE}).
   */
  public long oversizedRecords() {
    synchronized (stateLock) {
      return closing ? 0 : Native.ringOversized(handle.get());
    }
  }

  /** Records the last {@link #drain()}/{@link #poll} copied (0 after an error). */
  public int lastCount() {
    return lastCount;
  }

  /**
   * Calls {@code handler} for each record of the last drain, in order, without allocating.
   *
   * @return the number of records visited
   */
  public int forEachRecord(RecordHandler handler) {
    int offset = 0;
    for (int i = 0; i < lastCount; i++) {
      int length = recordLength(buffer, offset);
      handler.onRecord(buffer, offset + HEADER_SIZE, length);
      offset = nextRecord(buffer, offset);
    }
    return lastCount;
  }

  /** The payload length of the record whose header is at {@code recordOffset}. */
  public static int recordLength(ByteBuffer buffer, int recordOffset) {
    return buffer.getInt(recordOffset);
  }

  /** Where the record after the one at {@code recordOffset} starts. */
  public static int nextRecord(ByteBuffer buffer, int recordOffset) {
    return recordOffset + HEADER_SIZE + ((recordLength(buffer, recordOffset) + 7) & ~7);
  }

  /** Interrupts a poll in progress, waits for it, releases the mapping. Idempotent. */
  @Override
  public void close() {
    synchronized (stateLock) {
      if (closing) {
        return;
      }
      closing = true;
      Native.ringWakeup(handle.get());
    }
    // Both locks: no poll is using the mapping (pollLock) and no pendingBytes() reader either
    // (stateLock, which they take alone). Always in this order, so no deadlock.
    synchronized (pollLock) {
      synchronized (stateLock) {
        cleanable.clean();
      }
    }
    map.object().unregister(this);
  }

  @Override
  public String toString() {
    return "RingBufferReader[" + map.name() + ", " + ringSize + " bytes]";
  }
}
