package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.bpf.internal.Native;
import org.junit.jupiter.api.Test;

class BpfExceptionTest {
  @Test
  void namesItsErrno() {
    BpfException e = BpfException.fromErrno("poll of ring 'events'", -1);
    assertThat(e.errno()).isEqualTo(1);
    assertThat(e.errnoName()).isEqualTo("EPERM");
    assertThat(e.getMessage()).isEqualTo("poll of ring 'events': Operation not permitted (EPERM)");
    assertThat(new BpfException("x", 524).errnoName()).isEqualTo("ENOTSUPP");
    assertThat(new BpfException("x", 9999).errnoName()).isEqualTo("E9999");
  }

  @Test
  void theJavaErrnoTableMatchesTheCLibrary() {
    NativeLibrary.load();
    for (int e = 1; e <= 133; e++) {
      if (e == 41 || e == 58) {
        continue; // unused numbers (EWOULDBLOCK and EDEADLOCK are aliases)
      }
      assertThat(Errno.name(e)).as("errno %d", e).isEqualTo(Native.errnoName(e));
      assertThat(Errno.text(e)).as("errno %d", e).isEqualTo(Native.errnoText(e));
    }
    assertThat(Native.errnoName(524)).isEqualTo("ENOTSUPP");
  }

  @Test
  void loadExceptionsCarryProgramAndLog() {
    BpfLoadException e = new BpfLoadException("m", 13, "prog", "log");
    assertThat(e.programName()).contains("prog");
    assertThat(e.verifierLog()).isEqualTo("log");
    assertThat(new BpfLoadException("m", 22, null, null).verifierLog()).isEmpty();
    assertThat(new BpfLoadException("m", 22, null, null).programName()).isEmpty();
  }
}
