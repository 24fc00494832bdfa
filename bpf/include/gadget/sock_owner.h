/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Who owns a TCP socket, for events that happen where the kernel has no process to ask.
 *
 * Most TCP events (a connection established, closed by the peer, a retransmission, a dropped
 * packet) run in softirq or timer context, on whatever task the CPU happened to be running: the
 * current task there says nothing about the socket. So the owner is noted where the kernel IS in
 * the owner's context, keyed by the socket's address, and looked up later:
 *
 *   state SYN_SENT    set by connect() (tcp_v4_connect/tcp_v6_connect)
 *   state LISTEN      set by listen()
 *   state FIN_WAIT1   set by close()/shutdown() on an established connection (tcp_close_state)
 *   state LAST_ACK    set by close()/shutdown() after the peer closed (tcp_close_state)
 *   accept()          the new socket, from the returned descriptor (gadget_sock_owner_accepted)
 *
 * and forgotten when the socket reaches TCP_CLOSE, which every full TCP socket passes before it is
 * destroyed. A later noting overwrites an earlier one: the process that closes a connection is its
 * owner from then on (a descriptor may have been passed or inherited).
 *
 * Owners are noted for every process, selected by the instance's selector or not: an event is
 * filtered on its owner's mount namespace when it is emitted, so a socket of an unselected
 * container is never mistaken for one of unknown owner. Sockets opened before the gadget started
 * have no owner until one of the steps above: their events carry pid 0, an empty comm and mntns 0.
 *
 * Include after gadget.h (and bpf_tracing.h); either write GADGET_SOCK_OWNER_PROGRAMS once (the
 * three tracking programs, for a gadget that only needs the owners), or call
 * gadget_sock_owner_track_state() from tp_btf/inet_sock_set_state and gadget_sock_owner_accepted()
 * from the exits of accept and accept4 in programs of its own.
 */
#ifndef GADGET_SOCK_OWNER_H
#define GADGET_SOCK_OWNER_H

#include "net.h"

struct gadget_sock_owner {
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_comm comm[GADGET_COMM_LEN];
};

/*
 * One entry per open TCP socket noted above, on the whole node. 65536 covers busy nodes (a
 * Kubernetes node's connections are typically in the thousands) and entries are allocated on
 * use (BPF_F_NO_PREALLOC: ~100 bytes each), so the bound costs nothing until reached. A socket
 * that finds the map full is counted in gadget_incomplete: its events still go out, without a
 * process.
 */
#define GADGET_SOCK_OWNERS_MAX 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GADGET_SOCK_OWNERS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct gadget_sock_owner);
} sock_owners SEC(".maps");

/* The current task as an owner. */
static __always_inline void gadget_sock_owner_current(struct gadget_sock_owner *owner)
{
	struct task_struct *task = bpf_get_current_task_btf();

	owner->mntns_id = gadget_current_mntns_id();
	owner->pid = task->tgid;
	owner->tid = task->pid;
	owner->uid = task->cred->uid.val;
	bpf_get_current_comm(owner->comm, sizeof(owner->comm));
}

static __always_inline void gadget_sock_owner_note(const struct sock *sk,
						   const struct gadget_sock_owner *owner)
{
	__u64 key = (__u64)sk;

	if (bpf_map_update_elem(&sock_owners, &key, owner, BPF_ANY))
		gadget_count_incomplete();
}

/* Notes the current task as the owner of `sk`. */
static __always_inline void gadget_sock_owner_set_current(const struct sock *sk)
{
	struct gadget_sock_owner owner = {};

	gadget_sock_owner_current(&owner);
	gadget_sock_owner_note(sk, &owner);
}

static __always_inline struct gadget_sock_owner *gadget_sock_owner_of(const void *sk)
{
	__u64 key = (__u64)sk;

	return bpf_map_lookup_elem(&sock_owners, &key);
}

/* Copies `owner` (NULL: unknown, zeros) into an event's pid, tid, uid and comm fields. */
#define gadget_sock_owner_copy(e, owner)                                             \
	do {                                                                         \
		const struct gadget_sock_owner *o_ = (owner);                        \
		if (o_) {                                                            \
			(e)->pid = o_->pid;                                          \
			(e)->tid = o_->tid;                                          \
			(e)->uid = o_->uid;                                          \
			__builtin_memcpy((e)->comm, o_->comm, sizeof((e)->comm));    \
		} else {                                                             \
			(e)->pid = 0;                                                \
			(e)->tid = 0;                                                \
			(e)->uid = 0;                                                \
			(e)->comm[0] = 0;                                            \
		}                                                                    \
	} while (0)

static __always_inline void gadget_sock_owner_forget(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&sock_owners, &key);
}

static __always_inline bool gadget_sock_is_tcp(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	       BPF_CORE_READ(sk, sk_type) == SOCK_STREAM;
}

/* Whether a change to `newstate` runs in the context of the socket's user (see above). */
static __always_inline bool gadget_sock_state_set_by_owner(int newstate)
{
	return newstate == TCP_SYN_SENT || newstate == TCP_LISTEN || newstate == TCP_FIN_WAIT1 ||
	       newstate == TCP_LAST_ACK;
}

/* From inet_sock_set_state: notes the owner where the change says who it is; CLOSE forgets. */
static __always_inline void gadget_sock_owner_track_state(const struct sock *sk, int newstate)
{
	if (gadget_sock_state_set_by_owner(newstate))
		gadget_sock_owner_set_current(sk);
	else if (newstate == TCP_CLOSE)
		gadget_sock_owner_forget(sk);
}

/*
 * At the exit of accept/accept4 returning `fd`: the accepted TCP socket, noted with `owner` (the
 * caller, filled in), or NULL (the call failed, or the socket is not TCP over IP).
 */
static __always_inline struct sock *gadget_sock_owner_accepted(long fd,
							       struct gadget_sock_owner *owner)
{
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (fd < 0)
		return NULL;
	sock = gadget_socket_of_fd(bpf_get_current_task_btf(), fd);
	if (!sock)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || !gadget_sock_is_tcp(sk))
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != GADGET_AF_INET && family != GADGET_AF_INET6)
		return NULL;
	gadget_sock_owner_current(owner);
	gadget_sock_owner_note(sk, owner);
	return sk;
}

/* The tracking programs, for gadgets whose own hooks only look owners up. */
#define GADGET_SOCK_OWNER_PROGRAMS                                                 \
	SEC("tp_btf/inet_sock_set_state")                                          \
	int BPF_PROG(sock_owner_set_state, const struct sock *sk, int oldstate,   \
		     int newstate)                                                 \
	{                                                                          \
		if (gadget_sock_is_tcp(sk))                                        \
			gadget_sock_owner_track_state(sk, newstate);               \
		return 0;                                                          \
	}                                                                          \
	SEC("tracepoint/syscalls/sys_exit_accept4")                                \
	int sock_owner_accept4(struct trace_event_raw_sys_exit *ctx)               \
	{                                                                          \
		struct gadget_sock_owner owner;                                    \
		gadget_sock_owner_accepted(ctx->ret, &owner);                      \
		return 0;                                                          \
	}                                                                          \
	SEC("tracepoint/syscalls/sys_exit_accept")                                 \
	int sock_owner_accept(struct trace_event_raw_sys_exit *ctx)                \
	{                                                                          \
		struct gadget_sock_owner owner;                                    \
		gadget_sock_owner_accepted(ctx->ret, &owner);                      \
		return 0;                                                          \
	}

#endif /* GADGET_SOCK_OWNER_H */
