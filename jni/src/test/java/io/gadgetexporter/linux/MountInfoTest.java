package io.gadgetexporter.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountInfoTest {
  @Test
  void readsRootMountPointAndTypeAndUnescapesPaths() {
    String content =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
            + "41 25 0:26 /../../.. /host/sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw\n"
            + "50 22 0:40 / /mnt/with\\040space\\011tab\\134back rw - tmpfs tmpfs rw\n"
            + "garbage line\n"
            + "51 22 0:41 / /x rw master:3 shared:9 - tracefs tracefs rw\n";
    assertThat(MountInfo.parse(content))
        .containsExactly(
            new MountInfo.Mount("/", Path.of("/"), "ext4"),
            new MountInfo.Mount("/../../..", Path.of("/host/sys/fs/cgroup"), "cgroup2"),
            new MountInfo.Mount("/", Path.of("/mnt/with space\ttab\\back"), "tmpfs"),
            new MountInfo.Mount("/", Path.of("/x"), "tracefs"));
  }

  @Test
  void aBackslashNotFollowedByThreeOctalDigitsStays() {
    assertThat(MountInfo.unescape("a\\09b\\1")).isEqualTo("a\\09b\\1");
  }

  @Test
  void thisProcessSeesItsRootMount() {
    assertThat(MountInfo.read(Path.of("/proc/self/mountinfo")))
        .anySatisfy(m -> assertThat(m.mountPoint()).isEqualTo(Path.of("/")));
    assertThat(MountInfo.read(Path.of("/nonexistent/mountinfo"))).isEmpty();
  }
}
