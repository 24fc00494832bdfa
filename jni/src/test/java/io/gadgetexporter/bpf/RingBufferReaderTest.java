package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.arrayU64;
import static io.gadgetexporter.bpf.TestSupport.directBuffer;
import static io.gadgetexporter.bpf.TestSupport.perCpuSum;
import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.internal.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ring buffer consumer against the real kernel: src/test/bpf/ringbuf_events.bpf.c submits one
 * event per write(2) of MAGIC bytes by this process, with a sequence number, alternating 64- and
 * 69-byte records.
 */
class RingBufferReaderTest {
  static final int MAGIC = 4321;
  static final int EVENT_SIZE = 64; // sizeof(struct test_event); odd seq: + 5
  static final int SEQ_OFFSET = 8;
  static final int PID_OFFSET = 16;

  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  /** Opens, configures, sizes the ring, loads and attaches the test object. */
  static BpfObject events(int ringBytes, Consumer<BpfObject> configure) {
    BpfObject obj = TestSupport.open("ringbuf_events");
    try {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", MAGIC);
      configure.accept(obj);
      obj.map("events").resize(ringBytes);
      obj.load();
      obj.program("handle_write").attach();
      return obj;
    } catch (RuntimeException | Error e) {
      obj.close();
      throw e;
    }
  }

  /** Every record of the last drain: its seq, after checking its layout. */
  static List<Long> seqs(RingBufferReader reader) {
    List<Long> out = new ArrayList<>();
    reader.forEachRecord(
        (buf, offset, length) -> {
          long seq = buf.getLong(offset + SEQ_OFFSET);
          assertThat(length).isEqualTo(EVENT_SIZE + ((seq & 1) == 1 ? 5 : 0));
          assertThat(buf.getInt(offset - 4)).as("reserved word").isZero();
          assertThat(buf.getInt(offset + PID_OFFSET)).isEqualTo(pid());
          if ((seq & 1) == 1) {
            for (int i = 0; i < 5; i++) {
              assertThat(buf.get(offset + EVENT_SIZE + i)).isEqualTo((byte) 0xee);
            }
            for (int i = 5; i < 8; i++) {
              assertThat(buf.get(offset + EVENT_SIZE + i)).as("padding").isZero();
            }
          }
          out.add(seq);
        });
    return out;
  }

  static List<Long> range(long from, long to) {
    return LongStream.range(from, to).boxed().toList();
  }

  @Test
  void drainCopiesRecordsBackToBackInTheDocumentedLayout() {
    try (BpfObject obj = events(256 * 1024, o -> {});
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      assertThat(reader.drain()).isZero();
      writes(10, MAGIC);
      assertThat(reader.pendingBytes()).isEqualTo(5 * 72 + 5 * 80);

      assertThat(reader.drain()).isEqualTo(10);
      assertThat(reader.lastCount()).isEqualTo(10);
      assertThat(RingBufferReader.RECORD_HEADER_BYTES).isEqualTo(RingBufferReader.HEADER_SIZE);
      assertThat(seqs(reader)).isEqualTo(range(0, 10));
      assertThat(reader.pendingBytes()).isZero();

      // The same walk by hand: [u32 length][u32 0][payload, padded to 8].
      ByteBuffer buf = reader.buffer();
      int offset = 0;
      for (int i = 0; i < 10; i++) {
        int length = buf.getInt(offset);
        assertThat(length).isEqualTo(i % 2 == 0 ? 64 : 69);
        assertThat(buf.getLong(offset + 8 + SEQ_OFFSET)).isEqualTo(i);
        offset += 8 + ((length + 7) & ~7);
        assertThat(RingBufferReader.nextRecord(buf, offset - 8 - ((length + 7) & ~7)))
            .isEqualTo(offset);
      }
      assertThat(reader.drain()).isZero();
      assertThat(perCpuSum(obj.map("gadget_lost"), 0)).isZero();
    }
  }

  @Test
  void recordsWrapAroundTheRingManyTimesInOrderWithNoneMissing() {
    int total = 3000; // ~230 KB through a 16 KiB ring: 14 wraps
    try (BpfObject obj = events(16 * 1024, o -> {});
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      List<Long> seen = new ArrayList<>();
      for (int done = 0; done < total; done += 100) {
        writes(100, MAGIC); // 100 records < 16 KiB: never full
        int n = reader.drain();
        assertThat(n).isEqualTo(100);
        seen.addAll(seqs(reader));
      }
      assertThat(seen).isEqualTo(range(0, total));
      assertThat(perCpuSum(obj.map("gadget_lost"), 0)).isZero();
      assertThat(reader.oversizedRecords()).isZero();
    }
  }

  @Test
  void aFullBufferLeavesTheRestInTheRingForTheNextDrain() {
    int total = 2000; // 152 KB of records, buffer 64 KiB
    try (BpfObject obj = events(256 * 1024, o -> {});
        RingBufferReader reader =
            RingBufferReader.create(
                obj.map("events"), directBuffer(RingBufferReader.MIN_BUFFER_SIZE))) {
      writes(total, MAGIC);
      int first = reader.drain();
      assertThat(first).isPositive().isLessThan(total);
      assertThat(first * 76L).isLessThanOrEqualTo(RingBufferReader.MIN_BUFFER_SIZE);
      assertThat(reader.pendingBytes()).isPositive();
      List<Long> seen = new ArrayList<>(seqs(reader));
      int drains = 1;
      while (reader.pendingBytes() > 0) {
        int n = reader.drain();
        assertThat(n).isPositive();
        seen.addAll(seqs(reader));
        drains++;
      }
      assertThat(drains).isGreaterThanOrEqualTo(3);
      assertThat(seen).isEqualTo(range(0, total));
      assertThat(perCpuSum(obj.map("gadget_lost"), 0)).isZero();
    }
  }

  @Test
  void aFullRingCountsLostEventsAndEveryAttemptIsAccountedFor() {
    int total = 500; // a 4 KiB ring holds ~53 records
    try (BpfObject obj = events(4096, o -> {});
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      writes(total, MAGIC);
      long lost = perCpuSum(obj.map("gadget_lost"), 0);
      int received = 0;
      for (int n; (n = reader.drain()) > 0; ) {
        received += n;
      }
      assertThat(lost).isPositive();
      assertThat(received).isPositive();
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(total);
      assertThat(received + lost).isEqualTo(total);
    }
  }

  @Test
  void discardedRecordsAreConsumedButNotCopied() {
    try (BpfObject obj = events(64 * 1024, o -> o.setConstant("discard_every", 3));
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      writes(30, MAGIC);
      assertThat(reader.drain()).isEqualTo(20);
      assertThat(seqs(reader)).isEqualTo(range(0, 30).stream().filter(s -> s % 3 != 2).toList());
      assertThat(arrayU64(obj.map("counters"), 1)).isEqualTo(10);
      assertThat(reader.pendingBytes()).isZero();
    }
  }

  @Test
  void pollReturnsAsSoonAsTheProgramForcesAWakeup() throws Exception {
    try (BpfObject obj = events(64 * 1024, o -> o.setConstant("force_wakeup", true));
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                sleep(200);
                writes(1, MAGIC);
              });
      long start = System.nanoTime();
      int n = reader.poll(10_000);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      writer.get(5, TimeUnit.SECONDS);
      assertThat(n).isEqualTo(1);
      assertThat(ms).isLessThan(5_000);
    }
  }

  @Test
  void withoutWakeupsPollDeliversWhenTheTimeoutEnds() {
    try (BpfObject obj = events(64 * 1024, o -> o.setConstant("wakeup_bytes", 1L << 40));
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      writes(5, MAGIC);
      long start = System.nanoTime();
      int n = reader.poll(300);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(n).isEqualTo(5);
      assertThat(ms).as("no wake-up: the poll ran to its timeout").isGreaterThanOrEqualTo(250);
      assertThat(seqs(reader)).isEqualTo(range(0, 5));
    }
  }

  @Test
  void wakeupEndsAPollEarly() throws Exception {
    try (BpfObject obj = events(64 * 1024, o -> {});
        RingBufferReader reader =
            RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
      CompletableFuture<Integer> poll = CompletableFuture.supplyAsync(() -> reader.poll(30_000));
      sleep(200);
      long start = System.nanoTime();
      reader.wakeup();
      assertThat(poll.get(5, TimeUnit.SECONDS)).isZero();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
      // The wake-up was used up: the next poll waits again.
      long again = System.nanoTime();
      assertThat(reader.poll(100)).isZero();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - again))
          .isGreaterThanOrEqualTo(80);
    }
  }

  @Test
  void closeInterruptsAPollAndLaterCallsReturnEbadf() throws Exception {
    try (BpfObject obj = events(64 * 1024, o -> {})) {
      RingBufferReader reader = RingBufferReader.create(obj.map("events"), directBuffer(1 << 16));
      CompletableFuture<Integer> poll = CompletableFuture.supplyAsync(() -> reader.poll(-1));
      sleep(200);
      reader.close();
      assertThat(poll.get(5, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(0);
      assertThat(reader.drain()).isEqualTo(-Errno.EBADF);
      assertThat(reader.poll(0)).isEqualTo(-Errno.EBADF);
      assertThat(reader.pendingBytes()).isZero();
      reader.close(); // idempotent
      reader.wakeup(); // harmless
    }
  }

  @Test
  void closingTheObjectClosesItsReaders() {
    BpfObject obj = events(64 * 1024, o -> {});
    RingBufferReader reader = RingBufferReader.create(obj.map("events"), directBuffer(1 << 16));
    obj.close();
    assertThat(reader.drain()).isEqualTo(-Errno.EBADF);
  }

  @Test
  void rejectsBuffersAndMapsItCannotUse() {
    try (BpfObject obj = events(64 * 1024, o -> {})) {
      BpfMap events = obj.map("events");
      assertThatThrownBy(() -> RingBufferReader.create(events, ByteBuffer.allocate(1 << 16)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("direct");
      assertThatThrownBy(() -> RingBufferReader.create(events, directBuffer(4096)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("65536");
      ByteOrder other =
          ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
              ? ByteOrder.BIG_ENDIAN
              : ByteOrder.LITTLE_ENDIAN;
      assertThatThrownBy(
              () ->
                  RingBufferReader.create(events, ByteBuffer.allocateDirect(1 << 16).order(other)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("nativeOrder");
      assertThatThrownBy(() -> RingBufferReader.create(obj.map("counters"), directBuffer(1 << 16)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not a ring buffer");
    }
  }

  @Test
  void needsALoadedObject() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThatThrownBy(() -> RingBufferReader.create(obj.map("events"), directBuffer(1 << 16)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("not loaded");
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
