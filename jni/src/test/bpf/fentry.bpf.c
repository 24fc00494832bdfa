// SPDX-License-Identifier: GPL-2.0
/*
 * An fentry program next to a tracepoint one. On kernels where fentry loads fail (EPERM here),
 * loading everything fails; with the fentry program's autoload off, the rest loads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 fentry_hits;
__u64 tracepoint_hits;

SEC("fentry/do_sys_openat2")
int BPF_PROG(on_openat2)
{
	__sync_fetch_and_add(&fentry_hits, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx)
{
	__sync_fetch_and_add(&tracepoint_hits, 1);
	return 0;
}
