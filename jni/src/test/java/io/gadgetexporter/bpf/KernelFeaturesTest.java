package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KernelFeaturesTest {
  @Test
  void needsAnAnswerForEveryKind() {
    Map<AttachKind, KernelFeatures.Support> some = new EnumMap<>(AttachKind.class);
    some.put(AttachKind.TRACEPOINT, new KernelFeatures.Support(true, "ok"));
    assertThatThrownBy(() -> new KernelFeatures(some, new KernelFeatures.Support(true, "ok")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RAW_TRACEPOINT");
  }

  @Test
  void answersPerKind() {
    Map<AttachKind, KernelFeatures.Support> all = new EnumMap<>(AttachKind.class);
    for (AttachKind k : AttachKind.values()) {
      all.put(k, new KernelFeatures.Support(k != AttachKind.KPROBE, "because " + k));
    }
    KernelFeatures f = new KernelFeatures(all, new KernelFeatures.Support(true, "ring"));
    assertThat(f.supports(AttachKind.KPROBE)).isFalse();
    assertThat(f.support(AttachKind.UPROBE).reason()).isEqualTo("because UPROBE");
    assertThat(f.toString()).contains("KPROBE          no   because KPROBE");
  }
}
