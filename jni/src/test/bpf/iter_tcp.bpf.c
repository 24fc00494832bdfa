// SPDX-License-Identifier: GPL-2.0
/* One line per TCP socket of the iterator's network namespace: "<local port> <state>". */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%u %u\n", skc->skc_num, skc->skc_state);
	return 0;
}
