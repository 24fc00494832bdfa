package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AttachKindTest {
  @Test
  void mapsLibbpfSectionNames() {
    assertThat(AttachKind.forSection("tracepoint/syscalls/sys_enter_openat"))
        .contains(AttachKind.TRACEPOINT);
    assertThat(AttachKind.forSection("tp/sched/sched_process_exec"))
        .contains(AttachKind.TRACEPOINT);
    assertThat(AttachKind.forSection("raw_tp/sys_enter")).contains(AttachKind.RAW_TRACEPOINT);
    assertThat(AttachKind.forSection("raw_tracepoint/sys_exit"))
        .contains(AttachKind.RAW_TRACEPOINT);
    assertThat(AttachKind.forSection("tp_btf/sched_switch")).contains(AttachKind.TP_BTF);
    assertThat(AttachKind.forSection("kprobe/do_sys_openat2")).contains(AttachKind.KPROBE);
    assertThat(AttachKind.forSection("kretprobe/do_sys_openat2")).contains(AttachKind.KPROBE);
    assertThat(AttachKind.forSection("fentry/do_sys_openat2")).contains(AttachKind.FENTRY);
    assertThat(AttachKind.forSection("fexit/vfs_read")).contains(AttachKind.FENTRY);
    assertThat(AttachKind.forSection("iter/task")).contains(AttachKind.ITERATOR);
    assertThat(AttachKind.forSection("uprobe")).contains(AttachKind.UPROBE);
    assertThat(AttachKind.forSection("uretprobe//bin/bash:readline")).contains(AttachKind.UPROBE);
    assertThat(AttachKind.forSection("usdt")).contains(AttachKind.UPROBE);
    assertThat(AttachKind.forSection("perf_event")).contains(AttachKind.PERF_EVENT);
    assertThat(AttachKind.forSection("socket")).contains(AttachKind.SOCKET_FILTER);
    assertThat(AttachKind.forSection("xdp")).isEmpty();
    assertThat(AttachKind.forSection("tracepointx/a/b")).isEmpty();
  }
}
