// SPDX-License-Identifier: GPL-2.0
/* Counts entries (calls[0]) and returns (calls[1]) of a user-space function; sums its argument. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __always_inline void add(__u32 which, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&calls, &which);
	if (n)
		__sync_fetch_and_add(n, v);
}

SEC("uprobe")
int BPF_KPROBE(on_entry, int x)
{
	add(0, 1);
	add(2, x);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_return, int ret)
{
	add(1, 1);
	return 0;
}
