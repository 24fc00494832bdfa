// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top_tcp: bytes sent and received per TCP connection and process. An aggregating gadget: the
 * counts live in the `stats` hash map, which the agent empties every interval (gadget.yaml
 * `aggregate:`); nothing goes through the ring buffer.
 *
 * Hooks: the sock/sock_send_length and sock/sock_recv_length tracepoints (Linux 6.3+), fired by
 * sock_sendmsg() and sock_recvmsg() with the socket and the call's result, in the calling
 * process's context: what send(2), write(2), sendmsg(2), recv(2), read(2), ... move through a TCP
 * socket, attributed to the process that made the call. Bytes the kernel moves without those
 * calls (TCP zero-copy receive, kernel sockets) are not seen; a MSG_PEEK receive consumes nothing
 * and is not counted. IPv4 and IPv6; an IPv6 socket connected to an IPv4-mapped address is shown
 * as IPv4, as on the wire. MPTCP sockets (protocol 262) are not TCP here.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <gadget/gadget.h>

#define AF_INET_ 2
#define AF_INET6_ 10
#define IPPROTO_TCP_ 6
#define MSG_PEEK_ 2

/* Laid out without holes but for the tail (zeroed: the whole key is hashed). */
struct tcp_conn_key {
	gadget_mntns_id mntns_id;
	__u8 saddr[16]; /* network byte order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	gadget_pid pid;
	__u16 family;   /* AF_INET (2) or AF_INET6 (10) */
	__u16 sport;    /* host byte order */
	__u16 dport;
};

struct tcp_conn_stats {
	__u64 sent;
	__u64 received;
	gadget_comm comm[GADGET_COMM_LEN]; /* the first caller's in the interval */
};

/*
 * 10240 connections and processes per interval by default, resized from the map_entries
 * parameter before load; a full map is counted in gadget_lost. Preallocated: an update never
 * allocates on the send/receive path (~0.9 MiB).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct tcp_conn_key);
	__type(value, struct tcp_conn_stats);
} stats SEC(".maps");

/* ::ffff:a.b.c.d, an IPv4 address on an IPv6 socket. */
static __always_inline bool v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

static __always_inline int account(struct trace_event_raw_sock_msg_length *ctx, bool sent)
{
	struct sock_common *sk = ctx->sk;
	struct task_struct *task;
	struct tcp_conn_stats *st;
	struct tcp_conn_key key;
	__u64 mntns_id;

	if (ctx->ret <= 0 || ctx->protocol != IPPROTO_TCP_)
		return 0;
	if (ctx->family != AF_INET_ && ctx->family != AF_INET6_)
		return 0;
	if (!sent && (ctx->flags & MSG_PEEK_))
		return 0;
	mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	__builtin_memset(&key, 0, sizeof(key));
	task = bpf_get_current_task_btf();
	key.mntns_id = mntns_id;
	key.pid = task->tgid;
	key.family = ctx->family;
	key.sport = BPF_CORE_READ(sk, skc_num);
	key.dport = bpf_ntohs(BPF_CORE_READ(sk, skc_dport));
	if (ctx->family == AF_INET_) {
		BPF_CORE_READ_INTO(&key.saddr, sk, skc_rcv_saddr);
		BPF_CORE_READ_INTO(&key.daddr, sk, skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&key.saddr, sk, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&key.daddr, sk, skc_v6_daddr);
		if (v4_mapped(key.saddr) && v4_mapped(key.daddr)) {
			/* An IPv6 socket talking IPv4: shown as the IPv4 connection it is on the
			 * wire, as the network tracers show it. */
			key.family = AF_INET_;
			__builtin_memcpy(key.saddr, &key.saddr[12], 4);
			__builtin_memcpy(key.daddr, &key.daddr[12], 4);
			__builtin_memset(&key.saddr[4], 0, 12);
			__builtin_memset(&key.daddr[4], 0, 12);
		}
	}

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		struct tcp_conn_stats init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		st = gadget_aggregate_slot(&stats, &key, &init);
		if (!st)
			return 0; /* counted */
	}
	__sync_fetch_and_add(sent ? &st->sent : &st->received, ctx->ret);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int send_length(struct trace_event_raw_sock_msg_length *ctx)
{
	return account(ctx, true);
}

SEC("tracepoint/sock/sock_recv_length")
int recv_length(struct trace_event_raw_sock_msg_length *ctx)
{
	return account(ctx, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
