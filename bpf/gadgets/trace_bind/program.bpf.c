// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_bind: bind(2) of IPv4 and IPv6 sockets: the address and port asked for, the port the
 * kernel bound (an ephemeral one for port 0), the socket's protocol, and the result.
 *
 * One program, at syscalls/sys_exit_bind, as trace_open: the arguments are still in the thread's
 * saved registers at exit, and the address they point to was just copied by the kernel (so its
 * page is resident). The protocol and the bound port come from the socket behind the descriptor.
 *
 * Needs Linux 5.15+ (bpf_task_pt_regs).
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/net.h>

/* Field order here is about alignment (no holes); gadget.yaml gives the column order. */
struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_syscall_ret ret;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	__s32 fd;
	gadget_l4endpoint addr;
	__u16 bound_port;
	gadget_ip_protocol protocol;
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

SEC("tracepoint/syscalls/sys_exit_bind")
int exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 mntns_id = gadget_current_mntns_id();
	struct sockaddr_in6 sa = {}; /* large enough for either family */
	struct socket *sock;
	struct sock *sk = NULL;
	struct event *e;
	int fd;

	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	/* bind(int fd, struct sockaddr *umyaddr, int addrlen) */
	fd = PT_REGS_PARM1_SYSCALL(regs);
	bpf_probe_read_user(&sa, sizeof(sa), (void *)PT_REGS_PARM2_SYSCALL(regs));
	if (sa.sin6_family != GADGET_AF_INET && sa.sin6_family != GADGET_AF_INET6)
		return 0;

	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->pid = task->tgid;
	e->tid = task->pid;
	e->uid = task->cred->uid.val;
	e->fd = fd;
	e->ret = ctx->ret;
	/* As asked: an IPv4-mapped IPv6 address stays IPv6 (the dual-stack socket's own form). */
	e->addr.port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == GADGET_AF_INET) {
		e->addr.addr.v4 = ((struct sockaddr_in *)&sa)->sin_addr.s_addr;
		e->addr.version = 4;
	} else {
		__builtin_memcpy(e->addr.addr.v6, sa.sin6_addr.in6_u.u6_addr8, 16);
		e->addr.version = 6;
	}
	sock = gadget_socket_of_fd(task, fd);
	if (sock)
		sk = BPF_CORE_READ(sock, sk);
	if (sk) {
		e->protocol = BPF_CORE_READ(sk, sk_protocol);
		e->netns_id = gadget_sock_netns_id(sk);
		/* inet_bind() sets inet_sport to the port it bound, chosen by the kernel for 0 (unless
		 * IP_BIND_ADDRESS_NO_PORT defers the choice to connect). */
		e->bound_port = 0;
		if (ctx->ret == 0)
			e->bound_port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	} else {
		/* Not a socket (ENOTSOCK) or not open (EBADF): the caller's namespace. */
		e->protocol = 0;
		e->netns_id = task->nsproxy->net_ns->ns.inum;
		e->bound_port = 0;
	}
	*(__u64 *)&e->comm[0] = *(__u64 *)&task->comm[0];
	*(__u64 *)&e->comm[8] = *(__u64 *)&task->comm[8];
	gadget_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
