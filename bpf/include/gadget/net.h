/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers for network gadgets: a socket's endpoints and network namespace, and the socket behind
 * a file descriptor (files.h). Include after vmlinux.h and gadget.h. No maps here (see
 * sock_owner.h).
 */
#ifndef GADGET_NET_H
#define GADGET_NET_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "files.h"
#include "types.h"

/* Macros in the kernel's headers, so not in vmlinux.h; the same numbers on every architecture. */
#define GADGET_AF_INET 2
#define GADGET_AF_INET6 10
#define GADGET_S_IFMT 00170000
#define GADGET_S_IFSOCK 0140000

/* ::ffff:a.b.c.d, the form an IPv6 socket gives an IPv4 peer. */
static __always_inline bool gadget_ipv6_is_v4mapped(const struct in6_addr *a)
{
	return a->in6_u.u6_addr32[0] == 0 && a->in6_u.u6_addr32[1] == 0 &&
	       a->in6_u.u6_addr32[2] == bpf_htonl(0x0000ffff);
}

/*
 * An endpoint from an address of family `family` and a port in host order. An IPv4-mapped IPv6
 * address becomes IPv4: a dual-stack socket (AF_INET6, as Java and others open by default)
 * talking to an IPv4 peer sends IPv4 packets, and the peer sees the IPv4 address.
 */
static __always_inline void gadget_endpoint_set(gadget_l4endpoint *ep, __u16 family, __be32 v4,
						const struct in6_addr *v6, __u16 port)
{
	ep->port = port;
	if (family == GADGET_AF_INET) {
		ep->addr.v4 = v4;
		ep->version = 4;
	} else if (family == GADGET_AF_INET6) {
		if (gadget_ipv6_is_v4mapped(v6)) {
			ep->addr.v4 = v6->in6_u.u6_addr32[3];
			ep->version = 4;
		} else {
			__builtin_memcpy(ep->addr.v6, v6->in6_u.u6_addr8, 16);
			ep->version = 6;
		}
	} else {
		ep->version = 0;
	}
}

/*
 * A full socket's local and remote endpoints. `sk` may be a BTF pointer or a plain kernel address:
 * CO-RE reads. The local port is inet_sport, not sock_common's skc_num: TCP releases the port
 * (skc_num = 0) before it reports the change to CLOSE, inet_sport stays.
 */
static __always_inline void gadget_sock_endpoints(const struct sock *sk, gadget_l4endpoint *local,
						  gadget_l4endpoint *remote)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	struct in6_addr v6 = {};

	if (family == GADGET_AF_INET6)
		v6 = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
	gadget_endpoint_set(local, family, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr), &v6,
			    bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport)));
	if (family == GADGET_AF_INET6)
		v6 = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
	gadget_endpoint_set(remote, family, BPF_CORE_READ(sk, __sk_common.skc_daddr), &v6,
			    bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)));
}

/* The inode number of a socket's network namespace (as /proc/<pid>/ns/net). */
static __always_inline __u64 gadget_sock_netns_id(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The socket behind file descriptor `fd` of `task`, or NULL when the descriptor is not open or
 * not a socket. As gadget_file_of_fd (files.h): call it in the task's own syscall.
 */
static __always_inline struct socket *gadget_socket_of_fd(struct task_struct *task, int fd)
{
	struct file *file = gadget_file_of_fd(task, fd);
	__u16 mode;

	if (!file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & GADGET_S_IFMT) != GADGET_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(file, private_data);
}

#endif /* GADGET_NET_H */
