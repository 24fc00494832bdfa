// SPDX-License-Identifier: GPL-2.0
/*
 * Counts UDP/IPv4 packets to target_port received on the socket's interface. Returns 0: nothing is
 * queued to the socket, so nobody has to read it.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define PACKET_HOST 0 /* addressed to us: on lo, the incoming copy (the outgoing one is 4) */

const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("socket")
int count_udp(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	__u32 zero = 0;

	if (skb->pkt_type != PACKET_HOST || skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_UDP)
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, &udp, sizeof(udp)) < 0)
		return 0;
	if (udp.dest != bpf_htons(target_port))
		return 0;
	__u64 *n = bpf_map_lookup_elem(&packets, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
