package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.arrayU64;
import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfLinkTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void closeDetachesAndIsIdempotent() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", 555);
      obj.load();
      BpfLink link = obj.program("handle_write").attach();
      assertThat(link.isClosed()).isFalse();
      assertThat(link.fd()).isPositive();
      assertThat(link.program().name()).isEqualTo("handle_write");
      assertThat(link.toString()).contains("handle_write");
      writes(2, 555);
      link.close();
      assertThat(link.isClosed()).isTrue();
      assertThat(link.fd()).isEqualTo(-1);
      writes(2, 555);
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(2);
      link.close();
      assertThat(link.toString()).contains("closed");
    }
  }

  @Test
  void theKernelTakesAProgramOncePerTracepoint() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", 556);
      obj.load();
      BpfLink first = obj.program("handle_write").attach();
      assertThatThrownBy(
              () -> obj.program("handle_write").attachTracepoint("syscalls", "sys_enter_write"))
          .isInstanceOf(BpfException.class)
          .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("EEXIST"));
      writes(1, 556);
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(1);
      first.close();
    }
  }
}
