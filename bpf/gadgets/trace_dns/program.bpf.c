// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_dns: DNS messages over UDP (queries and responses) in the network namespaces the
 * instance traces, with the latency between a query and its response and, where it can be
 * known, the process that asked.
 *
 * Two programs:
 *
 *  - dns_packet, a socket filter (SEC("socket")). The agent opens one AF_PACKET socket in each
 *    traced network namespace and attaches this program to it (see NetnsSockets), so it sees
 *    every frame crossing any interface of that namespace, both directions. It keeps UDP to or
 *    from `port`, copies the DNS message into the event, matches a response to its query for the
 *    latency, and returns 0 so nothing is ever queued on the socket. It runs in softirq or in
 *    any task's context, so it cannot know the process itself; it applies the selector per
 *    message (gadget/socket_filter.h): the mount-namespace filter to the asking process when
 *    dns_sender recorded it, else emitted only if the whole namespace is selected.
 *
 *  - dns_sender, on tp_btf/net_dev_queue: runs when a packet is handed to a device, for a
 *    locally sent packet usually inside the sender's syscall. For a DNS query whose socket is
 *    proven to be the current task's (current_sends_on), it records the task under (netns,
 *    interface, client address, client port, DNS id) in `dns_queries`, selected or not: the
 *    socket filter reads that entry when it sees the query, and again when it sees the
 *    response, and drops both for a process the selector leaves out. A query in a namespace
 *    without a socket is not recorded; its process, when not selected, is counted as filtered
 *    there (no socket filter will see it).
 *
 * The DNS message itself is parsed in userspace (the event carries its first 512 bytes), where a
 * malformed one costs nothing but a counter.
 *
 * Needs Linux 6.2+ (bpf_cast_to_kern_ctx: the namespace and header offsets of the frame).
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/net.h>
#include <gadget/socket_filter.h>

/* Bytes of a DNS message kept per event: the classic UDP limit (RFC 1035), which always holds
 * the header and the question. Larger (EDNS) responses are cut; their answers past the cut are
 * not decoded, and payload_len tells the real size. */
#define DNS_PAYLOAD_MAX 512
#define DNS_HEADER_LEN 12

/* Field order here is about alignment (no holes); gadget.yaml gives the column order. */
struct event {
	gadget_timestamp timestamp;
	gadget_netns_id netns_id;
	gadget_mntns_id mntns_id;
	__u64 latency_ns;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	__u32 ifindex;
	gadget_payload_size payload_size;
	gadget_payload_len payload_len;
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_dns_payload payload[DNS_PAYLOAD_MAX];
};

GADGET_EVENT_TYPE(event);

/* The UDP port DNS is spoken on (53; a resolver on another port can be traced instead). */
const volatile __u16 port = 53;
/* A query unanswered for this long may be dropped from dns_queries when it fills up. */
const volatile __u64 query_timeout = 10000000000ULL;

/*
 * One query in flight, seen from one interface of one namespace. The interface is part of the
 * key because a namespace that forwards (a node's, with a bridge) sees the same query on each
 * interface it crosses; each copy is matched with the response crossing the same interface.
 */
struct query_key {
	__u32 netns;
	__u32 ifindex;
	__u8 client_addr[16];
	__u16 client_port;
	__u16 id;
};

struct query_value {
	__u64 ts;       /* when the query was seen (boot ns) */
	__u64 mntns_id; /* the asking task's, when known (pid != 0) */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 pad;
	char comm[GADGET_COMM_LEN];
};

/*
 * Queries in flight. An entry is removed when its response comes; one never answered stays until
 * the map is full, and then every entry older than query_timeout is swept (at most once a
 * second). A plain hash, not an LRU, so that a full map is seen and counted (gadget_incomplete:
 * the query's events still go out, its response without latency) instead of silently forgetting
 * a query. 8192 queries in flight at once is far above what a node's
 * resolvers see within a timeout; preallocated, as updates come from softirq context.
 */
#define DNS_QUERIES_MAX 8192

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DNS_QUERIES_MAX);
	__type(key, struct query_key);
	__type(value, struct query_value);
} dns_queries SEC(".maps");

/* When dns_queries was last swept; racy between CPUs, which only means an extra sweep. */
__u64 last_sweep;

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define IP_OFFSET_ 0x1fff
#define PACKET_OUTGOING_ 4
#define PF_KTHREAD_ 0x00200000
#define IFF_LOOPBACK_ 0x8
#define DNS_QR 0x80 /* in the third byte of the header */
#define SWEEP_INTERVAL_NS 1000000000ULL

/* Addresses and ports of one UDP datagram, IPv4 addresses as IPv4-mapped IPv6 (the key's form). */
struct flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 version;
	__u16 sport;
	__u16 dport;
	__u32 udp_len; /* UDP header + payload, as the header says */
	__u32 l4_off;  /* UDP header, from the network header */
};

static __always_inline void map_v4(__u8 *to, __u32 addr)
{
	__builtin_memset(to, 0, 10);
	to[10] = 0xff;
	to[11] = 0xff;
	__builtin_memcpy(to + 12, &addr, 4);
}

/* Parses the IP and UDP headers from `hdr` bytes read at the network header. */
static __always_inline bool parse_ip(__u16 protocol, const void *hdr, struct flow *f)
{
	if (protocol == bpf_htons(ETH_P_IP_)) {
		const struct iphdr *ip = hdr;

		if (ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
			return false;
		/* A later fragment has no UDP header. */
		if (ip->frag_off & bpf_htons(IP_OFFSET_))
			return false;
		map_v4(f->saddr, ip->saddr);
		map_v4(f->daddr, ip->daddr);
		f->version = 4;
		f->l4_off = ip->ihl * 4;
		return true;
	}
	if (protocol == bpf_htons(ETH_P_IPV6_)) {
		const struct ipv6hdr *ip6 = hdr;

		/* Extension headers before UDP are not walked: such DNS packets are not seen. */
		if (ip6->nexthdr != IPPROTO_UDP)
			return false;
		__builtin_memcpy(f->saddr, &ip6->saddr, 16);
		__builtin_memcpy(f->daddr, &ip6->daddr, 16);
		f->version = 6;
		f->l4_off = sizeof(struct ipv6hdr);
		return true;
	}
	return false;
}

static __always_inline bool parse_udp(const struct udphdr *udp, struct flow *f)
{
	f->sport = bpf_ntohs(udp->source);
	f->dport = bpf_ntohs(udp->dest);
	f->udp_len = bpf_ntohs(udp->len);
	return (f->sport == port || f->dport == port) && f->udp_len >= sizeof(*udp);
}

/*
 * Whether the current task is the one sending on `sk`: net_dev_queue runs in the sender's
 * context for most packets, but also in softirqs, which borrow whatever task they interrupted
 * (a packet held back until its neighbour answered ARP, a forwarded one). The proof asked for is
 * that the file descriptor in the task's first syscall argument (sendto, sendmsg, sendmmsg,
 * write: all take the socket first) is this very socket. A softirq's packet passes only if the
 * interrupted task holds its socket at that number, and then the attribution is right anyway.
 */
static __always_inline bool current_sends_on(struct task_struct *task, struct sock *sk)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct socket *sock = sk->sk_socket;

	if (!sock || (task->flags & PF_KTHREAD_))
		return false;
	return gadget_socket_of_fd(task, PT_REGS_PARM1_CORE_SYSCALL(regs)) == sock;
}

/* An event's endpoint from a flow's address (IPv4-mapped for IPv4) and port. */
static __always_inline void set_endpoint(gadget_l4endpoint *ep, const __u8 *addr, __u16 port,
					 __u8 version)
{
	if (version == 4)
		__builtin_memcpy(&ep->addr.v4, addr + 12, 4);
	else
		__builtin_memcpy(ep->addr.v6, addr, 16);
	ep->port = port;
	ep->version = version;
	ep->unused = 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(dns_sender, struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct sock *sk = skb->sk;
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
	} hdr;
	struct udphdr udp;
	struct flow f;
	struct query_key key = {};
	struct query_value val = {};
	struct task_struct *task;
	__u8 dns[4]; /* id, flags */
	__u64 netns, mntns_id;
	void *net_hdr;

	/* Cheap tests first: this runs for every packet any device sends. */
	if (!sk || !dev || sk->sk_protocol != IPPROTO_UDP)
		return 0;
	net_hdr = skb->head + skb->network_header;
	if (bpf_probe_read_kernel(&hdr, sizeof(hdr.ip), net_hdr) ||
	    (skb->protocol == bpf_htons(ETH_P_IPV6_) &&
	     bpf_probe_read_kernel(&hdr, sizeof(hdr.ip6), net_hdr)) ||
	    !parse_ip(skb->protocol, &hdr, &f))
		return 0;
	if (bpf_probe_read_kernel(&udp, sizeof(udp), net_hdr + f.l4_off) || !parse_udp(&udp, &f) ||
	    f.dport != port)
		return 0;
	if (bpf_probe_read_kernel(dns, sizeof(dns), net_hdr + f.l4_off + sizeof(udp)) ||
	    (dns[2] & DNS_QR))
		return 0;
	task = bpf_get_current_task_btf();
	if (!current_sends_on(task, sk))
		return 0;
	mntns_id = gadget_current_mntns_id();
	netns = dev->nd_net.net->ns.inum;
	if (!gadget_netns_traced(netns)) {
		gadget_should_discard_mntns_id(mntns_id); /* counts an unselected process's query */
		return 0;
	}

	key.netns = netns;
	key.ifindex = dev->ifindex;
	__builtin_memcpy(key.client_addr, f.saddr, 16);
	key.client_port = f.sport;
	key.id = (__u16)dns[0] << 8 | dns[1];
	val.ts = bpf_ktime_get_boot_ns();
	val.mntns_id = mntns_id;
	val.pid = task->tgid;
	val.tid = task->pid;
	val.uid = task->cred->uid.val;
	__builtin_memcpy(val.comm, task->comm, sizeof(val.comm));
	/* A full map is counted once, by the socket filter, which fails on the same query next. */
	bpf_map_update_elem(&dns_queries, &key, &val, BPF_ANY);
	return 0;
}

struct sweep_ctx {
	__u64 now;
};

static long sweep_old(struct bpf_map *map, struct query_key *key, struct query_value *val,
		      struct sweep_ctx *ctx)
{
	if (ctx->now - val->ts > query_timeout)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* Remembers a query seen by the filter; a full map is swept once, then counted. */
static __always_inline void track_query(struct query_key *key, __u64 now)
{
	struct query_value *known = bpf_map_lookup_elem(&dns_queries, key);
	struct query_value fresh = {};
	struct sweep_ctx sweep = {.now = now};

	if (known) { /* dns_sender saw it leave (or a retransmission): time it from here */
		known->ts = now;
		return;
	}
	fresh.ts = now;
	if (!bpf_map_update_elem(&dns_queries, key, &fresh, BPF_NOEXIST))
		return;
	if (now - last_sweep > SWEEP_INTERVAL_NS) {
		last_sweep = now;
		bpf_for_each_map_elem(&dns_queries, sweep_old, &sweep, 0);
		if (!bpf_map_update_elem(&dns_queries, key, &fresh, BPF_NOEXIST))
			return;
	}
	gadget_count_incomplete(); /* full of recent queries: this one's latency will be unknown */
}

SEC("socket")
int dns_packet(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	struct net_device *dev = skb->dev;
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
	} hdr;
	struct udphdr udp;
	struct flow f;
	struct query_key key = {};
	struct query_value *query;
	struct query_value asker = {}; /* the query's process; pid 0: unknown */
	struct event *e;
	__u8 dns[4];
	__u32 net_off, payload_off, avail, msg_len, len;
	__u64 now, netns, latency = 0;
	__u16 proto;
	bool response;

	if (!dev)
		return 0;
	proto = ctx->protocol;
	/* On a loopback device every packet passes twice: keep the outgoing copy, seen in the
	 * sender's context before anything can drop it (the incoming one waits in a per-CPU backlog
	 * that overflows under bursts). */
	if (ctx->pkt_type != PACKET_OUTGOING_ && (dev->flags & IFF_LOOPBACK_))
		return 0;
	/* The frame starts at its link-layer header (none on some devices, e.g. tun). */
	net_off = skb->network_header - skb->mac_header;
	if (bpf_skb_load_bytes(ctx, net_off, &hdr, sizeof(hdr.ip)) ||
	    (proto == bpf_htons(ETH_P_IPV6_) &&
	     bpf_skb_load_bytes(ctx, net_off, &hdr, sizeof(hdr.ip6))) ||
	    !parse_ip(proto, &hdr, &f))
		return 0;
	if (bpf_skb_load_bytes(ctx, net_off + f.l4_off, &udp, sizeof(udp)) || !parse_udp(&udp, &f))
		return 0;

	/* The message: what the UDP header claims, cut to what the frame holds and to the array. */
	payload_off = net_off + f.l4_off + sizeof(udp);
	msg_len = f.udp_len - sizeof(udp);
	avail = ctx->len > payload_off ? ctx->len - payload_off : 0;
	len = msg_len < avail ? msg_len : avail;
	if (len > DNS_PAYLOAD_MAX)
		len = DNS_PAYLOAD_MAX;
	now = bpf_ktime_get_boot_ns();
	netns = dev->nd_net.net->ns.inum;

	/* Query or response: match them by the client's side of the exchange, which also tells
	 * the process that asked. Shorter than a header: userspace counts it as malformed. */
	if (len >= DNS_HEADER_LEN && !bpf_skb_load_bytes(ctx, payload_off, dns, sizeof(dns))) {
		response = dns[2] & DNS_QR;
		key.netns = netns;
		key.ifindex = dev->ifindex;
		__builtin_memcpy(key.client_addr, response ? f.daddr : f.saddr, 16);
		key.client_port = response ? f.dport : f.sport;
		key.id = (__u16)dns[0] << 8 | dns[1];
		if (!response)
			track_query(&key, now);
		query = bpf_map_lookup_elem(&dns_queries, &key);
		if (query) {
			if (query->pid)
				asker = *query;
			if (response) {
				latency = now - query->ts;
				bpf_map_delete_elem(&dns_queries, &key);
			}
		}
	}
	/* Before the ring is touched: a dropped message costs no reservation. */
	if (gadget_should_discard_packet(netns, asker.pid != 0, asker.mntns_id))
		return 0;

	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = now;
	e->netns_id = netns;
	e->ifindex = dev->ifindex;
	e->mntns_id = asker.mntns_id;
	e->latency_ns = latency;
	e->pid = asker.pid;
	e->tid = asker.tid;
	e->uid = asker.uid;
	__builtin_memcpy(e->comm, asker.comm, sizeof(e->comm));
	set_endpoint(&e->src, f.saddr, f.sport, f.version);
	set_endpoint(&e->dst, f.daddr, f.dport, f.version);
	e->payload_len = msg_len;
	e->payload_size = 0;
	/* len is 1..512 here, so the mask changes nothing; it is there for the verifier, which
	 * sees a register clang kept from before the clamp. DNS_PAYLOAD_MAX is a power of two. */
	if (len > 0 &&
	    !bpf_skb_load_bytes(ctx, payload_off, e->payload, ((len - 1) & (DNS_PAYLOAD_MAX - 1)) + 1))
		e->payload_size = len;
	gadget_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
