package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SocketFilterTargetTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void opensAPacketSocketOnAnInterface() {
    SocketFilterTarget lo = SocketFilterTarget.packet("lo");
    int fd = lo.fd();
    assertThat(lo.interfaceName()).isEqualTo("lo");
    assertThat(Files.exists(Path.of("/proc/self/fd/" + fd))).isTrue();
    lo.close();
    lo.close();
    assertThatThrownBy(lo::fd).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anUnknownInterfaceIsENODEV() {
    assertThatThrownBy(() -> SocketFilterTarget.packet("nosuchif0"))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("nosuchif0")
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("ENODEV"));
  }
}
