package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BpfTest {
  @Test
  void possibleCpusMatchSysfs() throws Exception {
    String possible = Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim();
    int expected = 0;
    for (String range : possible.split(",")) {
      String[] ends = range.split("-");
      int lo = Integer.parseInt(ends[0]);
      int hi = ends.length > 1 ? Integer.parseInt(ends[1]) : lo;
      expected += hi - lo + 1; // the kernel gives per-CPU maps one slot per possible CPU
    }
    assertThat(Bpf.possibleCpus()).isEqualTo(expected);
  }

  @Test
  void pageSizeAndLibbpfVersion() {
    assertThat(Integer.bitCount(Bpf.pageSize())).isEqualTo(1);
    assertThat(Bpf.pageSize()).isGreaterThanOrEqualTo(4096);
    assertThat(Bpf.libbpfVersion()).startsWith("v1.1");
  }

  @Test
  void findsFunctionOffsetsInElfFiles() {
    String target = TestSupport.testBinary("uprobe_target").toString();
    long offset = Bpf.symbolFileOffset(target, "gx_uprobe_target");
    assertThat(offset).isPositive();
    assertThat(Bpf.symbolFileOffset(target, "main")).isNotEqualTo(offset);
    assertThatThrownBy(() -> Bpf.symbolFileOffset(target, "no_such_function"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no_such_function");
    assertThatThrownBy(() -> Bpf.symbolFileOffset("/nonexistent", "main"))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("ENOENT");
  }
}
