/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Well-known typedefs for gadget event fields.
 *
 * Userspace describes an event from the object's BTF alone: a field declared with one of these
 * typedefs is decoded by its meaning (a timestamp becomes wall-clock time, an errno its name, ...),
 * everything else by its plain C type. Keep the names: the agent matches on them.
 *
 * Scalars: the field's type is the typedef (BTF: member -> TYPEDEF gadget_x -> TYPEDEF __u64 -> INT).
 *
 * Strings and byte buffers (gadget_comm, gadget_path, gadget_args): the typedef names the ELEMENT
 * type and the field is an array of it, e.g. `gadget_path fname[256]`. BTF then records
 * member -> ARRAY(elem = TYPEDEF gadget_path -> INT char, nelems = 256), so any length keeps the
 * name. A reader looking for the well-known name must therefore look through an ARRAY into its
 * element type (see docs/architecture.md, "Gadgets"). This is the only convention used for
 * array-valued typedefs: never `typedef char x[N]`.
 */
#ifndef GADGET_TYPES_H
#define GADGET_TYPES_H

/* bpf_ktime_get_boot_ns(): nanoseconds since boot, suspend included. */
typedef __u64 gadget_timestamp;

/* Namespace inode numbers (as in /proc/<pid>/ns/{mnt,net}) and the cgroup v2 id. */
typedef __u64 gadget_mntns_id;
typedef __u64 gadget_netns_id;
typedef __u64 gadget_cgroup_id;

/* Ids as seen from the initial namespaces. pid = tgid (process), tid = thread. */
typedef __u32 gadget_pid;
typedef __u32 gadget_tid;
typedef __u32 gadget_ppid;
typedef __u32 gadget_uid;
typedef __u32 gadget_gid;

/* Element types of string fields: declare `gadget_comm comm[GADGET_COMM_LEN]`. */
#define GADGET_COMM_LEN 16 /* TASK_COMM_LEN */
typedef char gadget_comm; /* task->comm: NUL-terminated unless it fills the array */
typedef char gadget_path; /* a file path, NUL-terminated (cut at the array length) */

/*
 * `gadget_args args[N]` holds NUL-separated strings; the struct's `gadget_args_size` field named
 * `<args field>_size` (e.g. `args_size`) says how many bytes of it are meaningful.
 */
typedef char gadget_args;
typedef __u32 gadget_args_size;

/* A positive errno value (ENOENT = 2). */
typedef __u32 gadget_errno;
/* A syscall's return value: >= 0 on success, -errno on failure. */
typedef __s64 gadget_syscall_ret;
/* open(2) flags (O_WRONLY|O_CREAT|...) and the mode bits given with O_CREAT/O_TMPFILE. */
typedef __u32 gadget_open_flags;
typedef __u32 gadget_file_mode;
/* 0 = false, anything else = true. */
typedef __u8 gadget_bool;
/* A syscall number of the traced kernel's architecture (x86_64 and arm64 differ), shown by name. */
typedef __u32 gadget_syscall_nr;
/* The S_IFMT bits of an inode's i_mode (S_IFREG = 0100000, ...), shown as regular, socket, ... */
typedef __u32 gadget_file_type;

/*
 * A transport (L4) endpoint: an IP address and a port, shown as 10.0.0.1:80 or [::1]:80.
 * The layout is fixed (20 bytes; userspace reads it by offset): the address in network byte
 * order (IPv4 in the first 4 bytes), the port in host byte order, the IP version (4 or 6; 0 = no
 * endpoint, shown empty). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is shown as such; gadgets
 * reporting a connection give its IPv4 form, as on the wire (see gadget/net.h).
 */
typedef struct gadget_l4endpoint {
	union {
		__u8 v6[16];
		__be32 v4;
	} addr;
	__u16 port;
	__u8 version;
	__u8 unused;
} gadget_l4endpoint;
/* A TCP state (TCP_ESTABLISHED = 1 ... as include/net/tcp_states.h), shown by name; 0 = none. */
typedef __u8 gadget_tcp_state;
/* TCP header flags (FIN 0x01 ... CWR 0x80, AE 0x100), shown as SYN|ACK. */
typedef __u16 gadget_tcp_flags;
/* An IP protocol number (IPPROTO_TCP = 6, UDP = 17, ...), shown by name. */
typedef __u16 gadget_ip_protocol;
/* A socket address family (AF_INET = 2, AF_INET6 = 10, ...), shown by name. */
typedef __u16 gadget_sock_family;
/* enum skb_drop_reason, shown by the name the running kernel's BTF gives the value (the values
 * differ between kernels). */
typedef __u32 gadget_skb_drop_reason;

/*
 * Process and system tracers (trace_exit, trace_signal, trace_mount).
 *
 * A signal number (SIGKILL = 9), shown by name; 0 = none. The standard signals have the same
 * numbers on x86_64 and arm64; 32..64 are the real-time signals (SIGRTMIN = 32 for the kernel,
 * glibc reserves the first two).
 */
typedef __u32 gadget_signal;
/*
 * A signal's siginfo si_code: SI_USER (0, kill), SI_KERNEL (0x80), SI_QUEUE (-1), SI_TIMER (-2),
 * SI_MESGQ, SI_ASYNCIO, SI_SIGIO, SI_TKILL (-6), ... shown by name; positive codes are specific
 * to the signal (SEGV_MAPERR, CLD_EXITED, ...) and shown as numbers.
 */
typedef __s32 gadget_signal_code;
/*
 * What became of a signal: >= 0 is the kernel's TRACE_SIGNAL_* outcome (0 delivered, 1 ignored,
 * 2 already_pending, 3 overflow_fail, 4 lose_info), < 0 is -errno of a call that failed before
 * any signal was generated (ESRCH, EPERM, ...).
 */
typedef __s32 gadget_signal_result;
/* mount(2) flags (MS_RDONLY|MS_NOSUID|MS_BIND|...), shown symbolically. */
typedef __u64 gadget_mount_flags;
/* umount2(2) flags (MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW), shown symbolically. */
typedef __u32 gadget_umount_flags;

/*
 * Stack ids (stacks.h: gadget_get_stack()), resolved by the agent through the gadget's stack maps
 * into frames: kernel frames named from /proc/kallsyms, user frames as addresses. A negative
 * value is -errno: -EFAULT (no such stack: a kernel thread's user stack, a user-mode sample's
 * kernel stack), -EEXIST/-ENOMEM (stack map full: stack lost, counted), -ENOENT (not collected).
 */
typedef __s32 gadget_kernel_stack;
typedef __s32 gadget_user_stack;

/*
 * Element of a log2 histogram: `gadget_histogram_slot latency[27]` (histogram.h fills it). Slot 0
 * counts the values 0 and 1, slot i > 0 the values in [2^i, 2^(i+1)); the last slot also counts
 * everything larger. The field's unit (gadget.yaml) is the unit of the values.
 */
typedef __u64 gadget_histogram_slot;

/* A device number as the kernel keeps it (dev_t inside the kernel): major << 20 | minor. */
typedef __u32 gadget_dev;

/*
 * A block request's operation, in this numbering (not the kernel's enum req_op, whose values
 * changed between versions: a gadget maps it with CO-RE, see profile_blockio).
 */
#define GADGET_BLOCK_OP_READ 0
#define GADGET_BLOCK_OP_WRITE 1
#define GADGET_BLOCK_OP_FLUSH 2
#define GADGET_BLOCK_OP_DISCARD 3
#define GADGET_BLOCK_OP_SECURE_ERASE 4
#define GADGET_BLOCK_OP_WRITE_ZEROES 5
#define GADGET_BLOCK_OP_ZONE_APPEND 6
#define GADGET_BLOCK_OP_ZONE_OPEN 7
#define GADGET_BLOCK_OP_ZONE_CLOSE 8
#define GADGET_BLOCK_OP_ZONE_FINISH 9
#define GADGET_BLOCK_OP_ZONE_RESET 10
#define GADGET_BLOCK_OP_ZONE_RESET_ALL 11
#define GADGET_BLOCK_OP_DRV_IN 12
#define GADGET_BLOCK_OP_DRV_OUT 13
#define GADGET_BLOCK_OP_OTHER 255
typedef __u32 gadget_block_op;

/*
 * Payloads: raw bytes of a packet or message that userspace decodes into further fields (a
 * decoder per element typedef; the derived fields are listed in gadget.yaml with `from:`).
 * A payload field `X` is read together with `gadget_payload_size X_size` (bytes captured into X)
 * and `gadget_payload_len X_len` (bytes of the whole payload, which may exceed what was captured).
 */
typedef __u32 gadget_payload_size;
typedef __u32 gadget_payload_len;
/* A DNS message (RFC 1035), as carried over UDP: `gadget_dns_payload payload[N]`. */
typedef __u8 gadget_dns_payload;

#endif /* GADGET_TYPES_H */
