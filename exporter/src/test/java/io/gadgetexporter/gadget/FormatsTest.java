package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Human forms of raw values. */
class FormatsTest {
  @Test
  void errnoNames() {
    assertThat(Errno.name(2)).isEqualTo("ENOENT");
    assertThat(Errno.name(13)).isEqualTo("EACCES");
    assertThat(Errno.name(133)).isEqualTo("EHWPOISON");
    assertThat(Errno.name(512)).isEqualTo("ERESTARTSYS");
    assertThat(Errno.name(4000)).isEqualTo("errno 4000");
  }

  @Test
  void openFlags() {
    assertThat(OpenFlags.format(0)).isEqualTo("O_RDONLY");
    assertThat(OpenFlags.format(01 | 0100 | 01000)).isEqualTo("O_WRONLY|O_CREAT|O_TRUNC");
    assertThat(OpenFlags.format(02 | 02000000)).isEqualTo("O_RDWR|O_CLOEXEC");
    assertThat(OpenFlags.format(04010000)).isEqualTo("O_RDONLY|O_SYNC");
    assertThat(OpenFlags.format(010000)).isEqualTo("O_RDONLY|O_DSYNC");
    assertThat(OpenFlags.format(0x80000000L)).isEqualTo("O_RDONLY|020000000000");
  }
}
