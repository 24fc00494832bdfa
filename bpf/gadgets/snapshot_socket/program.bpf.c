// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snapshot_socket: the TCP and UDP sockets (IPv4 and IPv6) that exist when the snapshot is taken,
 * one row each, with the process that holds each one. BPF iterators only; each snapshot:
 *
 * 1. find_owners (iter/task_file, a "prepare" pass): every open file of every process; for each
 *    TCP or UDP socket, its inode -> the process holding it (owners), and the socket's network
 *    namespace -> a process of the selector that lives there (netns_pids).
 * 2. snapshot_tcp (iter/tcp) and snapshot_udp (iter/udp): every socket of a network namespace,
 *    one struct event each. These iterators walk only the namespace the iterator is created in,
 *    so the agent runs them once in every namespace of netns_pids (entering each one from a
 *    helper thread) and empties both maps afterwards.
 *
 * The selector applies per row, by the owner's mount namespace (gadget_filtered counts each
 * socket of a process it leaves out once, in find_owners). A socket no process holds
 * (TIME_WAIT, a connection not accepted yet, an orphan closing) has no owner: it is listed, with
 * pid 0, because its namespace was visited, i.e. a selected process lives there.
 */
#include "vmlinux.h"
#include <gadget/gadget.h>
#include <gadget/net.h>

#define SNAP_EEXIST 17 /* a kernel macro, so not in vmlinux.h */

struct event {
	gadget_timestamp timestamp;
	gadget_netns_id netns_id;
	gadget_mntns_id mntns_id;
	__u64 inode;
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_pid pid;
	gadget_uid uid;
	__u32 rx_queue;
	__u32 tx_queue;
	gadget_ip_protocol protocol;
	gadget_sock_family family;
	gadget_tcp_state state;
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

struct owner {
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_comm comm[GADGET_COMM_LEN];
};

/*
 * Socket inode -> the first process found holding it (the lowest pid of those sharing it: usually
 * the parent that created it). TCP and UDP sockets only. 65536 covers busy nodes (a node's
 * connections are typically in the thousands); entries are allocated on use (BPF_F_NO_PREALLOC,
 * ~100 bytes each) and the agent empties the map after every snapshot. When it is full, the
 * sockets left out are still listed, without an owner, and counted in gadget_incomplete.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct owner);
} owners SEC(".maps");

/*
 * Network namespace id -> a process of the selector in it, through which the agent enters the
 * namespace. 4096 is above any node's pod count (Kubernetes' max-pods is a few hundred; a pod's
 * containers share one namespace). Emptied by the agent as it reads it; a namespace left out
 * for lack of room is counted in gadget_lost and not listed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u32);
} netns_pids SEC(".maps");

/* The row is built here (~110 bytes is much of the stack). Per-CPU: an iterator run does not
 * migrate, and the agent runs one snapshot of an instance at a time. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

static __always_inline bool is_inet(__u16 family)
{
	return family == GADGET_AF_INET || family == GADGET_AF_INET6;
}

/* The inode number of the socket file behind `sk`, as in /proc/PID/fd and ss; 0 for none. */
static __always_inline __u64 socket_inode(struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);

	return sock ? BPF_CORE_READ(sock, file, f_inode, i_ino) : 0;
}

SEC("iter/task_file")
int find_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct owner owner = {};
	struct socket *sock;
	__u64 ino, netns;
	struct sock *sk;
	__u16 protocol;
	__u32 pid;
	long err;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || !is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)))
		return 0;
	protocol = BPF_CORE_READ(sk, sk_protocol);
	if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
		return 0;
	ino = BPF_CORE_READ(file, f_inode, i_ino);
	pid = task->tgid;
	owner.mntns_id = gadget_task_mntns_id(task);
	owner.pid = pid;
	/* The process's name (its leader's), whichever of its threads the walk met. */
	BPF_CORE_READ_STR_INTO(&owner.comm, task, group_leader, comm);
	err = bpf_map_update_elem(&owners, &ino, &owner, BPF_NOEXIST);
	if (err && err != -SNAP_EEXIST)
		gadget_count_incomplete();
	/* The selector's verdict is counted here, once per process and socket it leaves out; the
	 * row passes drop those sockets again without counting. */
	if (gadget_should_discard_mntns_id(owner.mntns_id))
		return 0;
	/* A namespace is entered through a process living in it (not one holding a socket from
	 * elsewhere). */
	netns = gadget_sock_netns_id(sk);
	if (netns != BPF_CORE_READ(task, nsproxy, net_ns, ns.inum))
		return 0;
	err = bpf_map_update_elem(&netns_pids, &netns, &pid, BPF_NOEXIST);
	if (err && err != -SNAP_EEXIST)
		gadget_count_lost(); /* the namespace's rows will not be listed at all */
	return 0;
}

/*
 * The fields every socket has: full, request and time-wait sockets all begin with sock_common
 * (so the local port is skc_num here, not a full socket's inet_sport).
 */
static __always_inline struct event *begin_row(struct sock_common *skc, uid_t uid, __u16 protocol)
{
	struct in6_addr v6 = {};
	__u32 zero = 0;
	struct event *e;
	__u16 family;

	family = BPF_CORE_READ(skc, skc_family);
	if (!is_inet(family))
		return NULL;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return NULL;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->netns_id = gadget_sock_netns_id((struct sock *)skc);
	e->family = family;
	e->protocol = protocol;
	e->state = BPF_CORE_READ(skc, skc_state);
	e->uid = uid;
	if (family == GADGET_AF_INET6)
		v6 = BPF_CORE_READ(skc, skc_v6_rcv_saddr);
	gadget_endpoint_set(&e->src, family, BPF_CORE_READ(skc, skc_rcv_saddr), &v6,
			    BPF_CORE_READ(skc, skc_num));
	if (family == GADGET_AF_INET6)
		v6 = BPF_CORE_READ(skc, skc_v6_daddr);
	gadget_endpoint_set(&e->dst, family, BPF_CORE_READ(skc, skc_daddr), &v6,
			    bpf_ntohs(BPF_CORE_READ(skc, skc_dport)));
	e->inode = 0;
	e->rx_queue = 0;
	e->tx_queue = 0;
	return e;
}

/* The owner, the selector, and out: one struct per row. */
static __always_inline int write_row(struct seq_file *seq, struct event *e)
{
	struct owner *o = e->inode ? bpf_map_lookup_elem(&owners, &e->inode) : NULL;

	if (o) {
		if (!gadget_mntns_selected(o->mntns_id))
			return 0; /* counted in gadget_filtered by find_owners */
		e->mntns_id = o->mntns_id;
		e->pid = o->pid;
		__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	} else {
		e->mntns_id = 0;
		e->pid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	bpf_seq_write(seq, e, sizeof(*e));
	return 0;
}

SEC("iter/tcp")
int snapshot_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct event *e;

	if (!skc)
		return 0;
	e = begin_row(skc, ctx->uid, IPPROTO_TCP);
	if (!e)
		return 0;
	/* A full socket; request (NEW_SYN_RECV) and TIME_WAIT sockets have no file and no queues. */
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		struct sock *sk = (struct sock *)tp;

		e->inode = socket_inode(sk);
		/* As /proc/net/tcp: a listener's accept queue and its limit, else unread and unacked
		 * bytes. */
		if (e->state == TCP_LISTEN) {
			e->rx_queue = BPF_CORE_READ(sk, sk_ack_backlog);
			e->tx_queue = BPF_CORE_READ(sk, sk_max_ack_backlog);
		} else {
			__s32 unread = BPF_CORE_READ(tp, rcv_nxt) - BPF_CORE_READ(tp, copied_seq);

			e->rx_queue = unread > 0 ? unread : 0;
			e->tx_queue = BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_una);
		}
	}
	return write_row(ctx->meta->seq, e);
}

SEC("iter/udp")
int snapshot_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct sock *sk;
	struct event *e;

	if (!udp)
		return 0;
	sk = (struct sock *)udp;
	e = begin_row((struct sock_common *)sk, ctx->uid, IPPROTO_UDP);
	if (!e)
		return 0;
	e->inode = socket_inode(sk);
	/* As /proc/net/udp: bytes queued to be read, and sent but not yet freed by the device. */
	e->rx_queue = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	e->tx_queue = BPF_CORE_READ(sk, sk_wmem_alloc.refs.counter) - 1;
	return write_row(ctx->meta->seq, e);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
