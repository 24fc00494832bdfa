package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfStatsTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void programsAreCountedAndTimedWhileEnabled() {
    try (BpfObject obj = TestSupport.open("ringbuf_events");
        BpfStats stats = BpfStats.enable()) {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", 31337);
      obj.load();
      BpfProgram p = obj.program("handle_write");
      p.attach();
      ProgramStats before = p.stats();
      writes(50, 31337);
      ProgramStats after = p.stats();
      // The program runs on every write(2) on the machine; at least ours are counted.
      assertThat(after.runCount() - before.runCount()).isGreaterThanOrEqualTo(50);
      assertThat(after.runTimeNs()).isGreaterThan(before.runTimeNs());
      assertThat(after.averageRunNs()).isPositive();
      assertThat(stats.isClosed()).isFalse();
      stats.close();
      assertThat(stats.isClosed()).isTrue();
      stats.close(); // idempotent
    }
  }

  @Test
  void averageOfNoRunsIsZero() {
    assertThat(new ProgramStats(0, 0).averageRunNs()).isZero();
    assertThat(new ProgramStats(4, 100).averageRunNs()).isEqualTo(25.0);
  }
}
