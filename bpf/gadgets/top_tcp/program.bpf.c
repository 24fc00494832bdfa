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
 * and is not counted. IPv4 and IPv6 endpoints (gadget_l4endpoint, as the network tracers): an
 * IPv6 socket connected to an IPv4-mapped address is shown as IPv4, as on the wire. MPTCP sockets
 * (protocol 262) are not TCP here.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <gadget/gadget.h>
#include <gadget/net.h>

#define IPPROTO_TCP_ 6
#define MSG_PEEK_ 2

/* The whole key is hashed: it is zeroed first, so its tail padding is always 0. */
struct tcp_conn_key {
	gadget_mntns_id mntns_id;
	gadget_l4endpoint src; /* local */
	gadget_l4endpoint dst; /* remote */
	gadget_pid pid;
};

struct tcp_conn_stats {
	__u64 sent;
	__u64 received;
	gadget_sock_family family; /* the socket's: AF_INET6 also for an IPv4-mapped peer */
	gadget_comm comm[GADGET_COMM_LEN]; /* the first caller's in the interval */
};

/*
 * 10240 connections and processes per interval by default, resized from the map_entries
 * parameter before load; a full map is counted in gadget_lost. Preallocated: an update never
 * allocates on the send/receive path (~1 MiB).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct tcp_conn_key);
	__type(value, struct tcp_conn_stats);
} stats SEC(".maps");

static __always_inline int account(struct trace_event_raw_sock_msg_length *ctx, bool sent)
{
	struct tcp_conn_stats *st;
	struct tcp_conn_key key;
	__u64 mntns_id;

	if (ctx->ret <= 0 || ctx->protocol != IPPROTO_TCP_)
		return 0;
	if (ctx->family != GADGET_AF_INET && ctx->family != GADGET_AF_INET6)
		return 0;
	if (!sent && (ctx->flags & MSG_PEEK_))
		return 0;
	mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = mntns_id;
	key.pid = bpf_get_current_task_btf()->tgid;
	/* An IPv4-mapped IPv6 peer gives IPv4 endpoints: the connection as it is on the wire. */
	gadget_sock_endpoints((const struct sock *)ctx->sk, &key.src, &key.dst);

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		struct tcp_conn_stats init = {.family = ctx->family};

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
