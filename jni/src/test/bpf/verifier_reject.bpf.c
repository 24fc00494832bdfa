// SPDX-License-Identifier: GPL-2.0
/* The verifier must reject this: it reads past the end of an 8-byte map value. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int bad_read(void *ctx)
{
	__u32 key = 0;
	volatile __u64 *v = bpf_map_lookup_elem(&values, &key);
	if (!v)
		return 0;
	return (int)v[4]; /* invalid access to map value, value_size=8 off=32 size=8 */
}
