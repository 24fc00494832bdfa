// SPDX-License-Identifier: GPL-2.0
/* Counts samples of a perf event. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&samples, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
