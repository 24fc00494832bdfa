package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.u32;
import static io.gadgetexporter.bpf.TestSupport.u64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BpfMapTest {
  private BpfObject obj;

  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @BeforeEach
  void load() {
    obj = TestSupport.open("ringbuf_events");
    obj.load();
  }

  @AfterEach
  void close() {
    obj.close();
  }

  @Test
  void describesItself() {
    BpfMap hash = obj.map("test_hash");
    assertThat(hash.type()).isEqualTo("hash");
    assertThat(hash.keySize()).isEqualTo(4);
    assertThat(hash.valueSize()).isEqualTo(8);
    assertThat(hash.maxEntries()).isEqualTo(64);
    assertThat(hash.fd()).isPositive();
    assertThat(hash.isPerCpu()).isFalse();
    assertThat(obj.map("events").isRingBuffer()).isTrue();
    assertThat(obj.map("events").type()).isEqualTo("ringbuf");
    assertThat(obj.map("gadget_lost").type()).isEqualTo("percpu_array");
    assertThat(obj.map("gadget_lost").isPerCpu()).isTrue();
  }

  @Test
  void updateLookupDeleteAndKeys() {
    BpfMap m = obj.map("test_hash");
    assertThat(m.lookup(u32(1))).isNull();
    m.update(u32(1), u64(100), BpfMap.ANY);
    m.update(u32(2), u64(200), BpfMap.NOEXIST);
    assertThat(u64(m.lookup(u32(1)))).isEqualTo(100);
    assertThatThrownBy(() -> m.update(u32(1), u64(1), BpfMap.NOEXIST))
        .isInstanceOf(BpfException.class)
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("EEXIST"));
    assertThatThrownBy(() -> m.update(u32(3), u64(1), BpfMap.EXIST))
        .isInstanceOf(BpfException.class)
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("ENOENT"));
    m.update(u32(2), u64(201), BpfMap.EXIST);
    assertThat(m.keys()).extracting(TestSupport::u32).containsExactlyInAnyOrder(1, 2);
    assertThat(m.delete(u32(1))).isTrue();
    assertThat(m.delete(u32(1))).isFalse();
    assertThat(m.keys()).extracting(TestSupport::u32).containsExactly(2);
    assertThat(u64(m.lookup(u32(2)))).isEqualTo(201);
  }

  @Test
  void aFullHashMapRefusesWithE2big() {
    BpfMap m = obj.map("test_hash");
    for (int i = 0; i < 64; i++) {
      m.update(u32(i), u64(i), BpfMap.ANY);
    }
    assertThatThrownBy(() -> m.update(u32(64), u64(0), BpfMap.ANY))
        .isInstanceOf(BpfException.class)
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("E2BIG"));
    assertThat(m.keys()).hasSize(64);
  }

  @Test
  void lookupAndDeleteBatchTakesElementsOut() {
    BpfMap m = obj.map("test_hash");
    for (int i = 0; i < 40; i++) {
      m.update(u32(i), u64(i * 10L), BpfMap.ANY);
    }
    BpfMap.Batch first = m.lookupAndDeleteBatch(10);
    assertThat(first.size()).isBetween(1, 10);
    assertThat(first.reachedEnd()).as("stopped for want of room, not at the end").isFalse();
    Map<Integer, Long> taken = new HashMap<>();
    collect(first, taken);
    assertThat(m.keys()).hasSize(40 - first.size());
    BpfMap.Batch rest = m.lookupAndDeleteBatch(100);
    assertThat(rest.reachedEnd()).isTrue();
    collect(rest, taken);
    assertThat(taken).hasSize(40);
    taken.forEach((k, v) -> assertThat(v).isEqualTo(k * 10L));
    assertThat(m.keys()).isEmpty();
    BpfMap.Batch none = m.lookupAndDeleteBatch(10);
    assertThat(none.isEmpty()).isTrue();
    assertThat(none.reachedEnd()).isTrue();
  }

  private static void collect(BpfMap.Batch batch, Map<Integer, Long> into) {
    assertThat(batch.keys()).hasSameSizeAs(batch.values());
    for (int i = 0; i < batch.size(); i++) {
      assertThat(into.put(u32(batch.keys().get(i)), u64(batch.values().get(i)))).isNull();
    }
  }

  @Test
  void arraysAreReadAndResetByTheFallback() {
    BpfMap m = obj.map("test_array");
    for (int i = 0; i < 8; i++) {
      m.update(u32(i), u64(i + 1L), BpfMap.ANY);
    }
    BpfMap.Batch batch = m.lookupAndDeleteBatch(100);
    assertThat(batch.size()).isEqualTo(8);
    for (int i = 0; i < 8; i++) {
      assertThat(u32(batch.keys().get(i))).isEqualTo(i);
      assertThat(u64(batch.values().get(i))).isEqualTo(i + 1L);
      assertThat(u64(m.lookup(u32(i)))).isZero();
    }
    assertThat(m.lookupAndDeleteBatch(3).size()).isEqualTo(3);
  }

  @Test
  void perCpuValuesHaveOneEightByteSlotPerPossibleCpu() throws Exception {
    BpfMap m = obj.map("test_percpu_hash");
    int cpus = Bpf.possibleCpus();
    assertThat(m.valueSize()).isEqualTo(4);
    assertThat(m.valueSlotSize()).isEqualTo(8);
    assertThat(m.lookupValueSize()).isEqualTo(cpus * 8);
    ByteBuffer v = ByteBuffer.allocate(cpus * 8).order(ByteOrder.nativeOrder());
    for (int cpu = 0; cpu < cpus; cpu++) {
      v.putInt(cpu * 8, 1000 + cpu);
    }
    m.update(u32(7), v.array(), BpfMap.ANY);
    ByteBuffer got = ByteBuffer.wrap(m.lookup(u32(7))).order(ByteOrder.nativeOrder());
    for (int cpu = 0; cpu < cpus; cpu++) {
      assertThat(got.getInt(cpu * 8)).isEqualTo(1000 + cpu);
    }
    BpfMap.Batch batch = m.lookupAndDeleteBatch(16);
    assertThat(batch.size()).isEqualTo(1);
    assertThat(batch.values().get(0)).hasSize(cpus * 8).isEqualTo(v.array());
    assertThatThrownBy(() -> m.update(u32(1), new byte[4], BpfMap.ANY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one slot per possible CPU");
  }

  @Test
  void keysAndValuesMustHaveTheMapsSizes() {
    BpfMap m = obj.map("test_hash");
    assertThatThrownBy(() -> m.lookup(new byte[8]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4-byte keys");
    assertThatThrownBy(() -> m.update(u32(1), new byte[4], BpfMap.ANY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("8-byte values");
  }

  @Test
  void resizeBeforeLoadOnly() {
    assertThatThrownBy(() -> obj.map("test_hash").resize(128))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already loaded");
    try (BpfObject fresh = TestSupport.open("ringbuf_events")) {
      fresh.map("test_hash").resize(128);
      assertThat(fresh.map("test_hash").maxEntries()).isEqualTo(128);
      BpfMap events = fresh.map("events");
      assertThatThrownBy(() -> events.resize(3 * 4096))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("power of two");
      assertThatThrownBy(() -> events.resize(1024))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("page size");
      assertThatThrownBy(() -> events.resize(0)).isInstanceOf(IllegalArgumentException.class);
      events.resize(1 << 20);
      fresh.load();
      assertThat(events.maxEntries()).isEqualTo(1 << 20);
      assertThat(Files.exists(Path.of("/proc/self/fdinfo/" + events.fd()))).isTrue();
    }
  }
}
