// SPDX-License-Identifier: GPL-2.0
/* Counts one process's system calls from a raw tracepoint (hits[0]) and a tp_btf one (hits[1]). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 which)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return;
	__u64 *n = bpf_map_lookup_elem(&hits, &which);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("raw_tp/sys_enter")
int on_raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	hit(0);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_btf_sys_enter, struct pt_regs *regs, long id)
{
	hit(1);
	return 0;
}
