package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The probe's answers on the kernel CI runs on (DESIGN.md §2: 6.18 without CONFIG_KPROBES, fentry
 * refused with EPERM). These are real values: a different kernel is a different answer, and this
 * test should then be told about it.
 */
class FeatureProbeTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void findsWhatThisKernelAllows() {
    KernelFeatures f = FeatureProbe.probe();
    assertThat(f.supports(AttachKind.TRACEPOINT)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.RAW_TRACEPOINT)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.TP_BTF)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.ITERATOR)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.UPROBE)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.PERF_EVENT)).as(f.toString()).isTrue();
    assertThat(f.supports(AttachKind.SOCKET_FILTER)).as(f.toString()).isTrue();
    assertThat(f.ringBuffer().supported()).as(f.toString()).isTrue();

    assertThat(f.supports(AttachKind.KPROBE)).as(f.toString()).isFalse();
    assertThat(f.support(AttachKind.KPROBE).reason()).contains("without CONFIG_KPROBES");
    assertThat(f.supports(AttachKind.FENTRY)).as(f.toString()).isFalse();
    assertThat(f.support(AttachKind.FENTRY).reason()).startsWith("load failed: ").contains("EPERM");

    assertThat(f.support(AttachKind.TRACEPOINT).reason())
        .isEqualTo("attached to tracepoint syscalls/sys_enter_getpid");
    assertThat(f.attach()).hasSize(AttachKind.values().length);
    assertThat(f.toString()).contains("KPROBE").contains("RING_BUFFER");
  }

  @Test
  void probingTwiceGivesTheSameAnswers() {
    assertThat(FeatureProbe.probe().attach().values())
        .extracting(KernelFeatures.Support::supported)
        .isEqualTo(
            FeatureProbe.probe().attach().values().stream()
                .map(KernelFeatures.Support::supported)
                .toList());
  }
}
