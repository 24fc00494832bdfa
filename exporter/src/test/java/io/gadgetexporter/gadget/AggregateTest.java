package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.export.Telemetry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The machinery of aggregating gadgets, with syscall_count as the gadget: rows made of the map's
 * key and value, the interval, max_rows with the dropped count, the map resized from a parameter, a
 * full map counted and exported, and a prompt close.
 */
class AggregateTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void aRowIsTheKeyStructThenTheValueStruct() {
    EventSchema schema =
        EventSchema.of(GadgetCatalog.builtIn().find("syscall_count").orElseThrow());
    // struct syscall_key {u64 mntns_id; u32 pid; u32 syscall} (16 bytes), then
    // struct syscall_stats {u64 count; u64 errors; char comm[16]} from the next 8-byte boundary.
    assertThat(schema.structName()).isEqualTo("syscall_key+syscall_stats");
    assertThat(schema.field("mntns_id").orElseThrow().offset()).isZero();
    assertThat(schema.field("syscall").orElseThrow().offset()).isEqualTo(12);
    assertThat(schema.field("syscall").orElseThrow().format()).isEqualTo(FieldFormat.SYSCALL_NR);
    assertThat(schema.field("count").orElseThrow().offset()).isEqualTo(16);
    assertThat(schema.field("comm").orElseThrow().offset()).isEqualTo(32);
    assertThat(schema.size()).isEqualTo(48);
    assertThat(schema.mntnsField().name()).isEqualTo("mntns_id");
    // The columns are gadget.yaml's order, not the structs'.
    assertThat(schema.fieldNames()).isEqualTo("comm, pid, syscall, count, errors, mntns_id");
  }

  @Test
  void eachReadKeepsMaxRowsLargestFirstAndCountsTheRest() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance count =
        GadgetTesting.instance(
            "syscall_count", "    params:\n      interval: 100ms\n      max_rows: 3\n", sink);
    try (count) {
      count.start();
      // The JVM alone makes more than three distinct syscalls in 100 ms; busy() ensures it.
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (count.rowsDroppedTotal() == 0 && System.nanoTime() < deadline) {
        busy();
      }
    }
    for (RowBatchSink.Batch b : sink.batches()) {
      assertThat(b.rows()).hasSizeLessThanOrEqualTo(3);
      assertThat(b.rows())
          .extracting(r -> (Long) r.value("count"))
          .isSortedAccordingTo((x, y) -> Long.compare(y, x));
    }
    assertThat(sink.batches()).anySatisfy(b -> assertThat(b.rows()).hasSize(3));
    assertThat(count.rowsDroppedTotal()).isPositive();
    assertThat(count.eventsTotal()).isEqualTo(sink.rows().size());
    assertThat(count.lastReadNanos()).isPositive();
  }

  @Test
  void readsComeEveryIntervalAndCloseReadsOnceMore() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance count =
        GadgetTesting.instance("syscall_count", "    params:\n      interval: 300ms\n", sink);
    long started;
    try (count) {
      count.start();
      started = System.nanoTime();
      sink.await(b -> sink.batches().size() >= 3, WAIT);
    }
    List<RowBatchSink.Batch> batches = sink.batches();
    // The first read comes one interval after the start, then one per interval; the last batch is
    // close's own read.
    assertThat(batches.get(0).nanoTime() - started).isGreaterThanOrEqualTo(ms(300));
    for (int i = 1; i < 3; i++) {
      assertThat(batches.get(i).nanoTime() - batches.get(i - 1).nanoTime())
          .isGreaterThanOrEqualTo(ms(250));
    }
    assertThat(batches).hasSizeGreaterThanOrEqualTo(4);
  }

  @Test
  void aFullMapCountsLostUpdatesAndExportsThem() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    // Four rows at most, read once an hour: the map fills at once and stays full.
    GadgetInstance count =
        GadgetTesting.instance(
            "syscall_count", "    params:\n      interval: 60m\n      map_entries: 4\n", sink);
    try (count;
        Telemetry telemetry =
            new Telemetry(
                ConfigLoader.parse("gadgets:\n  - gadget: syscall_count\n", "t.yaml", Map.of()),
                "test",
                () -> List.of(count),
                null)) {
      count.start();
      assertThat(count.mapUsage())
          .filteredOn(m -> m.name().equals("counts"))
          .singleElement()
          .satisfies(m -> assertThat(m.capacity()).isEqualTo(4));
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (count.lostTotal() < 100 && System.nanoTime() < deadline) {
        busy();
      }
      assertThat(count.lostTotal()).isGreaterThanOrEqualTo(100);
      String scrape = new String(telemetry.scrape("text/plain").body(), StandardCharsets.UTF_8);
      assertThat(scrape)
          .containsPattern(
              "gadget_events_lost_total\\{[^}]*instance=\"test-syscall-count\"[^}]*} [1-9]");
      assertThat(scrape).contains("gadget_aggregate_rows_dropped_total{");
      // The last read's duration is a gauge, named so it is not mistaken for a histogram.
      assertThat(scrape)
          .contains("gadget_aggregate_read_last_duration_seconds{")
          .doesNotContain("gadget_aggregate_read_duration_seconds");
      long closeStarted = System.nanoTime();
      count.close();
      // The reader sleeps in a one-hour wait: close wakes it, and it reads once before leaving.
      assertThat(System.nanoTime() - closeStarted).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }
    assertThat(sink.batches()).hasSize(1);
    assertThat(sink.rows()).hasSizeBetween(1, 4);
  }

  @Test
  void theMapIsSizedFromItsParameter() throws Exception {
    GadgetInstance count =
        GadgetTesting.instance(
            "syscall_count", "    params:\n      map_entries: 777\n", EventSink.NONE);
    try (count) {
      count.start();
      assertThat(count.mapUsage())
          .filteredOn(m -> m.name().equals("counts"))
          .singleElement()
          .satisfies(m -> assertThat(m.capacity()).isEqualTo(777));
      // The unused ring buffer is one page: an aggregating gadget sends no events.
      assertThat(count.ringBufferBytes()).isEqualTo(io.gadgetexporter.bpf.Bpf.pageSize());
    }
  }

  /**
   * A map several read calls deep is emptied in one read: the kernel returns a call short when
   * the next bucket does not fit what is left to ask, which is not the map's end.
   */
  @Test
  void aMapLargerThanOneReadCallIsEmptiedInOneRead() throws Exception {
    Gadget g = GadgetCatalog.builtIn().find("syscall_count").orElseThrow();
    int elements = 3 * AggregateReader.CHUNK_ROWS + 1234;
    try (io.gadgetexporter.bpf.BpfObject object =
        io.gadgetexporter.bpf.BpfObject.open("big-read", g.object())) {
      io.gadgetexporter.bpf.BpfMap counts = object.map(g.spec().aggregate().map());
      counts.resize(4 * AggregateReader.CHUNK_ROWS);
      object.load(); // loaded, not attached: only this test writes the map
      byte[] value = new byte[counts.valueSize()];
      java.nio.ByteBuffer key =
          java.nio.ByteBuffer.allocate(counts.keySize()).order(java.nio.ByteOrder.nativeOrder());
      for (int i = 0; i < elements; i++) {
        key.putLong(0, i + 1); // distinct mount namespace ids
        counts.update(key.array(), value, io.gadgetexporter.bpf.BpfMap.NOEXIST);
      }
      int[] delivered = new int[1];
      AggregateReader reader =
          new AggregateReader(
              "big-read",
              g.spec().aggregate(),
              List.of(counts),
              null,
              new EventView(EventSchema.of(object, g), BootClock.system()),
              Duration.ofHours(1),
              elements,
              BootClock.system(),
              (rows, rowSize, order, count, view) -> delivered[0] += count,
              e -> {});

      assertThat(reader.read()).isEqualTo(elements);
      assertThat(delivered[0]).isEqualTo(elements);
      assertThat(counts.keys()).isEmpty();
    }
  }

  /** A few distinct syscalls. */
  private void busy() {
    try {
      Path f = dir.resolve("busy");
      Files.writeString(f, "x");
      Files.readAllBytes(f);
      Files.getLastModifiedTime(f);
      Files.delete(f);
      Thread.sleep(1);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static long ms(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }
}
