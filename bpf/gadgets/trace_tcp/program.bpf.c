// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_tcp: TCP connections connected, accepted and closed, IPv4 and IPv6, with the owning
 * process and the error of a failed connect. Tracepoints only (no kprobes on this kernel):
 *
 *   tp_btf/inet_sock_set_state   every TCP state change of a socket:
 *       SYN_SENT -> ESTABLISHED  connect done                      -> "connect"
 *       SYN_SENT -> CLOSE        connect failed (sk_err, e.g. ECONNREFUSED) -> "connect", error
 *       <established> -> CLOSE   the connection ended              -> "close"
 *       SYN_SENT, LISTEN, FIN_WAIT1, LAST_ACK: set in the owner's context, noted (sock_owner.h)
 *   syscalls/sys_exit_accept(4)  the accepted socket, from the returned descriptor -> "accept"
 *
 * Attribution: a connection is established and closed in softirq context, on whatever task the
 * CPU was running, so the process comes from the owner noted where the kernel ran in the
 * socket's user (connect, close/shutdown, accept; see sock_owner.h). Accept is taken at the exit
 * of the accepting process's own syscall: the accepting process, not the one that ran the
 * handshake's softirq. The mount-namespace filter is applied to that owner.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/sock_owner.h>

#define TYPE_LEN 8

enum type { CONNECT, ACCEPT, CLOSE };

/* The event's `type` text, each padded to TYPE_LEN: copied whole into the record. */
static const char type_names[][TYPE_LEN] = {"connect", "accept", "close"};

/* Field order here is about alignment (no holes); gadget.yaml gives the column order. */
struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_errno error;
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_sock_family family;
	gadget_tcp_state state;
	char type[TYPE_LEN];
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

/* Parameters (gadget.yaml). */
const volatile bool connect_only = false;
const volatile bool failed_only = false;

/*
 * Emits one event for `sk`, attributed to `owner` (NULL: unknown, mntns 0). `state` is the state
 * the event is about (see gadget.yaml).
 */
static __always_inline void emit(const struct sock *sk, enum type type,
				 const struct gadget_sock_owner *owner, int error, int state)
{
	__u64 mntns_id = owner ? owner->mntns_id : 0;
	struct event *e;

	if (gadget_should_discard_mntns_id(mntns_id))
		return;
	e = gadget_reserve(sizeof(*e));
	if (!e)
		return;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->netns_id = gadget_sock_netns_id(sk);
	gadget_sock_owner_copy(e, owner);
	e->error = error;
	gadget_sock_endpoints(sk, &e->src, &e->dst);
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->state = state;
	__builtin_memcpy(e->type, type_names[type], TYPE_LEN);
	gadget_submit(e);
}

/* States of a connection that was established: leaving one of these for CLOSE is a "close". */
static __always_inline bool was_established(int state)
{
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		return true;
	default:
		return false;
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct gadget_sock_owner owner, *known;
	bool has_owner = false;
	int error;

	if (!gadget_sock_is_tcp(sk))
		return 0;
	if (gadget_sock_state_set_by_owner(newstate)) {
		gadget_sock_owner_set_current(sk);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED) {
		if (oldstate == TCP_SYN_SENT && !failed_only)
			emit(sk, CONNECT, gadget_sock_owner_of(sk), 0, oldstate);
		return 0;
	}
	if (newstate != TCP_CLOSE)
		return 0;

	/* Copied out before the entry goes: the socket is done with it. */
	known = gadget_sock_owner_of(sk);
	if (known) {
		owner = *known;
		has_owner = true;
		gadget_sock_owner_forget(sk);
	}
	if (oldstate == TCP_SYN_SENT) {
		/* tcp_done_with_error() sets sk_err before the state; a timeout may leave only the
		 * soft error (e.g. EHOSTUNREACH from ICMP). Neither: the socket was closed while
		 * connecting, which is no failure of the connect. */
		error = BPF_CORE_READ(sk, sk_err);
		if (!error)
			error = BPF_CORE_READ(sk, sk_err_soft);
		if (error)
			emit(sk, CONNECT, has_owner ? &owner : NULL, error, oldstate);
		return 0;
	}
	if (connect_only || failed_only || !was_established(oldstate))
		return 0;
	emit(sk, CLOSE, has_owner ? &owner : NULL, 0, oldstate);
	return 0;
}

static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gadget_sock_owner owner = {};
	struct sock *sk;

	/* Noted even when not reported: the connection's close is attributed to it. */
	sk = gadget_sock_owner_accepted(ctx->ret, &owner);
	if (!sk || connect_only || failed_only)
		return 0;
	emit(sk, ACCEPT, &owner, 0, BPF_CORE_READ(sk, __sk_common.skc_state));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
