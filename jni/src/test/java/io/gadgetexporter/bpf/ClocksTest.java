package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.directBuffer;
import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClocksTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void clocksAgreeWithEachOtherAndWithJava() {
    long boot = Clocks.boottimeNanos();
    long mono = Clocks.monotonicNanos();
    assertThat(mono).isPositive().isLessThanOrEqualTo(Clocks.boottimeNanos());
    assertThat(boot).isPositive();
    long realtime = Clocks.realtimeNanos();
    long javaNow = System.currentTimeMillis() * 1_000_000L;
    assertThat(realtime).isCloseTo(javaNow, within(TimeUnit.SECONDS.toNanos(1)));
    long offset = Clocks.realtimeOffsetNanos();
    assertThat(Clocks.boottimeNanos() + offset)
        .isCloseTo(Clocks.realtimeNanos(), within(TimeUnit.MILLISECONDS.toNanos(5)));
  }

  @Test
  void bpfTimestampsAreBoottime() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", 4242);
      obj.load();
      obj.program("handle_write").attach();
      try (RingBufferReader reader =
          RingBufferReader.create(obj.map("events"), directBuffer(1 << 16))) {
        long before = Clocks.boottimeNanos();
        writes(1, 4242);
        long after = Clocks.boottimeNanos();
        assertThat(reader.drain()).isEqualTo(1);
        long stamp = reader.buffer().getLong(RingBufferReader.HEADER_SIZE); // timestamp: offset 0
        assertThat(stamp).isBetween(before, after);
      }
    }
  }
}
