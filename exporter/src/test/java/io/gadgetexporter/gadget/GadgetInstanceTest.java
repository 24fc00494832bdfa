package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An instance's accounting: every event is delivered, lost (counted) or malformed (counted). */
class GadgetInstanceTest {
  @TempDir Path dir;

  @Test
  void aFullRingLosesEventsAndCountsThem() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch stalled = new CountDownLatch(1);
    // The sink blocks the drain thread on its first event, so the 4 KiB ring must overflow.
    EventSink stallingSink =
        (instance, event) -> {
          stalled.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    String ring = "      size: 4KiB\n      wakeup_bytes: 1KiB\n";
    GadgetInstance open =
        GadgetTesting.instance("trace_open", "", stallingSink, ring);
    try (open) {
      open.start();
      Path file = dir.resolve("f");
      Files.writeString(file, "x");
      while (stalled.getCount() > 0) {
        Files.readAllBytes(file);
        Thread.sleep(1);
      }
      int opens = 2000;
      for (int i = 0; i < opens; i++) {
        Files.readAllBytes(file);
      }
      long lost = open.lostTotal();
      // 4 KiB holds a dozen 320-byte events: nearly all of the burst is lost, and counted.
      assertThat(lost).isGreaterThan(opens - 100);
      release.countDown();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      // The counters move once per batch, after the batch is copied out of the ring.
      while (open.eventsTotal() + open.lostTotal() < opens && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(open.eventsTotal() + open.lostTotal()).isGreaterThanOrEqualTo(opens);
      assertThat(open.malformedTotal()).isZero();
    }
  }

  @Test
  void readingCountersDoesNotWaitForADrainInProgress() throws Exception {
    // The drain thread sits in a 10 s poll on an idle ring; a scrape reads the gauges meanwhile.
    GadgetInstance exec =
        GadgetTesting.instance("trace_exec", "", EventSink.NONE, "      drain_interval: 10s\n");
    try (exec) {
      exec.start();
      Thread.sleep(200); // the drain thread is in its poll now
      long start = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        exec.pendingBytes();
        exec.lostTotal();
      }
      // Blocking behind the poll would take up to 10 s per read.
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }
  }

  @Test
  void malformedRecordsAreCountedAndSkipped() {
    RecordingSink sink = new RecordingSink();
    GadgetInstance instance = GadgetTesting.instance("trace_open", "", sink);
    EventSchema schema = EventViewTest.schema();
    ByteBuffer batch = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
    int at = 0;
    // a good record, one too short, one whose args_size points past its buffer, a good one
    at = put(batch, at, EventViewTest.record(1, 0, 3, "ls\0"), 88);
    at = put(batch, at, EventViewTest.record(1, 0, 3, "ls\0"), 40);
    at = put(batch, at, EventViewTest.record(1, 0, 99, "ls\0"), 88);
    put(batch, at, EventViewTest.record(1, 0, 3, "ls\0"), 88);

    instance.process(batch, 4, new EventView(schema, BootClock.fixed(0)));

    assertThat(instance.eventsTotal()).isEqualTo(2);
    assertThat(instance.malformedTotal()).isEqualTo(2);
    assertThat(sink.events()).hasSize(2);
  }

  private static int put(ByteBuffer batch, int at, ByteBuffer record, int length) {
    batch.putInt(at, length).putInt(at + 4, 0);
    for (int i = 0; i < length; i++) {
      batch.put(at + 8 + i, record.get(i));
    }
    return at + 8 + ((length + 7) & ~7);
  }

  @Test
  void parameterOutOfRangeIsAConfigErrorAtItsPlace() {
    String params = "    params:\n      max_args: 100\n";
    assertThatThrownBy(() -> GadgetTesting.instance("trace_exec", params, EventSink.NONE))
        .isInstanceOf(ConfigException.class)
        .hasMessage("test.yaml:7:17: gadgets[0].params.max_args: must be at most 64, got 100");
  }

  @Test
  void parameterOfTheWrongTypeIsAConfigError() {
    String params = "    params:\n      max_args: many\n";
    assertThatThrownBy(() -> GadgetTesting.instance("trace_exec", params, EventSink.NONE))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("max_args: must be an integer, got 'many'");
  }

  @Test
  void builtInGadgetsMatchTheirBtf() {
    // Every built-in gadget's gadget.yaml describes exactly its event struct's fields, and every
    // declared parameter exists in the program.
    for (Gadget g : GadgetCatalog.builtIn().builtInGadgets()) {
      GadgetInstance instance =
          GadgetTesting.instance(g.name(), "", EventSink.NONE);
      instance.start();
      try {
        // start() matched BTF and gadget.yaml (it throws on any difference) and set every param.
        assertThat(instance.state()).isEqualTo(GadgetInstance.State.RUNNING);
        assertThat(instance.schema().mntnsField()).isNotNull();
      } finally {
        instance.close();
      }
    }
    assertThat(GadgetCatalog.builtIn().builtInNames()).contains("trace_exec", "trace_open");
  }

  @Test
  void unknownBuiltInGadgetIsNotFound() {
    assertThat(GadgetCatalog.builtIn().find("trace_nothing")).isEmpty();
    assertThatThrownBy(() -> GadgetCatalog.fromDirectory(dir.resolve(UUID.randomUUID().toString())))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("needs gadget.yaml and program.bpf.o");
  }
}
