package io.gadgetexporter.linux;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SystemCallExceptionTest {
  @Test
  void aNegativeErrnoResultNamesTheCallAndTheError() {
    SystemCallException e = SystemCallException.of("read of fanotify events", -24);
    assertThat(e.errno()).isEqualTo(24);
    assertThat(e.errnoName()).isEqualTo("EMFILE");
    assertThat(e).hasMessage("read of fanotify events: Too many open files (EMFILE)");
  }

  @Test
  void theErrnoIsKeptPositive() {
    assertThat(new SystemCallException("x", -1).errno()).isEqualTo(1);
    assertThat(new SystemCallException("x", 2).errno()).isEqualTo(2);
  }
}
