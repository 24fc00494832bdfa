// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_tcpdrop: TCP packets the kernel dropped, with the reason it gave (enum skb_drop_reason:
 * NETFILTER_DROP, NO_SOCKET, TCP_CSUM, ...), the packet's endpoints and flags, and the socket it
 * belonged to where there is one (its state and owner). Tracepoints only:
 *
 *   tracepoint/skb/kfree_skb          every freed-as-dropped packet: TCP over IPv4/IPv6 kept
 *   tp_btf/sock/inet_sock_set_state   }  who owns a socket (gadget/sock_owner.h): drops happen
 *   syscalls/sys_exit_accept(4)       }  in softirqs, on whatever task the CPU was running
 *
 * The classic tracepoint (not tp_btf) because its record is described by CO-RE: the reason
 * (5.17+) and the receiving socket rx_sk (6.11+) are read where the running kernel has them,
 * while a tp_btf program's arguments are fixed at build time.
 *
 * A dropped packet has no process of its own. Its socket is the receiving one the kernel found
 * (rx_sk), else the one the packet is attached to (skb->sk: the sender's for outgoing packets;
 * the established socket early demux found for incoming ones). The mount-namespace filter
 * applies to that socket's owner; a packet without a socket or whose socket's owner is unknown
 * carries mntns_id 0 (dropped by an include selector, kept by an exclude selector or none) and
 * the network namespace of its socket or device, by which the agent ties it to a pod.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/sock_owner.h>

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define NO_HEADER_ ((__u16)~0U)

/* Field order here is about alignment (no holes); gadget.yaml gives the column order. */
struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_skb_drop_reason reason;
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_tcp_flags tcpflags;
	gadget_tcp_state state;
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

/* The bytes of a TCP header up to and including the flags. */
struct tcp_head {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_ae; /* data offset, reserved bits, AE (lowest bit) */
	__u8 flags;   /* CWR ECE URG ACK PSH RST SYN FIN */
};

/* What a TCP packet's headers say. */
struct tcp_packet {
	gadget_l4endpoint src;
	gadget_l4endpoint dst;
	gadget_tcp_flags flags;
};

/*
 * The packet's endpoints and TCP flags from its headers; false when it is not TCP over IP or its
 * network header is not set (dropped before the IP layer looked at it). IPv6 extension headers
 * are not walked: only packets whose first next header is TCP count.
 */
static __always_inline bool parse_tcp(struct sk_buff *skb, __u16 protocol, struct tcp_packet *p)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	struct tcp_head tcp;
	__u32 tcp_at;

	if (nh == NO_HEADER_ || bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
		return false;
	if (protocol == ETH_P_IP_) {
		if (ip.v4.version != 4 || ip.v4.protocol != IPPROTO_TCP)
			return false;
		tcp_at = nh + ip.v4.ihl * 4;
		p->src.addr.v4 = ip.v4.saddr;
		p->dst.addr.v4 = ip.v4.daddr;
		p->src.version = p->dst.version = 4;
	} else {
		if (ip.v6.version != 6 || ip.v6.nexthdr != IPPROTO_TCP)
			return false;
		tcp_at = nh + sizeof(struct ipv6hdr);
		__builtin_memcpy(p->src.addr.v6, ip.v6.saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(p->dst.addr.v6, ip.v6.daddr.in6_u.u6_addr8, 16);
		p->src.version = p->dst.version = 6;
	}
	if (bpf_probe_read_kernel(&tcp, sizeof(tcp), head + tcp_at))
		return false;
	p->src.port = bpf_ntohs(tcp.source);
	p->dst.port = bpf_ntohs(tcp.dest);
	p->flags = tcp.flags | (tcp.doff_ae & 1) << 8;
	return true;
}

SEC("tracepoint/skb/kfree_skb")
int kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	__u16 protocol = ctx->protocol; /* host order */
	struct gadget_sock_owner *owner = NULL;
	struct tcp_packet packet = {};
	struct sock *sk = NULL;
	__u32 reason = 0;
	__u64 mntns_id;
	struct event *e;

	if (protocol != ETH_P_IP_ && protocol != ETH_P_IPV6_)
		return 0;
	/* Every reason is kept, NOT_SPECIFIED too: it is a real drop on a path the kernel has not
	 * named yet. Packets consumed normally never come here (consume_skb has its own
	 * tracepoint, and kfree_skb_reason() sends SKB_CONSUMED there). */
	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (!parse_tcp(skb, protocol, &packet))
		return 0;
	if (bpf_core_field_exists(ctx->rx_sk))
		sk = ctx->rx_sk;
	if (!sk)
		sk = BPF_CORE_READ(skb, sk);
	if (sk)
		owner = gadget_sock_owner_of(sk);
	mntns_id = owner ? owner->mntns_id : 0;
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->reason = reason;
	gadget_sock_owner_copy(e, owner);
	e->src = packet.src;
	e->dst = packet.dst;
	e->tcpflags = packet.flags;
	if (sk) {
		e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
		e->netns_id = gadget_sock_netns_id(sk);
	} else {
		e->state = 0;
		e->netns_id = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	}
	gadget_submit(e);
	return 0;
}

GADGET_SOCK_OWNER_PROGRAMS

char LICENSE[] SEC("license") = "Dual BSD/GPL";
