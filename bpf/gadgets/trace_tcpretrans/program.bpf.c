// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_tcpretrans: TCP segments retransmitted, with the connection's endpoints and state, the
 * segment's flags and the socket's owner. Tracepoints only:
 *
 *   tp_btf/tcp/tcp_retransmit_skb     the retransmission -> an event
 *   tp_btf/sock/inet_sock_set_state   }  who owns the socket (gadget/sock_owner.h): retransmits
 *   syscalls/sys_exit_accept(4)       }  run from timers and softirqs, never in the owner
 *
 * The mount-namespace filter applies to the socket's owner (mntns 0 when unknown: a connection
 * opened before the gadget started).
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/sock_owner.h>

/* Field order here is about alignment (no holes); gadget.yaml gives the column order. */
struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_sock_family family;
	gadget_tcp_flags tcpflags;
	gadget_tcp_state state;
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	struct gadget_sock_owner *owner = gadget_sock_owner_of(sk);
	__u64 mntns_id = owner ? owner->mntns_id : 0;
	struct tcp_skb_cb *cb;
	struct event *e;

	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->netns_id = gadget_sock_netns_id(sk);
	gadget_sock_owner_copy(e, owner);
	gadget_sock_endpoints(sk, &e->src, &e->dst);
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* TCP keeps a queued segment's flags in the skb's control block (TCP_SKB_CB). */
	cb = (struct tcp_skb_cb *)skb->cb;
	e->tcpflags = BPF_CORE_READ(cb, tcp_flags);
	gadget_submit(e);
	return 0;
}

GADGET_SOCK_OWNER_PROGRAMS

char LICENSE[] SEC("license") = "Dual BSD/GPL";
